"""Hybrid retrieval: dense (FAISS) + keyword (BM25), fused, headline- and date-aware."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from typing import Protocol

import numpy as np

from ..embedding.embed import Embedder, embed_query
from .fusion import rrf, term_coverage
from .index import Index
from .keyword import corpus_user_words
from ..ingest.script import fold
from .periods import Period, in_range, period_match, question_period
from ..answer.qtype import QuestionType, focus_spans, kind_noun, question_type, strip_question_words
from ..records import Hit
from ..settings import RETRIEVAL_MODES, Settings


_YEAR_TOKEN = re.compile(r"(?:19|20)\d{2}年?")


@dataclass(frozen=True)
class Query:
    """A question as retrieval sees it."""

    text: str
    terms: tuple[str, ...]
    weights: dict[str, float]
    period: Period | None
    focus: tuple[str, ...] = ()  # terms beside the question word
    names: tuple[str, ...] = ()  # terms naming a place, organisation or other proper noun
    qtype: QuestionType = QuestionType(None)  # the kind of answer asked for


#: Words beside the question word are what is asked about; they weigh more.
FOCUS_WEIGHT = 2.0
_FOCUS_REACH = 4  # characters either side of a question word
#: A noun naming the kind of answer is seldom in the answer's sentence.
KIND_WEIGHT = 0.5


def _focus_terms(question: str, terms: tuple[str, ...]) -> tuple[set[str], set[str]]:
    """Terms beside a question word, and the one that names the kind of answer
    ("哪所**学校**", "什么**部门**"): an answer names a school, not the word 学校."""
    q = question.lower()
    spans = focus_spans(q)
    kinds = {kind_noun(q)} & set(terms)
    focus = set()
    for t in terms:
        for m in re.finditer(re.escape(t), q):
            if any(m.start() <= b + _FOCUS_REACH and m.end() >= a - _FOCUS_REACH for a, b in spans):
                focus.add(t)
    return focus - kinds, kinds


def _names(question: str, terms: tuple[str, ...], tokenizer) -> tuple[str, ...]:
    """Places, organisations and quoted terms the question names, whole even
    where the index's segmenter does not know them (官塘村, “她创课堂”)."""
    whole = sorted(w.lower() for w in corpus_user_words([question], tokenizer.is_word))
    names = whole + [t for t in terms if tokenizer.is_name(t)]
    # A piece of a whole name (塘村 of 官塘村) adds nothing.
    return tuple(n for n in dict.fromkeys(names) if n in whole or not any(n in w for w in whole))


def _rejoin_singles(tokenizer, words: list[str]) -> list[str]:
    """Recover a word jieba split across a boundary: 株洲市|长 gives 株洲 and 市长."""
    out = list(words)
    for i, w in enumerate(words):
        if len(w) != 1:
            continue
        if i > 0 and tokenizer.is_word(words[i - 1][-1] + w):
            out.append(words[i - 1][-1] + w)
            stem = words[i - 1][:-1]
            if len(stem) > 1 and tokenizer.is_word(stem):
                out[i - 1] = stem
        if i + 1 < len(words) and tokenizer.is_word(w + words[i + 1][0]):
            out.append(w + words[i + 1][0])
    return out


class Retriever(Protocol):
    """Finds the passages most likely to answer a question."""

    def analyse(self, question: str, today: date | None = None) -> Query:
        """The question as retrieval sees it: terms, weights, period, kind of answer."""
        ...

    def search(self, question: str | Query, k: int | None = None, mode: str | None = None,
               date_from: str | None = None, date_to: str | None = None,
               date_aware: bool | None = None, today: date | None = None, extra: int = 0) -> list[Hit]:
        """The best ``k`` passages, best first, plus ``extra`` from each single ranking."""
        ...


class HybridRetriever:
    """Dense (FAISS) and keyword (BM25) rankings fused by RRF, re-ranked by headline and period."""

    def __init__(self, index: Index, embedder: Embedder, settings: Settings):
        self.index = index
        self.embedder = embedder
        self.settings = settings

    def analyse(self, question: str, today: date | None = None) -> Query:
        """Key terms with IDF weights, and the period the question names."""
        kw = self.index.keyword
        original, question = question, fold(question)  # one script; the query keeps the asker's text
        # Years are matched by the period logic (they may live only in the
        # publication date); question words name no topic; single characters
        # match almost anywhere.
        words = [t for t in _rejoin_singles(kw.tokenizer, kw.tokenizer.words(strip_question_words(question)))
                 if not _YEAR_TOKEN.fullmatch(t) and len(t) > 1]
        terms = tuple(dict.fromkeys(words))
        focus, kinds = _focus_terms(question, terms)
        weights = {t: kw.idf(t) * (FOCUS_WEIGHT if t in focus else KIND_WEIGHT if t in kinds else 1.0)
                   for t in terms}
        return Query(original, terms, weights, question_period(question, today),
                     tuple(t for t in terms if t in focus), _names(question, terms, kw.tokenizer),
                     question_type(question))

    def search(self, question: str | Query, k: int | None = None, mode: str | None = None,
               date_from: str | None = None, date_to: str | None = None,
               date_aware: bool | None = None, today: date | None = None, extra: int = 0) -> list[Hit]:
        """The best ``k`` chunks for ``question`` (text, or a ``Query`` from ``analyse``), best first.

        ``date_from`` / ``date_to`` (ISO dates) filter by publication date.
        Date awareness only re-ranks: it never removes a passage. ``extra``
        appends the top few of the keyword and of the dense ranking that
        fusion left out: a passage only one of them finds can still hold the
        answer (rank fusion favours passages both rank middling).
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
        query = question if isinstance(question, Query) else self.analyse(question, today)
        question = query.text

        dense: dict[int, float] = {}
        keyword: dict[int, float] = {}
        if mode in ("hybrid", "dense"):
            dense = self._dense(question, s.candidates, allowed)
        if mode in ("hybrid", "keyword"):
            n = s.candidates if allowed is None else len(index.chunks)
            keyword = {r: v for r, v in index.keyword.search(question, n, query.terms)
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
        # Equal scores keep fusion's order, itself deterministic (see ``rrf``).
        order = sorted(range(len(hits)), key=lambda i: (-hits[i].score, i))
        chosen = order[:k]
        if extra:
            position = {row: i for i, row in enumerate(fused)}
            for ranking in (keyword, dense):
                missing = [position[r] for r in ranking if position[r] not in chosen]
                chosen += missing[:extra]
        return [hits[i] for i in chosen]

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
