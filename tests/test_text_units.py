"""Sentence splitting, chunking, periods, fusion, question types, follow-ups, citations."""

from datetime import date

import pytest

from rag.ingest.chunk import chunk_article
from rag.answer.cite import byline_authors, drop_dangling, format_reference, unsupported_numbers
from rag.answer.conversation import resolve_followup
from rag.search.fusion import rrf, term_coverage
from rag.search.periods import asked_days, day_match, passage_years, period_match, question_period
from rag.answer.qtype import question_type
from rag.records import Article, Citation
from rag.ingest.sentences import sentences, split_sentences

pytestmark = pytest.mark.unit


def test_sentences_keep_closing_quotes_and_numbers_whole():
    text = "“村里好久没那么热闹了！”村民说。全市地区生产总值增长4.1%，居全省第2位；收购价252元/百公斤。"
    assert sentences(text) == [
        "“村里好久没那么热闹了！”",
        "村民说。",
        "全市地区生产总值增长4.1%，居全省第2位；",
        "收购价252元/百公斤。",
    ]


def test_sentence_offsets_point_into_the_text():
    text = "第一句。\n  第二句话！第三句"
    spans = split_sentences(text)
    assert [text[a:b] for a, b in spans] == ["第一句。", "第二句话！", "第三句"]


def test_overlong_sentence_is_cut_at_a_comma():
    text = "，".join(["很长的一段话"] * 80) + "。"
    spans = split_sentences(text, max_chars=100)
    assert all(b - a <= 100 for a, b in spans)
    assert "".join(text[a:b] for a, b in spans) == text


def _one_token_per_char(texts):
    return [len(t) for t in texts]


def _article(body: str, headline: str = "标题") -> Article:
    return Article(id="a1", source="x", position=0, headline=headline, body=body)


def test_chunks_respect_budget_and_overlap_one_sentence():
    body = "".join(f"这是第{i}个句子，内容用来测试分块是否正确。" for i in range(40))
    chunks = chunk_article(_article(body), _one_token_per_char, max_tokens=100, overlap=1)
    assert len(chunks) > 3
    assert all(c.tokens <= 100 for c in chunks)
    for prev, nxt in zip(chunks, chunks[1:]):
        assert prev.sentences[-1] == nxt.sentences[0]  # one sentence of overlap
    assert [c.id for c in chunks[:2]] == ["a1#0", "a1#1"]
    assert chunks[-1].end == len(body)
    assert chunks[0].embed_text.startswith("标题\n")


def test_question_periods():
    assert question_period("2023年上半年株洲地区生产总值增长了多少？").end == date(2023, 6, 30)
    p = question_period("去年的参保人数", today=date(2026, 3, 1))
    assert p.years == {2025} and p.relative
    assert question_period("株洲有多少人参保") is None
    assert question_period("2024年3月的活动").start == date(2024, 3, 1)


def test_passage_years_resolve_relative_words_against_publication():
    assert passage_years("去年完成新签约项目29个", "2026-02-09") == {2025}
    assert passage_years("截至2025年底，参保人数达到353万人", None) == {2025}
    p = question_period("2025年株洲医保参保人数")
    assert period_match(p, "去年参保人数达到353万人", "2026-02-09") == 1.0
    assert period_match(p, "2023年参保人数", "2023-07-20") == -1.0
    assert period_match(p, "参保人数", None) == 0.0


def test_a_named_day_matches_the_passages_that_name_it():
    days = asked_days("截至8月6日22时，本次强降雨造成多少人遇难？")
    assert days == {(8, 6)}
    assert day_match(days, "截至8月1日6时，此轮强降雨已造成11人遇难。", "2023-08-02") == -1.0
    assert day_match(days, "截至8月6日22时，已造成14人遇难。", "2023-08-07") == 1.0
    assert day_match(days, "截至6日22时，已造成14人遇难。", "2023-08-07") == 1.0  # the asked month's 6日
    assert day_match(days, "此轮强降雨已造成11人遇难。", "2023-08-02") == 0.0  # names no day
    assert day_match(days, "7月17日开工。", "2023-08-06") == 1.0  # published on the asked day
    assert asked_days("株洲今年医保参保人数是多少？") == set()
    assert day_match(set(), "截至8月1日", None) == 0.0


def test_rrf_matches_hand_computed_scores():
    scores = rrf([["a", "b"], ["b", "c"]], k=60)
    assert scores["b"] == pytest.approx(1 / 62 + 1 / 61)
    assert scores["a"] == pytest.approx(1 / 61)
    assert max(scores, key=scores.get) == "b"


def test_rrf_breaks_ties_by_the_earlier_ranking_not_by_input_order():
    # "a" and "c" both score 1/61: the first ranking's pick comes first, however
    # the keys were hashed or inserted.
    fused = rrf([["a", "b"], ["c", "b"]], k=60)
    assert list(fused) == ["b", "a", "c"]
    assert list(rrf([["c", "b"], ["a", "b"]], k=60)) == ["b", "c", "a"]
    # Equal scores within one ranking order by rank; the result is ordered best first.
    assert list(rrf([["x"], ["y"], ["z", "x"]], k=60)) == ["x", "y", "z"]


def test_term_coverage_is_weighted():
    assert term_coverage(["gdp", "株洲"], "株洲的数据", {"gdp": 3.0, "株洲": 1.0}) == pytest.approx(0.25)


@pytest.mark.parametrize("question,kind,unit", [
    ("2025年株洲全市GDP总量是多少亿元？", "number", "亿元"),
    ("官塘村的“村晚”是第几届？", "ordinal", None),
    ("收件人是谁？", "person", None),
    ("“她创课堂”是哪个部门打造的？", "org", None),
    ("展览在哪里展出？", "place", None),
    ("展馆计划什么时候建成交付？", "time", None),
])
def test_question_types(question, kind, unit):
    qt = question_type(question)
    assert (qt.kind, qt.unit) == (kind, unit)


def test_followups_are_completed_from_the_last_question():
    assert resolve_followup("那2023年呢？", ["2025年株洲医保参保人数"]) == "2023年株洲医保参保人数"
    assert resolve_followup("它的展期到什么时候？", ["“马舞新春”生肖文化大联展在哪里展出？"]) \
        == "“马舞新春”生肖文化大联展的展期到什么时候？"
    assert resolve_followup("株洲博物馆在哪里？", ["别的问题"]) == "株洲博物馆在哪里？"
    assert resolve_followup("那2023年呢？", []) == "那2023年呢？"


def test_citation_checks():
    assert drop_dangling("数字是353万[1][7]。", [1, 2]) == "数字是353万[1]。"
    passages = {1: "全市基本医疗保险参保人数达到353万人。", 2: "平均降幅达53.72%。"}
    assert unsupported_numbers("参保人数达到353万人[1]。降幅53.72%[2]。", passages) == []
    assert unsupported_numbers("参保人数达到354万人[1]。", passages) == ["354万"]
    # A number is checked against the passage its own sentence cites.
    assert unsupported_numbers("降幅53.72%[1]。", passages) == ["53.72"]


def test_reference_is_gbt_7714_newspaper_form():
    c = Citation(1, "a", "a#0", "筑牢保障根基 护航幸福株洲", "2026-02-09", True, None, None, "…",
                 byline="株洲日报全媒体记者/沈全华 通讯员/尹胜科 杨浩")
    assert format_reference(c) == "沈全华, 尹胜科, 杨浩. 筑牢保障根基 护航幸福株洲[N]. 株洲日报, 2026-02-09(推断)."
    c2 = Citation(1, "a", "a#0", "标题", "2023-07-20", False, "23368", "02", "…",
                  byline="本报记者 李四 王五 通讯员 赵六 钱七")
    assert format_reference(c2) == "李四, 王五, 赵六, 等. 标题[N]. 株洲日报, 2023-07-20(02)."
    # Unknown author, date and page are left out, not guessed.
    assert format_reference(Citation(1, "a", "a#0", "启事", None, False, None, None, "…")) == "启事[N]. 株洲日报."


def test_bylines_name_people_not_roles():
    assert byline_authors("株洲日报全媒体记者/刘琼 实习生/曾怡婧 通讯员/尹志华") == ["刘琼", "曾怡婧", "尹志华"]
    assert byline_authors("（记者刘仲华、张慧中）") == ["刘仲华", "张慧中"]
    assert byline_authors("株洲日报全媒体记者 刘琼") == ["刘琼"]
    assert byline_authors(None) == []


@pytest.mark.parametrize("query,asked", [
    ("2025年株洲医保参保人数", "2025年株洲医保参保人数是多少？"),
    ("白鹭湾湿地公园", "白鹭湾湿地公园是什么？"),
    ("株洲在排行榜中排第几位？", "株洲在排行榜中排第几位？"),
    ("那2024年呢？", "那2024年呢？"),
    ("崇陵墓道有多长?", "崇陵墓道有多长?"),
    ("潘仕成逝世的时间是?", "潘仕成逝世的时间是?"),
])
def test_a_keyword_query_is_read_as_a_question_of_its_kind(query, asked):
    from rag.answer.qtype import as_question

    assert as_question(query, question_type(query).kind) == asked
