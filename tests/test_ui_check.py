"""The 核查稿件 tab without a browser: marks, escaping, Chinese errors, progress and reports."""

import pytest

from ui.check import DraftDesk, draft_html
from ui.handlers import Engine

pytestmark = [pytest.mark.unit]

DRAFT = ("<script>window.x=1</script>去年，醴陵经开区完成新签约项目29个。我们认为前景光明。\n"
         "截至2025年底，全市基本医疗保险参保人数达到360万人。")


@pytest.fixture
def desk(fake_assistant, tmp_path):
    return DraftDesk(Engine(fake_assistant, fake_assistant.settings), tmp_path)


def test_the_check_streams_progress_then_marks_and_two_reports(desk):
    steps = list(desk.check(DRAFT, "http://desk.example/"))
    assert "正在" in steps[0][0] and any("已核查" in s for s, _, _ in steps[1:-1])
    status, html, files = steps[-1]
    assert "核查完成" in status and html.count('class="cite-link claim-mark') == 2
    assert "<script>" not in html and "&lt;script&gt;" in html  # the draft is text, never markup
    assert 'aria-label="第1条：' in html and 'id="claim-ev-2" tabindex="-1"' in html
    assert sorted(f.rsplit(".", 1)[1] for f in files) == ["docx", "md"]
    md = open(next(f for f in files if f.endswith(".md")), encoding="utf-8").read()
    assert "〔2·" in md
    quotes = [line for line in md.splitlines() if "原文：" in line]
    assert quotes and all("](http://desk.example/?article=" in line for line in quotes)  # links work outside the app


def test_bad_drafts_and_files_are_refused_in_chinese(desk, tmp_path):
    assert "请粘贴稿件" in list(desk.check("   "))[-1][0]
    assert "稿件太长（10,001 字）" in list(desk.check("株" * 10_001))[-1][0]
    (tmp_path / "a.pdf").write_bytes(b"%PDF-1.4")
    assert "不支持的文件类型“.pdf”" in desk.load_file(str(tmp_path / "a.pdf"))[1]
    (tmp_path / "b.docx").write_bytes(b"PK not a docx")
    text, message = desk.load_file(str(tmp_path / "b.docx"))
    assert text == "" and "不是可以读取的 .docx 文件" in message
    (tmp_path / "c.txt").write_bytes(bytes(range(256)) * 8)
    assert "是二进制文件，不是文本" in desk.load_file(str(tmp_path / "c.txt"))[1]
    (tmp_path / "d.md").write_text("截至2025年底，参保人数达到353万人。", encoding="utf-8")
    assert desk.load_file(str(tmp_path / "d.md")) == ("截至2025年底，参保人数达到353万人。", "")


def test_a_draft_without_claims_says_so(fake_assistant):
    from rag.check.draft import check_draft

    html = draft_html(check_draft(fake_assistant, "我们认为前景光明。"), fake_assistant.index.articles)
    assert "共 0 条可核查的说法" in html and "没有找到可核查的说法" in html
