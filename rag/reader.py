"""The learned reader: which sentence answers, which span is the answer, and whether to refuse.

Three small models, trained by ``rag train`` on open Chinese reading-comprehension
data pooled with news noise and retrieved with this project's own retriever:

1. a sentence model (LightGBM): the probability that a sentence holds the answer;
2. a span model (LightGBM): the probability that a candidate span *is* the
   answer, for the candidates of the best few sentences;
3. an answerability model (logistic regression over the two models' outputs):
   the probability that the passages answer the question at all.

The two thresholds (refuse, lead) were chosen on a validation split that the
models never saw; ``rag/models/reader.json`` records them with the numbers
measured when they were chosen.
"""

from __future__ import annotations

import json
import math
import threading
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .candidates import Candidate, Tagger, candidates, default_tagger
from .features import (SENTENCE_FEATURES, SPAN_FEATURES, QuestionView, SentenceUnit, sentence_features,
                       sentence_units, span_features)
from .records import Hit

MODELS_DIR = Path(__file__).parent / "models"
#: Sentences per question whose candidates are tagged and scored (the tagger costs ~4 ms a sentence).
SPAN_SENTENCES = 5

QUESTION_FEATURES = (
    "best_span_p", "best_sent_p", "second_sent_p", "span_sent_p", "span_expected",
    "best_s_term", "best_s_bigram", "best_names_missing", "best_period_s", "top_dense",
    "kind_none", "kind_ordinal", "kind_number", "kind_time", "kind_person", "kind_org", "kind_place",
    "kind_list", "kind_entity",
)


@dataclass(frozen=True)
class Scored:
    """A candidate with its probability of being the answer, in its sentence."""

    candidate: Candidate
    unit: SentenceUnit
    p: float


@dataclass(frozen=True)
class Reading:
    """What the reader found for one question."""

    sentences: tuple[tuple[SentenceUnit, float], ...]  # best first, with P(holds the answer)
    best: Scored | None  # the most likely answer span
    p_answer: float  # P(the passages answer the question)
    refuse: bool
    lead: str | None  # the answer span, only when the reader is confident


def question_row(q: QuestionView, sent_rows: list[list[float]], sent_p: np.ndarray,
                 best: Scored | None, best_sent_index: int | None) -> list[float]:
    """One row of QUESTION_FEATURES."""
    from .features import EXPECTED_TYPES, QUESTION_KINDS

    idx = {n: i for i, n in enumerate(SENTENCE_FEATURES)}
    order = np.argsort(-sent_p) if len(sent_p) else np.array([], dtype=int)
    p1 = float(sent_p[order[0]]) if len(order) else 0.0
    p2 = float(sent_p[order[1]]) if len(order) > 1 else 0.0
    row0 = sent_rows[order[0]] if len(order) else [0.0] * len(SENTENCE_FEATURES)
    span_p = best.p if best else 0.0
    span_sent = float(sent_p[best_sent_index]) if best_sent_index is not None else 0.0
    expected = float(bool(best) and best.candidate.kind in EXPECTED_TYPES.get(q.kind or "", {best.candidate.kind}))
    top_dense = max((r[idx["dense"]] for r in sent_rows), default=-1.0)
    kinds = [float(q.kind == k) for k in QUESTION_KINDS]
    return [span_p, p1, p2, span_sent, expected, row0[idx["s_term"]], row0[idx["s_bigram"]],
            row0[idx["names_missing"]], row0[idx["period_s"]], top_dense, *kinds]


class Reader:
    """Loads the trained models on first use; thread-safe after that."""

    def __init__(self, models_dir: Path = MODELS_DIR, tagger: Tagger | None = None):
        self.models_dir = Path(models_dir)
        self.tagger = tagger
        self._lock = threading.Lock()
        self._loaded: tuple | None = None

    def _models(self):
        if self._loaded is None:
            with self._lock:
                if self._loaded is None:
                    import lightgbm as lgb

                    from .errors import ModelLoadError

                    try:
                        meta = json.loads((self.models_dir / "reader.json").read_text(encoding="utf-8"))
                        sent = lgb.Booster(model_file=str(self.models_dir / "reader-sentence.txt"))
                        span = lgb.Booster(model_file=str(self.models_dir / "reader-span.txt"))
                    except (OSError, ValueError, lgb.basic.LightGBMError) as exc:
                        raise ModelLoadError(f"the reader's models in {self.models_dir} cannot be loaded "
                                         f"({exc}); run `make train` to rebuild them") from None
                    if tuple(meta["sentence_features"]) != SENTENCE_FEATURES or \
                            tuple(meta["span_features"]) != SPAN_FEATURES or \
                            tuple(meta["question_features"]) != QUESTION_FEATURES:
                        raise ModelLoadError(f"the reader's models in {self.models_dir} were trained on other "
                                         "features; run `make train` to rebuild them")
                    self._loaded = (meta, sent, span)
        return self._loaded

    @property
    def meta(self) -> dict:
        return self._models()[0]

    def sentence_probabilities(self, q: QuestionView, units: list[SentenceUnit]) -> tuple[list[list[float]], np.ndarray]:
        rows = sentence_features(q, units)
        if not rows:
            return rows, np.zeros(0)
        _, sent, _ = self._models()
        return rows, sent.predict(np.asarray(rows, dtype=np.float64))

    def score_spans(self, q: QuestionView, units: list[SentenceUnit], rows: list[list[float]],
                    sent_p: np.ndarray) -> list[Scored]:
        """Candidates of the best SPAN_SENTENCES sentences, most likely first."""
        _, _, span = self._models()
        tagger = self.tagger or default_tagger()
        order = np.argsort(-sent_p, kind="stable")[:SPAN_SENTENCES]
        feats, owners = [], []
        for rank, i in enumerate(order):
            unit = units[i]
            cands = candidates(unit.text, tagger)
            if not cands:
                continue
            feats += span_features(q, unit, cands, float(sent_p[i]), rank, rows[i])
            owners += [(c, unit) for c in cands]
        if not feats:
            return []
        p = span.predict(np.asarray(feats, dtype=np.float64))
        scored = [Scored(c, u, float(x)) for (c, u), x in zip(owners, p)]
        scored.sort(key=lambda s: (-s.p, s.unit.rank, s.unit.start, s.candidate.start))
        return scored

    def p_answer(self, row: list[float]) -> float:
        """The answerability model: logistic regression over QUESTION_FEATURES."""
        model = self.meta["answerability"]
        z = model["intercept"]
        for x, mean, scale, w in zip(row, model["mean"], model["scale"], model["coef"]):
            z += w * (x - mean) / scale
        return 1.0 / (1.0 + math.exp(-z))

    def read(self, q: QuestionView, hits: list[Hit]) -> Reading:
        units = sentence_units(hits)
        rows, sent_p = self.sentence_probabilities(q, units)
        if not units:
            return Reading((), None, 0.0, True, None)
        scored = self.score_spans(q, units, rows, sent_p)
        best = scored[0] if scored else None
        best_index = units.index(best.unit) if best else None
        p = self.p_answer(question_row(q, rows, sent_p, best, best_index))
        meta = self.meta
        order = np.argsort(-sent_p, kind="stable")
        ranked = tuple((units[i], float(sent_p[i])) for i in order)
        lead = best.candidate.text if best and best.p >= meta["lead_threshold"] else None
        return Reading(ranked, best, p, p < meta["refuse_threshold"], lead)


_default_reader: Reader | None = None


def default_reader() -> Reader:
    global _default_reader
    if _default_reader is None:
        _default_reader = Reader()
    return _default_reader
