"""Pure ranking maths: rank fusion and term coverage."""

from __future__ import annotations

from collections.abc import Hashable, Sequence


def rrf(rankings: Sequence[Sequence[Hashable]], k: int = 60) -> dict[Hashable, float]:
    """Reciprocal rank fusion (Cormack, Clarke & Büttcher, SIGIR 2009): sum of 1/(k + rank).

    The result is ordered best first. Ties are broken on purpose, as pyserini
    breaks them by ``(-score, docid)``: the key an earlier ranking placed
    higher comes first (rankings are given in priority order), so the order
    never depends on how the inputs happened to be built.
    """
    scores: dict[Hashable, float] = {}
    first_seen: dict[Hashable, tuple[int, int]] = {}
    for r, ranking in enumerate(rankings):
        for rank, key in enumerate(ranking, start=1):
            scores[key] = scores.get(key, 0.0) + 1.0 / (k + rank)
            first_seen.setdefault(key, (r, rank))
    return {key: scores[key] for key in sorted(scores, key=lambda key: (-scores[key], first_seen[key]))}


def term_coverage(terms: Sequence[str], text: str, weights: dict[str, float]) -> float:
    """Weighted share of ``terms`` found in ``text`` (weights, e.g. IDF, default 1)."""
    if not terms:
        return 0.0
    total = sum(weights.get(t, 1.0) for t in terms)
    found = sum(weights.get(t, 1.0) for t in terms if t in text)
    return found / total if total else 0.0
