"""The span reader's mechanics: windows, offsets, scripts, decoding, weights, training.

Whether it answers real questions well is measured on the validation split by
`rag train --reader neural` (and `rag train --validate`), not here.
"""

import json
from dataclasses import dataclass

import numpy as np
import pytest

from rag.answer.span_reader import (META_FILE, WEIGHTS_FILE, best_of_windows, best_spans, read_meta, run_windows,
                                    span_mask)
from rag.answer.windows import CLS, SEP, build_window, sentence_at, tokenize
from rag.errors import ModelLoadError
from rag.ingest.script import fold
from rag.ingest.sentences import split_sentences


@dataclass
class _Enc:
    ids: list
    offsets: list
    tokens: list


class CharTokenizer:
    """One token per character (the e5 tokenizer's interface, deterministic)."""

    def encode(self, text, add_special_tokens=False):
        return _Enc([3 + ord(c) % 5000 for c in text], [(i, i + 1) for i in range(len(text))], list(text))


TEXT = ("株洲市召开全市经济工作会议。会议指出，2025年全市地区生产总值达到4100亿元。"
        "人均地区生产总值为10.5万元。全市常住人口约390万人。会议还部署了明年的重点工作。")


def _window(center, before=1, max_tokens=40, focus=None, text=TEXT):
    tok = CharTokenizer()
    return build_window(tokenize(tok, "地区生产总值是多少"), tokenize(tok, "经济会议"), tokenize(tok, text),
                        split_sentences(text), center, before=before, focus=focus, max_tokens=max_tokens)


@pytest.mark.unit
def test_a_window_holds_whole_sentences_around_its_centre_within_the_budget():
    sents = split_sentences(TEXT)
    w = _window(1, max_tokens=60)
    assert len(w.ids) <= 60
    assert w.ids[0] == CLS and w.ids[-1] == SEP
    assert w.ids[w.body_first - 1] == SEP
    stretch = TEXT[w.start:w.end]
    assert TEXT[sents[1][0]:sents[1][1]] in stretch
    # whole sentences only: the window starts and ends at sentence boundaries
    assert w.start in {a for a, _ in sents} and w.end in {b for _, b in sents}


class MarkerTokenizer:
    """SentencePiece's habit: white space becomes a word-start marker ("▁") glued to the
    next token, whose offsets then begin at the white space."""

    def encode(self, text, add_special_tokens=False):
        ids, offsets, tokens, i = [], [], [], 0
        while i < len(text):
            j = i + 1 if not text[i].isspace() else i + 2
            ids.append(3 + ord(text[j - 1]) % 5000)
            offsets.append((i, min(j, len(text))))
            tokens.append(("\u2581" if text[i].isspace() else "") + text[j - 1])
            i = j
        return _Enc(ids, offsets, tokens)


@pytest.mark.unit
def test_a_token_after_a_line_break_starts_at_its_own_character():
    text = "353万人参保。\n18万次检查结果互认。"
    toks = tokenize(MarkerTokenizer(), text)
    assert all(not text[a].isspace() for a, _ in toks.offsets)
    assert text.index("18") in {a for a, _ in toks.offsets}
    sents = split_sentences(text)
    assert len(sents) == 2
    w = build_window(tokenize(MarkerTokenizer(), "检查结果互认多少次"), tokenize(MarkerTokenizer(), "医保"),
                     toks, sents, 1, before=1, max_tokens=60)
    first = w.token_at(text.index("18"))
    # the number's first token belongs to the sentence it starts, not the one before the break
    assert w.sentence_of[first] == 1 and w.chars(first, first)[0] == text.index("18")


@pytest.mark.unit
def test_body_tokens_map_back_to_the_texts_own_characters():
    w = _window(1, max_tokens=80)
    for j, (a, b) in enumerate(w.offsets):
        assert w.ids[w.body_first + j] == 3 + ord(TEXT[a]) % 5000
    first = w.token_at(TEXT.index("4100"))
    last = w.token_at(TEXT.index("4100亿元") + len("4100亿元"), end=True)
    a, b = w.chars(first, last)
    assert TEXT[a:b] == "4100亿元"


@pytest.mark.unit
def test_a_sentence_longer_than_the_budget_is_cut_around_the_focus():
    long = "，".join(f"第{i}项指标增长{i}%" for i in range(40)) + "。"
    focus = long.index("第30项")
    w = _window(sentence_at(split_sentences(long), focus), max_tokens=40, focus=focus, text=long)
    assert w.start <= focus < w.end
    assert len(w.ids) <= 40


@pytest.mark.unit
def test_sentence_at_finds_the_sentence_holding_a_character():
    sents = split_sentences(TEXT)
    assert sentence_at(sents, TEXT.index("4100")) == 1
    assert sentence_at(sents, 0) == 0


@pytest.mark.unit
def test_fold_keeps_length_so_offsets_quote_the_original_text():
    original = "截至2025年底，全市基本醫療保險參保人數達到３５３萬人。"
    folded = fold(original)
    assert len(folded) == len(original)
    assert "医疗保险参保人数达到353万人" in folded
    start = folded.index("353万人")
    assert original[start:start + 5] == "３５３萬人"
    assert fold("醫保參保人數") == "医保参保人数"
    assert fold("医保参保人数") == "医保参保人数"


@pytest.mark.unit
def test_a_traditional_question_finds_a_simplified_article_through_the_keyword_index():
    from rag.search.keyword import KeywordIndex, Tokenizer

    texts = ["全市基本医疗保险参保人数达到353万人。", "株洲举办龙舟赛，吸引数万市民观看。"]
    kw = KeywordIndex.build(texts, Tokenizer())
    assert kw.search("醫療保險參保人數", 2)[0][0] == 0
    kw2 = KeywordIndex.build(["全市基本醫療保險參保人數達到353萬人。", texts[1]], Tokenizer())
    assert kw2.search("医疗保险参保人数", 2)[0][0] == 0


def _logits(width, start_at, end_at, null=0.0, peak=5.0):
    s = np.zeros((1, width), np.float32)
    e = np.zeros((1, width), np.float32)
    s[0, 0] = e[0, 0] = null / 2
    s[0, start_at] = peak
    e[0, end_at] = peak
    return s, e


@pytest.mark.unit
def test_spans_stay_in_the_body_and_within_the_span_cap():
    ok = span_mask(np.array([20]), np.array([8]), 20)
    assert ok[0, 0] and not ok[0, 1:8].any() and ok[0, 8:19].all() and not ok[0, 19]
    s, e = _logits(20, 3, 4)  # the peak sits in the question: not a span
    s[0, 10], e[0, 12] = 2.0, 2.0
    score, first, last, null = best_spans(s, e, ok, max_span=5)
    assert (first[0], last[0]) == (10, 12)
    s, e = _logits(20, 9, 18)
    _, first, last, _ = best_spans(s, e, ok, max_span=5)
    assert last[0] - first[0] < 5


@pytest.mark.unit
def test_no_answer_wins_when_the_null_score_beats_every_span():
    w = _window(1, max_tokens=60)
    width = len(w.ids)
    s, e = _logits(width, w.body_first + 2, w.body_first + 4, null=20.0)
    found = best_of_windows([w], [0], s, e, 30)
    assert found.score < 0
    s, e = _logits(width, w.body_first + 2, w.body_first + 4, null=-5.0)
    found = best_of_windows([w], [0], s, e, 30)
    assert found.score > 0
    assert TEXT[found.start:found.end] == TEXT[w.offsets[2][0]:w.offsets[4][1]]



@pytest.mark.unit
def test_a_span_never_crosses_a_sentence_end():
    """The strongest start sits at the end of one sentence and the strongest end in the
    next: the span found lies within one sentence, so its sentence quotes all of it."""
    sents = split_sentences(TEXT)
    w = _window(1, max_tokens=80)
    assert len(w.sentence_of) == len(w.offsets)
    second = [j for j, g in enumerate(w.sentence_of) if g == 2]
    first = [j for j, g in enumerate(w.sentence_of) if g == 1]
    s, e = _logits(len(w.ids), w.body_first + first[-3], w.body_first + second[2], null=-5.0)
    found = best_of_windows([w], [0], s, e, 30)
    held = [(a, b) for a, b in sents if a <= found.start and found.end <= b]
    assert held, (found.start, found.end, sents)
    # Without the sentence groups, the same scores give the crossing span.
    ok = span_mask(np.array([len(w.ids)]), np.array([w.body_first]), len(w.ids))
    _, f, l, _ = best_spans(s, e, ok, max_span=30)
    assert (f[0], l[0]) == (w.body_first + first[-3], w.body_first + second[2])

@pytest.mark.unit
def test_answerability_weighs_whichever_signal_tells_right_from_wrong():
    """The calibration is fitted, not set: a signal that carries no information gets no weight."""
    from rag.answer.reader import logistic
    from rag.training.neural import fit_logistic

    rng = np.random.RandomState(0)
    right = rng.randint(0, 2, 600)
    noise = rng.normal(size=600)
    telling = 3 * right - 1.5 + rng.normal(scale=0.7, size=600)
    for cols, strong in (((noise, telling), 1), ((telling, noise), 0)):
        rows = [{"margin": x, "feature_logit": y} for x, y in zip(*cols)]
        model = fit_logistic(rows, right, ("margin", "feature_logit"))
        assert model["coef"][strong] > 1.5 and abs(model["coef"][1 - strong]) < 0.3, model
    p_hi = logistic(model, {"margin": 2.0, "feature_logit": 0.0})
    p_lo = logistic(model, {"margin": -2.0, "feature_logit": 0.0})
    assert p_lo < 0.2 < 0.8 < p_hi
    assert logistic(None, {"margin": 9.0}) == 0.5  # nothing fitted: no opinion


@pytest.mark.unit
def test_windows_are_compared_by_their_own_no_answer_scores_and_their_priors():
    """Each window is normalised apart: a span that beats its own window's no-answer score
    wins over a higher raw score in a window whose no-answer score is higher still."""
    w = _window(1, max_tokens=60)
    width = len(w.ids)
    s1, e1 = _logits(width, w.body_first + 1, w.body_first + 2, null=30.0, peak=8.0)  # raw 16, margin -14
    s2, e2 = _logits(width, w.body_first + 3, w.body_first + 5, null=0.0, peak=4.0)  # raw 8, margin 8
    s, e = np.vstack([s1, s2]), np.vstack([e1, e2])
    found = best_of_windows([w, w], [0, 1], s, e, 30)
    assert found.article_index == 1 and found.score == pytest.approx(8.0)
    assert found.logp < 0  # a log-probability within its window
    # a prior for the first window, weighted enough, brings it back
    found = best_of_windows([w, w], [0, 1], s, e, 30, priors=[12.0, 0.0], weight=2.0)
    assert found.article_index == 0 and found.prior == 12.0
    found = best_of_windows([w, w], [0, 1], s, e, 30, priors=[12.0, 0.0], weight=0.0)
    assert found.article_index == 1


@pytest.mark.unit
def test_a_span_gets_the_kind_of_value_it_is_so_claims_compare_like_with_like():
    from rag.answer.reader import NeuralReader, Reader

    class NoNames:
        def tag(self, sentence):
            return []

    reader = NeuralReader(Reader(tagger=NoNames()), None)
    assert reader.kind_of("353万人") == "NUM"
    assert reader.kind_of("第3位") == "ORD"
    assert reader.kind_of("会议还部署了明年的重点工作，共5项") == "span"  # a number inside a clause is not one


@pytest.mark.unit
def test_windows_read_in_one_batch_give_what_each_gives_alone():
    windows = [_window(i, max_tokens=30 + 10 * i) for i in range(3)]

    def run(ids, mask):  # a deterministic stand-in for the model: scores from the ids themselves
        x = (ids % 97).astype(np.float32) * mask
        return x / 10, x / 7

    batched = run_windows(run, windows)
    for r, w in enumerate(windows):
        alone = run_windows(run, [w])
        n = len(w.ids)
        assert np.allclose(batched[0][r, :n], alone[0][0, :n])
        assert np.allclose(batched[1][r, :n], alone[1][0, :n])
        assert (np.asarray(batched[0])[r, n:] == 0).all()  # padding is masked


@pytest.mark.unit
def test_missing_or_mismatched_weights_are_one_line_errors_that_say_how_to_rebuild(tmp_path):
    with pytest.raises(ModelLoadError, match="rag train --reader neural"):
        read_meta(tmp_path)
    (tmp_path / META_FILE).write_text(json.dumps({"sha256": "0" * 64, "config": {}}), encoding="utf-8")
    with pytest.raises(ModelLoadError, match="missing"):
        read_meta(tmp_path)
    (tmp_path / WEIGHTS_FILE).write_bytes(b"not the trained tensors")
    with pytest.raises(ModelLoadError, match="sha256"):
        read_meta(tmp_path)


@pytest.mark.unit
def test_the_shipped_span_reader_weights_match_their_sha256_and_fit_the_model():
    from rag.answer.reader import MODELS_DIR

    meta = read_meta(MODELS_DIR)
    assert meta["config"]["frozen"] in range(12)
    for model in ("calibration", "lead_calibration"):
        assert len(meta[model]["signals"]) == len(meta[model]["coef"]) and "intercept" in meta[model]
    assert 0 <= meta["refuse_threshold"] < 1 and 0 < meta["lead_threshold"] <= 1
    assert (MODELS_DIR / WEIGHTS_FILE).stat().st_size < 50 * 2 ** 20
    from safetensors import safe_open

    with safe_open(str(MODELS_DIR / WEIGHTS_FILE), "np") as fh:
        names = set(fh.keys())
    trained = {f"encoder.layer.{i}." for i in range(meta["config"]["frozen"], 12)}
    assert {"qa.weight", "qa.bias"} <= names
    assert all(any(n.startswith(p) for n in names) for p in trained)
    assert not any(n.startswith(("embeddings.", "encoder.layer.0.")) for n in names)


@pytest.mark.unit
def test_a_masked_ordinal_keeps_what_it_counts():
    """第三届 asks 第几届, not 第几: the question still names what is counted."""
    from rag.answer.candidates import Candidate
    from rag.answer.verify import masked_question as _masked

    claim = "第三届青松茶文化节共有86家茶企参展"
    assert _masked(claim, Candidate(0, 3, "ORD", "第三届", "rule")) == "第几届青松茶文化节共有86家茶企参展"
    assert _masked("全市排名第12位", Candidate(4, 8, "ORD", "第12位", "rule")) == "全市排名第几位"
    assert _masked(claim, Candidate(11, 14, "NUM", "86家", "rule")) == "第三届青松茶文化节共有多少家茶企参展"


def test_the_readers_agree_when_one_value_holds_the_other():
    from rag.answer.reader import readers_agree

    assert readers_agree("353万人", "353万") == 1.0
    assert readers_agree("不少于1200亩", "1200亩") == 1.0
    assert readers_agree("2.3亿元", "3.6亿元") == 0.0
    assert readers_agree("353万人", None) == 0.0
    assert readers_agree("", "") == 0.0


def test_the_feature_readers_silence_is_not_disagreement():
    from rag.answer.reader import readers_disagree

    assert readers_disagree("2.3亿元", "3.6亿元") == 1.0
    assert readers_disagree("353万人", "353万") == 0.0
    assert readers_disagree("353万人", None) == 0.0


def test_a_span_sheds_the_punctuation_its_tokens_carry():
    from rag.answer.reader import trim_punctuation

    s = "同比增长4.1%,增速居全省第一。"
    a, b = trim_punctuation(s, 4, 9)  # "4.1%,"
    assert s[a:b] == "4.1%"
    a, b = trim_punctuation(s, 4, 8)
    assert s[a:b] == "4.1%"
    assert trim_punctuation("，，", 0, 2) == (0, 2)
