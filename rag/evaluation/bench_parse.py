"""Raw-text parse throughput (``rag bench --what parse``): issue dumps made from
the bench corpus's text, and lines of whitespace that once made parsing
backtrack for minutes.

    rag bench --what parse           also the 16 MB and 50 MB dumps below
"""

from __future__ import annotations

import gzip
import json
import time
from collections.abc import Callable
from pathlib import Path

#: Sizes of the raw dumps timed, in MB (the issue the parser must keep up with).
DUMP_MB = (16, 50)
#: Runs of whitespace inside one line (the bench corpus holds 101 of 225 spaces).
WHITESPACE_RUNS = (300, 450, 900, 100_000)


def make_dump(corpus: Path, mb: float) -> str:
    """A raw issue dump of about ``mb`` MB: each article of ``corpus`` as a short
    head line, a blank line and its paragraphs, the corpus repeated as needed."""
    with gzip.open(corpus, "rt", encoding="utf-8") as fh:
        rows = [json.loads(line) for line in fh if line.strip()]
    target, size, out = int(mb * 1e6), 0, []
    while size < target and rows:
        for row in rows:
            paragraphs = [p for p in row["text"].split("\n") if p.strip()]
            block = (row.get("headline") or row["text"][:18]).strip() + "\n\n" + "\n\n".join(paragraphs) + "\n\n"
            out.append(block)
            size += len(block.encode())
            if size >= target:
                break
    return "".join(out)


def bench_raw_parse(corpus: Path, row: Callable[[str, str], None]) -> None:
    """Print parse MB/s for whitespace-heavy lines and for raw dumps of DUMP_MB."""
    from ..ingest.parse import parse_issue_text

    for n in WHITESPACE_RUNS:
        for name, ch in (("spaces", " "), ("U+3000", "\u3000")):
            text = f"标题\n\n正文{ch * n}内容。\n"
            t0 = time.perf_counter()
            parse_issue_text(text, "bench.txt", "2024-01-01")
            row(f"one line with {n:,} {name}", f"{(time.perf_counter() - t0) * 1000:.1f} ms")
    for mb in DUMP_MB:
        text = make_dump(corpus, mb)
        size = len(text.encode()) / 1e6
        t0 = time.perf_counter()
        parsed = parse_issue_text(text, "bench.txt", "2024-01-01")
        took = time.perf_counter() - t0
        row(f"raw dump {size:.0f} MB ({len(parsed.articles):,} articles)",
            f"{took:.2f} s, {size / took:.2f} MB/s")
