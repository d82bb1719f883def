"""The evaluation metrics on tiny cases worked out by hand."""

from dataclasses import dataclass

import numpy as np
import pytest

from rag.evaluation.metrics import (METRIC_KEYS, answer_correct, citation_correct, hit_at_k, hit_rank,
                         mrr, normalize_text, percentile, summarize)
from rag.records import Citation

pytestmark = pytest.mark.unit


@dataclass(frozen=True)
class Row:
    unanswerable: bool = False
    refused: bool = False
    answer_correct: bool = False
    lead_correct: bool = False
    citation_correct: bool | None = None
    hit_rank: int | None = None
    has_source: bool = True
    latency_ms: float = 10.0


def test_normalize_text_folds_width_space_and_case():
    assert normalize_text("３５３万 人\u3000ＡＢｃ\n") == "353万人abc"


def test_full_width_answer_matches_half_width_gold():
    assert answer_correct("全市参保人数达到３５３万人[1]。", ["353万"])
    assert answer_correct("参保 353 万人", ["353万"])  # spaces inside the number
    assert not answer_correct("参保人数达到35万人", ["353万"])


def test_flat_answers_are_any_of():
    assert answer_correct("由市妇联打造", ["市总工会", "妇联"])
    assert not answer_correct("由团市委打造", ["市总工会", "妇联"])


def test_no_gold_and_empty_gold_never_match():
    assert not answer_correct("任何回答", [])
    assert not answer_correct("任何回答", [""])
    assert not answer_correct("任何回答", [[" "], "回答"])


def test_rgb_nested_lists_are_all_of_with_alternatives():
    answers = [["2022年1月", "January 2022"], "北京"]
    assert answer_correct("北京冬奥会于2022年1月……", answers)
    assert answer_correct("Beijing... january 2022 in 北京", answers)  # case folded
    assert not answer_correct("2022年1月举行", answers)  # 北京 missing
    assert not answer_correct("北京举行", answers)  # neither date alternative
    # a single nested list is any-of its alternatives
    assert answer_correct("第78位", [["78", "七十八"]])


def test_citation_correct_reads_records_dicts_and_strings():
    cit = Citation(1, "a", "a#0", "筑牢保障根基 护航幸福株洲", "2026-02-09", True, None, None, "…")
    assert citation_correct([cit], "筑牢保障根基")
    assert citation_correct([{"headline": "中国百强城市榜单 株洲第78位"}], "中国百强城市榜单")
    assert citation_correct(["别的", "“她创课堂”赋能女性"], "她创课堂")
    assert not citation_correct([], "她创课堂")
    assert citation_correct(["“她创 课堂”"], "她创课堂")  # spaces ignored
    assert not citation_correct(["她创"], "她创课堂")
    assert citation_correct(["任何"], None) is None


def test_hit_rank_is_first_hit_from_source_article():
    hits = ["早稻收购", "醴陵经开区获全省通报表扬", "醴陵经开区获全省通报表扬"]
    assert hit_rank(hits, "醴陵经开区") == 2
    assert hit_rank(hits, "清华大学") is None
    assert hit_rank(hits, None) is None
    assert hit_rank([{"headline": "Ｘ"}], "x") == 1


def test_mrr_and_hit_at_k_by_hand():
    ranks = [1, 3, None, 2]
    assert mrr(ranks) == pytest.approx((1 + 1 / 3 + 0 + 1 / 2) / 4)
    assert hit_at_k(ranks, 1) == 0.25
    assert hit_at_k(ranks, 2) == 0.5
    assert hit_at_k(ranks, 5) == 0.75
    assert mrr([]) is None and hit_at_k([], 5) is None


@pytest.mark.parametrize("values,p,expected", [
    ([1, 2, 3, 4], 50, 2.5),
    ([1, 2, 3, 4], 95, 3.85),  # 3 + 0.85 * (4 - 3)
    ([10], 95, 10.0),
    ([5, 1, 3], 0, 1.0),
    ([5, 1, 3], 100, 5.0),
    ([15, 20, 35, 40, 50], 40, 29.0),  # pos 1.6: 20 + 0.6 * 15
])
def test_percentile_is_linear_interpolation(values, p, expected):
    assert percentile(values, p) == pytest.approx(expected)
    assert percentile(values, p) == pytest.approx(float(np.percentile(values, p)))


def test_percentile_of_nothing_is_none_and_bad_p_raises():
    assert percentile([], 50) is None
    with pytest.raises(ValueError, match="p must be in"):
        percentile([1], 101)


def test_summarize_by_hand():
    rows = [
        Row(answer_correct=True, lead_correct=True, citation_correct=True, hit_rank=1, latency_ms=10),
        Row(answer_correct=True, citation_correct=False, hit_rank=3, latency_ms=20),
        Row(refused=True, citation_correct=False, hit_rank=None, latency_ms=30),
        Row(answer_correct=False, citation_correct=True, hit_rank=2, latency_ms=40),
        # a third-party question: answer only, no source
        Row(answer_correct=True, has_source=False, latency_ms=50),
        Row(unanswerable=True, refused=True, has_source=False, latency_ms=60),
        Row(unanswerable=True, refused=False, has_source=False, latency_ms=70),
    ]
    m = summarize(rows)
    assert list(m) == list(METRIC_KEYS)
    assert (m["n"], m["n_answerable"], m["n_unanswerable"], m["n_with_source"]) == (7, 5, 2, 4)
    assert m["answer_accuracy"] == pytest.approx(3 / 5)
    assert m["lead_accuracy"] == pytest.approx(1 / 5)
    assert m["citation_accuracy"] == pytest.approx(2 / 4)
    assert m["hit_at_1"] == 0.25
    assert m["hit_at_5"] == 0.75
    assert m["mrr"] == pytest.approx((1 + 1 / 3 + 0 + 1 / 2) / 4)
    assert m["refusal_accuracy"] == 0.5
    assert m["false_refusals"] == 1
    assert m["latency_ms_p50"] == 40
    assert m["latency_ms_p95"] == pytest.approx(67.0)  # pos 5.7: 60 + 0.7 * 10


def test_a_refused_answer_is_never_correct():
    # the refusal text may quote a headline that holds the gold string
    m = summarize([Row(refused=True, answer_correct=True, citation_correct=False)])
    assert m["answer_accuracy"] == 0.0 and m["false_refusals"] == 1


def test_zero_denominators_give_none():
    only_unanswerable = summarize([Row(unanswerable=True, refused=True, has_source=False)])
    for key in ("answer_accuracy", "citation_accuracy", "hit_at_1", "hit_at_5", "mrr"):
        assert only_unanswerable[key] is None
    assert only_unanswerable["refusal_accuracy"] == 1.0
    assert only_unanswerable["false_refusals"] == 0

    no_sources = summarize([Row(answer_correct=True, has_source=False)])
    assert no_sources["answer_accuracy"] == 1.0
    assert no_sources["citation_accuracy"] is None and no_sources["mrr"] is None
    assert no_sources["refusal_accuracy"] is None

    empty = summarize([])
    assert empty["n"] == 0 and empty["latency_ms_p50"] is None
