"""Time parsing of the bench corpus: ``python -m rag.bench_parse [PATH]``."""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from .parse import parse_file
from .records import Article

DEFAULT_CORPUS = Path(__file__).resolve().parent.parent / ".." / "shared" / "bench" / "crud-news-11k.jsonl.gz"


def parse_corpus(path: Path | str) -> list[Article]:
    """All articles of one corpus file (bad lines are skipped)."""
    return list(parse_file(Path(path)).articles)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("path", nargs="?", type=Path, default=DEFAULT_CORPUS.resolve())
    args = ap.parse_args(argv)
    size = args.path.stat().st_size
    t0 = time.perf_counter()
    parsed = parse_file(args.path)
    seconds = time.perf_counter() - t0
    articles = parsed.articles
    chars = sum(len(a.headline) + len(a.body) for a in articles)
    text_mb = sum(len(a.headline.encode()) + len(a.body.encode()) for a in articles) / 1e6
    rate = len(articles) / seconds if seconds else float("inf")
    print(f"file       {args.path} ({size / 1e6:.1f} MB on disk)")
    print(f"articles   {len(articles)}  (bad lines: {len(parsed.errors)})")
    print(f"characters {chars}")
    print(f"seconds    {seconds:.3f}")
    print(f"articles/s {rate:,.0f}")
    print(f"MB/s       {text_mb / seconds:.1f} of UTF-8 text ({size / 1e6 / seconds:.1f} compressed)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
