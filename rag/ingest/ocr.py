"""OCR of scanned pages: RapidOCR (PaddleOCR's PP-OCRv4 Chinese models) on ONNX Runtime.

``rapidocr_onnxruntime`` carries its detection and recognition models inside
its wheel (pinned in pyproject.toml), so nothing is downloaded at run time.
The page is read at :data:`OCR_DPI`: newspaper body type (about 10 pt) is then
some 20 px high, enough for the recogniser, whose input is 48 px high anyway,
and a quarter of the pixels of a 300 dpi scan for the detector. Detection
runs without dilation, which would merge lines across narrow column gutters.

Each OCR line keeps its recogniser confidence; lines the detector ran across
a gutter are cut where the characters' boxes leave a gap; a skewed scan is
straightened by turning the line boxes, not the image. Results are cached by
file hash and page, so an unchanged file is never read twice.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

from .layout import TextLine, pitch_size

OCR_DPI = 150
#: Part of the cache key: results of another engine or resolution are not reused.
ENGINE_ID = f"rapidocr_onnxruntime-1.4.4-ppocrv4-{OCR_DPI}dpi-v3"

_ENGINE = None


def _engine():
    global _ENGINE
    if _ENGINE is None:
        from rapidocr_onnxruntime import RapidOCR

        _ENGINE = RapidOCR(max_side_len=20000, det_use_dilation=False, det_limit_type="max",
                           det_limit_side_len=20000, print_verbose=False)
    return _ENGINE


def ocr_lines(image, scale: float) -> list[TextLine]:
    """OCR a Pillow page image; boxes are returned in page units (pixel / ``scale``)."""
    import numpy as np

    gray = image.convert("L").convert("RGB")
    res, _ = _engine()(np.asarray(gray), use_cls=False, return_word_box=True, unclip_ratio=1.5)
    items = [(item[0], item[1], float(item[2]), item[3] if len(item) > 3 else None) for item in res or ()]
    # The page's skew: the median slope of the long lines' edges. Turning the boxes
    # back straightens the page without resampling the image.
    slopes = sorted(s for s in (_slope(quad) for quad, *_ in items) if s is not None)
    angle = math.atan(slopes[len(slopes) // 2]) if len(slopes) >= 5 else 0.0
    turn = _turner(-angle, image.width / 2, image.height / 2)
    out = []
    for quad, text, score, words in items:
        quad = [turn(*p) for p in quad]
        words = [[turn(*p) for p in w] for w in words] if words else words
        for ln in _to_lines(quad, text, score, words):
            x0, y0, x1, y1 = ln.box
            out.append(TextLine(ln.text, (x0 / scale, y0 / scale, x1 / scale, y1 / scale), ln.size / scale,
                                False, ln.conf, tuple(x / scale for x in ln.xs)))
    return out


def _turner(radians: float, cx: float, cy: float):
    """A function turning a point by ``radians`` about (cx, cy), y growing downwards."""
    cos, sin = math.cos(radians), math.sin(radians)

    def turn(x: float, y: float) -> tuple[float, float]:
        dx, dy = x - cx, y - cy
        return cx + dx * cos - dy * sin, cy + dx * sin + dy * cos

    return turn


def _to_lines(quad, text: str, score: float, words) -> list[TextLine]:
    xs = [p[0] for p in quad]
    ys = [p[1] for p in quad]
    box = (min(xs), min(ys), max(xs), max(ys))
    # Height of the quad's left edge: a skewed line's bounding box is taller than its type.
    height = math.dist(quad[0], quad[3])
    base = TextLine(text, box, height, False, score, ())
    if not words or len(words) != len(text):
        return [base]
    lefts = [min(p[0] for p in w) for w in words]
    rights = [max(p[0] for p in w) for w in words]
    widths = sorted(r - l for l, r in zip(lefts, rights))
    char_w = max(widths[len(widths) // 2], height * 0.5)
    pieces, start = [], 0
    for i in range(1, len(text)):
        if lefts[i] - rights[i - 1] > 1.5 * char_w:  # a gutter inside one detected box
            pieces.append((start, i))
            start = i
    pieces.append((start, len(text)))
    out = []
    size = pitch_size(text, lefts) or height
    for a, b in pieces:
        wy = [p[1] for w in words[a:b] for p in w]
        piece_box = (lefts[a], min(min(wy), box[1]) if pieces[1:] else box[1], rights[b - 1], box[3])
        out.append(TextLine(text[a:b], piece_box, size, False, score, tuple(lefts[a:b]) + (rights[b - 1],)))
    return out


def _slope(quad) -> float | None:
    """Slope of a detected line's top and bottom edges (its words' boxes are axis-aligned)."""
    (x0, y0), (x1, y1), (x2, y2), (x3, y3) = quad[:4]
    if x1 - x0 < 8 * max(abs(y3 - y0), 1.0):
        return None  # a short line's slope is mostly noise
    return ((y1 - y0) / (x1 - x0) + (y2 - y3) / max(x2 - x3, 1e-6)) / 2


def cached_ocr(image, scale: float, cache_dir: Path | None, key: str) -> list[TextLine]:
    """:func:`ocr_lines`, read from ``cache_dir/key.json`` when an earlier run stored it."""
    path = cache_dir / f"{key}-{ENGINE_ID}.json" if cache_dir else None
    if path and path.exists():
        try:
            rows = json.loads(path.read_text(encoding="utf-8"))
            return [TextLine(r["t"], tuple(r["b"]), r["s"], False, r["c"], tuple(r["x"])) for r in rows]
        except (OSError, ValueError, KeyError):
            pass  # a damaged cache entry is read again
    lines = ocr_lines(image, scale)
    if path:
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            rows = [{"t": ln.text, "b": list(ln.box), "s": ln.size, "c": ln.conf, "x": list(ln.xs)} for ln in lines]
            tmp = path.with_suffix(".tmp")
            tmp.write_text(json.dumps(rows, ensure_ascii=False), encoding="utf-8")
            tmp.replace(path)
        except OSError:
            pass  # the cache is an optimisation: a read-only disk only costs time
    return lines
