"""`rag train`: train the reader in the setting of use, then validate it.

1. Pool every training context that is not withheld, plus bench news articles
   as noise, into one index built by this project's own ingest.
2. Retrieve for every question with this project's own retriever (cached).
3. Label sentences and candidate spans by the gold answers; train the
   sentence and span models (LightGBM) with two-fold cross-fitting, so that the
   answerability model (logistic regression) learns from honest, out-of-fold
   probabilities. Questions whose context was withheld teach refusals.
4. Choose the refusal and lead thresholds on one half of the validation split
   (``cmrc2018_trial.json``, never trained on) and report on the other half.

Every step is deterministic: fixed splits, fixed seeds, single-order data.
"""

from __future__ import annotations

import json
import pickle
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..answer.compose import ANSWER_CHARS, compose
from ..answer.candidates import Tagger, candidates
from ..answer.cite import MARKER_RE
from ..evaluation.metrics import cmrc_em, cmrc_f1
from ..answer.features import (SENTENCE_FEATURES, SPAN_FEATURES, categorical, normalize, question_view,
                       sentence_features, sentence_units, span_features)
from .mrc_data import (ABSENT_NEWS_ARTICLES, NOISE_ARTICLES, MRCQuestion, contrast_news, load, synthetic_news,
                       write_pool)
from ..answer.reader import EXTRA_CANDIDATES, MODELS_DIR, QUESTION_FEATURES, SPAN_SENTENCES, Reader, Scored, question_row
from ..records import Hit
from ..settings import Settings

#: Largest share of answerable validation questions the refusal threshold may refuse.
MAX_FALSE_REFUSALS = 0.02
#: The lead is shown when its probability reaches the point where, on validation,
#: at least this share of the leads shown hold the gold answer.
LEAD_PRECISION = 0.85
#: A lead is a short answer: validation questions whose gold answer is a whole
#: clause (CMRC has many) cannot be led by any span and do not choose the lead threshold.
LEAD_GOLD_CHARS = 12
#: LightGBM settings: small trees, enough rounds, deterministic on any machine.
LGB_PARAMS = {"objective": "binary", "learning_rate": 0.05, "num_leaves": 31, "min_data_in_leaf": 40,
              "feature_fraction": 0.9, "bagging_fraction": 0.8, "bagging_freq": 1, "lambda_l2": 1.0,
              "seed": 7, "deterministic": True, "force_row_wise": True, "num_threads": 2, "verbose": -1}
ROUNDS = 300
#: The splits that never train: the feature reader's thresholds are chosen on the first
#: two, the span reader's on those and ``heldout_tune``; the others report.
VALIDATION_SPLITS = ("tune", "news_tune", "report", "news", "heldout_tune", "heldout", "news_contrast")


@dataclass
class Example:
    q: MRCQuestion
    hits: list[Hit]


def progress(items, desc: str):
    from tqdm import tqdm

    return tqdm(items, desc=desc, unit="q", mininterval=5)


def build_index(train_dir: Path, bench: Path, work: Path, settings: Settings, noise: int):
    """The pooled index, built once (ingest skips it when the pool is unchanged)."""
    from ..ingest.indexer import ingest

    work.mkdir(parents=True, exist_ok=True)
    pool = work / "pool.jsonl"
    tmp = work / "pool.jsonl.tmp"
    rows = write_pool(train_dir, bench, tmp, noise)
    if pool.exists() and pool.read_bytes() == tmp.read_bytes():
        tmp.unlink()
    else:
        tmp.replace(pool)
    print(f"pooled archive: {rows} passages ({pool})")
    report = ingest([pool], settings.with_(index_dir=work / "index"))
    if not report.ok:
        raise SystemExit(f"ingest of {pool} failed: {report.files[0].error}")


def retrieve_all(questions: list[MRCQuestion], work: Path, settings: Settings, cached: bool = True):
    """Retrieve for every question as the assistant does; cached in ``work/hits.pkl``
    unless ``cached`` is false (then nothing is read or written)."""
    from ..embedding.embed import make_embedder
    from ..search.index import Index
    from ..search.retrieve import HybridRetriever

    embedder = make_embedder(settings)
    index = Index.load(work / "index", model_id=embedder.model_id)
    retriever = HybridRetriever(index, embedder, settings)
    cache_path = work / "hits.pkl"
    cache: dict[str, list[tuple[str, float, float | None, float | None]]] = {}
    if cached and cache_path.exists():
        cache = pickle.loads(cache_path.read_bytes())
    rows = {c.id: i for i, c in enumerate(index.chunks)}
    # Hits of another build of the index (other chunk ids) are retrieved again.
    cache = {k: v for k, v in cache.items() if all(h[0] in rows for h in v)}
    todo = [q for q in questions if q.id not in cache]
    k = max(settings.top_k, 5)
    for n, q in enumerate(progress(todo, "retrieve"), start=1):
        hits = retriever.search(q.question, k=k, extra=EXTRA_CANDIDATES)
        cache[q.id] = [(h.chunk.id, h.score, h.dense, h.keyword) for h in hits]
        if cached and (n % 1000 == 0 or n == len(todo)):
            cache_path.write_bytes(pickle.dumps(cache))
    out = []
    for q in questions:
        hits = []
        for chunk_id, score, dense, keyword in cache[q.id]:
            chunk = index.chunks[rows[chunk_id]]
            hits.append(Hit(chunk, index.articles[chunk.article_id], score, dense, keyword))
        out.append(Example(q, hits))
    return out, retriever


def _gold(answer: str) -> str:
    """A gold answer as compared: normalized, without the sentence-final punctuation some
    annotators took into the span (CMRC's "约为0.304平方公里。")."""
    return normalize(answer).rstrip("。．.！!？?；;，,、")


def holds(text: str, answers) -> bool:
    t = normalize(MARKER_RE.sub("", text))
    return any(_gold(a) in t for a in answers)


def span_label(text: str, answers) -> int:
    """A span is right when it is the gold answer, holds it with at most a short qualifier or
    unit, or is the core of it: annotators often took words around the answer into the span
    ("2,173个坐席" for 2,173个, "1985年投入服务" for 1985年)."""
    t = normalize(text)
    for a in map(_gold, answers):
        if t == a or (a and a in t and len(t) <= len(a) + 4) or (len(t) >= 2 and t in a and 2 * len(t) >= len(a)):
            return 1
    return 0


def _folds(examples: list[Example]) -> np.ndarray:
    from .mrc_data import stable_fraction

    return np.array([int(stable_fraction("fold:" + e.q.context_id) < 0.5) for e in examples])


def _train(x: np.ndarray, y: np.ndarray, names: tuple[str, ...]):
    import lightgbm as lgb

    data = lgb.Dataset(x, y, feature_name=list(names), categorical_feature=categorical(names),
                       free_raw_data=False)
    return lgb.train(LGB_PARAMS, data, num_boost_round=ROUNDS)


def _crossfit(x: np.ndarray, y: np.ndarray, owner: np.ndarray, fold: np.ndarray, names) -> np.ndarray:
    """Out-of-fold probabilities: each half predicted by a model trained on the other."""
    p = np.zeros(len(y))
    for f in (0, 1):
        rows = fold[owner] == f
        model = _train(x[~rows], y[~rows], names)
        p[rows] = model.predict(x[rows])
    return p


def sentence_table(examples: list[Example], views) -> tuple:
    xs, ys, owner, units_of = [], [], [], []
    for i, (e, q) in enumerate(zip(progress(examples, "sentence features"), views)):
        units = sentence_units(e.hits)
        rows = sentence_features(q, units)
        xs += rows
        ys += [int(holds(u.text, e.q.answers)) for u in units]
        owner += [i] * len(units)
        units_of.append((units, rows))
    return np.asarray(xs, dtype=np.float64), np.asarray(ys), np.asarray(owner), units_of


def span_table(examples, views, units_of, sent_p: np.ndarray, owner: np.ndarray, tagger: Tagger) -> tuple:
    xs, ys, sowner, cands_of = [], [], [], []
    starts = np.searchsorted(owner, np.arange(len(examples)))
    for i, e in enumerate(progress(examples, "span features")):
        units, rows = units_of[i]
        p = sent_p[starts[i]:starts[i] + len(units)]
        order = np.argsort(-p, kind="stable")[:SPAN_SENTENCES]
        owned = []
        for rank, j in enumerate(order):
            cands = candidates(units[j].text, tagger)
            if not cands:
                continue
            xs += span_features(views[i], units[j], cands, float(p[j]), rank, rows[j])
            ys += [span_label(c.text, e.q.answers) for c in cands]
            owned += [(c, units[j], j) for c in cands]
        sowner += [i] * len(owned)
        cands_of.append(owned)
    return np.asarray(xs, dtype=np.float64), np.asarray(ys), np.asarray(sowner), cands_of


def question_table(examples, views, units_of, sent_p, owner, span_p, sowner, cands_of):
    """QUESTION_FEATURES per question, the best span, and the sentence the answer quotes."""
    starts = np.searchsorted(owner, np.arange(len(examples)))
    sstarts = np.searchsorted(sowner, np.arange(len(examples)))
    xs, best_of, quoted_of = [], [], []
    for i, e in enumerate(examples):
        units, rows = units_of[i]
        p = sent_p[starts[i]:starts[i] + len(units)]
        owned = cands_of[i]
        sp = span_p[sstarts[i]:sstarts[i] + len(owned)]
        scored = [Scored(c, u, float(x)) for (c, u, _), x in zip(owned, sp)]
        scored.sort(key=lambda s: (-s.p, s.unit.rank, s.unit.start, s.candidate.start))
        quoted = int(np.argmax(p)) if len(p) else None
        xs.append(question_row(views[i], rows, p, scored, quoted))
        best_of.append(scored[0] if scored else None)
        quoted_of.append(units[quoted] if quoted is not None else None)
    return np.asarray(xs, dtype=np.float64), best_of, quoted_of


def fit_logistic(x: np.ndarray, y: np.ndarray) -> dict:
    from sklearn.linear_model import LogisticRegression

    mean = x.mean(axis=0)
    scale = x.std(axis=0)
    scale[scale == 0] = 1.0
    lr = LogisticRegression(C=1.0, max_iter=5000)
    lr.fit((x - mean) / scale, y)
    return {"kind": "logistic", "coef": lr.coef_[0].tolist(), "intercept": float(lr.intercept_[0]),
            "mean": mean.tolist(), "scale": scale.tolist()}


def _p_logistic(model: dict, x: np.ndarray) -> np.ndarray:
    z = ((x - np.asarray(model["mean"])) / np.asarray(model["scale"])) @ np.asarray(model["coef"])
    return 1.0 / (1.0 + np.exp(-(z + model["intercept"])))


#: The answerability model as a small LightGBM, compared with the logistic one on validation.
ANSWERABLE_PARAMS = dict(LGB_PARAMS, num_leaves=15, min_data_in_leaf=50)
ANSWERABLE_ROUNDS = 200


def fit_answerable_lgb(x: np.ndarray, y: np.ndarray):
    import lightgbm as lgb

    return lgb.train(ANSWERABLE_PARAMS, lgb.Dataset(x, y, feature_name=list(QUESTION_FEATURES)),
                     num_boost_round=ANSWERABLE_ROUNDS)


def _featurize(examples, retriever, tagger, sent_model=None, span_model=None, crossfit=False):
    views = [question_view(retriever.analyse(e.q.question)) for e in examples]
    sx, sy, owner, units_of = sentence_table(examples, views)
    sent_p = _crossfit(sx, sy, owner, _folds(examples), SENTENCE_FEATURES) if crossfit \
        else sent_model.predict(sx)
    px, py, sowner, cands_of = span_table(examples, views, units_of, sent_p, owner, tagger)
    span_p = _crossfit(px, py, sowner, _folds(examples), SPAN_FEATURES) if crossfit \
        else span_model.predict(px)
    qx, best_of, quoted_of = question_table(examples, views, units_of, sent_p, owner, span_p, sowner,
                                            cands_of)
    return dict(views=views, sx=sx, sy=sy, owner=owner, units_of=units_of, sent_p=sent_p, px=px, py=py,
                sowner=sowner, span_p=span_p, qx=qx, best_of=best_of, quoted_of=quoted_of)


def _answer_right(e: Example, quoted) -> int:
    """Whether answering would quote a sentence holding the gold answer."""
    return int(not e.q.withheld and quoted is not None and holds(quoted.text, e.q.answers))


def refuse_threshold(examples, p_answer: np.ndarray) -> float:
    """Refuse below the probability under which at most MAX_FALSE_REFUSALS of answerable questions fall."""
    answerable = np.array([not e.q.withheld for e in examples])
    pa = np.sort(p_answer[answerable])
    cut = int(np.floor(MAX_FALSE_REFUSALS * len(pa)))
    return float(pa[min(cut, len(pa) - 1)])


def withheld_refused(examples, p_answer: np.ndarray, threshold: float) -> float:
    withheld = np.array([e.q.withheld for e in examples])
    return float((p_answer[withheld] < threshold).mean()) if withheld.any() else 0.0


#: Question kinds whose answer is a typed value a lead can state (the kinds news questions ask).
LEAD_KINDS = ("number", "ordinal", "time", "person", "org", "place")


def precise_from(scored: list[tuple[float, int]]) -> float:
    """The lowest probability down to which the leads (best first) are right LEAD_PRECISION of the time."""
    threshold, right = 1.0, 0
    for n, (p, ok) in enumerate(scored, start=1):
        right += ok
        if right / n >= LEAD_PRECISION:
            threshold = p
    return threshold


def choose_thresholds(examples, p_answer: np.ndarray, best_of, views) -> tuple[float, float]:
    refuse = refuse_threshold(examples, p_answer)
    # Lead: the lowest span probability at which the leads shown are right LEAD_PRECISION of the
    # time, in each source of validation questions alike (the easy news cloze questions must
    # not buy leads for the harder human-written ones).
    lead = 0.0
    for source in (True, False):
        scored = sorted(((b.p, span_label(b.candidate.text, e.q.answers))
                         for e, b, pa_, v in zip(examples, best_of, p_answer, views)
                         if e.q.id.startswith("synthetic:") == source and b is not None and not e.q.withheld
                         and pa_ >= refuse and v.kind in LEAD_KINDS
                         and min(map(len, e.q.answers)) <= LEAD_GOLD_CHARS), reverse=True)
        if scored:
            lead = max(lead, precise_from(scored))
    return refuse, lead


def evaluate(examples: list[Example], reader: Reader, retriever) -> dict:
    """Answer every question with the shipped reader and score the answers."""
    n_ans = n_with = 0
    in_text = lead_holds = lead_em = lead_right = false_ref = withheld_ref = leads = 0
    em = f1 = 0.0
    latencies = []
    for e in progress(examples, "validate"):
        t0 = time.perf_counter()
        query = retriever.analyse(e.q.question)
        reading = reader.read(question_view(query), e.hits)
        latencies.append((time.perf_counter() - t0) * 1000)
        if e.q.withheld:
            n_with += 1
            withheld_ref += reading.refuse
            continue
        n_ans += 1
        # CMRC's EM / F1 read the best span whether or not the reader would refuse or lead with it.
        predicted = reading.best.candidate.text if reading.best else reading.quoted.text if reading.quoted else ""
        em += cmrc_em(predicted, e.q.answers)
        f1 += cmrc_f1(predicted, e.q.answers)
        if reading.refuse:
            false_ref += 1
            continue
        text, _ = compose(reading, query.qtype.kind == "list")
        in_text += holds(text[:ANSWER_CHARS], e.q.answers)
        lead = reading.lead or ""
        leads += bool(reading.lead)
        lead_holds += bool(lead) and holds(lead, e.q.answers)
        lead_right += bool(lead) and span_label(lead, e.q.answers)
        lead_em += bool(lead) and normalize(lead) in {_gold(a) for a in e.q.answers}
    return {"questions": len(examples), "answerable": n_ans, "withheld": n_with,
            "answer_in_text": round(in_text / max(n_ans, 1), 4),
            "lead_holds": round(lead_holds / max(n_ans, 1), 4),
            "cmrc_em": round(100 * em / max(n_ans, 1), 2), "cmrc_f1": round(100 * f1 / max(n_ans, 1), 2),
            "lead_em": round(lead_em / max(n_ans, 1), 4),
            "leads_shown": round(leads / max(n_ans, 1), 4),
            "lead_precision": round(lead_right / max(leads, 1), 4),
            "false_refusals": round(false_ref / max(n_ans, 1), 4),
            "withheld_refused": round(withheld_ref / max(n_with, 1), 4),
            "reader_ms_p50": round(float(np.percentile(latencies, 50)), 2),
            "reader_ms_p95": round(float(np.percentile(latencies, 95)), 2)}


def validation_examples(train_dir: Path, bench: Path, work: Path, settings: Settings,
                        noise: int = NOISE_ARTICLES, absent: int = ABSENT_NEWS_ARTICLES):
    """The validation questions with hits retrieved afresh over the pooled index (built if needed)."""
    build_index(train_dir, bench, work, settings, noise)
    settings = settings.with_(index_dir=work / "index")
    _, questions = load(train_dir)
    questions += synthetic_news(bench, noise, absent) + contrast_news(bench, noise)
    questions = [q for q in questions if q.split in VALIDATION_SPLITS]
    return retrieve_all(questions, work, settings, cached=False)


def validate(train_dir: Path, bench: Path, work: Path, settings: Settings,
             models_dir: Path = MODELS_DIR, noise: int = NOISE_ARTICLES, absent: int = ABSENT_NEWS_ARTICLES) -> dict:
    """Score the shipped models on the validation splits, retrieving afresh (no cache)."""
    examples, retriever = validation_examples(train_dir, bench, work, settings, noise, absent)
    reader = Reader(models_dir, Tagger())
    metrics = {split: evaluate([e for e in examples if e.q.split == split], reader, retriever)
               for split in VALIDATION_SPLITS}
    print(json.dumps(metrics, ensure_ascii=False, indent=1))
    return metrics


def run(train_dir: Path, bench: Path, work: Path, settings: Settings, models_dir: Path = MODELS_DIR,
        noise: int = NOISE_ARTICLES, synthetic: bool = True, absent: int = ABSENT_NEWS_ARTICLES) -> dict:
    """Train the reader and write its models; returns the validation metrics."""
    t0 = time.perf_counter()
    build_index(train_dir, bench, work, settings, noise)
    settings = settings.with_(index_dir=work / "index")
    _, questions = load(train_dir)
    news_questions = synthetic_news(bench, noise, absent)
    # The synthetic news questions always report (split "news"); they train only when asked.
    questions += [q for q in news_questions if synthetic or q.split != "train"]
    examples, retriever = retrieve_all(questions, work, settings)
    train = [e for e in examples if e.q.split == "train"]
    # Thresholds are chosen on CMRC's tune half with the held-back news cloze questions:
    # validation of the kinds the archive is asked about.
    tune = [e for e in examples if e.q.split in ("tune", "news_tune")]
    report = [e for e in examples if e.q.split == "report"]
    news = [e for e in examples if e.q.split == "news"]
    tagger = Tagger()

    t = _featurize(train, retriever, tagger, crossfit=True)
    print(f"training rows: {len(t['sy'])} sentences ({int(t['sy'].sum())} holding an answer), "
          f"{len(t['py'])} spans ({int(t['py'].sum())} right)")
    sent_model = _train(t["sx"], t["sy"], SENTENCE_FEATURES)
    span_model = _train(t["px"], t["py"], SPAN_FEATURES)
    qy = np.array([_answer_right(e, quoted) for e, quoted in zip(train, t["quoted_of"])])
    logistic = fit_logistic(t["qx"], qy)
    boosted = fit_answerable_lgb(t["qx"], qy)

    # Validation chooses the answerability model: the one refusing more withheld-evidence
    # questions at the same false-refusal rate.
    v = _featurize(tune, retriever, tagger, sent_model, span_model)
    choices = {"logistic": _p_logistic(logistic, v["qx"]), "lightgbm": boosted.predict(v["qx"])}
    compared = {name: withheld_refused(tune, p, refuse_threshold(tune, p)) for name, p in choices.items()}
    kind = max(compared, key=lambda name: (compared[name], name == "logistic"))
    print(f"answerability on tune, withheld refused at <= {MAX_FALSE_REFUSALS:.0%} false refusals: "
          + ", ".join(f"{k} {x:.3f}" for k, x in compared.items()) + f"; using {kind}")
    answerability = logistic if kind == "logistic" else {"kind": "lightgbm", "compared": compared}
    refuse, lead = choose_thresholds(tune, choices[kind], v["best_of"], v["views"])

    models_dir.mkdir(parents=True, exist_ok=True)
    sent_model.save_model(str(models_dir / "reader-sentence.txt"))
    span_model.save_model(str(models_dir / "reader-span.txt"))
    answerable_file = models_dir / "reader-answerable.txt"
    if kind == "lightgbm":
        boosted.save_model(str(answerable_file))
    elif answerable_file.exists():
        answerable_file.unlink()
    meta = {"sentence_features": list(SENTENCE_FEATURES), "span_features": list(SPAN_FEATURES),
            "question_features": list(QUESTION_FEATURES), "answerability": answerability,
            "refuse_threshold": refuse, "lead_threshold": lead,
            "max_false_refusals": MAX_FALSE_REFUSALS, "lead_precision": LEAD_PRECISION,
            "training": {"files": "cmrc2018_dev + DRCD_dev + DRCD_test (DRCD in simplified script)",
                         "questions": len(train), "noise_articles": noise,
                         "synthetic_news_questions": synthetic,
                         "sentence_rows": int(len(t["sy"])), "span_rows": int(len(t["py"]))}}
    reader = Reader(models_dir, tagger)
    (models_dir / "reader.json").write_text(json.dumps(meta, ensure_ascii=False, indent=1), encoding="utf-8")
    metrics = {"tune": evaluate(tune, reader, retriever), "report": evaluate(report, reader, retriever),
               "news": evaluate(news, reader, retriever)}
    meta["validation"] = metrics
    meta["thresholds_chosen_on"] = "tune half of cmrc2018_trial + news_tune cloze questions"
    (models_dir / "reader.json").write_text(json.dumps(meta, ensure_ascii=False, indent=1), encoding="utf-8")
    print(f"thresholds: refuse below p={refuse:.4f}, lead from p={lead:.4f}")
    print(json.dumps(metrics, ensure_ascii=False, indent=1))
    print(f"trained in {time.perf_counter() - t0:.0f} s")
    return metrics
