"""The learned reader: which sentence answers, which span is the answer, and whether to refuse.

Three small models, trained by ``rag train`` on open Chinese reading-comprehension
data pooled with news noise and retrieved with this project's own retriever:

1. a sentence model (LightGBM): the probability that a sentence holds the answer;
2. a span model (LightGBM): the probability that a candidate span *is* the
   answer, for the candidates of the best few sentences;
3. an answerability model (logistic regression over the two models' outputs):
   the probability that the passages answer the question at all.

The two thresholds (refuse, lead) were chosen on a validation split that the
models never saw; ``rag/answer/models/reader.json`` records them with the numbers
measured when they were chosen.
"""

from __future__ import annotations

import json
import math
import threading
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .candidates import Candidate, Tagger, candidates, default_tagger
from .features import (SENTENCE_FEATURES, SPAN_FEATURES, QuestionView, SentenceUnit, sentence_features,
                       sentence_units, span_features)
from .qtype import as_question
from ..records import Hit
from ..search.periods import asked_days, day_match, period_match

MODELS_DIR = Path(__file__).parent / "models"
#: Passages from the top of each single ranking that the reader also reads (the
#: assistant, training and verification all read the same pool).
EXTRA_CANDIDATES = 2
#: Sentences per question whose candidates are tagged and scored (the tagger costs ~4 ms a sentence).
SPAN_SENTENCES = 5

QUESTION_FEATURES = (
    "best_span_p", "second_span_p", "best_sent_p", "second_sent_p", "quoted_sent_p", "span_expected",
    "quoted_s_char", "quoted_s_bigram", "quoted_s_term", "quoted_s_lcs", "quoted_ctx_bigram",
    "quoted_ctx_term", "quoted_names_missing", "quoted_names_missing_s", "quoted_period_s",
    "quoted_period_ctx", "quoted_rank", "top_dense",
    "kind_none", "kind_ordinal", "kind_number", "kind_time", "kind_person", "kind_org", "kind_place",
    "kind_list", "kind_entity",
)
#: The sentence features the answerability model sees of the quoted sentence.
_QUOTED = ("s_char", "s_bigram", "s_term", "s_lcs", "ctx_bigram", "ctx_term", "names_missing",
           "names_missing_s", "period_s", "period_ctx", "rank")


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
    quoted: SentenceUnit | None  # the sentence the answer quotes
    best: Scored | None  # the most likely answer span
    p_answer: float  # P(the passages answer the question)
    refuse: bool
    lead: str | None  # the answer span, only when the reader is confident
    # What the span reader's decisions are computed from (SPAN_SIGNALS); kept so
    # validation can fit them.
    signals: dict = field(default_factory=dict)
    # Another reader's confident answer, when the reading combines two (``NeuralReader``).
    second: Scored | None = None


def question_row(q: QuestionView, sent_rows: list[list[float]], sent_p: np.ndarray,
                 scored: list[Scored], quoted: int | None) -> list[float]:
    """One row of QUESTION_FEATURES; ``quoted`` indexes the most likely sentence, which an
    answer without a lead quotes."""
    from .features import EXPECTED_TYPES, QUESTION_KINDS

    idx = {n: i for i, n in enumerate(SENTENCE_FEATURES)}
    top = np.sort(sent_p)[::-1] if len(sent_p) else np.zeros(0)
    best = scored[0] if scored else None
    row = sent_rows[quoted] if quoted is not None else [0.0] * len(SENTENCE_FEATURES)
    expected = float(bool(best) and best.candidate.kind in EXPECTED_TYPES.get(q.kind or "", {best.candidate.kind}))
    return [best.p if best else 0.0, scored[1].p if len(scored) > 1 else 0.0,
            float(top[0]) if len(top) else 0.0, float(top[1]) if len(top) > 1 else 0.0,
            float(sent_p[quoted]) if quoted is not None else 0.0, expected,
            *(row[idx[name]] for name in _QUOTED),
            max((r[idx["dense"]] for r in sent_rows), default=-1.0),
            *(float(q.kind == k) for k in QUESTION_KINDS)]


def contradicts_period(q: QuestionView, unit: SentenceUnit) -> bool:
    """Asked about one period, the sentence and the text around it speak only of others
    (asked 2024, the sentence says 截至2025年底): it does not answer the question. Only a
    named year counts: 今年/去年 depend on when the question is asked, which an archive
    question often does not mean (on validation, relative periods cost answers). A named
    day counts alike: asked 截至8月6日, a sentence and its neighbours that name only
    8月1日 (and an article not published on the 6th) speak of another count."""
    article = unit.hit.article
    around = article.body[max(0, unit.start - 80):unit.end + 40]
    if q.period is not None and not q.period.relative \
            and period_match(q.period, unit.text, article.date) < 0 and period_match(q.period, around, article.date) < 0:
        return True
    days = asked_days(q.text)
    return day_match(days, unit.text, article.date) < 0 and day_match(days, around, article.date) < 0


class Reader:
    """Loads the trained models on first use; thread-safe after that."""

    def __init__(self, models_dir: Path = MODELS_DIR, tagger: Tagger | None = None):
        self.models_dir = Path(models_dir)
        self.tagger = tagger
        self._lock = threading.Lock()
        self._predict = threading.Lock()  # one prediction at a time per booster set: cheap, and safe
        self._loaded: tuple | None = None

    def _models(self):
        if self._loaded is None:
            with self._lock:
                if self._loaded is None:
                    import lightgbm as lgb

                    from ..errors import ModelLoadError

                    try:
                        meta = json.loads((self.models_dir / "reader.json").read_text(encoding="utf-8"))
                        sent = lgb.Booster(model_file=str(self.models_dir / "reader-sentence.txt"))
                        span = lgb.Booster(model_file=str(self.models_dir / "reader-span.txt"))
                        answerable = None
                        if meta["answerability"].get("kind") == "lightgbm":
                            answerable = lgb.Booster(model_file=str(self.models_dir / "reader-answerable.txt"))
                    except (OSError, ValueError, lgb.basic.LightGBMError) as exc:
                        raise ModelLoadError(f"the reader's models in {self.models_dir} cannot be loaded "
                                         f"({exc}); run `make train` to rebuild them") from None
                    if tuple(meta["sentence_features"]) != SENTENCE_FEATURES or \
                            tuple(meta["span_features"]) != SPAN_FEATURES or \
                            tuple(meta["question_features"]) != QUESTION_FEATURES:
                        raise ModelLoadError(f"the reader's models in {self.models_dir} were trained on other "
                                         "features; run `make train` to rebuild them")
                    self._loaded = (meta, sent, span, answerable)
        return self._loaded

    @property
    def meta(self) -> dict:
        return self._models()[0]

    def sentence_probabilities(self, q: QuestionView, units: list[SentenceUnit]) -> tuple[list[list[float]], np.ndarray]:
        rows = sentence_features(q, units)
        if not rows:
            return rows, np.zeros(0)
        _, sent, _, _ = self._models()
        with self._predict:
            return rows, sent.predict(np.asarray(rows, dtype=np.float64), num_threads=1)

    def score_spans(self, q: QuestionView, units: list[SentenceUnit], rows: list[list[float]],
                    sent_p: np.ndarray) -> list[Scored]:
        """Candidates of the best SPAN_SENTENCES sentences, most likely first."""
        _, _, span, _ = self._models()
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
        with self._predict:
            p = span.predict(np.asarray(feats, dtype=np.float64), num_threads=1)
        scored = [Scored(c, u, float(x)) for (c, u), x in zip(owners, p)]
        scored.sort(key=lambda s: (-s.p, s.unit.rank, s.unit.start, s.candidate.start))
        return scored

    def p_answer(self, row: list[float]) -> float:
        """The answerability model over QUESTION_FEATURES (logistic or LightGBM, as trained)."""
        meta, _, _, answerable = self._models()
        if answerable is not None:
            with self._predict:
                return float(answerable.predict(np.asarray([row], dtype=np.float64), num_threads=1)[0])
        model = meta["answerability"]
        z = model["intercept"]
        for x, mean, scale, w in zip(row, model["mean"], model["scale"], model["coef"]):
            z += w * (x - mean) / scale
        return 1.0 / (1.0 + math.exp(-z))

    def read(self, q: QuestionView, hits: list[Hit]) -> Reading:
        units = sentence_units(hits)
        rows, sent_p = self.sentence_probabilities(q, units)
        if not units:
            return Reading((), None, None, 0.0, True, None)
        scored = self.score_spans(q, units, rows, sent_p)
        best = scored[0] if scored else None
        order = np.argsort(-sent_p, kind="stable")
        p = self.p_answer(question_row(q, rows, sent_p, scored, int(order[0])))
        meta = self.meta
        ranked = tuple((units[i], float(sent_p[i])) for i in order)
        allowed = [u for u, _ in ranked if not contradicts_period(q, u)]
        if not allowed:  # every sentence speaks of another period than the one asked
            return Reading(ranked, ranked[0][0], best, p, True, None)
        confident = best is not None and best.p >= meta["lead_threshold"] and not contradicts_period(q, best.unit)
        # A lead is quoted from its own sentence; without one, the most likely sentence speaks.
        quoted = best.unit if confident else allowed[0]
        lead = best.candidate.text if confident else None
        return Reading(ranked, quoted, best, p, p < meta["refuse_threshold"], lead)


#: Characters a typed value may add around the span it holds (a qualifier, a unit).
_VALUE_SLACK = 4
#: What the span reader's decisions are computed from, as validation fits them.
SPAN_SIGNALS = ("margin", "span_logp", "sentence_logit", "feature_logit", "feature_agrees", "feature_disagrees")


#: What a span never begins or ends with: a token may carry the comma after a value ("4.1%,").
_EDGE_PUNCTUATION = frozenset("，,。．；;、：:！!？? \u3000\t\n")


def trim_punctuation(text: str, start: int, end: int) -> tuple[int, int]:
    """``text[start:end]`` without the punctuation and spaces at its ends (an empty span stays put)."""
    a, b = start, end
    while a < b and text[a] in _EDGE_PUNCTUATION:
        a += 1
    while b > a and text[b - 1] in _EDGE_PUNCTUATION:
        b -= 1
    return (a, b) if a < b else (start, end)


def readers_agree(span: str, lead: str | None) -> float:
    """1.0 when the feature reader's own lead and the span hold one another: two readers
    that reach the same value independently are more often right (the lead's signal)."""
    return float(bool(span) and bool(lead) and (lead in span or span in lead))


def readers_disagree(span: str, lead: str | None) -> float:
    """1.0 when the feature reader leads with a value the span does not hold. Its silence
    (no lead of its own: most human-written questions) is neither agreement nor this."""
    return float(bool(lead) and not readers_agree(span, lead))


def _logit(p: float) -> float:
    return math.log(max(p, 1e-6) / max(1 - p, 1e-6))


def logistic(model: dict | None, signals: dict[str, float]) -> float:
    """A fitted logistic model (``{"signals": [...], "coef": [...], "intercept": b}``) at ``signals``."""
    if not model or "signals" not in model:  # not fitted yet (or an older file's form)
        return 0.5
    z = model["intercept"] + sum(w * signals[name] for name, w in zip(model["signals"], model["coef"]))
    return 1.0 / (1.0 + math.exp(-max(-50.0, min(50.0, z))))


@dataclass(frozen=True)
class Prepared:
    """A question's windows, built and not yet read (validation reads them once and decides many ways)."""

    base: Reading
    owners: list  # the hits whose articles the windows are cut from
    windows: list
    window_owners: list[int]
    priors: list[float]


class NeuralReader:
    """The transformer span reader reads windows around the sentences the feature reader
    ranks highest; the span's own sentence is quoted. Two logistic models over the span's
    signals (``SPAN_SIGNALS``), fitted on validation, decide: ``calibration`` whether the
    passages answer at all (refusal), ``lead_calibration`` whether the span is the answer
    (lead). Both are in ``span-reader.json`` with their thresholds."""

    def __init__(self, base: Reader, span):
        self.base, self.span = base, span

    @property
    def meta(self) -> dict:
        return self.span.meta

    def kind_of(self, text: str) -> str:
        """What kind of value a span is (NUM, PER, …, as the candidate finder says of the
        one candidate covering most of it), so a claim's value is compared with its kind."""
        found = candidates(text, self.base.tagger or default_tagger()) if text else []
        best = max(found, key=lambda c: c.end - c.start, default=None)
        return best.kind if best is not None and 2 * (best.end - best.start) >= len(text) else "span"

    def whole_value(self, sentence: str, start: int, end: int) -> tuple[int, int, str | None]:
        """The span widened to the typed value of its sentence that holds it with at most
        ``_VALUE_SLACK`` more characters, with that value's kind: a number keeps its
        qualifier (不少于1200亩, not 1200亩), as the candidate finder states it."""
        found = candidates(sentence, self.base.tagger or default_tagger())
        around = [c for c in found if c.start <= start and end <= c.end
                  and (c.end - c.start) - (end - start) <= _VALUE_SLACK]
        best = min(around, key=lambda c: c.end - c.start, default=None)
        return (best.start, best.end, best.kind) if best is not None else (start, end, None)

    def prepare(self, q: QuestionView, hits: list[Hit]) -> Prepared:
        from .span_reader import WINDOWS

        base = self.base.read(q, hits)
        owners: list[Hit] = []
        seen: dict[str, int] = {}
        targets, priors = [], []
        for unit, p in base.sentences[:4 * WINDOWS]:
            if contradicts_period(q, unit):
                continue
            hit = unit.hit
            if hit.article.id not in seen:
                seen[hit.article.id] = len(owners)
                owners.append(hit)
            targets.append((seen[hit.article.id], unit.start))
            priors.append(_logit(p))
        texts = [(h.article.headline or "", h.article.body) for h in owners]
        windows, window_owners, chosen = self.span.windows(as_question(q.text, q.kind), texts, targets,
                                                           priors=priors) \
            if targets else ([], [], [])
        return Prepared(base, owners, windows, window_owners, chosen)

    def read(self, q: QuestionView, hits: list[Hit]) -> Reading:
        from .span_reader import run_windows

        prepared = self.prepare(q, hits)
        logits = run_windows(self.span.run, prepared.windows) if prepared.windows else None
        return self.decide(q, hits, prepared, logits)

    def decide(self, q: QuestionView, hits: list[Hit], prepared: Prepared, logits, weight: float | None = None) -> Reading:
        """The reading from windows already read (``logits``: their start and end scores)."""
        from ..ingest.sentences import split_sentences

        base = prepared.base
        ranked = base.sentences
        if not ranked:
            return base
        span = self.span.best(prepared.windows, prepared.window_owners, prepared.priors, *logits,
                              weight=weight) if logits is not None else None
        if span is None:
            return Reading(ranked, ranked[0][0], None, 0.0, True, None)
        hit = prepared.owners[span.article_index]
        units = [u for u, _ in ranked]
        unit = next((u for u in units if u.hit.article.id == hit.article.id and u.start <= span.start < u.end), None)
        if unit is None:  # a sentence of the window that no retrieved passage holds
            sents = split_sentences(hit.article.body)
            a, b = next(((a, b) for a, b in sents if a <= span.start < b), (span.start, span.end))
            unit = SentenceUnit(hit, hits.index(hit) if hit in hits else len(hits), a, b)
        a, b, kind = self.whole_value(unit.text, *trim_punctuation(unit.text, span.start - unit.start,
                                                                   min(span.end, unit.end) - unit.start))
        start, end = unit.start + a, unit.start + b
        text = hit.article.body[start:end].strip()
        signals = {"margin": span.score, "span_logp": span.logp, "sentence_logit": span.prior,
                   "feature_logit": _logit(base.p_answer), "feature_agrees": readers_agree(text, base.lead),
                   "feature_disagrees": readers_disagree(text, base.lead)}
        meta = self.meta
        p = logistic(meta.get("calibration"), signals)
        p_lead = logistic(meta.get("lead_calibration"), signals)
        best = Scored(Candidate(a, b, kind or self.kind_of(text), text, "reader"), unit, p_lead)
        refuse = p < meta["refuse_threshold"] or contradicts_period(q, unit)
        lead = text if text and not refuse and p_lead >= meta["lead_threshold"] else None
        # The feature reader's own confident answer, for claims: it can read a value the
        # span reader cannot reach (a span never comes from the headline).
        second = base.best if base.lead is not None else None
        return Reading(ranked, unit, best, p, refuse, lead, signals, second)


_default_reader: Reader | None = None


def default_reader() -> Reader:
    global _default_reader
    if _default_reader is None:
        _default_reader = Reader()
    return _default_reader


def make_reader(settings) -> Reader | NeuralReader:
    """The reader the settings name; "auto" takes the span reader when its validation chose
    it as the default (``models/span-reader.json``), else the feature reader."""
    from .span_reader import META_FILE, SpanReader

    span = SpanReader(MODELS_DIR, settings.model_cache)
    if settings.reader == "feature":
        return default_reader()
    if settings.reader == "neural":
        span.meta  # a missing or mismatched weights file is a one-line error now, not mid-answer
        return NeuralReader(default_reader(), span)
    try:
        chosen = json.loads((MODELS_DIR / META_FILE).read_text(encoding="utf-8")).get("default") is True
    except (OSError, ValueError):
        chosen = False
    return NeuralReader(default_reader(), span) if chosen else default_reader()
