"""How long a fresh `rag serve` takes to open its port and to have its model ready.

The server is a separate process (this package never imports the UI); it
prints ``WARM_MESSAGE`` once a question no longer waits for the model.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

from ..pipeline import WARM_MESSAGE


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on now."""
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_serve(index_dir: Path, port: int):
    """A `rag serve` process on 127.0.0.1:``port``, and an Event set once it reports its model warm."""
    import threading

    rag = Path(sys.executable).parent / "rag"
    proc = subprocess.Popen([str(rag), "serve", "--index", str(index_dir), "--port", str(port)],
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    warm = threading.Event()

    def watch() -> None:
        for line in proc.stdout:
            if line.startswith(WARM_MESSAGE):
                warm.set()

    threading.Thread(target=watch, daemon=True).start()
    return proc, warm


def serve_startup(index_dir: Path, timeout: float = 120.0) -> tuple[float, float]:
    """Seconds from starting `rag serve` until its port answers HTTP, and until
    it reports the model warmed up (nan for what did not happen)."""
    import urllib.request

    port = free_port()
    t0 = time.perf_counter()
    proc, warm = start_serve(index_dir, port)
    up = ready = float("nan")
    try:
        while time.perf_counter() - t0 < timeout and proc.poll() is None:
            if up != up:  # nan: not yet answering
                try:
                    urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=1)
                    up = time.perf_counter() - t0
                except OSError:
                    pass
            if warm.is_set() and ready != ready:
                ready = time.perf_counter() - t0
            if up == up and ready == ready:
                break
            time.sleep(0.05)
        return up, ready
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def bench_serve(index_dir: Path, runs: int = 3, row: Callable[[str, str], None] = print) -> list[tuple[float, float]]:
    """Start `rag serve` ``runs`` times; report the median and each time, in seconds."""
    starts = [serve_startup(index_dir) for _ in range(runs)]
    for name, times in (("port answers", [p for p, _ in starts]),
                        ("model warmed up", [w for _, w in starts])):
        row(f"rag serve startup: {name}",
            f"median {statistics.median(times):.2f} s of {runs} ({', '.join(f'{x:.2f}' for x in times)})")
    return starts
