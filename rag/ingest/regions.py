"""Where an article's text sits on its pages, and how sure the OCR was of it.

An article read from a PDF or a scan keeps ``regions``: runs of its body,
each with the page and the box (fractions of the page width and height) of
the line it came from, and that line's OCR confidence (1.0 for a text layer).
"""

from __future__ import annotations

import difflib

from ..records import Article
from .layout import TextLine

#: Below this recogniser confidence a quoted line is marked 识别存疑 (doubtful reading).
#: Chosen on the typeset test pages (3 scans, 480 OCR lines of 6+ characters): no line
#: read exactly as printed scored under 0.93 (2 of 411 under 0.95), while 8 of the 69
#: lines not found verbatim in the print (misreads, and captions/furniture) did.
DOUBT_BELOW = 0.93


def regions(article: Article, lines: list[tuple[int, TextLine, float, float]]) -> tuple[tuple, ...]:
    """Runs of the body mapped to the lines they came from:
    (start, end, page index, x0, y0, x1, y1 as fractions of the page, confidence)."""
    stream, owner = [], []
    for k, (_, ln, _, _) in enumerate(lines):
        stream.append(ln.text)
        owner.extend([k] * len(ln.text))
    text = "".join(stream)
    starts, pos = [], 0
    for s in stream:
        starts.append(pos)
        pos += len(s)
    matcher = difflib.SequenceMatcher(None, text, article.body, autojunk=False)
    runs: list[list] = []
    for a, b, size in matcher.get_matching_blocks():
        j = 0
        while j < size:
            k = owner[a + j]
            n = 1
            while j + n < size and owner[a + j + n] == k:
                n += 1
            page, ln, w, h = lines[k]
            x0, x1 = ln.span_x(a + j - starts[k], a + j + n - starts[k])
            run = [b + j, b + j + n, page, x0 / w, ln.box[1] / h, x1 / w, ln.box[3] / h, round(ln.conf, 4)]
            prev = runs[-1] if runs else None
            if prev and prev[1] >= run[0] - 1 and prev[2] == page and abs(prev[4] - run[4]) < 1e-6:
                prev[1], prev[5] = run[1], max(prev[5], run[5])
            else:
                runs.append(run)
            j += n
    return tuple(tuple(round(v, 5) if isinstance(v, float) else v for v in r) for r in runs)



def _overlapping(article: Article, start: int, end: int) -> list[tuple]:
    return [r for r in article.regions if r[0] < end and r[1] > start]


def quote_confidence(article: Article, start: int, end: int) -> float | None:
    """The lowest OCR confidence of the lines a quote spans (None for text issues)."""
    runs = _overlapping(article, start, end)
    return min(r[7] for r in runs) if runs else None


def run_source(article: Article, run: tuple) -> str:
    """The file a run was read from: the article's own, or (after a jump joined across page
    files) the other file, kept as the run's ninth field."""
    return run[8] if len(run) > 8 else article.source


def quote_place(article: Article, start: int, end: int) -> tuple[str, int] | None:
    """(file, page index) where a quote starts, None for text issues."""
    runs = _overlapping(article, start, end)
    return (run_source(article, runs[0]), runs[0][2]) if runs else None


def quote_boxes(article: Article, start: int, end: int,
                source: str | None = None) -> list[tuple[int, float, float, float, float]]:
    """(page index, x0, y0, x1, y1) of each line piece a quote spans, as fractions of the
    page; with ``source``, only the pieces read from that file."""
    out = []
    for r in _overlapping(article, start, end):
        if source is not None and run_source(article, r) != source:
            continue
        s, e, page, x0, y0, x1, y1 = r[:7]
        # Only the quoted part of a run: its share of the run's width.
        a, b = max(s, start), min(e, end)
        w = (x1 - x0) / max(e - s, 1)
        out.append((page, x0 + w * (a - s), y0, x0 + w * (b - s), y1))
    return out
