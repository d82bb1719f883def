"""Citations: formatted references, and checks that never trust a generator."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

from ..ingest.sentences import FULL_STOPS
from ..records import Citation

#: A citation marker in answer text: "[1]".
MARKER_RE = re.compile(r"\[(\d+)\]")


def format_date(date: str | None, inferred: bool) -> str:
    """"2023年7月20日", with （推断） when the date was inferred."""
    if not date:
        return "日期不详"
    y, m, d = date.split("-")
    return f"{int(y)}年{int(m)}月{int(d)}日" + ("（推断）" if inferred else "")


#: The paper's name as a reference gives it.
NEWSPAPER = "株洲日报"
#: GB/T 7714-2015 names at most three authors, then ", 等".
MAX_AUTHORS = 3
INFERRED = "推断"

# A byline names people after their role: "全媒体记者/刘芳 通讯员/胡任", "（记者刘仲华、张慧中）".
_BYLINE_SPLIT = re.compile(r"[\s、，,；;（）()]+")
_ROLE_MARK = re.compile(r"^.*[/／:：]")  # "全媒体记者/刘芳": the name follows the mark
_ROLE_WORD = re.compile(r"^.*?(?:记者|通讯员|实习生|摄影|编辑|撰稿)")  # "记者刘仲华"
_NAME = re.compile(r"[\u4e00-\u9fff·]{2,5}|[A-Za-z][A-Za-z .'-]*")


def byline_authors(byline: str | None) -> list[str]:
    """The people a byline names, roles left out, in order, each once."""
    names: list[str] = []
    for token in _BYLINE_SPLIT.split(byline or ""):
        name = _ROLE_WORD.sub("", _ROLE_MARK.sub("", token))
        # A role alone ("株洲日报全媒体记者") leaves nothing; a dateline ends in 讯 or 电.
        if _NAME.fullmatch(name) and not name.endswith(("讯", "电")) and name not in names:
            names.append(name)
    return names


def format_reference(c: Citation) -> str:
    """The GB/T 7714-2015 newspaper reference: 作者. 题名[N]. 株洲日报, 2023-07-20(02).

    An inferred date is followed by (推断); unknown authors, date or page are left out.
    """
    authors = byline_authors(c.byline)
    who = ", ".join(authors[:MAX_AUTHORS]) + (", 等" if len(authors) > MAX_AUTHORS else "")
    where = NEWSPAPER
    if c.date:
        where += f", {c.date}" + (f"({INFERRED})" if c.date_inferred else "")
    if c.page:
        where += f"({c.page})"
    return (f"{who}. " if who else "") + f"{c.headline}[N]. {where}."


def quoted_reference(c: Citation) -> str:
    """What 复制引用 copies: the quoted sentence, then its reference."""
    return f"“{c.quote}”\n{format_reference(c)}"


def cited_numbers(text: str) -> list[int]:
    """The [n] markers in ``text``, in order of first appearance."""
    return list(dict.fromkeys(int(n) for n in MARKER_RE.findall(text)))


def drop_dangling(text: str, valid: Sequence[int]) -> str:
    """Remove [n] markers that point to no passage."""
    ok = set(valid)
    return MARKER_RE.sub(lambda m: m.group(0) if int(m.group(1)) in ok else "", text)


def unsupported_numbers(text: str, passages: dict[int, str]) -> list[str]:
    """Numbers in ``text`` (digits, Chinese numerals, mixed forms such as 1.2万)
    whose value appears in none of the passages it cites.

    Each sentence is checked against the passages its own markers cite; a
    sentence with no marker is checked against every cited passage.
    """
    return unsupported_claims(text, passages, check_names=False)[0]


def unsupported_claims(text: str, passages: dict[int, str], flagged: Iterable[int] = (),
                       known: Sequence[str] = (), check_names: bool = True,
                       tagger=None) -> tuple[list[str], bool]:
    """(numbers and names of ``text`` that no passage it cites holds, whether a
    sentence rests on ``flagged`` passages alone).

    Names are people, places and organisations; one that ``known`` (the
    question) holds passes. Sentences are checked as in unsupported_numbers.
    """
    from .claims import missing_names, missing_numbers

    cited = cited_numbers(text)
    flagged = set(flagged)
    missing: list[str] = []
    flagged_only = False
    for sentence in re.split(f"(?<=[{FULL_STOPS}])", text):
        markers = [n for n in cited_numbers(sentence) if n in passages] or \
            [n for n in cited if n in passages]
        claim = MARKER_RE.sub("", sentence).strip()
        if not claim:
            continue
        if markers and all(n in flagged for n in markers):
            flagged_only = True
        pool = "\n".join(passages[n] for n in markers if n not in flagged)
        found = missing_numbers(claim, pool)
        if check_names:
            found += missing_names(claim, pool, known, tagger)
        missing.extend(x for x in found if x not in missing)
    return missing, flagged_only
