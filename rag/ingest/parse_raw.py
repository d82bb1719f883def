"""Raw text dumps of an issue: no markup, headlines are short lone lines.

Segmentation rules, on top of the line kinds of :mod:`rag.parse_lines`:

* A run of short lines without sentence-final punctuation starts a new
  article when a byline (``株洲日报讯(…)`` or ``…记者/…``) or a dash
  sub-title (``——…``) follows it (photo captions in between are skipped),
  or when no article with both a byline and a body is open.
* Inside such an article the same kind of line is a sub-head and stays in
  the body; right under a headline (before any body) it is a column head.
* Two head lines: a short first one is the column label (``新春走基层``),
  else they are kicker + headline and are joined with a space.
* A byline turning up in an article that already has one means its heads
  were taken for sub-heads: the article is split there (see
  :func:`_split_off_heads`).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .parse_common import Draft, build_draft, notice_draft
from .parse_lines import (
    COLUMN_MAX,
    HEADLINE_MAX,
    Line,
    continues_line,
    is_heading_like,
    line_kinds,
    split_byline_para,
    split_lines,
)

_SKIP_IN_LOOKAHEAD = ("caption", "meta", "ad", "cont")


@dataclass
class _Section:
    """Mutable only while one article is being collected.

    What segmentation asks after every line (has the section a body, a
    caption, a byline?) is kept up to date as items arrive: asking costs
    nothing however long the section grows.
    """

    start: int
    headline: str | None = None
    column: str | None = None
    items: list[tuple[str, Line]] = field(default_factory=list)
    where: list[int] = field(default_factory=list)  # line index of each item
    _kinds: set[str] = field(default_factory=set)
    _first_text: str = ""

    def add(self, kind: str, line: Line, index: int) -> None:
        self.items.append((kind, line))
        self.where.append(index)
        if kind == "text" and "text" not in self._kinds:
            self._first_text = line.text
        self._kinds.add(kind)

    def replace_items(self, items: list[tuple[str, Line]], where: list[int]) -> None:
        self.items, self.where, self._kinds, self._first_text = [], [], set(), ""
        for (kind, line), index in zip(items, where):
            self.add(kind, line, index)

    @property
    def has_body(self) -> bool:
        return "text" in self._kinds

    @property
    def has_caption(self) -> bool:
        return "caption" in self._kinds

    @property
    def has_byline(self) -> bool:
        return "byline" in self._kinds or split_byline_para(self._first_text)[0] is not None


def _starts_article(kind: str, text: str) -> bool:
    return kind in ("byline", "dash") or (kind == "text" and split_byline_para(text)[0] is not None)


def _header_run(lines: list[Line], kinds: list[str], i: int) -> int:
    """End (exclusive) of the run of headline-shaped lines starting at ``i``."""
    j = i
    while j < len(lines) and j - i < 3 and kinds[j] == "text" and is_heading_like(lines[j].text, HEADLINE_MAX):
        j += 1
    return j


def _next_significant(kinds: list[str], j: int) -> int | None:
    while j < len(kinds) and kinds[j] in _SKIP_IN_LOOKAHEAD:
        j += 1
    return j if j < len(kinds) else None


def _new_section(run: list[str], start: int, intro: bool = False) -> _Section:
    """A section headed by ``run``: [column?, kicker?, headline].

    A short first line is a column label (``新春走基层``). When an intro
    paragraph sits between the heads and the byline, the second head is
    the column's own head (``聚焦“三微”“六位” 建设幸福株洲``).
    """
    texts = list(run)
    column = None
    if len(texts) >= 2 and len(texts[0]) <= COLUMN_MAX:
        column = texts.pop(0)
    elif len(texts) == 2 and intro:
        column = texts.pop()
    return _Section(start=start, headline=" ".join(texts), column=column)


def _split_off_heads(cur: _Section) -> _Section | None:
    """A byline turned up in an article that already has one and a body:
    its heads were taken for sub-heads. Move the trailing run of sub-heads
    (and at most two paragraphs after them, a column intro) to a new section."""
    items = cur.items
    k = len(items)
    while k > 0 and items[k - 1][0] in ("text", "caption"):
        k -= 1
    texts_after = sum(1 for kind, _ in items[k:] if kind == "text")
    s = k
    while s > 0 and items[s - 1][0] == "sub" and k - s < 3:
        s -= 1
    if s == k or texts_after > 2 or not any(kind == "text" for kind, _ in items[:s]):
        return None
    heads = [ln.text for _, ln in items[s:k]]
    new = _new_section(heads, cur.where[s], intro=texts_after > 0)
    new.replace_items(items[k:], cur.where[k:])
    cur.replace_items(items[:s], cur.where[:s])
    return new


def parse_raw(text: str) -> list[Draft]:
    """Split a raw issue dump into article and notice drafts, in print order."""
    lines = split_lines(text)
    kinds = line_kinds(lines)
    units: list[tuple[int, Draft]] = []  # (start line, draft) to keep print order
    sections: list[_Section] = []
    cur: _Section | None = None
    i = 0
    while i < len(lines):
        kind, ln = kinds[i], lines[i]
        if kind in ("meta", "ad"):
            i += 1
            continue
        if kind == "notice":
            units.append((i, notice_draft(ln.text)))
            i += 1
            continue
        if kind == "text" and is_heading_like(ln.text, HEADLINE_MAX):
            j = _header_run(lines, kinds, i)
            x = _next_significant(kinds, j)
            if cur is not None and cur.headline and not cur.has_body and not cur.has_caption:
                # Still under the current headline: column heads, as Markdown ###.
                for k in range(i, j):
                    cur.add("col", lines[k], k)
                i = j
                continue
            followed_by_byline = x is not None and _starts_article(kinds[x], lines[x].text)
            if followed_by_byline or cur is None or (cur.has_body and not cur.has_byline):
                if x is not None or cur is None:
                    cur = _new_section([ln.text for ln in lines[i:j]], i)
                    sections.append(cur)
                    i = j
                    continue
            # Inside an article: a short line opening a block, or with text
            # right under it, is a sub-head; one closing a block is a
            # paragraph cut mid-sentence.
            for k in range(i, j):
                sub = (lines[k].first or not lines[k].last) and is_heading_like(lines[k].text)
                if k + 1 < len(lines) and continues_line(lines[k].text, lines[k + 1].text):
                    sub = False
                cur.add("sub" if sub else "text", lines[k], k)
            i = j
            continue
        if (
            cur is not None
            and kind != "dash"
            and _starts_article(kind, ln.text)
            and cur.items
            and cur.items[-1][0] != "byline"  # the next line of the same byline
            and cur.has_body
            and cur.has_byline
        ):
            split = _split_off_heads(cur)
            # Without heads to take back: an article whose headline was not
            # recognised; its title is derived later.
            cur = split or _Section(start=i)
            sections.append(cur)
        elif cur is None:
            cur = _Section(start=i)  # text before any headline
            sections.append(cur)
        if kind == "text" and not ln.last and is_heading_like(ln.text):
            kind = "sub"  # a short line with text right under it, no blank line
        cur.add(kind, ln, i)
        i += 1
    for s in sections:
        units.append((s.start, build_draft(s.headline, s.items, column=s.column)))
    units.sort(key=lambda u: u[0])
    return [d for _, d in units]
