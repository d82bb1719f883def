"""Hybrid retrieval: dense (FAISS) + keyword (BM25), fused, headline- and date-aware."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np

from .embed import Embedder, embed_query
from .fusion import rrf, term_coverage
from .index import Index
from .periods import Period, in_range, period_match, question_period
from .records import Hit
from .settings import RETRIEVAL_MODES, Settings


@dataclass(frozen=True)
class Query:
    """A question as retrieval sees it."""

    text: str
    terms: tuple[str, ...]
    weights: dict[str, float]
    period: Period | None


class Retriever:
    """Finds the passages most likely to answer a question."""

    def __init__(self, index: Index, embedder: Embedder, settings: Settings):
        self.index = index
        self.embedder = embedder
        self.settings = settings

    def analyse(self, question: str, today: date | None = None) -> Query:
        """Key terms with IDF weights, and the period the question names."""
        kw = self.index.keyword
        terms = tuple(dict.fromkeys(kw.tokenizer.tokens(question)))
        return Query(question, terms, {t: kw.idf(t) for t in terms}, question_period(question, today))

    def search(self, question: str, k: int | None = None, mode: str | None = None,
               date_from: str | None = None, date_to: str | None = None,
               date_aware: bool | None = None, today: date | None = None) -> list[Hit]:
        """The best ``k`` chunks for ``question``, best first.

        ``date_from`` / ``date_to`` (ISO dates) filter by publication date.
        Date awareness only re-ranks: it never removes a passage.
        """
        s = self.settings
        k = k or s.top_k
        mode = mode or s.retrieval_mode
        if mode not in RETRIEVAL_MODES:
            raise ValueError(f"mode must be one of {', '.join(RETRIEVAL_MODES)}, got {mode!r}")
        date_aware = s.date_aware if date_aware is None else date_aware
        index = self.index
        if not index.chunks:
            return []
        allowed = None
        if date_from or date_to:
            allowed = np.array([in_range(index.articles[c.article_id].date, date_from, date_to)
                                for c in index.chunks])
        query = self.analyse(question, today)

        dense: dict[int, float] = {}
        keyword: dict[int, float] = {}
        if mode in ("hybrid", "dense"):
            dense = self._dense(question, s.candidates, allowed)
        if mode in ("hybrid", "keyword"):
            n = s.candidates if allowed is None else len(index.chunks)
            keyword = {r: v for r, v in index.keyword.search(question, n)
                       if allowed is None or allowed[r]}
            keyword = dict(list(keyword.items())[:s.candidates])
        rankings = [list(m) for m in (dense, keyword) if m]
        fused = rrf(rankings, s.rrf_k)
        unit = 1.0 / (s.rrf_k + 1)  # one first place in one ranking
        hits = []
        for row, score in fused.items():
            chunk = index.chunks[row]
            article = index.articles[chunk.article_id]
            score += s.headline_boost * unit * term_coverage(query.terms, article.headline.lower(),
                                                             query.weights)
            if date_aware and query.period is not None:
                weight = 0.25 if query.period.relative else 0.5
                match = period_match(query.period, f"{article.headline}\n{chunk.text}", article.date)
                score *= 1.0 + weight * match
            hits.append(Hit(chunk, article, score, dense.get(row), keyword.get(row)))
        hits.sort(key=lambda h: -h.score)
        return hits[:k]

    def _dense(self, question: str, n: int, allowed: np.ndarray | None) -> dict[int, float]:
        qv = embed_query(self.embedder, question)
        if allowed is None:
            return dict(self.index.search_dense(qv, n))
        rows = np.flatnonzero(allowed)
        if not len(rows):
            return {}
        scores = np.asarray(self.index.vectors[rows]) @ qv
        top = np.argsort(-scores)[:n]
        return {int(rows[i]): float(scores[i]) for i in top}
