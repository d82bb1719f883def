"""Failed logins are rate-limited per client address.

Gradio's own ``/login`` answers every guess at once; this ASGI middleware
sits in front of it. After ``MAX_FAILURES`` wrong passwords from one address
within ``WINDOW_S`` seconds, that address gets 429 with a Chinese message
until its oldest failure ages out. The address is the socket's peer: behind
a reverse proxy every user shares the proxy's, so put the limit there too.
"""

from __future__ import annotations

import json
import threading
import time
from collections import defaultdict, deque

MAX_FAILURES = 5
WINDOW_S = 60.0
_LOGIN_PATHS = ("/login", "/login/")


def too_many_message(wait_s: float) -> str:
    """What a client that guessed too often is told."""
    return f"登录失败次数过多，请 {max(1, round(wait_s))} 秒后再试。"


class LoginLimiter:
    """ASGI middleware: counts failed ``POST /login`` answers (status 400) per address."""

    def __init__(self, app, max_failures: int = MAX_FAILURES, window_s: float = WINDOW_S,
                 clock=time.monotonic):
        self.app = app
        self.max_failures = max_failures
        self.window_s = window_s
        self.clock = clock
        self._failures: dict[str, deque[float]] = defaultdict(deque)
        self._lock = threading.Lock()

    def _wait(self, address: str) -> float:
        """Seconds until ``address`` may try again (0: now)."""
        now = self.clock()
        with self._lock:
            times = self._failures.get(address)
            if not times:
                return 0.0
            while times and now - times[0] >= self.window_s:
                times.popleft()
            if not times:
                del self._failures[address]
                return 0.0
            return self.window_s - (now - times[0]) if len(times) >= self.max_failures else 0.0

    def _record(self, address: str, failed: bool) -> None:
        with self._lock:
            if failed:
                self._failures[address].append(self.clock())
            else:
                self._failures.pop(address, None)  # a good login clears the count

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or scope.get("method") != "POST" or scope.get("path") not in _LOGIN_PATHS:
            await self.app(scope, receive, send)
            return
        address = (scope.get("client") or ("?", 0))[0]
        wait = self._wait(address)
        if wait > 0:
            body = json.dumps({"detail": too_many_message(wait)}, ensure_ascii=False).encode()
            await send({"type": "http.response.start", "status": 429,
                        "headers": [(b"content-type", b"application/json; charset=utf-8"),
                                    (b"retry-after", str(max(1, round(wait))).encode())]})
            await send({"type": "http.response.body", "body": body})
            return
        status = []

        async def watch(message):
            if message["type"] == "http.response.start":
                status.append(message["status"])
            await send(message)

        await self.app(scope, receive, watch)
        if status:
            if status[0] == 400 or status[0] == 401:
                self._record(address, failed=True)
            elif status[0] == 200:
                self._record(address, failed=False)


def middleware():
    """The limiter as FastAPI's ``middleware=`` entry (Gradio's ``app_kwargs``)."""
    from starlette.middleware import Middleware

    return Middleware(LoginLimiter)
