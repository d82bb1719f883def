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


def _rss_mb(pid: int) -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return float("nan")


def serve_follow(index_dir: Path, row: Callable[[str, str], None] = print, timeout: float = 300.0) -> None:
    """How long a running `rag serve` takes to serve what a CLI ingest just wrote:
    from the ingest's exit to the server's switch, and its memory meanwhile.
    Works on a copy of ``index_dir``."""
    import shutil
    import socket
    import tempfile
    import threading

    work = Path(tempfile.mkdtemp())
    try:
        copy = work / "index"
        shutil.copytree(index_dir, copy)
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = sock.getsockname()[1]
        rag = Path(sys.executable).parent / "rag"
        proc = subprocess.Popen([str(rag), "serve", "--index", str(copy), "--port", str(port)],
                                stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        lines: list[tuple[float, str]] = []
        threading.Thread(target=lambda: [lines.append((time.perf_counter(), ln)) for ln in proc.stdout],
                         daemon=True).start()

        def wait_for(prefix: str, since: int = 0) -> tuple[float, str] | None:
            end = time.perf_counter() + timeout
            while time.perf_counter() < end and proc.poll() is None:
                for t, ln in lines[since:]:
                    if ln.startswith(prefix):
                        return t, ln.strip()
                time.sleep(0.02)
            return None

        try:
            if wait_for(WARM_MESSAGE) is None:
                row("rag serve follows an ingest", "server did not start")
                return
            rss_before = _rss_mb(proc.pid)
            issue = work / "new.md"
            issue.write_text("# 株洲日报\n\n2026年3月6日 第24321期\n\n## 新馆开放\n\n"
                             "株洲日报讯 3月5日,新馆开放,首日接待游客4860人次。\n", encoding="utf-8")
            seen = len(lines)
            subprocess.run([str(rag), "ingest", str(issue), "--index", str(copy)], check=True,
                           capture_output=True)
            t_ingested = time.perf_counter()
            peak = [rss_before]
            stop = threading.Event()

            def sample() -> None:
                while not stop.wait(0.05):
                    peak.append(_rss_mb(proc.pid))

            threading.Thread(target=sample, daemon=True).start()
            got = wait_for("index changed:", seen)
            stop.set()
            time.sleep(1.0)
            if got is None:
                row("rag serve follows an ingest", "no switch seen")
                return
            row("switched to the new index after the ingest", f"{got[0] - t_ingested:.2f} s ({got[1]})")
            row("server RSS before / peak / after the switch",
                f"{rss_before:.0f} / {max(peak):.0f} / {_rss_mb(proc.pid):.0f} MB")
        finally:
            proc.terminate()
            proc.wait(timeout=20)
    finally:
        shutil.rmtree(work, ignore_errors=True)
