"""Answers, refusals, follow-ups and claim verification over the sample corpus."""

import json

import pytest

from .conftest import DEV


def _dev():
    return [json.loads(line) for line in DEV.read_text(encoding="utf-8").splitlines() if line.strip()]


@pytest.mark.unit
def test_answer_quotes_the_source_sentence_with_its_issue(fake_assistant):
    a = fake_assistant.ask("2025年株洲医保参保人数")
    assert not a.refused
    assert "353万" in a.text and "[1]" in a.text
    c = a.citations[0]
    assert c.headline == "筑牢保障根基 护航幸福株洲"
    assert c.date_inferred and c.date.startswith("2026-02")
    assert c.quote == "截至2025年底,全市基本医疗保险参保人数达到353万人。"
    article = fake_assistant.index.articles[c.article_id]
    assert article.body[c.start:c.end] == c.quote
    assert len(a.hits) >= 5


@pytest.mark.unit
def test_unanswerable_question_is_refused_and_points_to_close_articles(fake_assistant):
    a = fake_assistant.ask("2025年株洲全市GDP总量是多少亿元？")
    assert a.refused
    assert "没有找到" in a.text and "《" in a.text


@pytest.mark.unit
@pytest.mark.parametrize("question", [
    "株洲2024年新建了多少所学校？",
    "株洲市第一中学的校长是谁？",
    "2025年株洲新增城镇就业多少人？",
    "醴陵经开区2025年税收收入是多少亿元？",
    "株洲方特欢乐世界门票多少钱？",
    # The museum is in the archive, its director is not.
    "株洲博物馆馆长是谁？",
    "炎陵县县长是谁？",
])
def test_questions_the_archive_cannot_answer_are_refused(fake_assistant, question):
    assert fake_assistant.ask(question).refused


@pytest.mark.unit
def test_followup_uses_the_conversation(fake_assistant):
    first = fake_assistant.ask("“马舞新春”生肖文化大联展在哪里展出？")
    follow = fake_assistant.ask("它的展览时间是什么时候？", history=[(first.question, first.text)])
    assert follow.resolved_question.startswith("“马舞新春”")
    assert not follow.refused and "3月8日" in follow.text


@pytest.mark.unit
def test_answer_json_follows_the_interface(fake_assistant):
    d = fake_assistant.ask("株洲在2023年中国百强城市排行榜中排第几位？").to_dict("d02")
    assert set(d) == {"id", "question", "answer", "refused", "citations", "hits", "verified", "notice",
                      "timings_ms"}
    assert d["verified"] is None and d["notice"] is None  # the extractive answer
    assert set(d["citations"][0]) == {"n", "article_id", "chunk_id", "headline", "date",
                                      "date_inferred", "issue", "page", "quote"}
    assert d["citations"][0]["issue"] == "23368" and "78" in d["answer"]
    assert set(d["timings_ms"]) == {"retrieve", "answer", "total"}


@pytest.mark.unit
def test_date_filter_restricts_hits(fake_assistant):
    a = fake_assistant.ask("参保人数", date_from="2023-01-01", date_to="2023-12-31")
    assert a.hits and all(h.article.date.startswith("2023") for h in a.hits)


@pytest.mark.unit
@pytest.mark.parametrize("claim,verdict", [
    ("2025年株洲医保参保人数为353万人", "supported"),
    ("2025年株洲医保参保人数为354万人", "contradicted"),
    ("截至2025年底，全市基本医疗保险参保人数达到335万人", "contradicted"),
    ("集中带量采购药耗价格平均降幅达53.72%", "supported"),
    ("2023年早稻最低收购价为262元/百公斤", "contradicted"),
    ("株洲2025年新开通地铁线路3条", "not_found"),
])
def test_claim_verification(fake_assistant, claim, verdict):
    v = fake_assistant.verify(claim)
    assert v.verdict == verdict, v.explain()
    if verdict != "not_found":
        assert v.evidence and v.evidence[0].quote


def _check_dev(assistant):
    failures = []
    for q in _dev():
        a = assistant.ask(q["question"])
        if q["unanswerable"]:
            if not a.refused:
                failures.append((q["id"], "not refused", a.text))
            continue
        ok_answer = any(g in a.text for g in q["answers"])
        ok_cite = any(q["source_headline"] in c.headline for c in a.citations)
        ok_hit = any(q["source_headline"] in h.article.headline for h in a.hits[:5])
        if not (ok_answer and ok_cite and ok_hit and not a.refused):
            failures.append((q["id"], ok_answer, ok_cite, ok_hit, a.text))
    return failures


@pytest.mark.unit
def test_dev_set_with_the_fake_embedder(fake_assistant):
    # Keyword retrieval alone carries the sample corpus; the real model is tested below.
    assert _check_dev(fake_assistant) == []


@pytest.mark.integration
def test_dev_set_with_the_default_model(tmp_path_factory):
    from rag.ingest import ingest
    from rag.pipeline import Assistant
    from rag.settings import Settings

    from .conftest import CORPUS

    settings = Settings.load(index_dir=tmp_path_factory.mktemp("real") / "index")
    assert ingest([CORPUS], settings, progress=False).ok
    assert _check_dev(Assistant.open(settings)) == []


@pytest.mark.unit
def test_who_questions_prefer_the_sentence_that_names_someone(fake_assistant):
    # The sentence repeating the meeting's name names nobody; the next one names who chaired it.
    a = fake_assistant.ask("市十六届人民政府第二次全体（扩大）会议由谁主持？")
    assert not a.refused and "王卫安" in a.citations[0].quote


@pytest.mark.unit
def test_a_word_split_by_the_segmenter_is_recovered_on_both_sides(fake_assistant):
    # jieba reads 株洲市|长; the question means 株洲 + 市长.
    terms = fake_assistant.retriever.analyse("株洲市长是谁？").terms
    assert {"株洲", "市长"} <= set(terms) and "株洲市" not in terms
    a = fake_assistant.ask("株洲市长是谁？")
    assert "陈恢清" in a.text


@pytest.mark.unit
def test_the_noun_after_the_question_word_names_the_kind_of_answer():
    from rag.qtype import answer_spans, question_type

    qt = question_type("邓薛彤被清华大学哪个专业录取？")
    assert qt.noun == "专业"
    sentence = "如今顺利被清华大学动画专业录取,离自己的梦想更近了。"
    assert any(sentence[a:b].endswith("动画专业") for a, b in answer_spans(sentence, qt, "哪个专业"))
    school = question_type("邓薛彤是哪所学校的学生？")
    assert (school.kind, school.noun) == ("org", "学校")
    assert answer_spans("收件人是来自株洲市二中的邓薛彤。", school)
    assert question_type("株洲在排行榜中排第几位？").noun is None


@pytest.mark.unit
def test_a_question_about_a_place_the_article_never_names_is_refused(fake_assistant):
    # The 株洲 article answers 株洲's growth; 深圳's is not in the archive.
    assert "4.1%" in fake_assistant.ask("2023年上半年株洲地区生产总值增长了多少？").text
    assert fake_assistant.ask("2023年上半年深圳地区生产总值增长了多少？").refused
    assert fake_assistant.ask("“她创课堂”是哪个部门打造的？").citations
    assert fake_assistant.ask("“他创讲堂”是哪个部门打造的？").refused


@pytest.mark.unit
def test_names_in_a_question(fake_assistant):
    names = fake_assistant.retriever.analyse
    assert "株洲" in names("2025年株洲医保参保人数").names
    assert {"官塘村", "村晚"} <= set(names("官塘村的“村晚”是第几届？").names)
    assert "中国" not in names("株洲在2023年中国百强城市排行榜中排第几位？").names
