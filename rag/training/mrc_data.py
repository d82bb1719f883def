"""Open Chinese reading-comprehension data (CMRC 2018, DRCD) for training the reader.

The files are SQuAD-style JSON (``../shared/train/README.md``). DRCD is in
traditional characters and is converted to simplified with OpenCC. Splits are
fixed by file and by a hash of the context, so every run sees the same ones:

- ``cmrc2018_trial.json`` is the validation split and is never trained on;
  half of it (by context hash) chooses thresholds, the other half reports.
  Its answers are sentence-length (median 19 characters, against 7 in CMRC dev),
  so its EM is not comparable with published CMRC figures, which are on dev;
- so ``HELDOUT_SHARE`` of CMRC dev's articles are kept out of training too:
  CMRC EM/F1 on them, each question against its own context, is the figure to
  set beside published ones. Half of those articles (split ``heldout_tune``, by
  article hash) also choose the span reader's lead calibration, whose short gold
  answers the trial file lacks; the other half (``heldout``) only reports;
- in every file, contexts whose hash falls under ``WITHHELD_SHARE`` are kept
  out of the pooled index, so their questions teach and measure refusals.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

#: Training files, in the order they are read; the last is the validation split.
TRAIN_FILES = ("cmrc2018_dev.json", "DRCD_dev.json", "DRCD_test.json")
VALIDATION_FILE = "cmrc2018_trial.json"
#: Share of contexts withheld from the pooled index (their questions have no evidence).
WITHHELD_SHARE = 0.15
#: Share of CMRC dev's articles held out of training, for EM/F1 comparable with published figures.
HELDOUT_SHARE = 0.12
#: The splits of those articles: the first tunes the span reader's leads, the second only reports.
HELDOUT_SPLITS = ("heldout_tune", "heldout")
#: News articles from the bench corpus pooled in as noise.
NOISE_ARTICLES = 2500


@dataclass(frozen=True)
class MRCQuestion:
    id: str
    question: str
    answers: tuple[str, ...]
    context_id: str
    split: str  # train | tune | report | heldout_tune | heldout  (tune, report: the trial file's halves)
    withheld: bool  # its context is not in the pooled index
    starts: tuple[int, ...] = ()  # where each answer stands in its context (-1: not found)


@dataclass(frozen=True)
class MRCContext:
    id: str
    title: str
    text: str
    withheld: bool


def stable_fraction(key: str) -> float:
    """A stable number in [0, 1) from a string."""
    return int(hashlib.sha1(key.encode("utf-8")).hexdigest()[:8], 16) / 2 ** 32


def _converter(name: str):
    if not name.startswith("DRCD"):
        return lambda s: s
    import opencc  # opencc-python-reimplemented, pure Python

    conv = opencc.OpenCC("t2s")
    return conv.convert


def load(train_dir: Path) -> tuple[list[MRCContext], list[MRCQuestion]]:
    """Every context and question of the training files, DRCD in simplified script."""
    contexts: list[MRCContext] = []
    questions: list[MRCQuestion] = []
    for name in (*TRAIN_FILES, VALIDATION_FILE):
        path = train_dir / name
        data = json.loads(path.read_text(encoding="utf-8"))
        convert = _converter(name)
        stem = name.removesuffix(".json")
        for a, art in enumerate(data["data"]):
            for p, para in enumerate(art["paragraphs"]):
                cid = f"{stem}-{a}-{p}"
                withheld = stable_fraction("withhold:" + cid) < WITHHELD_SHARE
                text = convert(para["context"])
                contexts.append(MRCContext(cid, convert(art.get("title") or ""), text, withheld))
                if name == VALIDATION_FILE:
                    split = "tune" if stable_fraction("half:" + cid) < 0.5 else "report"
                elif name == "cmrc2018_dev.json" and stable_fraction(f"heldout:{stem}-{a}") < HELDOUT_SHARE:
                    split = "heldout_tune" if stable_fraction(f"heldout-half:{stem}-{a}") < 0.5 else "heldout"
                else:
                    split = "train"
                for qa in para["qas"]:
                    given = {}
                    for x in qa["answers"]:
                        answer = convert(x["text"]).strip()
                        if answer and answer not in given:
                            given[answer] = _answer_start(text, answer, x.get("answer_start", -1))
                    if given:
                        questions.append(MRCQuestion(f"{stem}:{qa['id']}", convert(qa["question"]),
                                                     tuple(given), cid, split, withheld, tuple(given.values())))
    return contexts, questions


def _answer_start(context: str, answer: str, given: int) -> int:
    """The answer's offset in its context: the given one where the text is there (the
    given offset may be off by the answer's own leading spaces), else the first occurrence."""
    for start in (given, given + 1, given - 1):
        if start >= 0 and context.startswith(answer, start):
            return start
    return context.find(answer)


def noise_articles(bench_path: Path, n: int = NOISE_ARTICLES) -> Iterator[dict]:
    """The first ``n`` bench news articles, as archive JSONL rows."""
    with gzip.open(bench_path, "rt", encoding="utf-8") as fh:
        for i, line in enumerate(fh):
            if i >= n:
                break
            row = json.loads(line)
            row["id"] = f"noise-{i}"
            yield row


def write_pool(train_dir: Path, bench_path: Path, out: Path, noise: int = NOISE_ARTICLES) -> int:
    """The pooled archive as JSONL: every context not withheld, then the noise. Returns rows."""
    contexts, _ = load(train_dir)
    rows = 0
    with out.open("w", encoding="utf-8") as fh:
        for c in contexts:
            if c.withheld:
                continue
            fh.write(json.dumps({"id": c.id, "headline": c.title, "text": c.text}, ensure_ascii=False) + "\n")
            rows += 1
        for row in noise_articles(bench_path, noise):
            fh.write(json.dumps(row, ensure_ascii=False) + "\n")
            rows += 1
    return rows


#: Synthetic questions per news article and the kinds of answer they ask for.
_SYNTHETIC_ASK = {"NUM": "多少", "TIME": "什么时候", "PER": "谁", "ORG": "哪个单位", "LOC": "哪里", "ORD": "第几"}


#: News articles after the pooled ones whose cloze questions have no evidence in the pool.
ABSENT_NEWS_ARTICLES = 500


def askable(sentence: str, tagger) -> list:
    """The values of a sentence a cloze question can ask for: typed, short, said once."""
    from ..answer.candidates import candidates

    return [c for c in candidates(sentence, tagger)
            if c.kind in _SYNTHETIC_ASK and 2 <= len(c.text) <= 12 and sentence.count(c.text) == 1
            and (c.kind != "TIME" or re.search(r"\d", c.text))  # 近日, 当日 ask nothing
            and (c.kind != "NUM" or re.search(r"\d", c.text) and sentence[c.start - 1:c.start] != "第")]


def clause_breaks(sentence: str) -> list[int]:
    return [m.end() for m in re.finditer(r"[，,；;：:]", sentence)]


def _cloze(sentence: str, c, start: int, breaks: list[int]) -> tuple[str, int]:
    """The sentence from ``start`` to the end of ``c``'s clause, with a question word for
    ``c``, and where that clause ends."""
    end = min([b - 1 for b in breaks if b > c.end] or [len(sentence)])
    ask = _SYNTHETIC_ASK[c.kind]
    if c.kind == "NUM":
        ask += re.sub(r"^[^\u4e00-\u9fff%％]*", "", re.sub(r"^(?:约|近|超过|超|逾|不少于)", "", c.text))[-2:]
    return (sentence[start:c.start] + ask + sentence[c.end:end]).strip("，,。；;：: ") + "？", end


def news_split(key: str) -> str:
    f = stable_fraction("news-split:" + key)
    return "news_tune" if f < 0.075 else "news" if f < 0.15 else "train"


#: Characters of its own a contrast question must have besides the question word.
_CONTRAST_WORDING = 6


def clause_index(breaks: list[int], c) -> int:
    """Which clause of its sentence (by ``clause_breaks``) a value stands in."""
    return sum(1 for x in breaks if x <= c.start)


def validation_news(bench_path: Path, n: int = NOISE_ARTICLES, train: bool = False):
    """For each validation news article (``news_tune``, ``news``: pooled, never trained
    on), or with ``train`` each training one, its key and its sentences of 20–160
    characters, lazily, as (sentence, clause breaks, the values a question can ask for)."""
    from ..answer.candidates import default_tagger
    from ..ingest.sentences import split_sentences

    tagger = default_tagger()

    def sentences(text: str):
        for a, b in split_sentences(text):
            if 20 <= b - a <= 160:
                yield text[a:b], clause_breaks(text[a:b]), askable(text[a:b], tagger)

    for i, row in enumerate(noise_articles(bench_path, n)):
        key = f"noise-{i}"
        if (news_split(key) == "train") == train:
            yield key, sentences(row.get("text") or "")


def contrast_news(bench_path: Path, n: int = NOISE_ARTICLES, train: bool = False) -> list[MRCQuestion]:
    """Harder cloze questions, one per article where one can be made: a sentence states
    two numbers (or ordinals) in different clauses, and the question is one value's
    clause alone ("软经济指标得分为多少分？" after "株洲硬经济指标得分为22.97分，"). The
    other value stands beside the answer in every window that holds it: the question's
    own words must decide.

    Validation articles (split ``news_contrast``, report only) ask for the later value,
    the one a reader drawn to the first number misses. Training articles (``train``,
    split ``train``) ask for either, by hash, so that no position is the answer.
    """
    out: list[MRCQuestion] = []
    for key, sentences in validation_news(bench_path, n, train):
        for sentence, breaks, values in sentences:
            clause_of = lambda c: clause_index(breaks, c)
            found = [c for c in values if c.kind in ("NUM", "ORD")]
            alone = [c for c in found
                     if sum(clause_of(o) == clause_of(c) and o.kind == c.kind for o in found) == 1]
            if train:
                asked = [c for c in alone if any(o.kind == c.kind and clause_of(o) != clause_of(c) for o in found)]
            else:
                asked = [c for c in alone if clause_of(c) > 0
                         and any(o.kind == c.kind and clause_of(o) < clause_of(c) for o in found)]
            if not asked:
                continue
            c = asked[int(stable_fraction("contrast:" + key) * 9973) % len(asked)] if train else asked[0]
            question, _ = _cloze(sentence, c, ([0] + breaks)[clause_of(c)], breaks)
            if len(question) - len(_SYNTHETIC_ASK[c.kind]) - 1 < _CONTRAST_WORDING:
                continue
            out.append(MRCQuestion(f"contrast:{key}", question, (c.text,), key,
                                   "train" if train else "news_contrast", False))
            break
    return out


def synthetic_news(bench_path: Path, n: int = NOISE_ARTICLES,
                   absent: int = ABSENT_NEWS_ARTICLES) -> list[MRCQuestion]:
    """Cloze questions about news articles, one per article where one can be made.

    Questions about the ``n`` pooled articles have their evidence in the pool;
    questions about the ``absent`` articles after them do not (withheld), and one whose
    clause a pooled article reprints word for word is dropped.

    A sentence holding a number, date, person, organisation or place becomes a
    question by putting a question word in place of that value and keeping only
    its clause and the one before it ("…参保人数达到多少万人？"). Articles split by
    hash: most train; of the rest, half (split "news_tune") joins the validation
    that chooses thresholds and half (split "news") only reports.
    """
    from ..answer.candidates import candidates, default_tagger
    from ..ingest.sentences import split_sentences

    tagger = default_tagger()
    out: list[MRCQuestion] = []
    pooled: list[str] = []
    for i, row in enumerate(noise_articles(bench_path, n + absent)):
        text = row.get("text") or ""
        if i < n:
            pooled.append(text)
        elif i == n:
            pool = "\n".join(pooled)
        key = f"noise-{i}"
        pick = stable_fraction("synthetic:" + key)
        sentences = [text[a:b] for a, b in split_sentences(text) if 20 <= b - a <= 120]
        if not sentences:
            continue
        sentence = sentences[int(pick * 997) % len(sentences)]
        found = askable(sentence, tagger)
        if not found:
            continue
        c = found[int(pick * 9973) % len(found)]
        breaks = clause_breaks(sentence)
        start = max([b for b in breaks if b <= c.start][-2:-1] or [0])
        question, end = _cloze(sentence, c, start, breaks)
        if len(question) < 8:
            continue
        # News is reprinted: a clause of an absent article may stand in a pooled one, and
        # then its evidence is not withheld at all.
        if i >= n and sentence[start:end].strip("，,。；;：: ") in pool:
            continue
        split = news_split(key)
        out.append(MRCQuestion(f"synthetic:{key}", question, (c.text,), key, split, i >= n))
    return out
