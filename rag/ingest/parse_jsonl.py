"""Archive JSONL: one article per line, ``text`` required.

Optional fields: ``id``, ``date``, ``date_raw``, ``issue``, ``page``,
``headline``, ``byline``, ``source``; others are ignored. A bad line
becomes an InputError naming its line and the rest of the file is kept.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path
from typing import Any

from ..errors import BinaryInput, InputError
from .parse_common import article_id, derive_title
from ..records import Article
from .textio import normalize_newlines, open_lines

_ISO_DATE = re.compile(r"^\s*(\d{4})-(\d{1,2})-(\d{1,2})(?:[T\s].*)?$")
# date_raw forms seen in archives: "[ 2023-07-28 16：40 ]", "2023年7月28日",
# "23-07-26 22:00" (two-digit year, then a time), "202307/25 05:01:02".
_RAW_DATES = (
    re.compile(r"(?<!\d)(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})(?!\d)"),
    re.compile(r"^\s*\[?\s*(\d{2})-(\d{2})-(\d{2})\s+\d{1,2}[:：]\d{2}"),
    re.compile(r"^\s*(\d{4})(\d{2})/(\d{2})(?!\d)"),
)


def _date(y: str, m: str, d: str) -> str | None:
    year = int(y) + 2000 if len(y) == 2 else int(y)
    try:
        return dt.date(year, int(m), int(d)).isoformat()
    except ValueError:
        return None


def parse_iso_date(value: str) -> str | None:
    """``2023-07-28`` (optionally with a time after it) -> ISO date, else None."""
    m = _ISO_DATE.match(value)
    return _date(m[1], m[2], m[3]) if m else None


def parse_raw_date(value: str) -> str | None:
    """A full date found in a free-form ``date_raw`` string, else None.

    Month-day forms without a year (``07-20 22:43``) give None.
    """
    for rx in _RAW_DATES:
        m = rx.search(value)
        if m:
            return _date(m[1], m[2], m[3])
    return None


def _text_field(obj: dict[str, Any], key: str) -> str | None:
    value = obj.get(key)
    if value is None or isinstance(value, (dict, list, bool)):
        return None
    s = str(value).strip()
    return s or None


def _clean_body(text: str) -> str:
    lines = (ln.strip() for ln in normalize_newlines(text).split("\n"))
    return "\n".join(ln for ln in lines if ln)


def _page(value: str | None) -> str | None:
    if value is None:
        return None
    # Bounded repeats: a page field of many spaces must not backtrack.
    m = re.fullmatch(r"第?\s{0,3}([A-Z]?)\s{0,3}0{0,6}(\d{1,2})\s{0,3}版?", value)
    return f"{m[1]}{int(m[2]):02d}" if m else value


class _LineError(Exception):
    pass


def _article(obj: Any, source: str, position: int, default_date: str | None) -> Article:
    if not isinstance(obj, dict):
        raise _LineError(f"not a JSON object but {type(obj).__name__}")
    text = obj.get("text")
    if not isinstance(text, str) or not text.strip():
        raise _LineError('missing or empty "text"')
    raw_value = obj.get("date")
    if raw_value is None or raw_value == "":
        raw = obj.get("date_raw")
        date = parse_raw_date(raw) if isinstance(raw, str) else None
        if date is None and isinstance(raw, str) and any(rx.search(raw) for rx in _RAW_DATES):
            raise _LineError(f"impossible date_raw {raw[:40]!r} (no such day)")
        date = date or default_date
    elif isinstance(raw_value, str) and (date := parse_iso_date(raw_value)):
        pass
    else:
        raise _LineError(f"bad date {str(raw_value)[:40]!r} (expected YYYY-MM-DD)")
    body = _clean_body(text)
    headline = _text_field(obj, "headline")
    derived = headline is None
    if derived:
        headline = derive_title(body)
    issue = _text_field(obj, "issue")
    if issue is not None:
        issue = "".join(c for c in issue if c.isdigit()) or None
    given_id = _text_field(obj, "id")
    page = _page(_text_field(obj, "page"))
    return Article(
        id=given_id or article_id(headline, body, date, issue, page),
        source=source,
        position=position,
        headline=headline,
        body=body,
        date=date,
        issue=issue,
        page=page,
        byline=_text_field(obj, "byline"),
        headline_derived=derived,
    )


def parse_jsonl(
    path: str | Path, date: str | None = None
) -> tuple[list[Article], list[InputError]]:
    """Articles of a ``.jsonl``/``.jsonl.gz`` file and one error per bad line.

    ``date`` fills in lines that carry no usable date. A line whose ``id``
    repeats an earlier one is an error (ids must be unique). Raises
    InputError only if the file as a whole cannot be read.
    """
    source = str(path)
    articles: list[Article] = []
    errors: list[InputError] = []
    first_line: dict[str, int] = {}
    try:
        for n, line in open_lines(path, errors):
            if not line.strip():
                continue
            try:
                obj = json.loads(line)
            except json.JSONDecodeError as exc:
                errors.append(InputError(path, f"invalid JSON: {exc.msg} at column {exc.colno}", line=n))
                continue
            try:
                art = _article(obj, source, len(articles), date)
            except _LineError as exc:
                errors.append(InputError(path, str(exc), line=n))
                continue
            if art.id in first_line:
                errors.append(InputError(path, f"duplicate id {art.id!r} (first on line {first_line[art.id]})", line=n))
                continue
            first_line[art.id] = n
            articles.append(art)
    except BinaryInput:
        raise  # the whole file is binary: what decoded of it is noise
    except InputError as exc:
        if not articles and not errors:
            raise
        errors.append(exc)  # a corrupt tail: keep what was read before it
    errors.sort(key=lambda e: e.line or 0)
    return articles, errors
