"""The reader's parts on hand-built passages: candidates, features, decisions.

These passages are made up for the tests; whether the reader answers real
questions well is measured on the validation split by `rag train`, not here.
"""

import pytest

from rag.answer.candidates import Tagger, candidates, rule_candidates
from rag.answer.features import (SENTENCE_FEATURES, SPAN_FEATURES, QuestionView, SentenceUnit, question_view,
                          sentence_features, sentence_units, span_features)
from rag.search.periods import question_period
from rag.answer.qtype import question_type
from rag.records import Article, Chunk, Hit
from rag.ingest.sentences import split_sentences


def _hit(body: str, headline: str = "测试报道", rank_score: float = 1.0, dense: float | None = 0.8,
         article_id: str = "a1") -> Hit:
    spans = tuple(split_sentences(body))
    article = Article(article_id, "t.md", 0, headline, body, date="2024-05-01")
    chunk = Chunk(f"{article_id}#0", article_id, 0, 0, len(body), spans, body, 10, 10, headline)
    return Hit(chunk, article, rank_score, dense, None)


def _view(question: str, terms: tuple[str, ...], focus: tuple[str, ...] = (), names=()) -> QuestionView:
    from rag.search.retrieve import Query

    q = Query(question, terms, {t: 1.0 for t in terms}, question_period(question), focus, names,
              question_type(question))
    return question_view(q)


@pytest.mark.unit
def test_numbers_keep_their_qualifiers_and_units():
    found = {c.text: c.kind for c in rule_candidates("全市不少于30名选手参赛，参保人数达到353万人，增长4.1%以上。")}
    assert found.get("不少于30名") == "NUM"
    assert found.get("353万人") == "NUM"
    assert found.get("4.1%以上") == "NUM"


@pytest.mark.unit
def test_dates_are_times_not_quantities():
    found = [(c.text, c.kind) for c in rule_candidates("2025年3月8日起展出，为期30天。")]
    assert ("2025年3月8日", "TIME") in found
    assert all(kind != "NUM" or text == "30天" for text, kind in found)


@pytest.mark.unit
def test_ordinals_and_quoted_names():
    found = {(c.text, c.kind) for c in rule_candidates("第二届“村晚”在《乡村振兴》栏目播出，排名第78位。")}
    assert {("第二届", "ORD"), ("第78位", "ORD"), ("村晚", "QUOTE"), ("乡村振兴", "QUOTE")} <= found


@pytest.mark.unit
def test_tagger_finds_people_places_and_organisations():
    tagger = Tagger()
    found = {(c.text, c.kind) for c in candidates("市长王建国在渌口区淦田镇调研，并走访华顿经济研究院。", tagger)}
    assert ("王建国", "PER") in found
    assert ("渌口区淦田镇", "LOC") in found  # adjacent places join
    assert ("华顿经济研究院", "ORG") in found


@pytest.mark.unit
def test_candidate_offsets_point_into_the_sentence():
    sentence = "截至2024年底，全市共有约1.2万家企业，其中规上企业856家。"
    for c in candidates(sentence, Tagger()):
        assert sentence[c.start:c.end] == c.text


@pytest.mark.unit
def test_sentence_features_measure_the_sentence_that_holds_the_question():
    hit = _hit("今年春节期间，全市接待游客120万人次。博物馆新增展品300件。")
    q = _view("春节期间全市接待游客多少人次？", ("春节", "期间", "全市", "接待", "游客"))
    units = sentence_units([hit])
    rows = sentence_features(q, units)
    assert len(rows) == 2 and all(len(r) == len(SENTENCE_FEATURES) for r in rows)
    s_term = SENTENCE_FEATURES.index("s_term")
    assert rows[0][s_term] == 1.0 and rows[1][s_term] == 0.0
    n_unit = SENTENCE_FEATURES.index("n_unit")
    assert rows[0][n_unit] == 1 and rows[1][n_unit] == 0  # 人次 is the asked unit


@pytest.mark.unit
def test_clause_features_tell_neighbouring_clauses_apart():
    # Two scores in one sentence: the question's single character 软 decides which.
    sentence = "其中硬经济指标得分82.5分，软经济指标得分76.3分。"
    hit = _hit(sentence)
    q = _view("株洲软经济指标得分是多少？", ("经济", "指标", "得分"))
    unit = sentence_units([hit])[0]
    row = sentence_features(q, [unit])[0]
    cands = [c for c in rule_candidates(sentence) if c.kind == "NUM"]
    assert [c.text for c in cands] == ["82.5分", "76.3分"]
    feats = span_features(q, unit, cands, 0.9, 0, row)
    clause_char = SPAN_FEATURES.index("clause_char")
    assert feats[1][clause_char] > feats[0][clause_char]


@pytest.mark.unit
def test_span_features_mark_the_expected_type_and_words_beside_the_question_word():
    sentence = "该项目总投资15亿元，由市城投集团承建，预计2026年6月底建成。"
    hit = _hit(sentence)
    unit = sentence_units([hit])[0]
    q = _view("该项目总投资多少亿元？", ("项目", "投资"))
    row = sentence_features(q, [unit])[0]
    cands = rule_candidates(sentence)
    feats = {c.text: f for c, f in zip(cands, span_features(q, unit, cands, 0.9, 0, row))}
    expected, left = SPAN_FEATURES.index("expected"), SPAN_FEATURES.index("left_suffix")
    assert feats["15亿元"][expected] == 1.0
    assert feats["2026年6月底"][expected] == 0.0
    assert feats["15亿元"][left] >= 2  # "总投资" stands before it in both
    assert feats["15亿元"][SPAN_FEATURES.index("unit_match")] == 1.0


@pytest.mark.unit
def test_a_candidate_the_question_already_names_is_marked():
    sentence = "2023年株洲排名第78位。"
    unit = sentence_units([_hit(sentence)])[0]
    q = _view("2023年株洲排名第几位？", ("株洲", "排名"))
    row = sentence_features(q, [unit])[0]
    cands = candidates(sentence, Tagger())
    feats = {c.text: f for c, f in zip(cands, span_features(q, unit, cands, 0.9, 0, row))}
    in_q = SPAN_FEATURES.index("in_question")
    assert feats["株洲"][in_q] == 1.0 and feats["第78位"][in_q] == 0.0


@pytest.mark.unit
def test_sentences_of_overlapping_hits_are_read_once():
    a = _hit("第一句。第二句。")
    b = Hit(a.chunk, a.article, 0.5)
    assert len(sentence_units([a, b])) == 2


@pytest.mark.unit
def test_an_ordinal_number_and_a_bare_hundred_are_not_quantities():
    found = {c.text: c.kind for c in rule_candidates("株洲居第78位，收购价为252元/百公斤。")}
    assert found.get("第78位") == "ORD" and "78位" not in found
    assert found.get("252元") == "NUM" and "百公斤" not in found


@pytest.mark.unit
def test_sentence_features_see_the_asked_kind_beside_the_asked_words():
    hit = _hit("项目于7月17日开工。该展馆计划9月底建成交付。")
    q = _view("展馆计划什么时候建成交付？", ("展馆", "计划", "建成", "交付"), focus=("建成", "交付"))
    rows = sentence_features(q, sentence_units([hit]))
    focus = SENTENCE_FEATURES.index("typed_focus")
    assert rows[1][focus] < rows[0][focus]  # 9月底 stands beside 建成交付


@pytest.mark.unit
def test_a_sentence_about_another_period_than_the_one_asked_is_no_answer():
    from rag.answer.reader import Reader, contradicts_period

    body = "截至2025年底，全市基本医疗保险参保人数达到353万人。参保率稳定在95%以上。"
    hit = _hit(body)
    unit = sentence_units([hit])[0]
    asked_2024 = _view("2024年全市医保参保人数是多少", ("医保", "参保", "人数"))
    asked_2025 = _view("2025年全市医保参保人数是多少", ("医保", "参保", "人数"))
    assert contradicts_period(asked_2024, unit)
    assert not contradicts_period(asked_2025, unit)
    assert not contradicts_period(_view("全市医保参保人数是多少", ("医保", "参保", "人数")), unit)
    reading = Reader(tagger=Tagger()).read(asked_2024, [_hit("截至2025年底，全市基本医疗保险参保人数达到353万人。")])
    assert reading.refuse and reading.lead is None


@pytest.mark.unit
def test_a_sentence_about_another_day_than_the_one_asked_is_no_answer():
    from rag.answer.reader import contradicts_period

    unit = sentence_units([_hit("经统计，截至8月1日6时，此轮强降雨已造成11人遇难。救援仍在进行。")])[0]
    terms = ("强降雨", "遇难")
    assert contradicts_period(_view("截至8月6日22时，本次强降雨造成多少人遇难？", terms), unit)
    assert not contradicts_period(_view("截至8月1日6时，本次强降雨造成多少人遇难？", terms), unit)
    assert not contradicts_period(_view("本次强降雨造成多少人遇难？", terms), unit)
    # The article's own date is the day asked: its sentences may name the days before it.
    assert not contradicts_period(_view("5月1日报道的强降雨造成多少人遇难？", terms), unit)


@pytest.mark.unit
def test_a_swapped_word_in_otherwise_shared_wording_measures_another_thing():
    from rag.answer.verify import swapped_word, wording_before

    claim = "株洲软经济指标得分为22.97分"
    assert wording_before(claim, claim.index("22.97")) == "株洲软经济指标得分为"
    assert swapped_word("株洲软经济指标得分为", "株洲硬经济指标得分为") == ("软", "硬")
    assert swapped_word("全市上半年出口额为", "全市上半年进口额为") == ("出", "进")
    assert swapped_word("株洲软经济指标得分为", "软经济指标得分为") is None  # the subject left out: same wording
    assert swapped_word("参保人数达到", "参保人数为") is None  # another verb before the value
    assert swapped_word("兴趣和特长是", "兴趣与特长是") is None  # a function word
    assert swapped_word("软得分", "硬得分") is None  # too little shared to tell


@pytest.mark.unit
def test_a_claimed_value_under_other_wording_is_checked_where_the_claims_wording_stands():
    from rag.answer.candidates import Candidate
    from rag.answer.reader import Reading, Scored
    from rag.answer.verify import CONTRADICTED, NOT_FOUND, SUPPORTED, check_wording, swapped_word

    body = "青松县硬件指标得分为22.97分,排名全省第8位;软件指标得分为40.77分,排名全省第7位。"
    hit = _hit(body)
    units = sentence_units([hit])
    hard = next(u for u in units if "22.97" in u.text)
    value_at = lambda text, v: Candidate(text.index(v), text.index(v) + len(v), "NUM", v, "rule")
    best = Scored(value_at(hard.text, "22.97分"), hard, 0.9)
    reading = Reading(tuple((u, 0.5) for u in units), hard, best, 0.9, False, "22.97分")
    for claim, verdict, found in (("青松县软件指标得分为22.97分", CONTRADICTED, "40.77分"),
                                  ("青松县软件指标得分为40.77分", SUPPORTED, "40.77分")):
        value = value_at(claim, claim[claim.index("为") + 1:])
        swapped = swapped_word("青松县软件指标得分为", "青松县硬件指标得分为")
        v = check_wording(claim, value, reading, best, swapped)
        assert (v.verdict, v.found) == (verdict, found), v.explain()
        assert "软件指标得分为40.77分" in v.evidence[0].quote
    # No read sentence words the value as the claim does: the claim is not found, and says why.
    only_hard = Reading(((hard, 0.5),), hard, best, 0.9, False, "22.97分")
    claim = "青松县软件指标得分为22.97分"
    v = check_wording(claim, value_at(claim, "22.97分"), only_hard, best, ("软", "硬"))
    assert v.verdict == NOT_FOUND and "硬" in v.explanation and v.found is None


@pytest.mark.unit
def test_a_value_read_from_another_clause_is_checked_on_the_clause_the_claim_words():
    from rag.answer.candidates import Candidate
    from rag.answer.verify import clause_around, clause_worded_like

    sentence = "青松县沿河修筑堤坝30多公里，两岸5.6万亩农田由此告别旱涝。"
    at = lambda text, v: Candidate(text.index(v), text.index(v) + len(v), "NUM", v, "rule")
    assert clause_around(sentence, sentence.index("5.6"), sentence.index("农田")) == "两岸农田由此告别旱涝"
    read_far = at(sentence, "30多公里")  # the reader took the value of the clause before
    for claim, value in (("两岸30多公里农田由此告别旱涝", "30多公里"), ("两岸5.6万亩农田由此告别旱涝", "5.6万亩")):
        moved = clause_worded_like(claim, at(claim, value), sentence, read_far)
        assert moved is not None and moved.text == "5.6万亩", (claim, moved)
    # The read value's own clause is worded like the claim's: nothing moved.
    claim = "沿河修筑堤坝30多公里"
    assert clause_worded_like(claim, at(claim, "30多公里"), sentence, read_far) is None
    # Too little wording of its own to tell which clause a claim speaks of.
    claim = "农田30多公里"
    assert clause_worded_like(claim, at(claim, "30多公里"), sentence, read_far) is None


@pytest.mark.unit
def test_a_claim_stating_its_value_twice_is_not_borne_out_by_the_other_one():
    from rag.answer.candidates import Candidate
    from rag.answer.verify import reads_the_other

    at = lambda text, v, last=False: Candidate((text.rindex if last else text.index)(v),
                                               (text.rindex if last else text.index)(v) + len(v), "NUM", v, "rule")
    sentence = "全县有区域公用品牌12个，企业品牌300个。"
    claim = "全县有区域公用品牌12个，企业品牌12个"  # the second 12个 is false
    read = at(sentence, "12个")
    assert reads_the_other(claim, at(claim, "12个", last=True), sentence, read)
    assert not reads_the_other(claim, at(claim, "12个"), sentence, read)  # the first one is borne out
    twice = "全县有区域公用品牌12个，企业品牌12个。"
    assert not reads_the_other(claim, at(claim, "12个", last=True), twice, at(twice, "12个", last=True))


@pytest.mark.unit
def test_a_value_read_with_its_particles_or_its_whole_unit_is_the_claimed_value():
    from rag.answer.candidates import Candidate
    from rag.answer.verify import comparable, same_value

    num = lambda t, kind="NUM": Candidate(0, len(t), kind, t, "rule")
    for claimed, found in (("29年", "29年来"), ("65岁", "65岁的"), ("近2万人次", "接近2万人次"),
                           ("25%", "25%以内"), ("405分", "（405分"), ("60周", "60周岁"), ("50万辆", "50万辆次")):
        assert same_value(num(claimed), found), (claimed, found)
    for claimed, found in (("20亿元", "20亿美元"), ("120-160公里", "120-180公里"), ("22.97分", "40.77分")):
        assert not same_value(num(claimed), found), (claimed, found)
    assert same_value(num("第三", "ORD"), "第三类") and not same_value(num("第二", "ORD"), "第二十")
    # a number contradicts a number, not a place
    assert comparable(num("约3.3亿美元"), num("约12.6亿美元"))
    assert not comparable(num("353万人"), Candidate(0, 2, "LOC", "株洲", "lac"))
