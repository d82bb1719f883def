"""Complete follow-up questions ("那2023年呢？", "它的展期到什么时候？") from earlier turns."""

from __future__ import annotations

import re
from collections.abc import Sequence

from ..search.periods import ASKED_PERIOD_RE, ASKED_RELATIVE_PERIOD_RE

_FOLLOW_START = re.compile(r"^(?:那么?|那个|还有|另外|再问一下|再问|其中)[，,、\s]*")
_ELLIPTIC = re.compile(r"^(.{1,20}?)(?:呢|怎么样|如何|又如何|又是多少)[？?]?$")
_PRONOUN = re.compile(r"^(?:它|其|他|她|该|这个|这项|此|这)(?:们)?(?:的)?")
_SUBJECT_END = re.compile(r"(?:在哪|在|是|有|由|为|于|哪|什么|多少|几|谁|何|的[^\s]{0,2}(?:是|有))")
_PLACE_WORD = re.compile(r"[\u4e00-\u9fff]{2,6}(?:市|区|县|镇|乡|村)")


def resolve_followup(question: str, previous: Sequence[str]) -> str:
    """The question made self-contained using the last earlier question, if it needs it."""
    question = question.strip()
    if not previous:
        return question
    last = previous[-1].strip()
    body = _FOLLOW_START.sub("", question)
    is_follow = body != question

    m = _ELLIPTIC.match(body)
    if m and (is_follow or len(body) <= 12):
        focus = m.group(1).strip("，, ")
        return _substitute(last, focus)

    if _PRONOUN.match(body):
        subject = _subject(last)
        if subject:
            rest = _PRONOUN.sub("", body)
            joiner = "" if rest.startswith(("的", "在", "是", "有")) else "的"
            return f"{subject}{joiner}{rest}"
    if is_follow and len(body) <= 12:
        return f"{_subject(last) or ''}{body}"
    return question


def _substitute(last: str, focus: str) -> str:
    """Put ``focus`` in the slot of ``last`` it replaces (a period, or a place)."""
    new_period = ASKED_PERIOD_RE.search(focus) or ASKED_RELATIVE_PERIOD_RE.search(focus)
    if new_period:
        old = ASKED_PERIOD_RE.search(last) or ASKED_RELATIVE_PERIOD_RE.search(last)
        if old:
            return last[:old.start()] + new_period.group(0) + last[old.end():]
        return new_period.group(0) + last
    place = _PLACE_WORD.search(last)
    if place and _PLACE_WORD.fullmatch(focus):
        return last[:place.start()] + focus + last[place.end():]
    subject = _subject(last)
    if subject and last.startswith(subject):
        return focus + last[len(subject):]
    return f"{focus}{last}"


def _subject(question: str) -> str | None:
    """What the question is about: the text before its first predicate word."""
    m = _SUBJECT_END.search(question, 2)
    subject = question[:m.start()] if m else None
    return subject.strip("，,？? ") if subject and len(subject) >= 2 else None
