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

Only geometry and the relative sizes on the page itself are used, never a
fixed font size or column count, so pages typeset otherwise still read.
"""

from __future__ import annotations

from dataclasses import dataclass, field

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


@dataclass
class Group:
    """One article's (or advert's, or notice box's) blocks on one page."""

    kicker: Block | None = None
    head: Block | None = None
    sub: Block | None = None
    blocks: list[Block] = field(default_factory=list)


@dataclass(frozen=True)
class PageRead:
    """What a page holds: its furniture lines, groups in reading order, body size."""

    furniture: tuple[TextLine, ...]
    groups: tuple[Group, ...]
    body_size: float


def _overlap(a0: float, a1: float, b0: float, b1: float) -> float:
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
        for c in band:
            last = row[-1] if row else None
            if last is not None:
                gap = c.box[0] - last.box[2]
                same_glyph = abs(c.box[0] - last.box[0]) < 0.05 * c.size  # a ligature ("——")
                size_ok = max(last.size, c.size) <= SIZE_TOLERANCE * min(last.size, c.size) + 0.01
                if not (size_ok and (same_glyph or -0.3 * c.size <= gap <= 0.9 * c.size)):
                    rows.append(row)
                    row = []
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
        return 0.85 * body <= ln.size <= 1.3 * body and 0.85 * usual <= h <= 1.15 * usual and len(ln.text) <= 8

    return [TextLine(ln.text, ln.box, body, ln.bold, ln.conf, ln.xs) if ln.size != body and near(ln) else ln
            for ln in lines]


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
            size = max(last.size, ln.size)
            if not (-0.3 * size <= gap <= 0.9 * size):
                continue
            if max(last.size, ln.size) > SIZE_TOLERANCE * min(last.size, ln.size):
                continue
            # Against the block's width, not the last line's: an indented first
            # line is followed by a short last one that only overlaps the block.
            bx0, _, bx1, _ = b.box
            width = min(bx1 - bx0, ln.box[2] - ln.box[0])
            if _overlap(bx0, bx1, ln.box[0], ln.box[2]) < 0.5 * width:
                continue
            if ln.box[0] < bx0 - 3 * size or ln.box[2] > bx1 + 3 * size:
                continue
            if best_gap is None or gap < best_gap:
                best, best_gap = b, gap
        if best is None:
            blocks.append(Block([ln]))
        else:
            best.lines.append(ln)
    return _rejoin_stretched(blocks)


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
                same_row = _overlap(ln.box[1], ln.box[3], p.box[1], p.box[3]) > 0.5 * (p.box[3] - p.box[1])
                if not same_row or max(ln.size, p.size) > SIZE_TOLERANCE * min(ln.size, p.size):
                    continue
                if 0 <= p.box[0] - ln.box[2] <= 3 * p.size and p.box[2] <= bx1 + 0.5 * p.size:
                    left, right = ln, p
                elif 0 <= ln.box[0] - p.box[2] <= 3 * p.size and p.box[0] >= bx0 - 0.5 * p.size:
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


def _is_head(b: Block, body: float) -> bool:
    return b.size >= HEAD_RATIO * body and len(b.lines) <= 4 and len(b.text) <= 80


def _head_clusters(blocks: list[Block], body: float) -> list[Group]:
    """Heads stacked over one another (kicker, headline, sub-headline) -> one group each."""
    heads = sorted((b for b in blocks if b.kind == "head"), key=lambda b: b.box[1])
    used: set[int] = set()
    groups = []
    for h in sorted(heads, key=lambda b: -b.size):
        if id(h) in used:
            continue
        used.add(id(h))
        g = Group(head=h)
        hx0, hy0, hx1, hy1 = h.box
        for other in heads:
            if id(other) in used or other.size >= h.size:
                continue
            ox0, oy0, ox1, oy1 = other.box
            if _overlap(hx0, hx1, ox0, ox1) < 0.3 * min(hx1 - hx0, ox1 - ox0):
                continue
            if g.kicker is None and -0.3 * h.size <= hy0 - oy1 <= 1.2 * h.size:
                g.kicker = other
                used.add(id(other))
            elif g.sub is None and -0.3 * h.size <= oy0 - hy1 <= 1.2 * h.size:
                g.sub = other
                used.add(id(other))
        groups.append(g)
    # Body-size lines right above or below a headline, in bold or with a dash,
    # are its kicker and sub-headline too.
    for g in groups:
        hx0, hy0, hx1, hy1 = g.head.box
        for b in blocks:
            if b.kind != "body" or len(b.lines) > 2 or len(b.text) > 60:
                continue
            bx0, by0, bx1, by1 = b.box
            if _overlap(hx0, hx1, bx0, bx1) < 0.3 * (bx1 - bx0):
                continue
            if g.sub is None and 0 <= by0 - hy1 <= 0.8 * g.head.size and b.text.startswith(("——", "—")):
                g.sub = b
                b.kind = "head"
            elif g.kicker is None and 0 <= hy0 - by1 <= 0.8 * g.head.size and b.size > body * 1.05:
                g.kicker = b
                b.kind = "head"
    return groups


def _furniture(blocks: list[Block], is_furniture_text, page_h: float) -> list[Block]:
    """Masthead and folio: blocks in the page's top or bottom eighth that name the
    date, 期号 or 版次, and the blocks sharing their rows."""
    marked = [b for b in blocks if (b.box[3] < page_h * 0.2 or b.box[1] > page_h * 0.9)
              and any(is_furniture_text(ln.text) for ln in b.lines)]
    if not marked:
        return []
    rows = [(b.box[1], b.box[3]) for b in marked]
    out = list(marked)
    for b in blocks:
        if b in out or len(b.lines) > 2:
            continue
        if any(_overlap(y0, y1, b.box[1], b.box[3]) > 0.5 * (b.box[3] - b.box[1]) for y0, y1 in rows):
            out.append(b)  # the rest of the folio row ("责任编辑 …")
    return out


def _columns_order(blocks: list[Block]) -> list[Block]:
    """Blocks of one article read column by column: columns are runs of blocks that
    overlap horizontally, read left to right, each top to bottom."""
    cols: list[list[Block]] = []
    for b in sorted(blocks, key=lambda b: b.box[0]):
        x0, _, x1, _ = b.box
        for col in cols:
            cx0 = min(c.box[0] for c in col)
            cx1 = max(c.box[2] for c in col)
            if _overlap(cx0, cx1, x0, x1) > 0.5 * min(x1 - x0, cx1 - cx0):
                col.append(b)
                break
        else:
            cols.append([b])
    cols.sort(key=lambda col: min(c.box[0] for c in col))
    return [b for col in cols for b in sorted(col, key=lambda b: b.box[1])]


def read_page(lines: list[TextLine], page_h: float, is_furniture_text) -> PageRead:
    """One page's lines -> furniture and article groups in reading order."""
    blocks = make_blocks(lines)
    furniture = _furniture(blocks, is_furniture_text, page_h)
    for b in furniture:
        b.kind = "furniture"
    body = body_size([ln for b in blocks if b.kind != "furniture" for ln in b.lines])
    for b in blocks:
        if b.kind == "body":
            if _is_head(b, body):
                b.kind = "head"
            elif b.size < SMALL_RATIO * body:
                b.kind = "small"
    groups = _head_clusters(blocks, body)
    rest = [b for b in blocks if b.kind not in ("furniture", "head")]
    # The first row under each head (byline, the tops of its columns), then the
    # columns level with them: together they give the article's real width,
    # which its headline often does not span.
    reach: dict[int, tuple[float, float]] = {}
    first = [b for b in rest if _owner(b, groups, body, {}, 6 * body) is not None]
    for b in first:
        _owner(b, groups, body, {}, 6 * body).blocks.append(b)
    rest = _adopt([b for b in rest if b not in first], groups, body, level_only=True, every=blocks)
    for g in groups:
        xs = [g.head.box[0], g.head.box[2]] + [v for c in g.blocks for v in (c.box[0], c.box[2])]
        reach[id(g)] = (min(xs), max(xs))
    orphans: list[Block] = []
    for b in rest:
        owner = _owner(b, groups, body, reach)
        if owner is None:
            orphans.append(b)
        else:
            owner.blocks.append(b)
    orphans = _adopt(orphans, groups, body)
    headless = _headless_groups(orphans)
    ordered = sorted(list(groups) + headless, key=lambda g: _group_anchor(g))
    for g in ordered:
        g.blocks = _columns_order(g.blocks)
    return PageRead(tuple(ln for b in furniture for ln in b.lines), tuple(ordered), body)


def _owner(b: Block, groups: list[Group], body: float, reach: dict[int, tuple[float, float]],
           within: float | None = None) -> Group | None:
    """The group whose head is the nearest above ``b`` and spans its centre
    (over the head's ``reach`` when known); ``within``: at most that far below it."""
    bx0, by0, bx1, _ = b.box
    cx = (bx0 + bx1) / 2
    owner, best = None, None
    for g in groups:
        hx0, hx1 = reach.get(id(g), (g.head.box[0], g.head.box[2]))
        last = (g.sub or g.head).box
        top = (last[1] + last[3]) / 2  # loose boxes of big type overlap the line below
        # Right under a head, overlapping it is enough; further down the centre must lie under it.
        under = hx0 - body <= cx <= hx1 + body or (
            within is not None and (_overlap(hx0, hx1, bx0, bx1) >= 0.5 * min(hx1 - hx0, bx1 - bx0)
                                    or hx0 - body <= bx0 < hx1 - 2 * body))  # starts under the head
        if under and top <= by0 and (within is None or by0 - last[3] <= within):
            if best is None or top > best:
                owner, best = g, top
    return owner


def _nothing_between(blocks: list[Block], a: Block, b: Block) -> bool:
    """No text lies between two level blocks (an image may)."""
    lo, hi = (a, b) if a.box[0] < b.box[0] else (b, a)
    x0, x1 = lo.box[2], hi.box[0]
    y0 = max(a.box[1], b.box[1])
    y1 = y0 + 3 * max(a.size, b.size)
    return not any(c is not a and c is not b and _overlap(x0, x1, c.box[0], c.box[2]) > 0
                   and _overlap(y0, y1, c.box[1], c.box[3]) > 0 for c in blocks)


def _adopt(orphans: list[Block], groups: list[Group], body: float, level_only: bool = False,
           every: list[Block] | None = None) -> list[Block]:
    """A headline is often narrower than its article: a column under no head that
    starts level with a column of an article, beside it with nothing but an
    image between, is that article's."""
    left = list(orphans)
    changed = True
    while changed and left:
        changed = False
        for b in list(left):
            bx0, by0, bx1, _ = b.box
            best, best_gap = None, None
            for g in groups:
                for c in g.blocks:
                    if c.kind != "body":
                        continue
                    cx0, cy0, cx1, _ = c.box
                    gap = bx0 - cx1 if bx0 >= cx1 else cx0 - bx1
                    below = by0 - c.box[3]
                    beside = -0.5 * body <= gap <= 3 * body or (
                        every is not None and gap > 0 and _nothing_between(every, b, c))
                    if beside and abs(by0 - cy0) <= 2.5 * body:
                        # Ties go to the column on the left: text runs on to the right.
                        key = (gap, 0 if bx0 >= cx1 else 1)
                    elif not level_only and -0.5 * body <= below <= 1.5 * body \
                            and _overlap(bx0, bx1, cx0, cx1) > 0.5 * (bx1 - bx0):
                        key = (below, 0)  # right under one of its columns: a jump line, a caption
                    else:
                        continue
                    if best_gap is None or key < best_gap:
                        best, best_gap = g, key
            if best is not None:
                best.blocks.append(b)
                left.remove(b)
                changed = True
    return left


def _group_anchor(g: Group) -> tuple[float, float]:
    b = g.kicker or g.head or (g.blocks[0] if g.blocks else None)
    if b is None:
        return (0.0, 0.0)
    return (round(b.box[1] / 20), b.box[0])


def _headless_groups(orphans: list[Block]) -> list[Group]:
    """Blocks under no head: side-by-side columns starting at about the same height are one group."""
    groups: list[Group] = []
    for b in sorted(orphans, key=lambda b: (b.box[1], b.box[0])):
        for g in groups:
            gx0 = min(o.box[0] for o in g.blocks)
            gx1 = max(o.box[2] for o in g.blocks)
            gy0 = min(o.box[1] for o in g.blocks)
            gy1 = max(o.box[3] for o in g.blocks)
            near_x = b.box[0] - gx1 <= 3 * b.size and gx0 - b.box[2] <= 3 * b.size
            if near_x and _overlap(gy0, gy1, b.box[1], b.box[3]) > 0:
                g.blocks.append(b)
                break
        else:
            groups.append(Group(blocks=[b]))
    return groups


def paragraphs(blocks: list[Block]) -> list[list[TextLine]]:
    """The lines of blocks read in order, cut into paragraphs: a line indented
    from its block's left edge, or one after a line that stops short with a
    sentence end, starts a paragraph; a column's first line goes on the
    paragraph of the last column unless it is indented."""
    from .parse_lines import is_terminal

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
