"""The HTTP API that `rag serve` serves beside the web UI, for the newsroom's own systems.

    GET  /api/health           is the service up, how big is the archive
    POST /api/ask              {"question", "from"?, "to"?, "mode"?}  -> an answer object
    POST /api/verify           {"claim"}                              -> a verdict object
    POST /api/check            {"text"}                               -> {"claims": [...]}
    GET  /api/articles/{id}    an article's fields, body included
    GET  /api/docs             OpenAPI documentation

The JSON is the command line's (``../shared/docs/interface.md``). Bodies
are bounded (``MAX_BODY_BYTES``) and every field is checked before any work
is done: bad input gets a 400, 404, 413 or 422 whose ``error`` says what was
wrong, never a 500. When the UI has a login, the API asks for the same one,
as HTTP Basic credentials or the UI's own login cookie.

FastAPI is imported inside ``make_api``, so importing this module costs nothing.
"""

# No `from __future__ import annotations`: FastAPI reads the request models from the
# endpoints' annotations, and those models are local to make_api.
import base64
import binascii
import datetime as dt
import secrets
import threading
from collections.abc import Callable
from typing import Any

from .errors import RagError
from .settings import RETRIEVAL_MODES

#: Largest request body read (bytes): a 10,000-character draft, JSON-escaped, fits.
MAX_BODY_BYTES = 128 * 1024
#: Longest question or claim (characters), as in the web UI.
MAX_QUESTION_CHARS = 500
API_PREFIX = "/api"


def _basic_user(header: str | None, auth: tuple[str, str]) -> str | None:
    """The user named by a valid ``Authorization: Basic …`` header, else None."""
    if not header or not header.lower().startswith("basic "):
        return None
    try:
        user, _, password = base64.b64decode(header[6:].strip(), validate=True).decode("utf-8").partition(":")
    except (binascii.Error, UnicodeDecodeError):
        return None
    ok = secrets.compare_digest(user.encode(), auth[0].encode()) & \
        secrets.compare_digest(password.encode(), auth[1].encode())
    return user if ok else None


def check_date(value: str | None, field: str) -> str | None:
    """An ISO date, None for none, else RagError naming the field."""
    if value in (None, ""):
        return None
    try:
        if len(value) == 10:
            return dt.date.fromisoformat(value).isoformat()
    except ValueError:
        pass
    raise RagError(f'"{field}" must be a date YYYY-MM-DD, got {value!r}')


class _BodyLimit:
    """ASGI middleware: a request body over ``limit`` bytes under /api gets 413 unread."""

    def __init__(self, app, limit: int):
        self.app, self.limit = app, limit

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or not scope["path"].startswith(API_PREFIX):
            return await self.app(scope, receive, send)
        length = dict(scope.get("headers") or []).get(b"content-length")
        if length is not None and (not length.isdigit() or int(length) > self.limit):
            return await _too_large(self.limit, send)
        # Read the body here, up to the limit, and hand it on whole: an error raised
        # while the endpoint reads would reach the client as FastAPI's own 400.
        body, more = b"", True
        while more:
            message = await receive()
            if message["type"] != "http.request":
                return await self.app(scope, _replay([message]), send)
            body += message.get("body", b"")
            more = message.get("more_body", False)
            if len(body) > self.limit:
                return await _too_large(self.limit, send)
        await self.app(scope, _replay([{"type": "http.request", "body": body, "more_body": False}], receive),
                       send)


def _replay(messages: list, then=None):
    """An ASGI ``receive`` that gives ``messages`` first, then waits on ``then``."""
    async def receive():
        if messages:
            return messages.pop(0)
        if then is None:
            return {"type": "http.disconnect"}
        return await then()
    return receive


async def _too_large(limit: int, send) -> None:
    import json

    body = json.dumps({"error": f"request body too large: at most {limit:,} bytes"}).encode()
    await send({"type": "http.response.start", "status": 413,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})


def make_api(assistant: Callable[[], Any], settings, ready: threading.Event | None = None):
    """The FastAPI app with the /api routes; the web UI is mounted on it at "/" afterwards.

    ``assistant()`` gives the Assistant to use now (an upload in the UI swaps it).
    ``app.state.session_user(request)``, when set, names the user of a UI login cookie.
    """
    from typing import Annotated, Literal

    from fastapi import Depends, HTTPException, Request
    from fastapi.exceptions import RequestValidationError
    from fastapi.responses import JSONResponse
    from fastapi_offline import FastAPIOffline
    from pydantic import BaseModel, ConfigDict, Field

    from .check.claims import MAX_DRAFT_CHARS
    from .check.draft import check_draft

    Mode = Literal[RETRIEVAL_MODES]  # type: ignore[valid-type]

    class AskRequest(BaseModel):
        model_config = ConfigDict(extra="forbid", populate_by_name=True)
        question: str = Field(min_length=1, max_length=MAX_QUESTION_CHARS)
        date_from: str | None = Field(None, alias="from", description="only issues on or after YYYY-MM-DD")
        date_to: str | None = Field(None, alias="to", description="only issues on or before YYYY-MM-DD")
        mode: Mode | None = None

    class VerifyRequest(BaseModel):
        model_config = ConfigDict(extra="forbid")
        claim: str = Field(min_length=1, max_length=MAX_QUESTION_CHARS)

    class CheckRequest(BaseModel):
        model_config = ConfigDict(extra="forbid")
        text: str = Field(min_length=1, max_length=MAX_DRAFT_CHARS)

    def login(request: Request) -> str | None:
        auth = settings.ui_auth
        if auth is None:
            return None
        user = _basic_user(request.headers.get("authorization"), auth)
        session = getattr(request.app.state, "session_user", None)
        user = user or (session(request) if session else None)
        if user is None:
            raise HTTPException(401, "login required: the web UI's user and password, as HTTP Basic",
                                headers={"WWW-Authenticate": 'Basic realm="zhuzhou-rag"'})
        return user

    # The docs page's scripts and styles come from this server, not from a CDN.
    api = FastAPIOffline(title="株洲日报 archive API", version="1", docs_url=f"{API_PREFIX}/docs",
                         openapi_url=f"{API_PREFIX}/openapi.json", redoc_url=None,
                         static_url=f"{API_PREFIX}/docs-static",
                         swagger_ui_oauth2_redirect_url=f"{API_PREFIX}/docs/oauth2-redirect",
                         description="Ask the 株洲日报 archive, verify a claim, check a draft. "
                                     "The JSON is the `rag` command line's.")
    api.state.session_user = None
    guarded = [Depends(login)]

    def error(status: int, message: str, **extra) -> JSONResponse:
        return JSONResponse({"error": message, **extra}, status_code=status)

    @api.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError):
        problems = [f"body is not valid JSON ({e.get('ctx', {}).get('error', e['msg'])} at character "
                    f"{e['loc'][-1]})" if e["type"] == "json_invalid" else
                    f"{'.'.join(str(p) for p in e['loc'] if p != 'body') or 'body'}: {e['msg']}"
                    for e in exc.errors()]
        return error(422, "; ".join(problems) or "invalid request")

    @api.exception_handler(HTTPException)
    async def http_error(request: Request, exc: HTTPException):
        response = error(exc.status_code, str(exc.detail))
        response.headers.update(exc.headers or {})
        return response

    @api.exception_handler(RagError)
    async def rag_error(request: Request, exc: RagError):
        return error(400, str(exc))

    @api.get(f"{API_PREFIX}/health", dependencies=guarded)
    def health() -> dict:
        """Is the service up, is its model loaded, and how big is the archive."""
        index = assistant().index
        return {"status": "ok", "ready": ready.is_set() if ready else True,
                "articles": len(index.articles), "chunks": len(index.chunks)}

    @api.post(f"{API_PREFIX}/ask", dependencies=guarded)
    def ask(body: AskRequest) -> dict:
        """Answer a question with citations: the answer object of `rag ask --json`."""
        start, end = check_date(body.date_from, "from"), check_date(body.date_to, "to")
        if start and end and start > end:
            raise RagError(f'"from" {start} is after "to" {end}')
        question = body.question.strip()
        if not question:
            raise RagError('"question" is blank')
        return assistant().ask(question, date_from=start, date_to=end, mode=body.mode).to_dict()

    @api.post(f"{API_PREFIX}/verify", dependencies=guarded)
    def verify(body: VerifyRequest) -> dict:
        """Check one claim: the verdict object of `rag verify --json`."""
        if not body.claim.strip():
            raise RagError('"claim" is blank')
        return assistant().verify(body.claim).to_dict()

    @api.post(f"{API_PREFIX}/check", dependencies=guarded)
    def check(body: CheckRequest) -> dict:
        """Check a draft claim by claim: `{"claims": [...]}`, each as `rag check --json` prints it."""
        return check_draft(assistant(), body.text, source="text").to_dict()

    @api.get(f"{API_PREFIX}/articles/{{article_id}}", dependencies=guarded)
    def article(article_id: Annotated[str, Field(max_length=200)]) -> dict:
        """One article's fields, its whole body included."""
        found = assistant().index.articles.get(article_id)
        if found is None:
            raise HTTPException(404, f"no article with id {article_id!r}")
        return found.to_dict()

    @api.api_route(API_PREFIX + "/{rest:path}", methods=["GET", "POST", "PUT", "DELETE", "PATCH"],
                   include_in_schema=False)
    def unknown(rest: str, request: Request):
        path = f"{API_PREFIX}/{rest}"
        methods = sorted({m for r in api.routes if getattr(r, "endpoint", None) not in (None, unknown)
                          and getattr(r, "path_regex", None) and r.path_regex.match(path)
                          for m in getattr(r, "methods", ()) if m != "HEAD"})
        if methods:
            raise HTTPException(405, f"{request.method} is not allowed on {path}: use {', '.join(methods)}",
                                headers={"Allow": ", ".join(methods)})
        raise HTTPException(404, f"no such API route: {path}")

    api.add_middleware(_BodyLimit, limit=MAX_BODY_BYTES)
    return api
