"""Pure ranking maths: rank fusion and score scaling."""

from __future__ import annotations

from collections.abc import Hashable, Sequence


def rrf(rankings: Sequence[Sequence[Hashable]], k: int = 60) -> dict[Hashable, float]:
    """Reciprocal rank fusion (Cormack, Clarke & Büttcher, SIGIR 2009): sum of 1/(k + rank)."""
    scores: dict[Hashable, float] = {}
    for ranking in rankings:
        for rank, key in enumerate(ranking, start=1):
            scores[key] = scores.get(key, 0.0) + 1.0 / (k + rank)
    return scores


def minmax(scores: dict[Hashable, float]) -> dict[Hashable, float]:
    """Scale scores to [0, 1] (min-max normalisation); a constant list maps to 1."""
    if not scores:
        return {}
    lo, hi = min(scores.values()), max(scores.values())
    if hi - lo < 1e-12:
        return {key: 1.0 for key in scores}
    return {key: (v - lo) / (hi - lo) for key, v in scores.items()}


def weighted(score_maps: Sequence[dict[Hashable, float]], weights: Sequence[float]) -> dict[Hashable, float]:
    """Convex combination of min-max scaled scores (Bruch et al. 2023, "convex combination")."""
    out: dict[Hashable, float] = {}
    for scores, w in zip(score_maps, weights):
        for key, v in minmax(scores).items():
            out[key] = out.get(key, 0.0) + w * v
    return out


def term_coverage(terms: Sequence[str], text: str, weights: dict[str, float]) -> float:
    """Weighted share of ``terms`` found in ``text`` (weights, e.g. IDF, default 1)."""
    if not terms:
        return 0.0
    total = sum(weights.get(t, 1.0) for t in terms)
    found = sum(weights.get(t, 1.0) for t in terms if t in text)
    return found / total if total else 0.0
