"""Dates in newspaper text: the printed issue date, its number, and guesses.

All functions are pure and work on plain strings.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from .sentences import FULL_STOPS

_FULL = re.compile(r"(?<!\d)(\d{4})\s*年\s*(\d{1,2})\s*月\s*(\d{1,2})\s*[日号]")
_ISO = re.compile(r"(?<![\d.])(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})(?![\d.])")
_MONTH_DAY = re.compile(r"(?<![\d年/.-])(\d{1,2})\s*月\s*(\d{1,2})\s*[日号]")
_YEAR_MONTH = re.compile(r"(?<!\d)(\d{4})\s*年\s*(\d{1,2})\s*月(?!\s*\d{1,2}\s*[日号])")
_YEAR = re.compile(r"(?<!\d)(\d{4})\s*年(?!\s*\d{1,2}\s*月)")

# Bits a printed date line may carry besides the date itself.
_DATE_LINE_EXTRAS = re.compile(
    r"星期[一二三四五六日天]|周[一二三四五六日]|农历\S*"
    r"|[甲乙丙丁戊己庚辛壬癸][子丑寅卯辰巳午未申酉戌亥]年\S*"
    r"|总?第\s*\d+\s*期|今日\s*\d+\s*版|共\s*\d+\s*版|第?\s*[A-Z]?\d{1,2}\s*版"
    r"|[\s,，|｜·、:：()（）\[\]【】-]"
)
_ISSUE = re.compile(r"总?第\s*(\d{3,6})\s*期")
_PAGE = re.compile(r"(?:^|[\s(（])第\s*([A-Z]?)\s*0*(\d{1,2})\s*版|^\s*([A-Z]?)0*(\d{1,2})\s*版")

# Context that makes a date a plan, a deadline or a range rather than
# something that already happened when the paper went to press.
# "截至" (as of) is a past cut-off, unlike a bare "至" (until).
_FUTURE_BEFORE = re.compile(r"(将于|将在|将|预计|计划|定于|拟于|拟|即将|届时|力争|展望|到|(?<!截)至|~|～|—|－|-)\s*$")
_FUTURE_AFTER = re.compile(
    r"^\s*(?:(?:至|到|~|～|—|－|-)\s*(?:\d{4}\s*年\s*)?(?:\d{1,2}\s*月)?\s*\d{1,2}\s*[日号]"
    r"|(?:至|到|~|～|—|－|-)\s*\d{1,2}\s*月|前|之前|以前|起|开始)"
)

_HEAD_LINES = 12  # a printed date / issue number sits in the first lines


def _valid(y: int, m: int, d: int) -> dt.date | None:
    if not 1900 <= y <= 2200:
        return None
    try:
        return dt.date(y, m, d)
    except ValueError:
        return None


def _head_lines(text: str, limit: int = _HEAD_LINES) -> list[str]:
    out = []
    for line in text.split("\n"):
        line = line.strip().lstrip("#").strip()
        if line:
            out.append(line)
            if len(out) >= limit:
                break
    return out


def parse_date(value: str) -> dt.date | None:
    """A date written as ``2023-07-20``, ``2023/7/20``, ``2023.07.20`` or
    ``2023年7月20日`` anywhere in ``value``; None if there is none or it is invalid."""
    for rx in (_ISO, _FULL):
        m = rx.search(value)
        if m:
            return _valid(int(m[1]), int(m[2]), int(m[3]))
    return None


def is_date_line(line: str) -> bool:
    """True for a short masthead line that is a date plus weekday/lunar/issue bits."""
    line = line.strip().lstrip("#").strip()
    if not line or len(line) > 60 or line[-1] in FULL_STOPS:
        return False
    m = _FULL.search(line) or _ISO.search(line)
    if not m or not _valid(int(m[1]), int(m[2]), int(m[3])):
        return False
    rest = _DATE_LINE_EXTRAS.sub("", line[: m.start()] + line[m.end() :])
    # Allow a paper's name ("株洲日报") but not a headline's worth of words.
    return len(rest) <= 6


def find_issue_date(text: str) -> str | None:
    """The printed issue date (ISO) from a date line near the top, if any.

    Only short lines among the first few that are a date plus weekday, lunar
    date or issue number count, so a date in a headline or a sentence is
    never taken for the issue date.
    """
    for line in _head_lines(text):
        if is_date_line(line):
            d = parse_date(line)
            if d:
                return d.isoformat()
    return None


def find_issue_number(text: str) -> str | None:
    """The issue number (期号) printed near the top: ``第23368期`` -> ``"23368"``."""
    for line in _head_lines(text):
        # A masthead line, not a sentence that mentions "第100期".
        if len(line) <= 60 and not re.search(r"[。，,！？!?；;]", line):
            m = _ISSUE.search(line)
            if m:
                return m[1]
    return None


def find_page(text: str) -> str | None:
    """The page (版次) printed near the top: ``第01版``/``01版``/``第A3版`` -> ``"01"``/``"A03"``.

    ``今日8版`` (the page count) and ``下转02版`` (a jump) are not pages.
    """
    for line in _head_lines(text):
        if len(line) > 60 or re.search(r"[转接续]\s*第?\s*\d{1,2}\s*版|今日\s*\d+\s*版|共\s*\d+\s*版", line):
            continue
        m = _PAGE.search(line)
        if m:
            letter = m[1] if m[2] else m[3]
            digits = m[2] or m[4]
            return f"{letter or ''}{int(digits):02d}"
    return None


@dataclass(frozen=True)
class DateMention:
    """One date written in the text. ``year`` is None for ``2月8日``;
    ``day`` is None for ``2025年10月`` and ``month`` too for ``2025年``."""

    start: int
    end: int
    year: int | None
    month: int | None
    day: int | None
    future: bool  # a plan, a deadline, or one end of a range


def _is_future(text: str, start: int, end: int) -> bool:
    before = text[max(0, start - 4) : start]
    after = text[end : end + 12]
    return bool(_FUTURE_BEFORE.search(before) or _FUTURE_AFTER.match(after))


def find_mentions(text: str) -> list[DateMention]:
    """Every full date, month-day, year-month and year written in ``text``, in order."""
    import bisect

    found: list[DateMention] = []
    # The spans taken so far, sorted and disjoint: a lookup is two neighbours,
    # not a scan of every earlier date (an archive dump holds thousands).
    starts: list[int] = []
    ends: list[int] = []

    def take(span: tuple[int, int]) -> None:
        i = bisect.bisect_left(starts, span[0])
        starts.insert(i, span[0])
        ends.insert(i, span[1])

    def free(s: int, e: int) -> bool:
        i = bisect.bisect_right(starts, s)
        return (i == 0 or ends[i - 1] <= s) and (i == len(starts) or starts[i] >= e)

    for rx in (_FULL, _ISO):
        for m in rx.finditer(text):
            if free(m.start(), m.end()) and _valid(int(m[1]), int(m[2]), int(m[3])):
                take(m.span())
                found.append(DateMention(m.start(), m.end(), int(m[1]), int(m[2]), int(m[3]),
                                         _is_future(text, m.start(), m.end())))
    for m in _MONTH_DAY.finditer(text):
        if free(m.start(), m.end()) and _valid(2000, int(m[1]), int(m[2])):
            take(m.span())
            found.append(DateMention(m.start(), m.end(), None, int(m[1]), int(m[2]),
                                     _is_future(text, m.start(), m.end())))
    for m in _YEAR_MONTH.finditer(text):
        if free(m.start(), m.end()) and 1 <= int(m[2]) <= 12:
            take(m.span())
            found.append(DateMention(m.start(), m.end(), int(m[1]), int(m[2]), None,
                                     _is_future(text, m.start(), m.end())))
    for m in _YEAR.finditer(text):
        if free(m.start(), m.end()) and 1900 <= int(m[1]) <= 2200:
            take(m.span())
            found.append(DateMention(m.start(), m.end(), int(m[1]), None, None,
                                     _is_future(text, m.start(), m.end())))
    return sorted(found, key=lambda x: x.start)


def _resolve(month: int, day: int, anchor: dt.date | None, year: int | None) -> dt.date | None:
    if anchor is None:
        return _valid(year, month, day) if year else None
    # The year that puts the month-day closest to the anchor: "2月8日" next
    # to "2025年10月15日" is February 2026, next to "2026年1月5日" too.
    options = [d for y in (anchor.year - 1, anchor.year, anchor.year + 1) if (d := _valid(y, month, day))]
    return min(options, key=lambda d: (abs((d - anchor).days), -d.toordinal())) if options else None


def _reference(mentions: list[DateMention]) -> tuple[dt.date | None, int | None]:
    """(latest past full date, latest past year) of the mentions."""
    past = [m for m in mentions if not m.future]
    full = [d for m in past if m.day and m.year and (d := _valid(m.year, m.month, m.day))]
    years = [m.year for m in past if m.year]
    anchor = max(full) if full else None
    if anchor is not None:
        # A year far beyond any full date is a target ("2035年"), not now.
        years = [y for y in years if y <= anchor.year + 1]
    return anchor, (max(years) if years else None)


def infer_issue_date(text: str) -> str | None:
    """Guess the publication date (ISO) of an issue that prints none.

    Rule: take the dates that already happened by press time (leaving out
    ranges ``2月10日至3月8日``, deadlines ``3月1日前``, starts ``起`` and
    plans ``将于/预计/计划/拟``). The anchor is the latest such full date
    (``2025年10月15日``). Each month-day without a year goes to the year
    (anchor's, or one either side) that puts it closest to the anchor; with
    no full date at all, to the latest year mentioned (``2026年…``). The
    issue date is the day after the latest resulting date, since papers
    report yesterday's news. None when no day-level date can be placed.
    The result is a guess: callers must mark it inferred.
    """
    mentions = find_mentions(text)
    anchor, ref_year = _reference(mentions)
    dates = []
    for m in mentions:
        if m.future or m.day is None:
            continue
        d = _valid(m.year, m.month, m.day) if m.year else _resolve(m.month, m.day, anchor, ref_year)
        if d:
            dates.append(d)
    if not dates:
        return None
    return (max(dates) + dt.timedelta(days=1)).isoformat()
