"""Pure evaluation maths: answer and citation matching, ranking metrics, summaries.

Definitions follow docs/interface.md (``rag eval``); third-party question sets
in the RGB style (Chen et al., AAAI 2024) may nest lists in ``answers``.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Iterable, Sequence
from typing import Any, Protocol

_SPACE = re.compile(r"\s+")


def normalize_text(s: str) -> str:
    """NFKC (full-width → half-width), all whitespace removed, lower-cased."""
    return _SPACE.sub("", unicodedata.normalize("NFKC", s or "")).lower()


def _contains_any(norm_text: str, alternatives: Iterable[str]) -> bool:
    # An empty gold string would match every answer, so it never counts.
    return any(g and g in norm_text for g in (normalize_text(a) for a in alternatives))


def answer_correct(answer_text: str, answers: Sequence[str | Sequence[str]]) -> bool:
    """Gold-answer containment: interface.md any-of, or RGB all-of when a list nests.

    Flat ``answers``: correct when the normalized text contains any normalized
    alternative. When any element is a list (RGB, Chen et al. 2024), every
    top-level element must appear, a nested list meaning any one of its items.
    No gold answers means nothing can match: False.
    """
    if not answers:
        return False
    text = normalize_text(answer_text)
    if any(isinstance(a, (list, tuple)) for a in answers):
        return all(_contains_any(text, a if isinstance(a, (list, tuple)) else [a]) for a in answers)
    return _contains_any(text, answers)


def _headline(item: Any) -> str:
    """The headline of a Citation/Hit record, an answer-object dict, or a plain string."""
    if isinstance(item, str):
        return item
    if isinstance(item, dict):
        return item.get("headline") or ""
    article = getattr(item, "article", None)  # a Hit carries its Article
    return getattr(article, "headline", None) or getattr(item, "headline", "") or ""


def headline_matches(headline: str, source_headline: str) -> bool:
    """A headline is from the source article when it contains ``source_headline`` (normalized)."""
    src = normalize_text(source_headline)
    return bool(src) and src in normalize_text(headline)


def citation_correct(citations: Iterable[Any], source_headline: str | None) -> bool | None:
    """interface.md: correct when any cited headline contains ``source_headline``.

    ``citations`` are Citation records, citation dicts or headline strings.
    Returns None when the question names no source (it is not scored).
    """
    if not source_headline:
        return None
    return any(headline_matches(_headline(c), source_headline) for c in citations)


def hit_rank(hits: Iterable[Any], source_headline: str | None) -> int | None:
    """1-based rank of the first hit from the source article, or None if none is.

    ``hits`` are Hit records, hit dicts or headline strings, best first; a hit
    is from the source when its headline contains ``source_headline``.
    """
    if not source_headline:
        return None
    for rank, hit in enumerate(hits, start=1):
        if headline_matches(_headline(hit), source_headline):
            return rank
    return None


def hit_at_k(ranks: Sequence[int | None], k: int) -> float | None:
    """Success@k: share of questions whose first relevant hit is at rank <= k (None if no questions)."""
    if not ranks:
        return None
    return sum(1 for r in ranks if r is not None and r <= k) / len(ranks)


def mrr(ranks: Sequence[int | None]) -> float | None:
    """Mean reciprocal rank (Voorhees, TREC-8 QA 1999); a miss scores 0 (None if no questions)."""
    if not ranks:
        return None
    return sum(1.0 / r for r in ranks if r is not None) / len(ranks)


def percentile(values: Sequence[float], p: float) -> float | None:
    """The p-th percentile by linear interpolation (numpy's default, Hyndman & Fan type 7)."""
    if not values:
        return None
    if not 0 <= p <= 100:
        raise ValueError(f"p must be in [0, 100], got {p}")
    xs = sorted(values)
    pos = (len(xs) - 1) * p / 100
    lo, hi = math.floor(pos), math.ceil(pos)
    return xs[lo] + (xs[hi] - xs[lo]) * (pos - lo)


def _rate(flags: Sequence[bool]) -> float | None:
    return sum(1 for f in flags if f) / len(flags) if flags else None


class Scored(Protocol):
    """What ``summarize`` reads from one answered question."""

    unanswerable: bool
    refused: bool
    answer_correct: bool
    lead_correct: bool  # the short answer the text opens with holds a gold answer
    citation_correct: bool | None  # None: no source_headline, not scored
    hit_rank: int | None
    has_source: bool
    latency_ms: float


#: The keys of the metrics object, in the order they are printed.
METRIC_KEYS = ("n", "n_answerable", "n_unanswerable", "n_with_source",
               "answer_accuracy", "lead_accuracy", "citation_accuracy", "hit_at_1", "hit_at_5", "mrr",
               "refusal_accuracy", "false_refusals", "latency_ms_p50", "latency_ms_p95")


def summarize(rows: Sequence[Scored]) -> dict[str, Any]:
    """The interface.md metrics object for a list of scored questions.

    answer_accuracy counts over answerable questions (a refused answer is never
    correct, even when its text quotes a headline holding the gold string);
    lead_accuracy likewise, for the short answer the text opens with.
    citation_accuracy, hit_at_1, hit_at_5 and mrr count over answerable
    questions that name a ``source_headline``; questions without one
    (third-party sets) are scored by answer alone. refusal_accuracy counts
    over unanswerable questions; false_refusals is the number of answerable
    questions refused. A metric whose denominator is 0 is None.
    """
    answerable = [r for r in rows if not r.unanswerable]
    unanswerable = [r for r in rows if r.unanswerable]
    sourced = [r for r in answerable if r.has_source]
    ranks = [r.hit_rank for r in sourced]
    latencies = [r.latency_ms for r in rows]
    p50, p95 = percentile(latencies, 50), percentile(latencies, 95)
    return {
        "n": len(rows),
        "n_answerable": len(answerable),
        "n_unanswerable": len(unanswerable),
        "n_with_source": len(sourced),
        "answer_accuracy": _rate([r.answer_correct and not r.refused for r in answerable]),
        "lead_accuracy": _rate([r.lead_correct and not r.refused for r in answerable]),
        "citation_accuracy": _rate([bool(r.citation_correct) for r in sourced]),
        "hit_at_1": hit_at_k(ranks, 1),
        "hit_at_5": hit_at_k(ranks, 5),
        "mrr": mrr(ranks),
        "refusal_accuracy": _rate([r.refused for r in unanswerable]),
        "false_refusals": sum(1 for r in answerable if r.refused),
        "latency_ms_p50": None if p50 is None else round(p50, 2),
        "latency_ms_p95": None if p95 is None else round(p95, 2),
    }


# CMRC 2018's official EM and F1 (Cui et al. 2019, cmrc2018_evaluate.py): Chinese characters
# and punctuation are segments of their own, other runs split into words; punctuation is
# dropped; F1 is over the longest common run of segments; the best gold answer counts.
_CMRC_PUNCT = set("-:_*^/\\~`+=，。：？！“”；’《》……·、「」（）－～『』,.;!?'\"()[]{}<>|@#$%&")


def _cmrc_segments(text: str) -> list[str]:
    out: list[str] = []
    word = ""
    for ch in text.lower().strip():
        if "\u4e00" <= ch <= "\u9fff" or ch in _CMRC_PUNCT or ch.isspace():
            if word:
                out += re.findall(r"\w+|[^\w\s]", word)
                word = ""
            if not ch.isspace() and ch not in _CMRC_PUNCT:
                out.append(ch)
        else:
            word += ch
    if word:
        out += re.findall(r"\w+|[^\w\s]", word)
    return [s for s in out if s not in _CMRC_PUNCT]


def _longest_common_run(a: Sequence[str], b: Sequence[str]) -> int:
    best, prev = 0, [0] * (len(b) + 1)
    for x in a:
        cur = [0] * (len(b) + 1)
        for j, y in enumerate(b, start=1):
            if x == y:
                cur[j] = prev[j - 1] + 1
                best = max(best, cur[j])
        prev = cur
    return best


def cmrc_em(prediction: str, answers: Sequence[str]) -> float:
    """CMRC 2018 exact match: equal once lower-cased and stripped of punctuation."""
    def strip(s: str) -> str:
        return "".join(ch for ch in s.lower().strip() if ch not in _CMRC_PUNCT)
    return float(any(strip(prediction) == strip(a) for a in answers))


def cmrc_f1(prediction: str, answers: Sequence[str]) -> float:
    """CMRC 2018 F1 over segments, against the best gold answer."""
    pred = _cmrc_segments(prediction)
    best = 0.0
    for answer in answers:
        gold = _cmrc_segments(answer)
        common = _longest_common_run(gold, pred)
        if common:
            p, r = common / len(pred), common / len(gold)
            best = max(best, 2 * p * r / (p + r))
    return best
