"""Page layout, second half: blocks -> head clusters, articles' blocks, reading order.

Steps 3-6 of :mod:`.layout`: heads by size, page furniture, ownership of the
other blocks by the nearest head above that spans them (after widening each
head to the columns of its first row), headless groups, and column order.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .layout import HEAD_RATIO, SMALL_RATIO, Block, TextLine, overlap, body_size, make_blocks


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
            if overlap(hx0, hx1, ox0, ox1) < 0.3 * min(hx1 - hx0, ox1 - ox0):
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
            if overlap(hx0, hx1, bx0, bx1) < 0.3 * (bx1 - bx0):
                continue
            if g.sub is None and 0 <= by0 - hy1 <= 0.8 * g.head.size and b.text.startswith(("——", "—")):
                g.sub = b
                b.kind = "head"
            elif g.kicker is None and 0 <= hy0 - by1 <= 0.8 * g.head.size and b.size > body * 1.05:
                g.kicker = b
                b.kind = "head"
    return groups


def _demote_inline_heads(blocks: list[Block], body: float) -> None:
    """A "head" with body text of its column right above and right below it, at the
    usual line spacing, is a body line whose size was misjudged (OCR): a head is set
    off by space."""
    columns = [b for b in blocks if b.kind == "body"]
    # OCR misjudges a size by a quarter at most: a line twice the body size is a headline.
    for h in [b for b in blocks if b.kind == "head" and len(b.lines) == 1 and b.size < 1.45 * body]:
        hx0, hy0, hx1, hy1 = h.box

        def touching(b: Block, above: bool) -> bool:
            bx0, by0, bx1, by1 = b.box
            gap = hy0 - by1 if above else by0 - hy1
            # Against the shorter of the two: a paragraph's last line is often short.
            return -0.3 * body <= gap <= 0.8 * body and \
                overlap(hx0, hx1, bx0, bx1) >= 0.8 * min(hx1 - hx0, bx1 - bx0)

        if any(touching(b, True) for b in columns) and any(touching(b, False) for b in columns):
            h.kind = "body"


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
        if any(overlap(y0, y1, b.box[1], b.box[3]) > 0.5 * (b.box[3] - b.box[1]) for y0, y1 in rows):
            out.append(b)  # the rest of the folio row ("责任编辑 …")
    return out


def columns_order(blocks: list[Block]) -> list[Block]:
    """Blocks of one article read column by column: columns are runs of blocks that
    overlap horizontally, read left to right, each top to bottom. Short blocks lying
    above all the others (a byline or 上接 line over the columns, centred or not) come first."""
    def over_all(b: Block) -> bool:
        tol = 0.3 * b.size
        return len(b.lines) <= 2 and all(
            c is b or c.box[1] >= b.box[3] - tol or abs(c.box[1] - b.box[1]) <= tol and len(c.lines) <= 2
            for c in blocks)

    lead = _rows_in_order(sorted((b for b in blocks if over_all(b)), key=lambda b: b.box[1]))
    if len(lead) == len(blocks):
        lead = []
    cols: list[list[Block]] = []
    for b in sorted((b for b in blocks if all(b is not x for x in lead)), key=lambda b: b.box[0]):
        x0, _, x1, _ = b.box
        for col in cols:
            cx0 = min(c.box[0] for c in col)
            cx1 = max(c.box[2] for c in col)
            if overlap(cx0, cx1, x0, x1) > 0.5 * min(x1 - x0, cx1 - cx0):
                col.append(b)
                break
        else:
            cols.append([b])
    cols.sort(key=lambda col: min(c.box[0] for c in col))
    return lead + [b for col in cols for b in _rows_in_order(sorted(col, key=lambda b: b.box[1]))]


def _rows_in_order(blocks: list[Block]) -> list[Block]:
    """Top to bottom, and blocks sharing a row (a line cut at a wide space) left to right."""
    out = list(blocks)
    for i in range(1, len(out)):
        j = i
        while j > 0:
            a, b = out[j - 1], out[j]
            same_row = overlap(a.box[1], a.box[3], b.box[1], b.box[3]) > 0.5 * min(a.box[3] - a.box[1],
                                                                                 b.box[3] - b.box[1])
            if not (same_row and b.box[0] < a.box[0]):
                break
            out[j - 1], out[j] = b, a
            j -= 1
    return out


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
    _demote_inline_heads(blocks, body)
    groups = _head_clusters(blocks, body)
    rest = [b for b in blocks if b.kind not in ("furniture", "head")]
    # The first row under each head (byline, the tops of its columns), then the
    # columns level with them: together they give the article's real width,
    # which its headline often does not span.
    first = [b for b in rest if _owner(b, groups, body, {}, 6 * body) is not None]
    for b in first:
        _owner(b, groups, body, {}, 6 * body).blocks.append(b)
    orphans = _adopt([b for b in rest if b not in first], groups, body, level_only=True, every=blocks)
    # Then each head, widened to its article's columns so far, takes what lies under it, and
    # articles adopt their neighbours; again while that widens an article (a column found
    # beside it may bring the caption and text under an image into its reach).
    while orphans:
        reach = {id(g): _extent(g) for g in groups}
        left: list[Block] = []
        for b in orphans:
            owner = _owner(b, groups, body, reach)
            if owner is None:
                left.append(b)
            else:
                owner.blocks.append(b)
        left = _adopt(left, groups, body)
        if len(left) == len(orphans):
            break
        orphans = left
    headless = _headless_groups(orphans)
    ordered = sorted(list(groups) + headless, key=lambda g: _group_anchor(g))
    for g in ordered:
        g.blocks = columns_order(g.blocks)
    return PageRead(tuple(ln for b in furniture for ln in b.lines), tuple(ordered), body)


def _extent(g: Group) -> tuple[float, float]:
    """The horizontal extent of a group's head and the blocks it holds so far."""
    xs = [g.head.box[0], g.head.box[2]] + [v for c in g.blocks for v in (c.box[0], c.box[2])]
    return min(xs), max(xs)


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
        # Right under a head, overlapping it is enough (a headline spans only its own article's
        # columns, though centred over them it may cover a little of each); further down the
        # centre must lie under it.
        under = hx0 - body <= cx <= hx1 + body or (
            within is not None and (overlap(hx0, hx1, bx0, bx1) >= min(0.5 * min(hx1 - hx0, bx1 - bx0), 2 * body)
                                    or hx0 - body <= bx0 < hx1 - 2 * body))  # starts under the head
        if under and top <= by0 and (within is None or by0 - last[3] <= within):
            if best is None or top > best:
                owner, best = g, top
    return owner


def _nothing_between(blocks: list[Block], a: Block, b: Block, own: tuple[Block, ...] = ()) -> bool:
    """No text lies between two level blocks (an image may, and so may ``own``: the other
    columns of the article ``a`` would join)."""
    lo, hi = (a, b) if a.box[0] < b.box[0] else (b, a)
    x0, x1 = lo.box[2], hi.box[0]
    y0 = max(a.box[1], b.box[1])
    y1 = y0 + 3 * max(a.size, b.size)
    return not any(c is not a and c is not b and all(c is not o for o in own)
                   and overlap(x0, x1, c.box[0], c.box[2]) > 0
                   and overlap(y0, y1, c.box[1], c.box[3]) > 0 for c in blocks)


def _adopt(orphans: list[Block], groups: list[Group], body: float, level_only: bool = False,
           every: list[Block] | None = None) -> list[Block]:
    """A headline is often narrower than its article: a column under no head that
    starts level with a column of an article, beside it with nothing but an
    image between, is that article's. The surest adoption goes first, one at a time:
    a column right under one of the article's columns or captions, or right of one
    (text runs on to the right), before one left of an article; nearer before farther."""
    left = list(orphans)
    # A block going on under a block of text starts no column: it is level with nothing,
    # and only the article that block is in (under its own caption, say) may take it now.
    above = {id(b): _right_above(b, every, body) for b in left} if level_only and every is not None else {}
    while left:
        best = None
        for b in left:
            for g in groups:
                if any(not any(c is x for x in g.blocks) for c in above.get(id(b), ())):
                    continue
                key = _adoption(b, g, body, level_only, every)
                if key is not None and (best is None or key < best[0]):
                    best = (key, b, g)
        if best is None:
            break
        _, b, g = best
        g.blocks.append(b)
        left.remove(b)
    return left


def _right_above(b: Block, every: list[Block], body: float) -> list[Block]:
    """Blocks of text that ``b`` starts right under, overlapping it."""
    return [c for c in every if c is not b and c.kind in ("body", "small")
            and -0.5 * body <= b.box[1] - c.box[3] <= 1.5 * body
            and overlap(b.box[0], b.box[2], c.box[0], c.box[2]) > 0]


def _adoption(b: Block, g: Group, body: float, level_only: bool, every: list[Block] | None):
    """How surely group ``g`` takes block ``b``: (rank, distance), or None."""
    bx0, by0, bx1, _ = b.box
    best = _right_of_head(b, g, body, every)
    for c in g.blocks:
        cx0, cy0, cx1, cy1 = c.box
        below = by0 - cy1
        under = -0.5 * body <= below <= 1.5 * body and overlap(bx0, bx1, cx0, cx1) > 0.5 * (bx1 - bx0)
        if c.kind == "small":  # a column going on under the article's caption
            key = (0, below) if under else None
        elif c.kind != "body":
            continue
        else:
            gap = bx0 - cx1 if bx0 >= cx1 else cx0 - bx1
            beside = -0.5 * body <= gap <= 3 * body or (
                every is not None and gap > 0 and _nothing_between(every, b, c, tuple(g.blocks)))
            over = -0.5 * body <= cy0 - b.box[3] <= 1.5 * body and overlap(bx0, bx1, cx0, cx1) > 0
            if beside and abs(by0 - cy0) <= 2.5 * body:
                key = (0 if bx0 >= cx1 else 1, gap)
            elif not level_only and under:
                key = (0, below)  # right under one of its columns: a jump line, a caption
            elif not level_only and over:
                key = (0, cy0 - b.box[3])  # right over one: a 上接 line, a byline set apart
            else:
                key = None
        if key is not None and (best is None or key < best):
            best = key
    return best


def _right_of_head(b: Block, g: Group, body: float, every: list[Block] | None):
    """(0, gap) when ``b`` starts in the row right under ``g``'s headline, to its right, with
    nothing above it in that row nor between: a headline set over the first column of its
    article only (headlines start where their article starts). None otherwise."""
    if g.head is None or every is None:
        return None
    heads = [x for x in (g.kicker, g.head, g.sub) if x is not None]
    hy0 = min(x.box[1] for x in heads)
    hx1 = max(x.box[2] for x in heads)
    hy1 = (g.sub or g.head).box[3]
    bx0, by0, bx1, _ = b.box
    if bx0 < hx1 - body or not hy1 - 0.5 * body <= by0 <= hy1 + 2.5 * body:
        return None
    for c in every:
        if c is b or any(c is x for x in heads):
            continue
        x0, y0, x1, y1 = c.box
        above = overlap(hx1, bx1, x0, x1) > 0 and overlap(hy0, by0, y0, y1) > 0
        between = overlap(hx1, bx0, x0, x1) > 0 and overlap(by0, by0 + 3 * body, y0, y1) > 0
        if above or between:
            return None
    return (0, bx0 - hx1)


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
            if near_x and overlap(gy0, gy1, b.box[1], b.box[3]) > 0:
                g.blocks.append(b)
                break
        else:
            groups.append(Group(blocks=[b]))
    return groups

