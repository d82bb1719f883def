"""The chat UI: HTML rendering and escaping, input checks, handlers, and the served API."""

import socket
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from rag.records import Citation
from ui.handlers import KEEP

from .conftest import PLANTED_HEADLINE, PLANTED_QUESTION, UPLOAD_ISSUE

pytestmark = [
    # The answers behind the page come from the trained reader, which reads the default
    # model's similarities: these tests index with it.
    pytest.mark.integration,
    # Gradio's queue calls a pandas option that pandas 3 deprecates; not ours to fix.
    pytest.mark.filterwarnings("ignore::Warning:gradio.queueing"),
]

ROOT = Path(__file__).resolve().parent.parent

# ui_settings (conftest.py): the bundled corpus and the planted issue, indexed with the default model.


@pytest.fixture(scope="module")
def assistant(ui_settings):
    from rag.pipeline import Assistant

    return Assistant.open(ui_settings)


@pytest.fixture()
def handlers(assistant, ui_settings):
    from ui.handlers import Engine, Handlers

    return Handlers(Engine(assistant, ui_settings), ui_settings)


def _citation(**kw) -> Citation:
    base = dict(n=1, article_id="a1", chunk_id="a1#0", headline="测试标题", date="2023-07-20",
                date_inferred=False, issue="23368", page="01", quote="第二句。", start=4, end=8)
    base.update(kw)
    return Citation(**base)


# -- pure rendering -------------------------------------------------------------


def test_card_escapes_corpus_html():
    from ui.render import Source, citation_card

    c = _citation(headline="<img src=x onerror=alert(1)>标题",
                  quote="<script>window.__pwned=1</script>")
    html = citation_card(Source(c, before="前文<b>粗</b>", after="后文"), "cite-t0-1")
    assert "<script" not in html and "<img" not in html and "<b>" not in html
    assert "&lt;script&gt;window.__pwned=1&lt;/script&gt;" in html
    assert "&lt;img src=x onerror=alert(1)&gt;" in html


def test_card_highlights_the_quote_inside_its_paragraph():
    from rag.records import Article
    from ui.render import citation_card, make_sources

    body = "第一段无关。\n开头一句。第二句。结尾一句。\n第三段无关。"
    start = body.index("第二句。")
    article = Article(id="a1", source="x.txt", position=0, headline="测试标题", body=body)
    c = _citation(start=start, end=start + 4)
    (source,) = make_sources([c], {"a1": article})
    html = citation_card(source, "cite-t0-1")
    assert "开头一句。<mark>第二句。</mark>结尾一句。" in html
    assert "第一段无关" not in html and "第三段无关" not in html
    assert "《测试标题》" in html and "第23368期" in html and "第01版" in html
    # 复制引用 copies the quoted sentence, then the GB/T 7714 reference.
    assert 'data-copy="“第二句。”\n测试标题[N]. 株洲日报, 2023-07-20(01)."' in html
    # The headline opens the whole article, with the quote marked.
    assert f'href="?article=a1&amp;hl={start}-{start + 4}" data-article="a1"' in html


def test_quote_found_by_text_when_offsets_are_stale():
    from ui.render import quote_context

    body = "甲。乙丙丁。戊。"
    assert quote_context(body, 0, 2, "乙丙丁。") == ("甲。", "乙丙丁。", "戊。")
    assert quote_context(body, 0, 0, "不存在。") == ("", "不存在。", "")


def test_inferred_date_is_marked():
    from ui.render import Source, citation_card

    inferred = citation_card(Source(_citation(date="2026-02-09", date_inferred=True, issue=None, page=None)), "x")
    printed = citation_card(Source(_citation()), "y")
    assert "2026年2月9日" in inferred and ">推断<" in inferred
    assert ">推断<" not in printed
    assert "期</span>" not in inferred and "版</span>" not in inferred  # no 期号/版次 when unknown


def test_refusal_looks_different_from_an_answer():
    from ui.render import Source, Turn, answer_html

    refused = answer_html(Turn("火星人口？", "报纸档案中没有找到能回答“火星人口？”的内容。", True), "cite-t0")
    answer = answer_html(Turn("问", "答案是353万人[1]，另见[7]。", False, (Source(_citation()),)), "cite-t1")
    assert 'class="reply refusal"' in refused and "档案中未找到" in refused
    assert "refusal" not in answer
    # The marker's name says where it leads, for screen readers.
    assert ('<a class="cite-link" href="#cite-t1-1" data-target="cite-t1-1" '
            f'aria-label="引用1：《{_citation().headline}》">[1]</a>') in answer
    assert "[7]" in answer and "cite-t1-7" not in answer  # a marker pointing nowhere is not a link


def test_answer_text_and_notice_are_escaped():
    from ui.render import Turn, answer_html, conversation_html

    html = answer_html(Turn("q", "<script>x()</script>", False, notice="<b>n</b>"), "p")
    assert "<script" not in html and "&lt;script&gt;" in html and "&lt;b&gt;n&lt;/b&gt;" in html
    conv = conversation_html([], pending="<img src=x onerror=alert(1)>", partial="<i>")
    assert "<img" not in conv and "<i>" not in conv


def test_issue_listing_newest_first_with_inferred_marker():
    from rag.records import Article
    from ui.render import issues_html

    arts = [Article(id=str(i), source=f"/u/0123456789ab-f{i}.txt", position=0, headline="h", body="b",
                    date=d, date_inferred=inf, issue=iss)
            for i, (d, inf, iss) in enumerate([("2023-07-20", False, "23368"), ("2026-02-09", True, None),
                                               ("2023-07-20", False, "23368"), (None, False, None)])]
    html = issues_html(arts, chunks=9)
    assert html.index("2026年2月9日") < html.index("2023年7月20日") < html.index("日期不详")
    assert "共 3 期 · 4 篇文章 · 9 个段落" in html
    assert ">推断<" in html and "f0.txt" in html and "0123456789ab" not in html


def test_ingest_report_names_the_reason():
    from ui.render import FileRow, ingest_report_html

    html = ingest_report_html([FileRow("a.jsonl", "error", error="a.jsonl:2: invalid JSON <x>"),
                               FileRow("b.txt", "ok", "2023-07-20", True, "23368", 7)], "新增 7 篇")
    assert "出错" in html and "a.jsonl:2: invalid JSON &lt;x&gt;" in html
    assert "已导入" in html and "23368" in html and ">推断<" in html


# -- input checks ---------------------------------------------------------------


def test_input_checks_give_clear_messages():
    from ui.handlers import UserInputError, check_range, check_text

    with pytest.raises(UserInputError, match="请输入问题"):
        check_text("   ")
    with pytest.raises(UserInputError, match="太长（501 字）"):
        check_text("问" * 501)
    assert check_text("  问题  ") == "问题"
    with pytest.raises(UserInputError, match="YYYY-MM-DD"):
        check_range("2023/07/20", None)
    with pytest.raises(UserInputError, match="不是有效日期"):
        check_range("2023-02-30", None)
    with pytest.raises(UserInputError, match="晚于"):
        check_range("2024-01-01", "2023-01-01")
    assert check_range(" 2023-07-01 ", "") == ("2023-07-01", None)


# -- handlers against a real (fake-embedder) index --------------------------------


def _last(gen):
    out = None
    for out in gen:
        pass
    return out


def test_chat_refuses_empty_and_overlong_questions(handlers):
    for question, expected in (("", "请输入问题"), ("株" * 600, "太长")):
        conv, sources, status, turns, box = _last(handlers.chat(question, [], "", "", "hybrid"))
        assert expected in status and turns == [] and "cite-card" not in sources
    conv, sources, status, turns, box = _last(handlers.chat("医保", [], "2023-13-01", "", "hybrid"))
    assert "起始日期" in status and turns == [] and box == "医保"


def test_chat_streams_answer_with_cards_and_follow_up(handlers):
    steps = list(handlers.chat("2025年株洲医保参保人数", [], "", "", "hybrid"))
    assert "正在检索档案" in steps[0][0] and steps[0][-1] == ""  # the box is emptied as the question is taken,
    assert all(step[-1] == KEEP for step in steps[1:])  # then left alone: the next question may be typed
    conv, sources, status, turns, box = steps[-1]
    assert "353万" in conv and 'class="cite-link"' in conv
    assert "筑牢保障根基" in sources and "<mark>" in sources and ">推断<" in sources
    assert "复制引用" in sources
    conv, sources, status, turns, box = _last(handlers.chat("那2024年呢？", turns, "", "", "hybrid"))
    assert len(turns) == 2
    assert turns[1].resolved == "2024年株洲医保参保人数"  # the follow-up used the conversation
    assert "按上文理解为" in conv and sources.count("<details") == 2


def test_clearing_the_conversation_leaves_a_question_being_typed(handlers):
    conv, sources, status, turns, box = handlers.clear()
    assert turns == [] and box == KEEP and "cite-card" not in sources


def test_chat_date_filter_note(handlers):
    conv, sources, status, turns, box = _last(
        handlers.chat("2025年株洲医保参保人数", [], "2023-07-01", "2023-07-31", "keyword"))
    assert "353万" not in conv  # that article is from 2026
    assert "2023-07-01 至 2023-07-31" in status


def test_planted_article_is_escaped_in_answer_and_card(handlers):
    conv, sources, status, turns, box = _last(handlers.chat(PLANTED_QUESTION, [], "", "", "hybrid"))
    assert PLANTED_HEADLINE in sources
    for html in (conv, sources):
        assert "<script" not in html and "<img" not in html
    assert "&lt;script&gt;window.__pwned=1&lt;/script&gt;" in sources


def test_verify_shows_verdict_and_evidence(handlers):
    html = handlers.verify("截至2025年底，全市基本医疗保险参保人数达到360万人。")
    assert "与报道不符" in html and "353万" in html and "筑牢保障根基" in html and "<mark>" in html
    assert "有依据" in handlers.verify("截至2025年底，全市基本医疗保险参保人数达到353万人。")
    assert "请输入" in handlers.verify("  ")


def test_upload_ingests_rejects_and_reloads(ui_index_copy, tmp_path):
    from rag.pipeline import Assistant
    from ui.handlers import Engine, Handlers

    settings = ui_index_copy
    h = Handlers(Engine(Assistant.open(settings), settings), settings)
    issue = tmp_path / "issue.md"
    issue.write_text(UPLOAD_ISSUE, encoding="utf-8")
    bad = tmp_path / "scan.docx"
    bad.write_bytes(b"PK\x03\x04")
    steps = []
    report, issues, header = h.upload([str(issue), str(bad)], "", lambda p, desc=None: steps.append(p))
    assert "已导入" in report and "已拒绝" in report and "不支持的文件类型" in report
    assert "issue.md" in report and "24001" in report and steps[-1] == 1.0
    assert "2024年5月1日" in issues and "issue.md" in issues
    assert "炎陵黄桃节" in _last(h.chat("炎陵黄桃节吸引了多少游客？", [], "", "", "hybrid"))[1]
    again, _, _ = h.upload([str(issue)], "", None)
    assert "已在索引中" in again and "新增 0 篇" in again
    denied = Handlers(h.engine, settings.with_(allow_upload=False)).upload([str(issue)], "", None)[0]
    assert "未开放上传" in denied


def test_importing_the_ui_is_light():
    code = ("import sys, ui.app, ui.handlers, ui.render; "
            "print(sorted(m for m in ('torch', 'sentence_transformers', 'gradio') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"


# -- the served app through gradio_client -------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def served(assistant, ui_settings):
    from ui.app import build_app

    port = free_port()
    demo = build_app(assistant, ui_settings).queue()
    demo.launch(server_name="127.0.0.1", server_port=port, prevent_thread_lock=True, quiet=True)
    try:
        yield f"http://127.0.0.1:{port}/"
    finally:
        demo.close()


def _client(url):
    from gradio_client import Client

    return Client(url, verbose=False, download_files=False)


def test_api_chat_answers_with_citations(served):
    client = _client(served)
    job = client.submit("2025年株洲医保参保人数", "", "", "hybrid", api_name="/chat")
    conv, sources, status, box = job.result(timeout=60)
    assert "353万" in conv
    assert "筑牢保障根基" in sources
    conv, sources, status, box = client.submit("", "", "", "hybrid", api_name="/chat").result(timeout=60)
    assert "请输入问题" in status


def test_api_twenty_concurrent_questions_all_answered(served):
    questions = ["2025年株洲医保参保人数", "株洲在2023年中国百强城市排行榜中排第几位？", "“她创课堂”是哪个部门打造的？",
                 PLANTED_QUESTION] * 5

    def ask(question):
        return _client(served).submit(question, "", "", "hybrid", api_name="/chat").result(timeout=120)

    t0 = time.perf_counter()
    with ThreadPoolExecutor(max_workers=20) as pool:
        results = list(pool.map(ask, questions, timeout=180))
    elapsed = time.perf_counter() - t0
    assert len(results) == 20
    for question, (conv, sources, status, box) in zip(questions, results):
        assert 'class="reply answer"' in conv or 'class="reply refusal"' in conv, question
    assert all("353万" in r[0] for q, r in zip(questions, results) if q.startswith("2025"))
    print(f"\n20 concurrent questions answered in {elapsed:.2f}s")


def test_api_verify(served):
    html = _client(served).submit("截至2025年底，全市基本医疗保险参保人数达到360万人。",
                                  api_name="/verify").result(timeout=60)
    assert "与报道不符" in html and "筑牢保障根基" in html


# -- article view, history, loading, Chinese messages --------------------------------


def test_article_view_marks_the_quote_and_lists_its_issue():
    from rag.records import Article
    from ui.article import open_article

    body = "第一段。\n开头。<b>引文</b>在这里。\n结尾段。"
    start = body.index("<b>")
    arts = {a.id: a for a in (
        Article(id="a1", source="x.txt", position=0, headline="主标题", body=body, date="2026-02-09",
                date_inferred=True, subheadline="副标题", byline="全媒体记者/刘芳 通讯员/胡任"),
        Article(id="a2", source="x.txt", position=1, headline="同期另一篇", body="正文。", date="2026-02-09",
                date_inferred=True),
        Article(id="a3", source="y.txt", position=0, headline="别期文章", body="正文。", date="2023-07-20"))}
    html = open_article(arts, "a1", (start, start + len("<b>引文</b>在这里")))
    assert '<mark class="hl" id="article-mark">&lt;b&gt;引文&lt;/b&gt;在这里</mark>' in html
    assert "主标题" in html and "副标题" in html and "刘芳" in html and ">推断<" in html
    assert "同期另一篇" in html and "别期文章" not in html
    assert 'data-copy="“&lt;b&gt;引文&lt;/b&gt;在这里”\n刘芳, 胡任. 主标题[N]. 株洲日报, 2026-02-09(推断)."' in html
    assert "<mark" not in open_article(arts, "a1", (0, 999))  # a span outside the body marks nothing
    assert "档案中没有编号为“nope”的文章" in open_article(arts, "nope")


def test_refusal_links_to_the_closest_articles(handlers):
    conv, sources, status, turns, box = _last(handlers.chat("火星上有多少人口？", [], "", "", "hybrid"))
    assert turns[-1].refused and 'class="article-link closest-link"' in conv
    assert conv.count("closest-link") == len(turns[-1].closest) == 3
    assert len({r.article_id for r in turns[-1].closest}) == 3
    for ref in turns[-1].closest:  # each named once: as its link, not again in the text
        assert conv.count(f"《{ref.headline}》") == 1, ref.headline


def test_saved_conversation_round_trips_and_tampering_is_harmless(handlers):
    import json

    from ui.history import dump_turns, load_turns
    from ui.render import conversation_html, sources_html

    *_, turns, _ = _last(handlers.chat("2025年株洲医保参保人数", [], "", "", "hybrid"))
    restored = load_turns(json.loads(json.dumps(dump_turns(turns))))
    assert sources_html(restored) == sources_html(turns) and conversation_html(restored) == conversation_html(turns)
    tampered = json.loads(json.dumps(dump_turns(turns)))
    tampered[0]["sources"][0]["citation"]["n"] = '1"><script>alert(1)</script>'
    assert load_turns(tampered) == [] and load_turns("junk") == [] and load_turns([{"x": 1}]) == []
    tampered = json.loads(json.dumps(dump_turns(turns)))
    tampered[0]["question"] = "<script>alert(1)</script>"
    assert "<script" not in conversation_html(load_turns(tampered))


def test_a_question_before_the_model_is_ready_says_so_and_counts_the_wait(assistant, ui_settings):
    import threading

    from ui.handlers import Engine, Handlers

    engine = Engine(assistant, ui_settings, warm=False)
    steps = Handlers(engine, ui_settings).chat("2025年株洲医保参保人数", [])
    assert "正在加载模型…" in next(steps)[0]
    threading.Timer(0.3, engine.ready.set).start()
    conv, *_ , turns, _ = _last(steps)
    assert "353万" in conv and "其中等待模型加载" in conv and turns[-1].total_ms >= turns[-1].wait_ms >= 250


def test_english_question_gets_a_hint_and_is_still_searched(handlers):
    conv, sources, status, turns, box = _last(handlers.chat("medical insurance", [], "", "", "hybrid"))
    assert "用中文提问" in status and len(turns) == 1


def test_upload_errors_are_in_chinese(tmp_path, handlers):
    from ui.handlers import zh_file_error

    assert zh_file_error("a.txt: binary file, not text", "a.txt") == "是二进制文件，不是文本"
    assert zh_file_error("b.jsonl:3: invalid JSON: Expecting value at column 1; b.jsonl:5: missing or empty \"text\"",
                         "b.jsonl") == "第 3 行：不是有效的 JSON（第 1 列：Expecting value）；第 5 行：缺少 text 字段，或它是空的"
    assert "不支持的文件类型“.docx”" in handlers.check_files([str(tmp_path / "版面.docx"), str(tmp_path / "a.md")])
    assert handlers.check_files([str(tmp_path / "a.md")]) == ""
