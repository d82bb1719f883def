"""fsync before and after the index swap; failed logins rate-limited per client address."""

import asyncio
import os

import pytest

pytestmark = pytest.mark.unit


def test_index_files_and_folders_are_fsynced_before_the_swap_and_parent_after(fake_index, tmp_path, monkeypatch):
    import rag.search.index as ix
    from rag.search.index import Index

    index = Index.load(fake_index.index_dir, model_id=fake_index.embed_model)
    events = []
    real_fsync, real_swap = os.fsync, ix._swap

    def fsync(fd):
        events.append(("fsync", os.readlink(f"/proc/self/fd/{fd}")))
        real_fsync(fd)

    def swap(new, target):
        events.append(("swap", str(new)))
        real_swap(new, target)

    monkeypatch.setattr(os, "fsync", fsync)
    monkeypatch.setattr(ix, "_swap", swap)
    target = tmp_path / "copy" / "index"
    index.save(target)
    (i_swap,) = [i for i, e in enumerate(events) if e[0] == "swap"]
    tmp = events[i_swap][1]
    before = {p for kind, p in events[:i_swap]}
    written = {str(p).replace(str(target), tmp) for p in target.rglob("*")}
    assert written <= before, written - before  # every file and sub-folder
    assert tmp in before  # the new folder itself
    assert events[i_swap + 1:] == [("fsync", str(target.parent))]
    assert Index.load(target, model_id=fake_index.embed_model).chunks == index.chunks


# -- login ----------------------------------------------------------------------------


class _Clock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now


def _login(limiter, address: str, password_ok: bool) -> tuple[int, bytes]:
    sent = []

    async def app(scope, receive, send):
        await send({"type": "http.response.start", "status": 200 if password_ok else 400, "headers": []})
        await send({"type": "http.response.body", "body": b"{}"})

    async def send(message):
        sent.append(message)

    async def receive():
        return {"type": "http.request", "body": b""}

    limiter.app = app
    scope = {"type": "http", "method": "POST", "path": "/login", "client": (address, 5555)}
    asyncio.run(limiter(scope, receive, send))
    return sent[0]["status"], b"".join(m.get("body", b"") for m in sent[1:])


def test_failed_logins_are_limited_per_address():
    from ui.login_limit import MAX_FAILURES, WINDOW_S, LoginLimiter

    clock = _Clock()
    limiter = LoginLimiter(None, clock=clock)
    codes = [_login(limiter, "10.0.0.1", False)[0] for _ in range(50)]
    assert codes[:MAX_FAILURES] == [400] * MAX_FAILURES and set(codes[MAX_FAILURES:]) == {429}
    status, body = _login(limiter, "10.0.0.1", True)  # even the right password waits
    assert status == 429 and "登录失败次数过多" in body.decode()
    assert _login(limiter, "10.0.0.2", True)[0] == 200  # another address is not affected
    clock.now += WINDOW_S
    assert _login(limiter, "10.0.0.1", True)[0] == 200


def test_served_login_answers_429_in_chinese_after_repeated_failures():
    import gradio as gr
    import httpx

    from ui import login_limit

    from .test_ui import free_port

    port = free_port()
    with gr.Blocks() as demo:
        gr.HTML("hi")
    demo.launch(server_name="127.0.0.1", server_port=port, prevent_thread_lock=True, quiet=True,
                auth=("editor", "s3cret"), app_kwargs={"middleware": [login_limit.middleware()]})
    try:
        url = f"http://127.0.0.1:{port}/login"
        codes = [httpx.post(url, data={"username": "editor", "password": f"wrong{i}"}).status_code
                 for i in range(50)]
        assert codes[:login_limit.MAX_FAILURES] == [400] * login_limit.MAX_FAILURES
        assert set(codes[login_limit.MAX_FAILURES:]) == {429}
        refused = httpx.post(url, data={"username": "editor", "password": "s3cret"})
        assert refused.status_code == 429 and "登录失败次数过多" in refused.json()["detail"]
    finally:
        demo.close()
