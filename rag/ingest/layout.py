"""Newspaper page layout from positioned text: lines, blocks, heads, articles.

Works on boxes only (page units, y growing downwards), so the text layer of a
PDF and the lines an OCR engine returns go through the same steps:

1. characters -> lines (:func:`chars_to_lines`; OCR gives lines directly);
2. lines -> blocks: lines of one size stacked in one column (:func:`make_blocks`);
3. the body size is the size most characters have; a short block set clearly
   larger is a head, and the heads stacked over one another are one head
   cluster: the largest is the headline, the one above it the kicker (引题),
   the one below it the sub-headline;
4. page furniture (masthead, folio) is the run of lines above the first
   article that names the date, 期号 or 版次;
5. every other block belongs to the nearest head cluster above it that spans
   its column; blocks under no head form headless groups (a continuation);
6. an article's blocks are read column by column, left to right.

Steps 1-2 and paragraphs live here; 3-6 in :mod:`.layout_groups`.

Only geometry and the relative sizes on the page itself are used, never a
fixed font size or column count, so pages typeset otherwise still read.
"""

from __future__ import annotations

from dataclasses import dataclass

from .parse_lines import is_byline_line, is_terminal

Box = tuple[float, float, float, float]  # x0, y0, x1, y1

#: A head is set at least this much larger than the body text (headlines 1.3-4x, kickers
#: and sub-headlines 1.2-1.4x; OCR measures sizes a few per cent short for the larger type).
HEAD_RATIO = 1.2
#: Text smaller than this share of the body size is a caption or furniture.
SMALL_RATIO = 0.9
#: Same size within this ratio: one block.
SIZE_TOLERANCE = 1.15


@dataclass(frozen=True)
class Char:
    """One character of a text layer: its text, box and font size."""

    text: str
    box: Box
    size: float
    bold: bool = False


@dataclass(frozen=True)
class TextLine:
    """One line of text on a page; ``xs`` are character left edges plus the right end."""

    text: str
    box: Box
    size: float
    bold: bool = False
    conf: float = 1.0
    xs: tuple[float, ...] = ()

    def span_x(self, i: int, j: int) -> tuple[float, float]:
        """Horizontal extent of characters ``i:j`` (estimated when positions are unknown)."""
        n = len(self.text)
        if len(self.xs) == n + 1 and n:
            return self.xs[max(0, min(i, n))], self.xs[max(0, min(j, n))]
        x0, _, x1, _ = self.box
        w = (x1 - x0) / max(n, 1)
        return x0 + w * i, x0 + w * j


@dataclass
class Block:
    """Lines of one size stacked in one column."""

    lines: list[TextLine]
    kind: str = "body"  # body | head | small | furniture

    @property
    def box(self) -> Box:
        xs0, ys0, xs1, ys1 = zip(*(ln.box for ln in self.lines))
        return min(xs0), min(ys0), max(xs1), max(ys1)

    @property
    def size(self) -> float:
        sizes = sorted(ln.size for ln in self.lines)
        return sizes[len(sizes) // 2]

    @property
    def text(self) -> str:
        return "".join(ln.text for ln in self.lines)


def overlap(a0: float, a1: float, b0: float, b1: float) -> float:
    """Length of the overlap of two intervals (0 when apart)."""
    return max(0.0, min(a1, b1) - max(a0, b0))


def chars_to_lines(chars: list[Char]) -> list[TextLine]:
    """Characters -> lines: same baseline band, no gap wider than about one character.

    A wider gap is a column gutter, even when the two runs share a baseline.
    (A justified line can stretch a space wider than that; such a line is then
    cut in two, and the pieces still join up as one paragraph of their block.)
    """
    chars = [c for c in chars if c.text and c.box[2] >= c.box[0]]
    chars.sort(key=lambda c: ((c.box[1] + c.box[3]) / 2, c.box[0]))
    # Baseline bands first (glyph boxes of one line differ a little in height),
    # then each band read left to right and cut at gaps and size changes.
    bands: list[list[Char]] = []
    centre = 0.0
    for c in chars:
        cy = (c.box[1] + c.box[3]) / 2
        if bands and abs(cy - centre) <= 0.3 * c.size:
            bands[-1].append(c)
            centre += (cy - centre) / len(bands[-1])
        else:
            bands.append([c])
            centre = cy
    rows: list[list[Char]] = []
    for band in bands:
        band.sort(key=lambda c: c.box[0])
        row: list[Char] = []
        widest = 0.0  # the widest gap between two glyphs of the row so far
        for c in band:
            last = row[-1] if row else None
            if last is not None:
                gap = c.box[0] - last.box[2]
                same_glyph = abs(c.box[0] - last.box[0]) < 0.05 * c.size  # a ligature ("——")
                size_ok = max(last.size, c.size) <= SIZE_TOLERANCE * min(last.size, c.size) + 0.01
                # Set solid so far (no stretched space), a gap of half an em between two glyphs
                # is a gutter: two headlines side by side share a baseline across a narrow one.
                solid = len(row) >= 3 and widest <= 0.2 * c.size and last.text.strip() and c.text.strip()
                if not (size_ok and (same_glyph or -0.3 * c.size <= gap <= (0.5 if solid else 0.9) * c.size)):
                    rows.append(row)
                    row = []
                    widest = 0.0
                elif last.text.strip() and c.text.strip():
                    widest = max(widest, gap)
            if row or c.text.strip():  # spaces stay inside lines (headlines use them) but start none
                row.append(c)
        if row:
            rows.append(row)
    lines = []
    for row in rows:
        row.sort(key=lambda c: c.box[0])
        while row and not row[-1].text.strip():
            row.pop()
        text = "".join(c.text for c in row)
        box = (min(c.box[0] for c in row), min(c.box[1] for c in row),
               max(c.box[2] for c in row), max(c.box[3] for c in row))
        sizes = sorted(c.size for c in row)
        xs = tuple(c.box[0] for c in row) + (row[-1].box[2],)
        bold = sum(c.bold for c in row) > len(row) / 2
        lines.append(TextLine(text, box, sizes[len(sizes) // 2], bold, 1.0, xs))
    return lines


def snap_sizes(lines: list[TextLine], low: float = 0.9, high: float = 1.17) -> list[TextLine]:
    """OCR measures type sizes with some 10% of noise, which would cut columns into
    blocks of "different" sizes: sizes near the body size become the body size.
    (Kickers and headlines are 1.2x and more, captions 0.85x and less.) A short
    line's size is a guess from few characters; its height, when that of the body
    lines, settles it."""
    body = body_size(lines)
    heights = sorted(ln.box[3] - ln.box[1] for ln in lines if low * body <= ln.size <= high * body)
    usual = heights[len(heights) // 2] if heights else 0.0

    def near(ln: TextLine) -> bool:
        if low * body <= ln.size <= high * body:
            return True
        h = ln.box[3] - ln.box[1]
        # The fewer the characters, the noisier their pitch: 2-3 characters may read 1.5x.
        top = 1.6 if len(ln.text) <= 3 else 1.3
        return 0.85 * body <= ln.size <= top * body and 0.85 * usual <= h <= 1.15 * usual and len(ln.text) <= 8

    out = [TextLine(ln.text, ln.box, body, ln.bold, ln.conf, ln.xs) if ln.size != body and near(ln) else ln
           for ln in lines]
    return _stacked_sizes(out, body)


def _stacked_sizes(lines: list[TextLine], body: float) -> list[TextLine]:
    """A short line (a paragraph's, a caption's or a headline's last) sized from a few
    characters takes the size of the line it hangs under: within that line's width, right
    below it at line spacing, and within the noise of its size. A line measured at the body
    size is not pulled up to a head's (a byline under a headline stays a byline)."""
    order = sorted(range(len(lines)), key=lambda i: (lines[i].box[1], lines[i].box[0]))
    out = list(lines)
    for k, i in enumerate(order):
        ln = out[i]
        if len(ln.text) > 8:
            continue
        x0, y0, x1, _ = ln.box
        above = None
        for j in reversed(order[:k]):
            o = out[j]
            s = o.size
            if o.box[3] < y0 - 0.4 * s:
                continue
            if -0.3 * s <= y0 - o.box[3] <= 0.4 * s and o.box[0] - 0.5 * s <= x0 and x1 <= o.box[2] + 0.5 * s:
                above = o
                break
        if above is None or above.size == ln.size:
            continue
        top = 1.6 if len(ln.text) <= 3 else 1.35
        if not 0.75 <= ln.size / above.size <= top:
            continue
        if abs(ln.size - body) <= 0.1 * body and above.size > SIZE_TOLERANCE * body:
            continue
        out[i] = TextLine(ln.text, ln.box, above.size, ln.bold, ln.conf, ln.xs)
    return out


#: How far, in line heights, a line's neighbours reach: two lines either side at a leading
#: of up to 2 (the first or last line of a column has neighbours on one side only).
NEIGHBOUR_LINES = 4.2


def cut_at_gutters(lines: list[TextLine]) -> list[TextLine]:
    """An OCR detector sometimes runs one line across a column gutter (reading the white
    space as a stray character). Such a line is cut where its neighbours show a gutter:
    two or more lines within two lines either side end at one edge inside it (give or take
    a character and a half: the detector ends a column's lines raggedly), two or more
    start at the next edge, and none runs across. Characters inside the gutter go."""
    out: list[TextLine] = []
    for ln in lines:
        out.extend(_cut_line(ln, lines))
    return out


def _cut_line(ln: TextLine, lines: list[TextLine]) -> list[TextLine]:
    n = len(ln.text)
    if n < 4 or len(ln.xs) != n + 1:
        return [ln]
    x0, y0, x1, y1 = ln.box
    h = y1 - y0
    mid = (y0 + y1) / 2
    near = [o for o in lines if o is not ln and abs((o.box[1] + o.box[3]) / 2 - mid) <= NEIGHBOUR_LINES * h
            and overlap(o.box[0], o.box[2], x0, x1) > 0 and max(o.size, ln.size) <= 1.3 * min(o.size, ln.size)]
    for edge in sorted({o.box[2] for o in near if x0 + 2 * h < o.box[2] < x1 - 2 * h}):
        enders = [o.box[2] for o in near if edge <= o.box[2] <= edge + 1.5 * h]
        if len(enders) < 2:
            continue
        r = max(enders)  # the column's right edge (justified lines end there)
        starts = [o.box[0] for o in near if r < o.box[0] < r + 4 * h]
        if not starts:
            continue
        left_edge = min(starts)
        if sum(left_edge - 0.6 * h <= x <= left_edge + 2.2 * h for x in starts) < 2:
            continue  # (a paragraph's first line is indented by two characters)
        if any(o.box[0] < r - h and o.box[2] > left_edge + h for o in near):
            continue  # a line runs across: not a gutter
        # A character that starts inside the left column is its; one starting in the gutter goes.
        step = sorted(q - p for p, q in zip(ln.xs, ln.xs[1:]))[n // 2]
        a = max((i + 1 for i in range(n) if ln.xs[i] < r - 0.3 * step), default=0)
        b = min((i for i in range(n) if ln.xs[i] >= left_edge - 0.5 * h), default=n)
        if a == 0 or b == n or a > b:
            continue
        first = TextLine(ln.text[:a], (x0, y0, ln.xs[a], y1), ln.size, ln.bold, ln.conf, ln.xs[:a + 1])
        rest = TextLine(ln.text[b:], (ln.xs[b], y0, x1, y1), ln.size, ln.bold, ln.conf, ln.xs[b:])
        return [first, *_cut_line(rest, lines)]
    return [ln]


def _cjk(ch: str) -> bool:
    return "\u4e00" <= ch <= "\u9fff"


def pitch_size(text: str, lefts: tuple[float, ...] | list[float]) -> float | None:
    """A line's type size from its characters' spacing: a Chinese character is one em
    wide (the detector's box height varies with its padding and the line's skew). The
    recogniser places characters on a coarse grid, so single steps jitter by a tenth or
    more; over each run of Chinese characters the jitter averages out."""
    span = steps = 0.0
    i = 0
    while i < len(text):
        j = i
        while j + 1 < len(text) and j + 1 < len(lefts) and _cjk(text[j]) and _cjk(text[j + 1]):
            j += 1
        if j > i:
            span += lefts[j] - lefts[i]
            steps += j - i
        i = j + 1
    return span / steps if steps >= 3 else None


def drop_repeats(lines: list[TextLine]) -> list[TextLine]:
    """The detector sometimes reads a piece of a line twice: as the line, and inside a second
    box (often one run across a gutter into it). A piece lying within a line's box that
    reads some of its characters goes; the whole line stays."""
    def inside(a: TextLine, b: TextLine) -> bool:
        (ax0, ay0, ax1, ay1), (bx0, by0, bx1, by1) = a.box, b.box
        area = max(ax1 - ax0, 1e-6) * max(ay1 - ay0, 1e-6)
        return overlap(ax0, ax1, bx0, bx1) * overlap(ay0, ay1, by0, by1) >= 0.5 * area

    def repeats(i: int, a: TextLine) -> bool:
        return any(j != i and a.text in b.text and (len(a.text), i) < (len(b.text), j) and inside(a, b)
                   for j, b in enumerate(lines))
    return [ln for i, ln in enumerate(lines) if not repeats(i, ln)]


def ocr_page_lines(lines: list[TextLine]) -> list[TextLine]:
    """OCR lines made ready for layout: sized by their pitch, cut at gutters, repeats
    dropped (a piece cut off may be one that its own line holds too), sizes steadied."""
    sized = [TextLine(ln.text, ln.box, pitch_size(ln.text, ln.xs[:-1]) or ln.size, ln.bold, ln.conf, ln.xs)
             if len(ln.xs) == len(ln.text) + 1 else ln for ln in lines]
    return snap_sizes(drop_repeats(cut_at_gutters(sized)))


def body_size(lines: list[TextLine]) -> float:
    """The size most characters are set in (the body text's)."""
    weight: dict[float, int] = {}
    for ln in lines:
        key = round(ln.size * 2) / 2
        weight[key] = weight.get(key, 0) + len(ln.text)
    return max(weight.items(), key=lambda kv: (kv[1], -kv[0]))[0] if weight else 10.0


def make_blocks(lines: list[TextLine]) -> list[Block]:
    """Lines -> blocks: a line joins the block whose last line sits right above it,
    in the same column (overlapping horizontally) and at the same size."""
    blocks: list[Block] = []
    for ln in sorted(lines, key=lambda ln: (ln.box[1], ln.box[0])):
        best, best_gap = None, None
        for b in blocks:
            last = b.lines[-1]
            gap = ln.box[1] - last.box[3]
            tail = _last_line_of(ln, b)
            size = last.size if tail else max(last.size, ln.size)
            if not (-0.3 * size <= gap <= 0.9 * size):
                continue
            if max(last.size, ln.size) > SIZE_TOLERANCE * min(last.size, ln.size) and not tail:
                continue
            # Against the block's width, not the last line's: an indented first
            # line is followed by a short last one that only overlaps the block.
            bx0, _, bx1, _ = b.box
            width = min(bx1 - bx0, ln.box[2] - ln.box[0])
            if overlap(bx0, bx1, ln.box[0], ln.box[2]) < 0.5 * width:
                continue
            if ln.box[0] < bx0 - 3 * size or ln.box[2] > bx1 + 3 * size:
                continue
            if best_gap is None or gap < best_gap:
                best, best_gap = b, gap
        if best is None:
            blocks.append(Block([ln]))
        else:
            best.lines.append(ln)
    return _byline_apart(_rejoin_stretched(blocks))


def _byline_apart(blocks: list[Block]) -> list[Block]:
    """A byline over a column (``全媒体记者/刘琼 通讯员/尹志华``) that the column's text
    joined is a block of its own: it belongs before all the article's columns, and a
    centred one stands over a middle column. It is known by its words and by not
    being set flush left over the column: it starts right of the column's text or runs
    past its right edge. (One flush left stays: the column's indent then starts a paragraph.)"""
    out: list[Block] = []
    for b in blocks:
        first, rest = b.lines[0], Block(b.lines[1:], b.kind)
        if len(b.lines) > 1 and is_byline_line(first.text) and (
                first.box[0] > rest.box[0] + first.size or first.box[2] > rest.box[2] + first.size):
            out += [Block([first], b.kind), rest]
        else:
            out.append(b)
    return out


def _last_line_of(ln: TextLine, b: Block) -> bool:
    """A paragraph's short last line under a column (of two lines or more): it starts at
    the column's left edge, stops short of its right edge and ends a sentence. OCR sizes a line of a few
    characters from few positions, so its size may be far off; its place is not."""
    if len(b.lines) < 2:
        return False  # a column is known only from two lines
    last = b.lines[-1]
    bx0, _, bx1, _ = b.box
    return (len(ln.text) <= 15 and is_terminal(ln.text) and abs(ln.box[0] - bx0) <= 0.6 * last.size
            and ln.box[2] < bx1 - 2 * last.size and 0.75 * last.size <= ln.size <= 1.6 * last.size)


def _rejoin_stretched(blocks: list[Block]) -> list[Block]:
    """A justified line can stretch a space wider than a gutter, so the line was cut
    in two. A lone piece on the baseline of a line of a column, within that column's
    width, is the rest of that line."""
    out = list(blocks)
    for piece in [b for b in blocks if len(b.lines) == 1]:
        p = piece.lines[0]
        for b in out:
            if b is piece:
                continue
            bx0, _, bx1, _ = b.box
            for k, ln in enumerate(b.lines):
                same_row = overlap(ln.box[1], ln.box[3], p.box[1], p.box[3]) > 0.5 * (p.box[3] - p.box[1])
                if not same_row or max(ln.size, p.size) > SIZE_TOLERANCE * min(ln.size, p.size):
                    continue
                if 0 <= p.box[0] - ln.box[2] <= 4 * p.size and p.box[2] <= bx1 + 0.5 * p.size:
                    left, right = ln, p
                elif 0 <= ln.box[0] - p.box[2] <= 4 * p.size and p.box[0] >= bx0 - 0.5 * p.size:
                    left, right = p, ln
                else:
                    continue
                xs = left.xs[:-1] + right.xs if left.xs and right.xs else ()
                b.lines[k] = TextLine(left.text + right.text, (left.box[0], min(ln.box[1], p.box[1]), right.box[2],
                                      max(ln.box[3], p.box[3])), ln.size, ln.bold, min(ln.conf, p.conf), xs)
                out.remove(piece)
                break
            else:
                continue
            break
    return out

def paragraphs(blocks: list[Block]) -> list[list[TextLine]]:
    """The lines of blocks read in order, cut into paragraphs: a line indented
    from its block's left edge, or one after a line that stops short with a
    sentence end, starts a paragraph; a column's first line goes on the
    paragraph of the last column unless it is indented."""
    out: list[list[TextLine]] = []
    for b in blocks:
        bx0, _, bx1, _ = b.box
        for i, ln in enumerate(b.lines):
            size = ln.size
            indented = ln.box[0] > bx0 + 0.8 * size
            prev = out[-1][-1] if out and out[-1] else None
            short_end = prev is not None and prev.box[2] < bx1 - 1.5 * size and is_terminal(prev.text)
            if i == 0 and b.kind != "body":
                out.append([ln])
                continue
            if prev is None or indented or (i > 0 and short_end) or (i == 0 and out and out[-1] and
                                                                     _kind_break(out[-1][-1], ln)):
                out.append([ln])
            else:
                out[-1].append(ln)
        if b.kind != "body":
            out.append([])  # a caption or byline never runs on into the next block
    return [p for p in out if p]


def _kind_break(prev: TextLine, ln: TextLine) -> bool:
    # A new column's first line continues the paragraph only at the same size.
    return max(prev.size, ln.size) > SIZE_TOLERANCE * min(prev.size, ln.size)
