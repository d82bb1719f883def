"""Benchmarks that print numbers: parse/chunk speed, index build, query latency,
memory, startup, and an approximate-search projection to 1M chunks.

    rag bench --what sample          the bundled corpus: latency p50/p95, embed throughput
    rag bench --what parse           parse + chunk the 11,576-article bench corpus; raw-text MB/s
    rag bench --what scale [--limit] index the bench corpus, then 300 queries, RSS, startup
    rag bench --what query --index D  against a built index: latency, RSS, startup
    rag bench --what ann             FAISS HNSW vs flat on synthetic vectors (1M)
    rag bench --what serve [--index D]  fresh `rag serve` processes: port open, model ready
    rag bench --what follow --index D   a running `rag serve` switching to what a CLI ingest wrote
    rag bench --what writers,kill    concurrent ingests and kill -9 (rag/evaluation/bench_safety.py)
    rag bench --what check           claim splitting and draft-check speed (bench_check.py)
    rag bench --what api [--index D] POST /api/ask at concurrency 20 against `rag serve` (bench_api.py)
    rag bench --what pages [--limit N]  typeset PDFs and N (2) scans read back: pages/min, CER, splits
"""

from __future__ import annotations

import json
import random
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from .bench_serve import bench_serve

ROOT = Path(__file__).resolve().parents[2]
BENCH_CORPUS = ROOT.parent / "shared" / "bench" / "crud-news-11k.jsonl.gz"


def percentiles(values: list[float]) -> tuple[float, float]:
    """(p50, p95) with linear interpolation (numpy's default method)."""
    import numpy as np

    return float(np.percentile(values, 50)), float(np.percentile(values, 95))


def rss_mb() -> float:
    """Resident memory of this process now, in MB (from /proc)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def folder_mb(path: Path) -> float:
    return sum(p.stat().st_size for p in Path(path).rglob("*") if p.is_file()) / 1e6


def _row(name: str, value: str) -> None:
    print(f"  {name:<44} {value}", flush=True)


def _section(title: str) -> None:
    print(f"\n== {title} ==", flush=True)


_NUMBER = re.compile(r"\d+(?:\.\d+)?(?:万|亿)?(?:元|人|个|家|项|%|吨|公里|亿元|万元|人次|名)")


def make_questions(articles, n: int, seed: int = 7) -> list[str]:
    """Varied questions drawn from the corpus: a number question where a sentence
    states a quantity, otherwise a topic question from the headline or first words."""
    from ..ingest.sentences import sentences

    rng = random.Random(seed)
    pool = list(articles)
    rng.shuffle(pool)
    out: list[str] = []
    templates = ["{}是多少？", "{}有多少？", "关于{}的报道说了什么？", "{}的情况如何？"]
    for a in pool:
        if len(out) >= n:
            break
        sents = [s for s in sentences(a.body) if 12 <= len(s) <= 80]
        numbered = [s for s in sents if _NUMBER.search(s)]
        if numbered and rng.random() < 0.6:
            s = rng.choice(numbered)
            m = _NUMBER.search(s)
            out.append(s[max(0, m.start() - 18):m.start()].lstrip("，,。 ") + "是多少？")
        elif sents:
            topic = (a.headline if not a.headline_derived else sents[0][:16]).strip("…")
            out.append(rng.choice(templates[2:]).format(topic[:20]))
    return out


def _time_queries(assistant, questions: list[str], answer: bool = True) -> tuple[list[float], list[float]]:
    retrieve_ms, total_ms = [], []
    for q in questions:
        if answer:
            a = assistant.ask(q)
            retrieve_ms.append(a.timings_ms["retrieve"])
            total_ms.append(a.timings_ms["total"])
        else:
            t = time.perf_counter()
            assistant.retriever.search(q)
            retrieve_ms.append((time.perf_counter() - t) * 1000)
    return retrieve_ms, total_ms


def bench_sample(settings) -> None:
    """The bundled corpus: build, embed throughput vs plain encode, latency."""
    from ..embedding.embed import embed_documents, make_embedder
    from ..search.index import Index
    from ..ingest.indexer import ingest
    from ..pipeline import Assistant

    _section(f"sample corpus ({ROOT / 'corpus'}), model {settings.embed_model}")
    with tempfile.TemporaryDirectory() as tmp:
        s = settings.with_(index_dir=Path(tmp) / "index")
        embedder = make_embedder(s)
        embedder.embed_query(["预热"])  # load the model outside the timings
        report = ingest([ROOT / "corpus"], s, embedder=embedder, progress=False)
        t = report.timings_s
        _row("articles / chunks", f"{report.articles_added} / {report.chunks}")
        _row("ingest total", f"{t['total']:.2f} s (parse {t['parse']:.2f}, chunk {t['chunk']:.2f}, "
             f"embed {t['embed']:.2f}, index {t['index']:.2f}, of which fsync {t['fsync']:.2f})")
        index = Index.load(s.index_dir)
        texts = [c.embed_text for c in index.chunks]
        chars = sum(map(len, texts))
        t0 = time.perf_counter()
        embed_documents(embedder, texts, s.embed_batch_size)
        ours = time.perf_counter() - t0
        _row("embed throughput (length-sorted batches)", f"{chars / ours:,.0f} chars/s")
        plain = getattr(embedder, "model", None)
        if plain is not None and hasattr(plain, "encode"):
            t0 = time.perf_counter()
            plain.encode(["passage: " + x for x in texts], batch_size=s.embed_batch_size)
            _row("plain sentence-transformers encode", f"{chars / (time.perf_counter() - t0):,.0f} chars/s")
        _row("index size on disk", f"{folder_mb(s.index_dir):.2f} MB")
        assistant = Assistant(index, embedder, s)
        assistant.warm_up()
        dev = [json.loads(x)["question"] for x in (ROOT / "eval" / "dev_questions.jsonl").read_text(
            encoding="utf-8").splitlines() if x.strip()]
        questions = (dev + make_questions(index.articles.values(), 85))[:100]
        retrieve_ms, _ = _time_queries(assistant, questions, answer=False)
        _, total_ms = _time_queries(assistant, questions)
        p50, p95 = percentiles(retrieve_ms)
        _row(f"retrieval latency over {len(questions)} questions", f"p50 {p50:.1f} ms, p95 {p95:.1f} ms")
        p50, p95 = percentiles(total_ms)
        _row("rag ask end to end (default answerer)", f"p50 {p50:.1f} ms, p95 {p95:.1f} ms")


def bench_parse(corpus: Path, limit: int | None, settings) -> None:
    """Parse and chunk the bench corpus (no embeddings)."""
    from ..ingest.chunk import chunk_articles
    from ..embedding.embed import make_embedder
    from ..ingest.parse import parse_file

    _section(f"parse + chunk {corpus.name}")
    t0 = time.perf_counter()
    parsed = parse_file(corpus)
    articles = list(parsed.articles[:limit] if limit else parsed.articles)
    t1 = time.perf_counter()
    size_mb = sum(len(a.body.encode()) for a in articles) / 1e6
    embedder = make_embedder(settings)
    embedder.count_tokens(["预热"])
    t2 = time.perf_counter()
    chunks = chunk_articles(articles, embedder.count_tokens, settings.chunk_max_tokens,
                            settings.chunk_overlap_sentences)
    t3 = time.perf_counter()
    _row("articles / chunks", f"{len(articles):,} / {len(chunks):,} ({len(parsed.errors)} broken lines)")
    _row("parse", f"{t1 - t0:.2f} s, {len(articles) / (t1 - t0):,.0f} articles/s, {size_mb / (t1 - t0):.2f} MB/s")
    _row("chunk (model tokenizer + tiktoken)", f"{t3 - t2:.2f} s, {len(articles) / (t3 - t2):,.0f} articles/s")
    _row("parse + chunk", f"{t1 - t0 + t3 - t2:.2f} s for {size_mb:.1f} MB")
    from .bench_parse import bench_raw_parse

    _section("parse raw text (issue dumps made from the same corpus)")
    bench_raw_parse(corpus, _row)


def bench_scale(corpus: Path, limit: int | None, n_queries: int, settings, keep: Path | None = None) -> None:
    """Index the bench corpus end to end, then query latency, RSS and startup."""
    from ..ingest.indexer import ingest

    _section(f"archive scale: {corpus.name}" + (f" (first {limit} articles)" if limit else ""))
    tmp = Path(tempfile.mkdtemp())
    try:
        source = corpus
        if limit:
            source = tmp / "subset.jsonl"
            _write_subset(corpus, source, limit)
        s = settings.with_(index_dir=keep or tmp / "index")
        report = ingest([source], s, progress=sys.stderr.isatty())
        t = report.timings_s
        chars = sum(f2["chars"] for f in report.files for f2 in f.articles)
        _row("articles / chunks / embedded", f"{report.articles_added:,} / {report.chunks:,} / {report.chunks_embedded:,}")
        for stage in ("parse", "chunk", "embed", "index"):
            _row(f"{stage}", f"{t[stage]:.1f} s" + (f", {chars / t[stage]:,.0f} chars/s" if t[stage] else ""))
        _row("fsync of the new index (part of index)", f"{t['fsync']:.2f} s")
        _row("full build", f"{t['total']:.1f} s ({t['total'] / 60:.1f} min)")
        _row("index size on disk", f"{folder_mb(s.index_dir):.1f} MB")
        # Query-side numbers come from a fresh process: this one holds the build's memory.
        sys.stdout.flush()
        subprocess.run([str(Path(sys.executable).parent / "rag"), "bench", "--what", "query",
                        "--index", str(s.index_dir), "--queries", str(n_queries), "--quiet"], check=True)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def bench_queries(settings, n_queries: int = 300) -> None:
    """Against a built index: open time, query latency, RSS at query time, serve startup."""
    from ..pipeline import Assistant

    # First, while this process holds nothing: three starts of `rag serve`.
    bench_serve(settings.index_dir, runs=3, row=_row)
    t0 = time.perf_counter()
    assistant = Assistant.open(settings)
    assistant.warm_up()
    _row("open index + load model (in process)", f"{time.perf_counter() - t0:.2f} s")
    questions = make_questions(assistant.index.articles.values(), n_queries)
    retrieve_ms, total_ms = _time_queries(assistant, questions)
    p50, p95 = percentiles(retrieve_ms)
    _row(f"retrieval latency ({len(questions)} questions)", f"p50 {p50:.1f} ms, p95 {p95:.1f} ms")
    p50, p95 = percentiles(total_ms)
    _row("ask latency, default answerer", f"p50 {p50:.1f} ms, p95 {p95:.1f} ms")
    _row(f"RSS of this process (after {len(questions)} questions)", f"{rss_mb():,.0f} MB")
    fresh = query_process_rss(settings.index_dir, questions[:50])
    _row("RSS at query time (fresh process, 50 questions)",
         f"{fresh['rss']:,.0f} MB now, {fresh['peak']:,.0f} MB peak")


def _write_subset(src: Path, dest: Path, limit: int) -> None:
    import gzip

    opener = gzip.open if src.suffix == ".gz" else open
    with opener(src, "rt", encoding="utf-8") as fin, open(dest, "w", encoding="utf-8") as fout:
        for i, line in enumerate(fin):
            if i >= limit:
                break
            fout.write(line)


_RSS_CHILD = """
import json, sys
from rag.evaluation.bench import rss_mb
from rag.pipeline import Assistant
from rag.settings import Settings
a = Assistant.open(Settings.load(index_dir=sys.argv[1]))
for q in json.loads(sys.argv[2]):
    a.ask(q)
peak = next(int(l.split()[1]) / 1024 for l in open("/proc/self/status") if l.startswith("VmHWM:"))
print(json.dumps({"rss": rss_mb(), "peak": peak}))
"""


def query_process_rss(index_dir: Path, questions: list[str]) -> dict[str, float]:
    """Resident memory of a fresh process that opens the index and answers questions."""
    out = subprocess.run([sys.executable, "-c", _RSS_CHILD, str(index_dir), json.dumps(questions)],
                         capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def bench_ann(n: int = 1_000_000, dim: int = 384, queries: int = 200, seed: int = 0) -> None:
    """HNSW vs exact search on clustered synthetic unit vectors."""
    import faiss
    import numpy as np

    from ..search.index import build_faiss

    _section(f"approximate search projection: {n:,} synthetic vectors, dim {dim}")
    rng = np.random.default_rng(seed)
    # Sentence embeddings cluster by topic and have a low intrinsic dimension.
    # Independent noise in all 384 dimensions would make the true neighbours
    # random, which no real archive looks like; so draw points from a clustered
    # 48-dimensional latent space, project them to ``dim``, add a little noise.
    latent = 48
    centers = rng.standard_normal((2000, latent)).astype(np.float32)
    project = rng.standard_normal((latent, dim)).astype(np.float32) / np.sqrt(latent)
    xb = np.empty((n, dim), np.float32)
    for start in range(0, n, 100_000):
        m = min(100_000, n - start)
        z = centers[rng.integers(0, len(centers), m)] + 0.5 * rng.standard_normal((m, latent)).astype(np.float32)
        xb[start:start + m] = z @ project + 0.05 * rng.standard_normal((m, dim)).astype(np.float32)
    faiss.normalize_L2(xb)
    xq = xb[rng.integers(0, n, queries)] + 0.05 * rng.standard_normal((queries, dim)).astype(np.float32)
    faiss.normalize_L2(xq)
    flat = faiss.IndexFlatIP(dim)
    flat.add(xb)
    _, truth = flat.search(xq, 10)
    t0 = time.perf_counter()
    hnsw = build_faiss(xb, "hnsw")
    _row("HNSW build", f"{time.perf_counter() - t0:.1f} s")
    for ef in (64, 128, 256):
        hnsw.hnsw.efSearch = ef
        times, found = [], 0
        for i in range(queries):
            t = time.perf_counter()
            _, got = hnsw.search(xq[i:i + 1], 10)
            times.append((time.perf_counter() - t) * 1000)
            found += len(set(got[0]) & set(truth[i]))
        p50, p95 = percentiles(times)
        _row(f"efSearch {ef}", f"recall@10 {found / (10 * queries):.3f}, p50 {p50:.2f} ms, p95 {p95:.2f} ms")
    times = []
    for i in range(min(queries, 50)):
        t = time.perf_counter()
        flat.search(xq[i:i + 1], 10)
        times.append((time.perf_counter() - t) * 1000)
    _row("flat (exact) search", f"p50 {statistics.median(times):.1f} ms")


def main(args) -> int:
    from ..settings import Settings

    settings = Settings.load(index_dir=getattr(args, "index", None))
    what = set((args.what or "all").split(","))
    corpus = Path(args.corpus) if args.corpus else BENCH_CORPUS
    if not getattr(args, "quiet", False):
        print(f"rag bench on {_machine()}")
    if what & {"sample", "all"}:
        bench_sample(settings)
    if what & {"parse", "all"}:
        bench_parse(corpus, args.limit, settings)
    if what & {"scale", "all"}:
        keep = Path(args.index) if getattr(args, "index", None) else None
        bench_scale(corpus, args.limit, args.queries, settings, keep=keep)
    if "query" in what:
        bench_queries(settings, args.queries)
    if "serve" in what:
        _section(f"rag serve startup against {settings.index_dir}")
        bench_serve(settings.index_dir, runs=3, row=_row)
    if "follow" in what:
        from .bench_serve import serve_follow

        _section(f"rag serve following a CLI ingest into (a copy of) {settings.index_dir}")
        serve_follow(settings.index_dir, row=_row)
    if "api" in what:
        from .bench_api import bench_api

        bench_api(settings, args.queries, _row, _section)
    if "check" in what:
        from .bench_check import bench_check

        bench_check(settings, _row, _section)
    if what & {"ann", "all"}:
        bench_ann(n=args.limit or 1_000_000)
    if "pages" in what:
        from .bench_pages import bench_pages

        bench_pages(_row, _section, scans=args.limit if args.limit is not None else 2)
    if what & {"writers", "kill"}:
        from .bench_safety import main as safety_main

        safety_main(what, corpus, args.limit)
    return 0


def _machine() -> str:
    import os
    import platform

    return f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
