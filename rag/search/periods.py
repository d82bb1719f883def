"""Which period a question asks about, and which years a passage talks about."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from functools import lru_cache

_YEAR = r"((?:19|20)\d{2})\s*年"
#: A year the question names, with an optional half, quarter or month ("2025年上半年").
ASKED_PERIOD_RE = re.compile(
    _YEAR + r"(上半年|下半年|前三季度|第?[一二三四1-4]季度|(\d{1,2})\s*月(?:份)?)?")
_RELATIVE = {"今年": 0, "本年": 0, "去年": -1, "上年": -1, "前年": -2, "明年": 1}
#: A year the question names relative to today ("去年", "今年第一季度").
ASKED_RELATIVE_PERIOD_RE = re.compile(r"(今年|本年|去年|上年|前年|明年)(上半年|下半年|前三季度|第?[一二三四1-4]季度)?")
_PART_MONTHS = {"上半年": (1, 6), "下半年": (7, 12), "前三季度": (1, 9)}
_QUARTERS = {"一": 1, "二": 2, "三": 3, "四": 4, "1": 1, "2": 2, "3": 3, "4": 4}

# Passage side: explicit years, and relative words resolved against publication.
_P_YEAR = re.compile(r"(?<!\d)((?:19|20)\d{2})\s*(?:年|-\d{1,2}-)")
_P_RELATIVE = re.compile("|".join(_RELATIVE))


@dataclass(frozen=True)
class Period:
    """A span of time a question asks about."""

    start: date
    end: date
    label: str
    relative: bool = False  # 今年/去年: depends on when the question is asked

    @property
    def years(self) -> set[int]:
        return set(range(self.start.year, self.end.year + 1))


def question_period(question: str, today: date | None = None) -> Period | None:
    """The period a question names: "2025年", "2023年上半年", "去年", or None."""
    m = ASKED_PERIOD_RE.search(question)
    if m:
        year = int(m.group(1))
        start, end = _months(year, m.group(2), m.group(3))
        return Period(start, end, m.group(0))
    m = ASKED_RELATIVE_PERIOD_RE.search(question)
    if m:
        year = (today or date.today()).year + _RELATIVE[m.group(1)]
        start, end = _months(year, m.group(2), None)
        return Period(start, end, m.group(0), relative=True)
    return None


def _months(year: int, part: str | None, month: str | None) -> tuple[date, date]:
    if month:
        mo = min(max(int(month), 1), 12)
        return date(year, mo, 1), _month_end(year, mo)
    if part in _PART_MONTHS:
        a, b = _PART_MONTHS[part]
        return date(year, a, 1), _month_end(year, b)
    if part and part.strip("第季度") in _QUARTERS:
        q = _QUARTERS[part.strip("第季度")]
        return date(year, 3 * q - 2, 1), _month_end(year, 3 * q)
    return date(year, 1, 1), date(year, 12, 31)


def _month_end(year: int, month: int) -> date:
    if month == 12:
        return date(year, 12, 31)
    return date.fromordinal(date(year, month + 1, 1).toordinal() - 1)


def passage_years(text: str, published: str | None) -> set[int]:
    """Years a passage talks about: explicit years plus 今年/去年… resolved
    against the publication date (an issue of Feb 2026 saying 去年 means 2025)."""
    years = {int(y) for y in _P_YEAR.findall(text)}
    pub_year = int(published[:4]) if published else None
    if pub_year:
        years.update(pub_year + _RELATIVE[w] for w in _P_RELATIVE.findall(text))
    return years


def period_match(period: Period | None, text: str, published: str | None) -> float:
    """+1 when the passage talks about the asked period, -1 when it talks only
    about other years, 0 when it cannot be told (or no period was asked)."""
    if period is None:
        return 0.0
    years = passage_years(text, published)
    if years & period.years:
        return 1.0
    if years:
        return -1.0
    return 0.0


_DAY = re.compile(r"(?<!\d)(?:(\d{1,2})\s*月\s*)?(\d{1,2})\s*日")


@lru_cache(maxsize=1024)
def asked_days(question: str) -> frozenset[tuple[int, int]]:
    """The days a question names with their month ("截至8月6日22时" → {(8, 6)}); cached,
    since the reader asks it of every sentence it weighs."""
    return frozenset((int(m), int(d)) for m, d in _DAY.findall(question) if m)


def day_match(days: frozenset[tuple[int, int]], text: str, published: str | None) -> float:
    """+1 when the passage names one of the asked days (or is published on it), -1 when it
    names only other days ("截至8月1日6时" for a question asked about 8月6日), 0 when it
    names none (or no day was asked). A bare "6日" counts as the 6th of the asked month."""
    if not days:
        return 0.0
    if published and len(published) >= 10 and (int(published[5:7]), int(published[8:10])) in days:
        return 1.0
    named = [(int(m) if m else None, int(d)) for m, d in _DAY.findall(text)]
    if not named:
        return 0.0
    asked_months = {m for m, _ in days}
    for m, d in named:
        if (m, d) in days or (m is None and any((mo, d) in days for mo in asked_months)):
            return 1.0
    return -1.0


def in_range(published: str | None, date_from: str | None, date_to: str | None) -> bool:
    """Whether an ISO publication date lies in [date_from, date_to]; undated passes no filter."""
    if not date_from and not date_to:
        return True
    if not published:
        return False
    return (not date_from or published >= date_from) and (not date_to or published <= date_to)
