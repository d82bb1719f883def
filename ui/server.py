"""`rag serve`: the HTTP API (rag/api.py) and the Gradio app on one FastAPI app, one server.

Gradio's own server is not used: the UI is mounted on the API's FastAPI app, and
uvicorn serves both from a socket bound here (so a port in use is a clear error).
"""

import sys
import threading
import time

from rag.errors import RagError
from rag.pipeline import WARM_MESSAGE

from . import app as page
from . import login_limit
from .handlers import Engine


def auth_from_env() -> tuple[str, str] | None:
    """(user, password) from RAG_UI_USER / RAG_UI_PASSWORD (read by Settings), or None."""
    from rag.settings import Settings

    return Settings.load().ui_auth


def is_loopback(host: str) -> bool:
    """True when ``host`` is reachable from this machine only (127.0.0.0/8, ::1, localhost)."""
    import ipaddress

    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False  # a host name: assume others can reach it


def _warm_up(engine: Engine, t0: float) -> None:
    try:
        engine.warm_up()
    except Exception as exc:  # the first question will raise it again, with the UI's error message
        print(f"warm-up failed: {exc}", file=sys.stderr, flush=True)
        return
    print(f"{WARM_MESSAGE} in {time.perf_counter() - t0:.1f}s", flush=True)


def web_app(assistant, settings, engine: Engine, auth=None):
    """One FastAPI app: the HTTP API under /api (rag/api.py) and the Gradio UI at "/",
    under the same login."""
    import gradio as gr
    from starlette.routing import Mount

    from rag.api import make_api

    demo = page.build_app(assistant, settings, engine)
    demo.queue(default_concurrency_limit=page.CONCURRENCY, max_size=None)
    app = make_api(lambda: engine.assistant, settings, ready=engine.ready)
    app = gr.mount_gradio_app(app, demo, path="/", auth=auth, auth_message="株洲日报档案问答 · 请登录",
                              show_error=False, **page.launch_options(settings))
    app.add_middleware(login_limit.LoginLimiter)  # failed logins are rate-limited per address
    ui = [r.app for r in app.routes if isinstance(r, Mount)][-1]  # mounted last, after the docs' files
    # The UI's login cookie opens the API too (a person at the page is already logged in).
    app.state.session_user = lambda request: ui.tokens.get(
        request.cookies.get(f"access-token-{ui.cookie_id}")
        or request.cookies.get(f"access-token-unsecure-{ui.cookie_id}"))
    return app


class Server:
    """uvicorn serving ``app`` on an already bound socket, in a thread of this process."""

    def __init__(self, app, host: str, port: int):
        import socket

        import uvicorn

        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        self.socket = socket.socket(family, socket.SOCK_STREAM)
        self.socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            self.socket.bind((host.strip("[]"), port))
        except OSError as exc:
            self.socket.close()
            raise RagError(f"cannot serve on {host}:{port}: {exc.strerror or exc}") from None
        self.port = self.socket.getsockname()[1]
        self.server = uvicorn.Server(uvicorn.Config(app, log_level="warning", timeout_graceful_shutdown=2))
        self.thread = threading.Thread(target=self.server.run, kwargs={"sockets": [self.socket]}, daemon=True)

    def start(self, timeout: float = 60) -> "Server":
        self.thread.start()
        t0 = time.perf_counter()
        while not self.server.started and self.thread.is_alive() and time.perf_counter() - t0 < timeout:
            time.sleep(0.02)
        if not self.server.started:
            raise RagError("the web server did not start")
        return self

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)
        self.socket.close()


def serve(settings=None, host: str = "127.0.0.1", port: int = 7860, auth=None) -> None:
    """Open the assistant, warm it up, and serve the UI and the API until interrupted."""
    from rag.pipeline import Assistant
    from rag.settings import Settings

    settings = settings or Settings.load()
    auth = auth if auth is not None else settings.ui_auth
    print(f"loading index {settings.index_dir} and model {settings.embed_model} …", flush=True)
    t0 = time.perf_counter()
    assistant = Assistant.open(settings)
    if not is_loopback(host) and auth is None:
        print(f"warning: serving on {host}, beyond this machine, without a login: anyone who can "
              f"reach it can read and upload (set RAG_UI_USER and RAG_UI_PASSWORD)",
              file=sys.stderr, flush=True)
    engine = Engine(assistant, settings, warm=False)
    server = Server(web_app(assistant, settings, engine, auth), host, port).start()
    index = assistant.index
    print(f"serving in {time.perf_counter() - t0:.1f}s: {len(index.articles)} articles, "
          f"{len(index.chunks)} chunks; open http://{host}:{port} (API: http://{host}:{port}/api/docs)",
          flush=True)
    # The model and word segmenter load while the page opens; a question asked
    # before they are ready waits for them (the loads are locked, never doubled).
    threading.Thread(target=_warm_up, args=(engine, t0), daemon=True).start()
    watcher = engine.follow()  # a CLI ingest into this index is served without a restart
    try:
        while server.thread.is_alive():
            server.thread.join(0.5)
    except KeyboardInterrupt:
        pass
    finally:
        watcher.stop()
        server.stop()
