"""A bounded load test of the HTTP API: `rag serve` on 127.0.0.1, many clients at once.

    rag bench --what api [--index D] [--queries N]

A fresh `rag serve` (a separate process: this package never imports the UI)
answers ``POST /api/ask`` from ``CONCURRENCY`` clients at once, ``--queries``
requests in all (at most ``MAX_REQUESTS``) and for at most ``MAX_SECONDS``.
Traffic goes to the loopback address only, and the test stops by itself.
"""

from __future__ import annotations

import subprocess
import tempfile
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from .bench_serve import free_port, start_serve

CONCURRENCY = 20
MAX_REQUESTS = 2000
MAX_SECONDS = 300.0


def _start(index_dir: Path, port: int, timeout: float = 180.0) -> subprocess.Popen:
    """`rag serve` on ``port``, returned once its model is warm."""
    proc, warm = start_serve(index_dir, port)
    if not warm.wait(timeout) or proc.poll() is not None:
        proc.terminate()
        raise RuntimeError(f"rag serve did not get ready within {timeout:.0f} s")
    return proc


def load_test(base_url: str, questions: list[str], concurrency: int = CONCURRENCY,
              max_seconds: float = MAX_SECONDS) -> dict:
    """POST each question to /api/ask, ``concurrency`` at a time; latencies in ms and failures."""
    import httpx

    deadline = time.perf_counter() + max_seconds
    latencies: list[float] = []
    failures: list[str] = []
    lock = threading.Lock()
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    with httpx.Client(base_url=base_url, timeout=60, limits=limits) as client:
        def one(question: str) -> None:
            if time.perf_counter() > deadline:
                return
            t0 = time.perf_counter()
            try:
                r = client.post("/api/ask", json={"question": question})
                ok = r.status_code == 200 and "answer" in r.json()
                why = f"HTTP {r.status_code}"
            except (httpx.HTTPError, ValueError) as exc:
                ok, why = False, type(exc).__name__
            with lock:
                (latencies.append((time.perf_counter() - t0) * 1000) if ok else failures.append(why))

        t0 = time.perf_counter()
        with ThreadPoolExecutor(max_workers=concurrency) as pool:
            list(pool.map(one, questions))
        wall = time.perf_counter() - t0
    return {"latencies_ms": latencies, "failures": failures, "wall_s": wall}


def bench_api(settings, n_queries: int, row: Callable[[str, str], None], section: Callable[[str], None]) -> None:
    """Serve the index the settings name (or the bundled corpus, indexed now) and load it."""
    from ..ingest.indexer import ingest
    from ..search.index import Index
    from .bench import make_questions, percentiles

    with tempfile.TemporaryDirectory() as tmp:
        index_dir = Path(settings.index_dir)
        if not (index_dir / "manifest.json").is_file():
            index_dir = Path(tmp) / "index"
            ingest([Path(__file__).resolve().parents[2] / "corpus"], settings.with_(index_dir=index_dir),
                   progress=False)
        articles = Index.load(index_dir).articles.values()
        n = min(max(n_queries, CONCURRENCY), MAX_REQUESTS)
        questions = (make_questions(articles, n) * (n // max(1, len(articles)) + 1))[:n]
        section(f"HTTP API load: POST /api/ask, {len(questions)} requests, {CONCURRENCY} at once, "
                f"index {index_dir} ({len(articles)} articles)")
        port = free_port()
        proc = _start(index_dir, port)
        try:
            result = load_test(f"http://127.0.0.1:{port}", questions)
        finally:
            proc.terminate()
            proc.wait(timeout=10)
    done, failed = result["latencies_ms"], result["failures"]
    if done:
        p50, p95 = percentiles(done)
        row("latency per request", f"p50 {p50:.0f} ms, p95 {p95:.0f} ms, max {max(done):.0f} ms")
    row("answered / failed / not sent (time cap)",
        f"{len(done)} / {len(failed)} / {len(questions) - len(done) - len(failed)}"
        + (f" ({', '.join(sorted(set(failed)))})" if failed else ""))
    row("throughput", f"{len(done) / result['wall_s']:.1f} answers/s over {result['wall_s']:.1f} s")
