"""``rag bench --what pages``: e-paper PDFs and scans read back, for speed, memory and accuracy.

The sample issues are typeset (:mod:`.newsprint`) with several seeds, then
read through the text layer; one or more pages are 'scanned' (:mod:`.scanlike`)
at 300 and 200 dpi and read by OCR. Printed: pages per minute, peak memory,
body CER, article splits, page headers, and the naive left-to-right baseline.
"""

from __future__ import annotations

import time
from dataclasses import replace
from pathlib import Path


def _peak_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def page_truth(truth, page: int):
    """The truth of one page alone: the articles printed wholly on it."""
    arts = tuple(a for a in truth.articles if a.pages == (page,))
    return replace(truth, pages=tuple(p for p in truth.pages if p.page == page), articles=arts)


def bench_pages(row, section, corpus: Path = Path("corpus"), work: Path = Path("embeddings/bench-pages"),
                seeds: tuple[int, ...] = (0, 1, 2), scans: int = 2) -> None:
    """Typeset in every house style, read back and score; ``scans`` pages also go through
    OCR at 300 and 200 dpi."""
    from ..ingest.parse_pages import parse_pages
    from .newsprint import STYLES, typeset_corpus
    from .pagescore import naive_text, score_pages, sentences_intact
    from .scanlike import scan_page

    section(f"e-paper pages (typeset from corpus/ in the {' and '.join(STYLES)} styles, read back)")
    t0 = time.perf_counter()
    truths = [t for style in STYLES for t in typeset_corpus(corpus, work / "pdf", seeds, style=style)]
    row("typeset", f"{len(truths)} PDFs, {sum(len(t.pages) for t in truths)} pages in "
                   f"{time.perf_counter() - t0:.1f} s")
    totals = dict(arts=0, split=0, chars=0, errors=0, pages=0, headers=0)
    naive = ours = 0.0
    t0 = time.perf_counter()
    for t in truths:
        articles, *_, headers = parse_pages(Path(t.pdf), ocr="never")
        s = score_pages(t, articles, headers)
        for k, v in zip(totals, (s.articles, s.split_right, s.body_chars, s.body_errors, s.pages, s.headers_right)):
            totals[k] += v
        ours += sentences_intact(t, [a.body for a in articles])
        naive += sentences_intact(t, naive_text(t.pdf))
    elapsed = time.perf_counter() - t0
    row("text-layer pages per minute", f"{totals['pages'] / elapsed * 60:.0f} ({totals['pages']} pages "
                                        f"in {elapsed:.1f} s)")
    row("body CER, text layer", f"{totals['errors'] / max(totals['chars'], 1):.4%} of {totals['chars']:,} chars")
    row("articles split right (headline, byline, body ends)",
        f"{totals['split']}/{totals['arts']} = {totals['split'] / max(totals['arts'], 1):.1%}")
    row("date and 版次 right", f"{totals['headers']}/{totals['pages']} pages")
    row("sentences whole: layout step vs naive left-to-right",
        f"{ours / len(truths):.1%} vs {naive / len(truths):.1%}")
    if scans <= 0:
        row("peak memory (VmHWM)", f"{_peak_mb():.0f} MB")
        return
    from ..ingest import ocr

    for dpi in (300, 200):
        tot = dict(arts=0, split=0, chars=0, errors=0, pages=0)
        spent = 0.0
        done = 0
        for t in truths:
            for tp in t.pages:
                if done >= scans:
                    break
                image, _ = scan_page(t.pdf, tp.page - 1, dpi, seed=tp.page)
                png = work / "scan" / f"{Path(t.pdf).stem}-p{tp.page}-{dpi}.png"
                png.parent.mkdir(parents=True, exist_ok=True)
                image.save(png, dpi=(dpi, dpi))
                t1 = time.perf_counter()
                articles, *_, headers = parse_pages(png, ocr="auto")  # no cache: timed afresh
                spent += time.perf_counter() - t1
                one = page_truth(t, tp.page)
                s = score_pages(replace(one, pages=(replace(tp, page=1),)), articles, headers)
                for k, v in zip(tot, (s.articles, s.split_right, s.body_chars, s.body_errors, s.headers_right)):
                    tot[k] += v
                done += 1
        row(f"{dpi} dpi scans per minute ({ocr.ENGINE_ID})", f"{done / spent * 60:.1f} ({done} pages in {spent:.0f} s)")
        row(f"{dpi} dpi body CER", f"{tot['errors'] / max(tot['chars'], 1):.2%} of {tot['chars']:,} chars")
        row(f"{dpi} dpi articles split right", f"{tot['split']}/{tot['arts']}; date and 版次 right on "
                                               f"{tot['pages']}/{done} pages")
    row("peak memory (VmHWM)", f"{_peak_mb():.0f} MB")
