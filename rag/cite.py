"""Citations: formatted references, and checks that never trust a generator."""

from __future__ import annotations

import re
from collections.abc import Sequence

from .qtype import numbers_in
from .records import Citation

_MARKER = re.compile(r"\[(\d+)\]")


def format_date(date: str | None, inferred: bool) -> str:
    """"2023年7月20日", with （推断） when the date was inferred."""
    if not date:
        return "日期不详"
    y, m, d = date.split("-")
    return f"{int(y)}年{int(m)}月{int(d)}日" + ("（推断）" if inferred else "")


def format_reference(c: Citation) -> str:
    """《株洲日报》2023年7月20日 第23368期 第01版《headline》"""
    parts = ["《株洲日报》" + format_date(c.date, c.date_inferred)]
    if c.issue:
        parts.append(f"第{c.issue}期")
    if c.page:
        parts.append(f"第{c.page}版")
    return " ".join(parts) + f"《{c.headline}》"


def cited_numbers(text: str) -> list[int]:
    """The [n] markers in ``text``, in order of first appearance."""
    return list(dict.fromkeys(int(n) for n in _MARKER.findall(text)))


def drop_dangling(text: str, valid: Sequence[int]) -> str:
    """Remove [n] markers that point to no passage."""
    ok = set(valid)
    return _MARKER.sub(lambda m: m.group(0) if int(m.group(1)) in ok else "", text)


def unsupported_numbers(text: str, passages: dict[int, str]) -> list[str]:
    """Numbers in ``text`` that appear in none of the passages it cites.

    Each sentence is checked against the passages its own markers cite; a
    sentence with no marker is checked against every cited passage.
    """
    cited = cited_numbers(text)
    missing: list[str] = []
    for sentence in re.split(r"(?<=[。！？；!?])", text):
        markers = [n for n in cited_numbers(sentence) if n in passages] or \
            [n for n in cited if n in passages]
        pool = "".join(passages[n] for n in markers)
        pool_numbers = set(numbers_in(pool))
        for num in numbers_in(_MARKER.sub("", sentence)):
            if num not in pool_numbers and num not in missing:
                missing.append(num)
    return missing
