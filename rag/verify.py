"""Claim verification: supported, contradicted, or not found in the archive."""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from typing import Any

from .answer import make_citation, score_sentences
from .cite import format_reference
from .periods import passage_years
from .qtype import NUMBER_WITH_UNIT, QuestionType, _is_date
from .records import Citation

SUPPORTED, CONTRADICTED, NOT_FOUND = "supported", "contradicted", "not_found"
_LABELS = {SUPPORTED: "有依据", CONTRADICTED: "与报道不符", NOT_FOUND: "档案中未找到"}
_YEAR = re.compile(r"((?:19|20)\d{2})\s*年")
_ENTITY = re.compile(r"[\u4e00-\u9fff]{1,10}(?:局|委|妇联|工会|公司|中心|集团|协会|学校|医院|银行|政府|"
                     r"博物馆|图书馆|市|区|县|镇|村)")

# How much of the claim's wording a sentence must share to be about the same thing.
_SAME_TOPIC = 0.5
_UNIT_BONUS = 0.15


@dataclass(frozen=True)
class Verdict:
    claim: str
    verdict: str  # supported | contradicted | not_found
    explanation: str
    evidence: tuple[Citation, ...] = ()
    claimed: str | None = None  # the value in the claim that was checked
    found: str | None = None  # the value the archive gives

    def to_dict(self) -> dict[str, Any]:
        return {"claim": self.claim, "verdict": self.verdict, "label": _LABELS[self.verdict],
                "explanation": self.explanation, "claimed": self.claimed, "found": self.found,
                "evidence": [c.to_dict() for c in self.evidence]}

    def explain(self) -> str:
        lines = [f"{_LABELS[self.verdict]}（{self.verdict}）：{self.explanation}"]
        for c in self.evidence:
            lines.append(f"[{c.n}] {format_reference(c)}\n    “{c.quote}”")
        return "\n".join(lines)


def _quantities(text: str) -> list[tuple[str, str, str]]:
    """(whole match, number, unit) for each quantity that is not a date."""
    out = []
    for m in NUMBER_WITH_UNIT.finditer(text):
        if not _is_date(text, m.start(), m.end()):
            number = m.group(1).replace(",", "") + m.group(2).strip("余多")
            out.append((m.group(0), number, m.group(3)))
    return out


def _same_unit(a: str, b: str) -> bool:
    return a == b or a[-1:] == b[-1:]


def verify_claim(assistant, claim: str, **search_kwargs) -> Verdict:
    """Find the sentence the claim is about, then compare its numbers, years and names."""
    claim = claim.strip()
    # Numbers are masked for retrieval and matching: a claim with one wrong digit
    # must still find the sentence it misquotes.
    masked = NUMBER_WITH_UNIT.sub(
        lambda m: m.group(0) if _is_date(claim, m.start(), m.end()) else f" {m.group(3)}", claim)
    hits = assistant.retriever.search(masked, k=max(assistant.settings.top_k, 8), **search_kwargs)
    query = assistant.retriever.analyse(masked)
    evidence = score_sentences(query, hits, QuestionType(None))
    claimed_q = _quantities(claim)

    def topic_score(e) -> float:
        # A sentence stating a quantity in the claimed unit is more likely the one misquoted.
        has_unit = any(_same_unit(u, cu) for _, _, u in _quantities(e.text) for _, _, cu in claimed_q)
        return e.coverage + (_UNIT_BONUS if has_unit else 0.0)

    evidence.sort(key=lambda e: -topic_score(e))
    if not evidence or topic_score(evidence[0]) < _SAME_TOPIC:
        return Verdict(claim, NOT_FOUND, "档案中没有找到谈及这一事实的句子。", ())
    best = evidence[0]
    cite = (make_citation(1, best),)
    sentence = best.text

    for whole, number, unit in claimed_q:
        stated = _quantities(sentence)
        if any(n == number and _same_unit(u, unit) for _, n, u in stated):
            continue
        rivals = [w for w, n, u in stated if _same_unit(u, unit)]
        if rivals:
            return Verdict(claim, CONTRADICTED,
                           f"报道给出的数字是{rivals[0]}，而不是{whole}。", cite, whole, rivals[0])
        return Verdict(claim, NOT_FOUND, f"找到相关报道，但其中没有{whole}这一数字。", cite, whole, None)

    for year in _YEAR.findall(claim):
        years = passage_years(sentence, best.hit.article.date) or \
            passage_years(best.hit.chunk.text, best.hit.article.date)
        if years and int(year) not in years:
            other = sorted(years)[-1]
            return Verdict(claim, CONTRADICTED, f"报道说的是{other}年，而不是{year}年。",
                           cite, f"{year}年", f"{other}年")

    missing = [t for t in query.terms if t not in sentence.lower()]
    claimed_entities = [e for e in _ENTITY.findall(masked) if e not in sentence]
    stated_entities = [e for e in _ENTITY.findall(sentence) if e not in masked]
    if claimed_entities and stated_entities and best.coverage < 0.95:
        return Verdict(claim, CONTRADICTED,
                       f"报道说的是{stated_entities[0]}，而不是{claimed_entities[0]}。",
                       cite, claimed_entities[0], stated_entities[0])
    if not claimed_q and missing and best.coverage < 0.8:
        return Verdict(claim, NOT_FOUND, "找到相关报道，但不足以证实这一说法。", cite)
    return Verdict(claim, SUPPORTED, "报道原文支持这一说法。", (replace(cite[0], n=1),))
