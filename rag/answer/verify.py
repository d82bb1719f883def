"""Claim verification with the reader: supported, contradicted, or not found in the archive.

A claim is checked value by value. Each number (with its unit) or name the
claim states is masked into a question ("…参保人数达到多少人", "官塘村位于哪里"),
and the reader answers that question from the archive as it answers any other:
it finds the sentence, aligns the question's words with the clause around each
candidate, and picks the span. The claim is supported when the reader's answer
is the claimed value, contradicted when the reader confidently gives another
value of the same kind, and not found otherwise: a claimed value that stands in
a neighbouring clause (the hard score for the soft one) supports nothing.

The wording before the value is compared too. When the sentence the reader read
words the value like the claim but for one swapped word (株洲硬经济指标得分为 where
the claim says 株洲软经济指标得分为), it speaks of another measure: the value is then
taken from a read sentence that words it as the claim does, if one does.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from difflib import SequenceMatcher
from typing import Any

from .compose import make_citation
from .candidates import (QUALIFIER_AFTER, QUALIFIER_BEFORE, Candidate, candidates, default_tagger,
                         rule_candidates)
from .cite import format_reference
from .features import char_bigrams, normalize, question_view
from .reader import EXTRA_CANDIDATES
from ..search.periods import passage_years
from ..records import Citation

SUPPORTED, CONTRADICTED, NOT_FOUND = "supported", "contradicted", "not_found"
VERDICTS = (SUPPORTED, CONTRADICTED, NOT_FOUND)
VERDICT_LABELS = {SUPPORTED: "有依据", CONTRADICTED: "与报道不符", NOT_FOUND: "档案中未找到"}
_YEAR = re.compile(r"((?:19|20)\d{2})\s*年")
_NUMBER = re.compile(r"\d+(?:\.\d+)?")
#: The question word that asks for each kind of value.
_ASK = {"NUM": "多少", "ORD": "第几", "PER": "谁", "LOC": "哪里", "ORG": "哪个单位", "TIME": "什么时候"}
#: Kinds of value a claim is checked on, most telling first.
_CHECKED = ("NUM", "ORD", "LOC", "ORG", "PER")


@dataclass(frozen=True)
class Verdict:
    claim: str
    verdict: str  # supported | contradicted | not_found
    explanation: str
    evidence: tuple[Citation, ...] = ()
    claimed: str | None = None  # the value in the claim that was checked
    found: str | None = None  # the value the archive gives

    def to_dict(self) -> dict[str, Any]:
        return {"claim": self.claim, "verdict": self.verdict, "label": VERDICT_LABELS[self.verdict],
                "explanation": self.explanation, "claimed": self.claimed, "found": self.found,
                "evidence": [c.to_dict() for c in self.evidence]}

    def explain(self) -> str:
        lines = [f"{VERDICT_LABELS[self.verdict]}（{self.verdict}）：{self.explanation}"]
        for c in self.evidence:
            lines.append(f"[{c.n}] {format_reference(c)}\n    “{c.quote}”")
        return "\n".join(lines)


def _values(claim: str) -> list[Candidate]:
    """The numbers and names a claim states, in the order they are checked."""
    found = [c for c in rule_candidates(claim) if c.kind in ("NUM", "ORD")]
    taken = [(c.start, c.end) for c in found]
    for c in candidates(claim, default_tagger()):
        if c.kind in ("LOC", "ORG", "PER") and c.source == "lac" and \
                not any(a < c.end and c.start < b for a, b in taken):
            found.append(c)
    # Without numbers, the claim is checked on its last name (the longest of overlapping
    # ones: 渌口区淦田镇 over 淦田镇): the subject comes first, what is said of it after.
    names = [c for c in found if c.kind not in ("NUM", "ORD")]
    names = [c for c in names if not any(o is not c and o.start <= c.start and c.end <= o.end
                                         and o.end - o.start > c.end - c.start for o in names)]
    # A claim with numbers is checked on them; the names around them say what they measure.
    numbers = [c for c in found if c.kind in ("NUM", "ORD")]
    return numbers or names[::-1][:1]


def masked_question(claim: str, value: Candidate) -> str:
    """The claim as a question about ``value``: 353万人 → 多少万人, 渌口区淦田镇 → 哪里."""
    if value.kind == "NUM":
        unit = re.sub(r"^[^\u4e00-\u9fff%％]*?(?=[万亿千百]?[^\d.,，])", "", _strip_number(value.text))
        ask = "多少" + unit
    elif value.kind == "ORD":  # 第三届 → 第几届: the measure word stays, so the question still names what is counted
        ask = "第几" + re.sub(r"^第?[\d零〇一二两三四五六七八九十百千]+", "", value.text)
    else:
        ask = _ASK[value.kind]
    return claim[:value.start] + ask + claim[value.end:]


def _strip_number(text: str) -> str:
    text = re.sub(rf"^(?:{QUALIFIER_BEFORE})", "", text)
    text = re.sub(rf"(?:{QUALIFIER_AFTER})$", "", text)
    return re.sub(r"^[\d.,，零〇一二两三四五六七八九十]+", "", text)


#: What a span may carry around a value that changes nothing it states: brackets and
#: punctuation, and the particles after it (29年来, 65岁的, 8人在).
_EDGES_BEFORE = "（(【[“\"'《"
_EDGES_AFTER = "的来在了，,。；;）)】]”\"'》"
_NUMERALS = frozenset("零〇一二两三四五六七八九十百千万亿")


def _bare(text: str) -> str:
    return normalize(text).lstrip(_EDGES_BEFORE).rstrip(_EDGES_AFTER)


def _unit(text: str) -> str:
    """What a number counts, without its qualifiers: 接近2万人次 → 万人次, 25%以内 → %."""
    digits = list(_NUMBER.finditer(text))
    tail = text[digits[-1].end():] if digits else text
    return re.sub(rf"(?:{QUALIFIER_AFTER}|以内|之内)$", "", tail)


def _units_agree(a: str, b: str) -> bool:
    """One unit holds the other from its start (60周 / 60周岁, 50万辆 / 50万辆次): the
    value finder cut one of them short."""
    ua, ub = _unit(a), _unit(b)
    return ua.startswith(ub) or ub.startswith(ua)


def same_value(claimed: Candidate, found: str) -> bool:
    a, b = _bare(claimed.text), _bare(found)
    if claimed.kind in ("NUM", "ORD"):
        if _NUMBER.findall(a):
            return _NUMBER.findall(a) == _NUMBER.findall(b) and _units_agree(a, b)
        # 第三 / 第三类, 一架 / 最后一架; but not 第二 / 第二十
        short, long_ = sorted((a, b), key=len)
        at = long_.find(short)
        return bool(short) and at >= 0 and long_[at + len(short):at + len(short) + 1] not in _NUMERALS \
            and long_[at - 1:at] not in _NUMERALS
    return bool(a) and (a in b or b in a)


def comparable(claimed: Candidate, found: Candidate) -> bool:
    """Whether a value the reader found can contradict the claimed one: the same kind
    (a place and an organisation count as one: LAC tells them apart unreliably). The unit
    is not asked: on validation claims, a false number read back in another unit
    (42.17万亩 for 110多公里) was contradicted rightly 40 times for one true claim saved."""
    return found.kind == claimed.kind or {found.kind, claimed.kind} <= {"LOC", "ORG"}


#: Characters of wording before a value that a claim and a sentence must share for the
#: sentence to word the value as the claim does (fixed, not tuned: a four-character
#: phrase, and at least half the claim's wording).
_SHARED_WORDING = 4
#: Sentences of a reading searched for one that words the value as the claim does.
_WORDED_SENTENCES = 8
_CLAUSE_BREAKS = "，,；;。：:！!？?\n"
_HAN = re.compile(r"[\u4e00-\u9fff]+")
#: Function characters whose swap is wording, not meaning (是/为, 和/与, 此/本, 会/将).
_FUNCTION_CHARS = frozenset("是为和与及或的之在于此本该其会将后了也都即")


def wording_before(text: str, start: int) -> str:
    """The words of ``text``'s clause before character ``start`` (what a value there measures)."""
    return normalize(text[max(text.rfind(ch, 0, start) for ch in _CLAUSE_BREAKS) + 1:start])


def _shared(a: str, b: str) -> tuple[int, list]:
    ops = SequenceMatcher(None, a, b, autojunk=False).get_opcodes()
    return sum(i2 - i1 for op, i1, i2, _, _ in ops if op == "equal"), ops


def swapped_word(claimed: str, stated: str) -> tuple[str, str] | None:
    """The word a sentence has where the claim's otherwise shared wording has another
    (硬 for 软 in 株洲软经济指标得分为 / 株洲硬经济指标得分为), as (claimed, stated):
    the two measure different things."""
    shared, ops = _shared(claimed, stated)
    if shared < _SHARED_WORDING:
        return None
    for (op, i1, i2, j1, j2), after in zip(ops, ops[1:]):
        if op == "replace" and i2 - i1 == j2 - j1 <= 2 and _HAN.fullmatch(claimed[i1:i2]) \
                and _HAN.fullmatch(stated[j1:j2]) and after[0] == "equal" and after[2] - after[1] >= 2 \
                and not _FUNCTION_CHARS & set(claimed[i1:i2] + stated[j1:j2]):
            return claimed[i1:i2], stated[j1:j2]
    return None


def reads_the_other(claim: str, value: Candidate, sentence: str, read: Candidate) -> bool:
    """Whether the value read is the claim's other statement of the same value, not this
    one. A claim stating 81个 twice (品牌81个，企业产品、品牌81个) asks for the second with
    the first still in its question; a sentence stating 81个 once (品牌81个，企业产品、
    品牌700个) bears out the first only: the clause around the value read is worded more
    like the claim's other 81个 than like this one."""
    if normalize(sentence).count(normalize(value.text)) >= normalize(claim).count(normalize(value.text)):
        return False
    here = clause_around(sentence, read.start, read.end)
    mine = _shared(clause_around(claim, value.start, value.end), here)[0]
    n = len(value.text)
    return any(_shared(clause_around(claim, m.start(), m.start() + n), here)[0] > mine
               for m in re.finditer(re.escape(value.text), claim) if m.start() != value.start)


def bears_out(claim: str, value: Candidate, sentence: str, found: Candidate) -> bool:
    """Whether ``found``, read in ``sentence``, is the claimed value at this place in the claim."""
    return same_value(value, found.text) and not reads_the_other(claim, value, sentence, found)


def clause_around(text: str, start: int, end: int) -> str:
    """The words of the clause around ``text[start:end]``, without it: what a value there
    is said of, before and after it (…胡杨林区，[42.17万亩]胡杨林由此迎来生态补水 →
    胡杨林由此迎来生态补水)."""
    a = max(text.rfind(ch, 0, start) for ch in _CLAUSE_BREAKS) + 1
    b = min([i for i in (text.find(ch, end) for ch in _CLAUSE_BREAKS) if i >= 0] or [len(text)])
    return normalize(text[a:start] + text[end:b])


def clause_worded_like(claim: str, value: Candidate, sentence: str, read: Candidate) -> Candidate | None:
    """The value of the claimed kind in another clause of ``sentence``, when the claim's
    clause around its value is worded like that clause and not like the read value's: the
    read value belongs to another clause (a claim moving 110多公里 into the clause that
    states 42.17万亩), and that clause's value is the one the claim states."""
    wording = clause_around(claim, value.start, value.end)
    if _shared(wording, clause_around(sentence, read.start, read.end))[0] >= _SHARED_WORDING:
        return None
    best, most = None, max(_SHARED_WORDING, (len(wording) + 1) // 2) - 1
    for c in candidates(sentence, default_tagger()):
        if c.kind != value.kind or c.start < read.end and read.start < c.end:
            continue
        shared, _ = _shared(wording, clause_around(sentence, c.start, c.end))
        if shared > most:
            best, most = c, shared
    return best


def _worded_like(reading, claim: str, value: Candidate):
    """The read sentence and value of the claimed kind that it words as the claim does
    (most shared wording first, no swapped word), or None."""
    wording = wording_before(claim, value.start)
    best, most = None, max(_SHARED_WORDING, (len(wording) + 1) // 2) - 1
    for unit, _ in reading.sentences[:_WORDED_SENTENCES]:
        for c in candidates(unit.text, default_tagger()):
            if c.kind != value.kind:
                continue
            stated = wording_before(unit.text, c.start)
            shared, _ = _shared(wording, stated)
            if shared > most and swapped_word(wording, stated) is None:
                best, most = (unit, c), shared
    return best


def verify_claim(assistant, claim: str, **search_kwargs) -> Verdict:
    """Check each value the claim states by asking the archive for it."""
    claim = claim.strip()
    values = _values(claim)
    if not values:
        return _check_statement(assistant, claim, search_kwargs)
    supported: Citation | None = None
    for value in values:
        verdict = _check_value(assistant, claim, value, search_kwargs)
        if verdict.verdict != SUPPORTED:
            return verdict
        supported = supported or verdict.evidence[0]
    year = _year_conflict(assistant, claim, supported)
    if year:
        return year
    return Verdict(claim, SUPPORTED, "报道原文支持这一说法。", (supported,), values[0].text, values[0].text)


def _read(assistant, question: str, search_kwargs: dict):

    query = assistant.retriever.analyse(question)
    k = max(assistant.settings.top_k, 5)
    hits = assistant.retriever.search(query, k=k, extra=EXTRA_CANDIDATES, **search_kwargs)
    return assistant.reader.read(question_view(query), hits)


def _check_value(assistant, claim: str, value: Candidate, search_kwargs: dict) -> Verdict:
    reading = _read(assistant, masked_question(claim, value), search_kwargs)
    best = reading.best
    if reading.refuse or best is None:
        return Verdict(claim, NOT_FOUND, "档案中没有找到谈及这一事实的句子。", (), value.text)
    cite = (make_citation(1, best.unit.hit, best.unit.start, best.unit.end),)
    swapped = swapped_word(wording_before(claim, value.start), wording_before(best.unit.text, best.candidate.start))
    if swapped is not None:
        return check_wording(claim, value, reading, best, swapped)
    moved = clause_worded_like(claim, value, best.unit.text, best.candidate)
    if moved is not None:  # the claim speaks of what another clause of the sentence states
        return _verdict_on(claim, value, best.unit.text, moved, cite)
    if bears_out(claim, value, best.unit.text, best.candidate):
        return Verdict(claim, SUPPORTED, "报道原文支持这一说法。", cite, value.text, best.candidate.text)
    same_kind = comparable(value, best.candidate)
    # A value the claim itself states elsewhere answers another part of the claim (asked
    # 几期 of "…二期工程总投资3.6亿元", read 3.6亿元): it contradicts nothing.
    elsewhere = {normalize(c.text) for c in rule_candidates(claim) if (c.start, c.end) != (value.start, value.end)}
    confident = reading.lead is not None and normalize(best.candidate.text) not in elsewhere
    if same_kind and confident:
        return Verdict(claim, CONTRADICTED, f"报道给出的是{best.candidate.text}，而不是{value.text}。",
                       cite, value.text, best.candidate.text)
    second = reading.second  # a second reader's confident answer, when the first found another value
    if second is not None and bears_out(claim, value, second.unit.text, second.candidate):
        return Verdict(claim, SUPPORTED, "报道原文支持这一说法。",
                       (make_citation(1, second.unit.hit, second.unit.start, second.unit.end),),
                       value.text, second.candidate.text)
    if normalize(value.text) in normalize(best.unit.text):
        return Verdict(claim, NOT_FOUND, f"报道中的{value.text}说的是另一项内容，不能证实这一说法。",
                       cite, value.text, None)
    return Verdict(claim, NOT_FOUND, f"找到相关报道，但不能确认{value.text}这一说法。", cite, value.text, None)


def _verdict_on(claim: str, value: Candidate, sentence: str, found: Candidate, cite) -> Verdict:
    """The verdict when ``found`` is the value ``sentence`` states where the claim states ``value``."""
    if not same_value(value, found.text):
        return Verdict(claim, CONTRADICTED, f"报道给出的是{found.text}，而不是{value.text}。",
                       cite, value.text, found.text)
    if bears_out(claim, value, sentence, found):
        return Verdict(claim, SUPPORTED, "报道原文支持这一说法。", cite, value.text, found.text)
    return Verdict(claim, NOT_FOUND, f"报道中的{found.text}对应的是这一说法另一处的{value.text}，不能证实这一处。",
                   cite, value.text, None)


def check_wording(claim: str, value: Candidate, reading, best, swapped: tuple[str, str]) -> Verdict:
    """The reader's value stands under other wording (a swapped word): the claim is checked
    on the read sentence that words the value as the claim does, if there is one."""
    found = _worded_like(reading, claim, value)
    if found is not None:
        unit, c = found
        return _verdict_on(claim, value, unit.text, c, (make_citation(1, unit.hit, unit.start, unit.end),))
    cite = (make_citation(1, best.unit.hit, best.unit.start, best.unit.end),)
    return Verdict(claim, NOT_FOUND, f"报道中的{best.candidate.text}说的是“{swapped[1]}”，而这一说法说的是“{swapped[0]}”。",
                   cite, value.text, None)


def _year_conflict(assistant, claim: str, cite: Citation | None) -> Verdict | None:
    """A claim about one year checked against a sentence about another."""
    if cite is None:
        return None
    article = assistant.index.articles[cite.article_id]
    for year in _YEAR.findall(claim):
        years = passage_years(cite.quote, article.date)
        if years and int(year) not in years:
            other = sorted(years)[-1]
            return Verdict(claim, CONTRADICTED, f"报道说的是{other}年，而不是{year}年。",
                           (cite,), f"{year}年", f"{other}年")
    return None


#: A claim stating no number or name is supported only by a sentence (with its
#: headline) holding this share of the claim's character pairs: a near-quotation.
_QUOTATION = 0.8


def _check_statement(assistant, claim: str, search_kwargs: dict) -> Verdict:
    reading = _read(assistant, claim, search_kwargs)
    if reading.refuse or not reading.sentences:
        return Verdict(claim, NOT_FOUND, "档案中没有找到谈及这一事实的句子。")
    unit = reading.sentences[0][0]
    grams = char_bigrams(normalize(claim))
    have = char_bigrams(normalize(unit.hit.article.headline + "。" + unit.text))
    cite = (make_citation(1, unit.hit, unit.start, unit.end),)
    if grams and len(grams & have) / len(grams) >= _QUOTATION:
        return Verdict(claim, SUPPORTED, "报道原文支持这一说法。", cite)
    return Verdict(claim, NOT_FOUND, "找到相关报道，但不足以证实这一说法。", cite)
