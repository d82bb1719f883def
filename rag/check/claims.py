"""A draft split into checkable claims, each with its character offsets.

A checkable claim is a sentence (or, in an over-long sentence, a clause) that
states a number, a date, an ordinal or rank, or names a person, place or
organisation. The numbers, dates and ranks come from the reader's rules
(``rag/answer/candidates.py``); the names from the same LAC tagger the reader
uses. Opinion, wishes and questions are not claims, even when they name a
place ("株洲的明天一定会更好"): they are recognised by the words that mark a
judgement rather than a report, and kept only when they also state a number or
a date, which can still be wrong.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ..answer.candidates import DATE, NUMBER, ORDINAL, Tagger, default_tagger, lac_candidates
from ..ingest.sentences import split_sentences

#: Longest draft checked at once (characters), in the UI, the CLI and the API alike.
MAX_DRAFT_CHARS = 10_000
#: A sentence longer than this is checked clause by clause: one verdict on a
#: hundred-character sentence would not say which of its facts is wrong.
MAX_CLAIM_CHARS = 100
#: Words that mark a judgement, a wish or an exhortation rather than a report.
OPINION = re.compile(
    "认为|觉得|相信|希望|期待|期盼|期望|祝愿|盼望|应当|应该|必须|不妨|值得|令人|让人|堪称|无疑|必将|势必|"
    "一定会|一定要|要坚持|要把|要以|让我们|我们要|我们应|感到|感慨|感受到|可谓|不禁|难忘|美好|"
    "何等|多么|真是|实在是|仿佛|似乎|或许|也许|想必|恐怕|倡议|呼吁|建议")
#: Markdown and list markup at the start of a line, which is not part of a claim
#: (matched at the sentence's start, so no ``^``).
_MARKUP = re.compile(r"(?:#{1,6}\s*|[-*+>]\s+|\d+[.、)]\s*)+")
#: A clause boundary inside an over-long sentence.
_CLAUSE = re.compile(r"[，,：:]")
_ENTITY_KINDS = ("PER", "LOC", "ORG")
#: A count of one (一场, 一份, 两个) is how Chinese says "a", not a figure to check.
_ARTICLE_COUNT = re.compile(r"(?:[一两](?![零〇一二两三四五六七八九十百千万亿]))")


@dataclass(frozen=True)
class Claim:
    """A checkable stretch of the draft: ``text == draft[start:end]``."""

    text: str
    start: int
    end: int
    kinds: tuple[str, ...]  # what it states: NUM, DATE, ORD, PER, LOC, ORG


def split_claims(draft: str, tagger: Tagger | None = None) -> list[Claim]:
    """The checkable claims of ``draft``, in order, with offsets into it."""
    tagger = tagger or default_tagger()
    out: list[Claim] = []
    for start, end in _units(draft):
        text = draft[start:end]
        kinds = stated(text, tagger)
        if kinds and not is_opinion(text, kinds):
            out.append(Claim(text, start, end, kinds))
    return out


def _units(draft: str) -> list[tuple[int, int]]:
    """Sentences without their markup; over-long ones cut into clauses."""
    units = []
    for start, end in split_sentences(draft, max_chars=len(draft) + 1):
        m = _MARKUP.match(draft, start, end)
        if m:
            start = m.end()
        if end - start < 2:
            continue
        if end - start <= MAX_CLAIM_CHARS:
            units.append((start, end))
            continue
        units.extend(_clauses(draft, start, end))
    return units


def _clauses(draft: str, start: int, end: int) -> list[tuple[int, int]]:
    """Cut at commas into pieces of at most MAX_CLAIM_CHARS where the sentence allows;
    a piece is never shorter than a fifth of the limit, so no clause loses its subject
    to a lone "同时，"."""
    pieces, a = [], start
    cuts = [m.end() for m in _CLAUSE.finditer(draft, start, end)]
    last = a
    for cut in cuts:
        if cut - a > MAX_CLAIM_CHARS and last - a >= MAX_CLAIM_CHARS // 5:
            pieces.append((a, last))
            a = last
        last = cut
    pieces.append((a, end))
    return pieces


def stated(text: str, tagger: Tagger) -> tuple[str, ...]:
    """The kinds of checkable fact ``text`` states (empty when none)."""
    kinds = []
    if any(not _ARTICLE_COUNT.match(m.group(0)) for m in NUMBER.finditer(text)):
        kinds.append("NUM")
    if any(re.search(r"\d|[一二三四五六七八九十]月", m.group(0)) for m in DATE.finditer(text)):
        kinds.append("DATE")
    if ORDINAL.search(text):
        kinds.append("ORD")
    names = {c.kind for c in lac_candidates(text, tagger.tag(text)) if c.kind in _ENTITY_KINDS}
    kinds.extend(k for k in _ENTITY_KINDS if k in names)
    return tuple(kinds)


def is_opinion(text: str, kinds: tuple[str, ...]) -> bool:
    """A question, or a judgement that states no number, date or rank."""
    if text.rstrip("”’」』）)\"' ").endswith(("？", "?")):
        return True
    if {"NUM", "DATE", "ORD"} & set(kinds):
        return False
    return bool(OPINION.search(text))
