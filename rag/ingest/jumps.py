"""Articles that jump between page files of one issue ("下转第2版" … "上接第1版").

An e-paper issue often comes as one PDF (or scan) per page. Within one file the page
parser joins a jump itself; across files the indexer does it here, after parsing:
the piece that says 下转第N版 takes the piece of the same issue (same date and 期号)
on page N that says 上接 its page. The joined article keeps the first piece's id,
headline and source; the second piece's regions keep their own file as a ninth field,
so the 版面 panel opens the right page image.
"""

from __future__ import annotations

import re
from dataclasses import replace

from ..records import Article

_JUMP = re.compile(r"(下转|转至|上接|接上)第?\s*([A-Z]?)(\d{1,2})\s*版")


def _pages(article: Article, verbs: tuple[str, ...]) -> set[int]:
    return {int(m[3]) for c in article.continuations for m in [_JUMP.search(c)] if m and m[1] in verbs}


def _page(article: Article) -> int | None:
    return int(article.page) if article.page and article.page.isdigit() else None


def dangling(articles: list[Article]) -> tuple[list[Article], list[Article]]:
    """Of one file's articles, those that jump to a page the file lacks, and those that
    continue from one: (jumps out, jumps in)."""
    here = {_page(a) for a in articles}
    out = [a for a in articles if _page(a) is not None and _pages(a, ("下转", "转至")) - here]
    into = [a for a in articles if _page(a) is not None and _pages(a, ("上接", "接上")) - here]
    return out, into


def same_issue(a: Article, b: Article) -> bool:
    return a.date == b.date and (a.issue == b.issue or not a.issue or not b.issue)


def partner(a: Article, pool: list[Article]) -> Article | None:
    """The piece of ``pool`` that ``a`` jumps to; of several, the one whose headline
    shares most characters with ``a``'s."""
    wanted = _pages(a, ("下转", "转至"))
    found = [b for b in pool if b is not a and b.source != a.source and same_issue(a, b)
             and _page(b) in wanted and _page(a) in _pages(b, ("上接", "接上"))]
    return max(found, key=lambda b: len(set(b.headline) & set(a.headline)), default=None)


def join(a: Article, b: Article) -> Article:
    """``b`` appended to ``a``: one paragraph when ``a`` stops mid-sentence."""
    from .parse_lines import is_terminal

    last = a.body.rsplit("\n", 1)[-1]
    glue = "" if last and not is_terminal(last) else "\n"
    shift = len(a.body) + len(glue)
    moved = tuple((r[0] + shift, r[1] + shift, *r[2:8], r[8] if len(r) > 8 else b.source) for r in b.regions)
    return replace(a, body=a.body + glue + b.body, regions=a.regions + moved,
                   byline=a.byline or b.byline, captions=a.captions + b.captions,
                   continuations=a.continuations + b.continuations)

