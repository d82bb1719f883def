"""Building articles from classified lines, shared by the issue parsers.

A parser turns an issue into sections (a headline and its classified
lines, see :mod:`rag.parse_lines`); this module builds one :class:`Draft`
per section (joining paragraphs broken across blank lines, pulling out
bylines, captions and page jumps), drops repeated paragraphs and turns
the drafts of a file into :class:`~rag.records.Article` records.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, replace

from .parse_lines import (
    BULLETS,
    HEADLINE_MAX,
    Line,
    is_heading_like,
    is_terminal,
    split_byline_para,
    strip_continuations,
)
from ..records import Article
from .sentences import FULL_STOPS

_SENTENCE_END = re.compile(f"[{FULL_STOPS}]")
_REPORT_PREFIX = re.compile(r"^(?:据)?[^，,。:：\s]{2,24}?(?:报道|获悉|消息|讯|电)(?:\s*[，,:：]\s*|\s+)")


@dataclass(frozen=True)
class Draft:
    """An article before ids, dates and positions are attached."""

    headline: str | None
    paragraphs: tuple[str, ...]
    column: str | None = None
    subheadline: str | None = None
    byline: str | None = None
    captions: tuple[str, ...] = ()
    continuations: tuple[str, ...] = ()
    kind: str = "article"
    headline_derived: bool = False


def _needs_space(a: str, b: str) -> bool:
    # Chinese runs on without a space; two Latin words need one.
    return a[-1:].isascii() and a[-1:].isalpha() and b[:1].isascii() and b[:1].isalpha()


@dataclass(frozen=True)
class _Para:
    kind: str  # "text" | "sub"
    text: str
    first: bool  # a blank line (or a removed caption etc.) came before it
    jumped: bool = False  # had a page-jump marker: it continues elsewhere


def join_broken(paras: list[_Para]) -> list[_Para]:
    """Join a paragraph cut mid-sentence across a blank line with the next.

    Only text paragraphs join, only across a block boundary, only when the
    first does not end a sentence and did not jump to another page.
    """
    # Pieces are collected and joined once: adding each to a growing string
    # would copy it again and again (quadratic in a file of broken lines).
    groups: list[tuple[_Para, list[str]]] = []
    for p in paras:
        prev = groups[-1] if groups else None
        if (
            prev is not None
            and p.kind == "text"
            and prev[0].kind == "text"
            and p.first
            and not prev[0].jumped
            and not is_terminal(prev[1][-1])
        ):
            prev[1].append(p.text)
            groups[-1] = (replace(prev[0], jumped=p.jumped), prev[1])
        else:
            groups.append((p, [p.text]))
    return [replace(p, text=_join_all(pieces)) for p, pieces in groups]


def _join_all(pieces: list[str]) -> str:
    if len(pieces) == 1:
        return pieces[0]
    out = [pieces[0]]
    for a, b in zip(pieces, pieces[1:]):
        out.append(f" {b}" if _needs_space(a, b) else b)
    return "".join(out)


def build_draft(
    headline: str | None,
    items: list[tuple[str, Line]],
    column: str | None = None,
) -> Draft:
    """One section's classified lines -> a Draft.

    ``items`` kinds: ``text``, ``sub`` (sub-head, kept as its own body
    line), ``col`` (Markdown ``###``), ``dash``, ``byline``, ``caption``,
    ``cont``; ``meta``/``ad``/``notice`` are dropped. Before the body
    starts, a ``col`` fills ``column`` (then ``subheadline``) and a dash
    line fills ``subheadline``; the first ``…讯(记者/…)`` prefix becomes
    the byline.
    """
    subheadline = None
    bylines: list[str] = []
    captions: list[str] = []
    conts: list[str] = []
    paras: list[_Para] = []
    body_started = False
    pending_first = False  # something removed since the last paragraph
    for kind, ln in items:
        t = ln.text
        if kind in ("meta", "ad", "notice"):
            continue
        if kind == "caption":
            captions.append(t)
            continue
        if kind == "byline":
            bylines.append(t)
            pending_first = True
            continue
        t, found = strip_continuations(t)
        conts.extend(found)
        if not t:
            continue
        if kind == "col":
            if not body_started and column is None:
                column = t
                continue
            if not body_started and subheadline is None:
                subheadline = t
                continue
            kind = "sub"
        if kind == "dash":
            if not body_started and subheadline is None and len(t) <= HEADLINE_MAX:
                subheadline = t.lstrip("—-– ").strip() or None
                continue
            kind = "sub" if is_heading_like(t) else "text"
        if kind == "text" and not bylines and not body_started:
            who, rest = split_byline_para(t)
            if who:
                bylines.append(who)
                t = rest
                if not t:
                    continue
        paras.append(_Para(kind, t, ln.first or pending_first, bool(found)))
        pending_first = False
        body_started = body_started or kind == "text"
    paragraphs = tuple(p.text for p in join_broken(paras))
    return Draft(
        headline=headline or None,
        paragraphs=paragraphs,
        column=column,
        subheadline=subheadline,
        byline=" ".join(bylines) or None,
        captions=tuple(captions),
        continuations=tuple(dict.fromkeys(conts)),
    )


def notice_draft(text: str) -> Draft:
    """A classified notice line as its own item, titled from its text."""
    body = text.lstrip(BULLETS + " ").strip()
    return Draft(
        headline=derive_title(body, 40),
        paragraphs=(body,),
        kind="notice",
        headline_derived=True,
    )


def derive_title(text: str, limit: int = 24) -> str:
    """A display title from article text: its first sentence, or the first
    ``limit`` characters cut at a natural break and ending in ``…``.

    A leading wire/byline prefix (``株洲日报讯(…)``, ``参考消息网8月16日报道,``)
    is skipped: it says who reported, not what happened.
    """
    first = next((p.strip() for p in text.split("\n") if p.strip()), "")
    who, rest = split_byline_para(first)
    if who and rest:
        first = rest
    m = _REPORT_PREFIX.match(first)
    if m and len(first) - m.end() >= 10:
        first = first[m.end() :]
    m = _SENTENCE_END.search(first)
    sentence = (first[: m.start()] if m else first).strip()
    if len(sentence) <= limit:
        return sentence or first[:limit]
    cut = sentence[:limit]
    brk = max(cut.rfind(c) for c in ",，、:： ")
    if brk >= limit * 2 // 3:
        cut = cut[:brk]
    else:
        # Do not end inside a number or Latin word ("J55250…").
        tail = re.search(r"[A-Za-z0-9.]+$", cut)
        nxt = sentence[len(cut) : len(cut) + 1]
        if tail and nxt.isascii() and nxt.isalnum() and tail.start() >= limit // 2:
            cut = cut[: tail.start()]
    return cut.rstrip(",，、:： ") + "…"


def article_id(headline: str, body: str, date: str | None = None, issue: str | None = None,
               page: str | None = None) -> str:
    """Deterministic id for an article that has none of its own, from its issue and text.

    The issue (date, 期号, 版次) is part of the id: a reprint, or the same story
    in another edition, is another citation and is kept beside the first.
    """
    where = f"{date or ''}|{issue or ''}|{page or ''}"
    return hashlib.sha1(f"{where}\n{headline}\n{body}".encode()).hexdigest()[:16]


def dedupe_paragraphs(drafts: list[Draft], min_len: int = 12) -> list[Draft]:
    """Drop paragraphs repeated verbatim earlier in the same file.

    Raw dumps sometimes print a block twice; short lines (sub-heads such as
    ``——报销比例升了``) may legitimately repeat, so only longer ones go.
    """
    seen: set[str] = set()
    out = []
    for d in drafts:
        if d.kind != "article":
            out.append(d)
            continue
        kept = []
        for p in d.paragraphs:
            if len(p) >= min_len:
                if p in seen:
                    continue
                seen.add(p)
            kept.append(p)
        out.append(replace(d, paragraphs=tuple(kept)))
    return out


def finalize(
    drafts: list[Draft],
    source: str,
    date: str | None = None,
    date_inferred: bool = False,
    issue: str | None = None,
    page: str | None = None,
) -> list[Article]:
    """Drafts of one file -> Articles with ids, positions and issue metadata.

    Drafts left with neither body nor captions are dropped, and so is an
    exact repeat of an earlier article.
    """
    articles: list[Article] = []
    ids: set[str] = set()
    for d in dedupe_paragraphs(drafts):
        if not d.paragraphs and not d.captions:
            continue
        body = "\n".join(d.paragraphs)
        headline, derived = d.headline, d.headline_derived
        if not headline:
            headline = derive_title(body or d.captions[0])
            derived = True
        aid = article_id(headline, body, date, issue, page)
        if aid in ids:
            continue
        ids.add(aid)
        articles.append(
            Article(
                id=aid,
                source=source,
                position=len(articles),
                headline=headline,
                body=body,
                date=date,
                date_inferred=date_inferred,
                issue=issue,
                page=page,
                column=d.column,
                subheadline=d.subheadline,
                byline=d.byline,
                captions=d.captions,
                continuations=d.continuations,
                kind=d.kind,
                headline_derived=derived,
            )
        )
    return articles
