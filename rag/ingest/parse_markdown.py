"""Markdown issues: ``# 株洲日报`` masthead, ``##`` headlines, ``###`` heads.

Everything before the first ``##`` is masthead matter (date, issue number)
and is not an article. Inside an article a ``###`` before the body is the
column head, after it a sub-head. (Issues that use ``#`` for headlines are
read one level up.) A short line ending in a Markdown hard
line break with text right under it is a sub-head too; a short line that
ends its block is a paragraph cut mid-sentence and joins the next one.
"""

from __future__ import annotations

import re
from collections import Counter

from .parse_common import Draft, build_draft, notice_draft
from .parse_lines import Line, has_two_phrases, is_heading_like, is_meta, line_kinds, split_lines

_HEADING = re.compile(r"(?m)^#{2,6}[ \t]+\S")
_TOP_HEADING = re.compile(r"(?m)^#[ \t]+\S")


def looks_like_markdown(text: str) -> bool:
    """True if the text has ``##``/``###`` headings or several ``#`` ones."""
    return bool(_HEADING.search(text)) or len(_TOP_HEADING.findall(text)) >= 2


def headline_level(lines: list[Line]) -> int:
    """The heading level of article headlines: the shallowest one used,
    except a single ``#`` line above deeper ones (the masthead)."""
    levels = Counter(ln.level for ln in lines if ln.level)
    if levels.get(1) == 1 and len(levels) > 1:
        del levels[1]
    return min(levels, default=2)


def _classify(ln: Line, kind: str, body_started: bool, head: int) -> str:
    if 0 < ln.level < head:
        return "meta"
    if ln.level > head:
        return "sub" if body_started else "col"
    if kind != "text" or not is_heading_like(ln.text):
        return kind
    if not ln.last:
        return "sub"  # hard line break with text under it
    if ln.first and has_two_phrases(ln.text):
        return "sub"  # "强作风 打造一流干部队伍" as a paragraph of its own
    return "text"


def parse_markdown(text: str) -> list[Draft]:
    """Split a Markdown issue into article and notice drafts, in print order."""
    lines = split_lines(text)
    kinds = line_kinds(lines)
    head = headline_level(lines)
    units: list[tuple[int, Draft]] = []  # (start line, draft) to keep print order
    start = 0
    headline: str | None = None
    items: list[tuple[str, Line]] = []
    in_article = False
    body_started = False

    def close() -> None:
        if in_article:
            units.append((start, build_draft(headline, items)))

    for i, ln in enumerate(lines):
        if ln.level == head:
            close()
            headline = None if is_meta(ln.text) else ln.text
            items, in_article, body_started, start = [], True, False, i
            continue
        kind = _classify(ln, kinds[i], body_started, head)
        if not in_article and kind != "notice":
            continue  # masthead matter before the first headline
        if kind == "notice":
            units.append((i, notice_draft(ln.text)))
            continue
        items.append((kind, ln))
        body_started = body_started or kind == "text"
    close()
    units.sort(key=lambda u: u[0])
    return [d for _, d in units]
