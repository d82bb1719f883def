"""What an answer claims that its cited passages must hold: numbers (digits,
Chinese numerals and mixed forms, compared by value) and names (people,
places, organisations, tagged by LAC).

``cn2an`` reads the numerals (十二, 一万亿, 1.2万); which strings count as
numbers is decided here, since cn2an's own sentence scan turns words such as
统一 or 一些 into digits.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

# Digits with an optional 万/亿 multiplier ("1.2万", "1万亿", "1,234"), or a run of
# Chinese numerals. Both repeats are bounded by what they match: linear.
_NUMBER = re.compile(
    r"(?P<digits>\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?)(?P<mult>[万亿]{0,2})"
    r"|(?P<zh>[零〇一二两三四五六七八九十百千万亿]{1,16})"
)
_PLACES = set("十百千万亿〇零")
#: LAC tags of the names an answer may not invent.
NAME_TAGS = ("PER", "LOC", "ORG")
# A place named with or without its administrative suffix is the same place.
_ADMIN_SUFFIX = re.compile(r"(?:省|市|县|区|镇|乡|村|街道)$")


def _value(token: str, smart: bool) -> float | None:
    import warnings

    import cn2an

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # cn2an warns about what it cannot read; so do we
        try:
            return float(cn2an.cn2an(token, "smart" if smart else "normal"))
        except (ValueError, KeyError, TypeError, AttributeError):
            return None


def numbers(text: str) -> list[tuple[str, float]]:
    """(as written, value) of every number in ``text``: ``1.2万`` -> 12000,
    ``第十二`` -> 12, ``一万亿`` -> 1e12. A Chinese numeral counts only with a
    place character (十百千万亿〇) or after 第, so 统一, 一些 and 一一 are words."""
    out: list[tuple[str, float]] = []
    for m in _NUMBER.finditer(text):
        if m["digits"]:
            token = m["digits"].replace(",", "") + m["mult"]
            value = _value(token, smart=True) if m["mult"] else float(token)
        else:
            token = m["zh"]
            ordinal = m.start() > 0 and text[m.start() - 1] == "第"
            if not (ordinal or _PLACES & set(token)):
                continue
            value = _value(token, smart=False)
        if value is not None:
            out.append((m.group(0), value))
    return out


def _same(a: float, b: float) -> bool:
    return abs(a - b) <= 1e-9 * max(1.0, abs(a), abs(b))


def missing_numbers(claim: str, pool: str) -> list[str]:
    """Numbers of ``claim`` whose value no number of ``pool`` has, as written.

    Plain digits also pass when ``pool`` writes the same digits (``353`` for
    ``353万``), as the check always allowed.
    """
    have = [v for _, v in numbers(pool)]
    digits = set(re.findall(r"\d+(?:\.\d+)?", pool))
    out = []
    for token, value in numbers(claim):
        if any(_same(value, v) for v in have) or (token.replace(",", "") in digits):
            continue
        if token not in out:
            out.append(token)
    return out


def names(text: str, tagger=None) -> list[str]:
    """The people, places and organisations LAC tags in ``text``, each once."""
    from .candidates import default_tagger

    tagger = tagger or default_tagger()
    return list(dict.fromkeys(w for w, tag in tagger.tag(text) if tag in NAME_TAGS and len(w) >= 2))


def missing_names(claim: str, pool: str, known: Iterable[str] = (), tagger=None) -> list[str]:
    """Names in ``claim`` that neither ``pool`` nor ``known`` (e.g. the question) holds."""
    known_text = pool + "\n" + "\n".join(known)
    out = []
    for name in names(claim, tagger):
        if name in known_text or _ADMIN_SUFFIX.sub("", name) in known_text:
            continue
        out.append(name)
    return out
