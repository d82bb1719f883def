"""Page layout on hand-built character boxes: lines, columns, heads, jumps, furniture."""

from __future__ import annotations

import pytest

from rag.ingest.layout import Char, TextLine, chars_to_lines, paragraphs
from rag.ingest.layout_groups import read_page
from rag.ingest.parse_pages import build_articles, is_furniture_text, read_header
from rag.ingest.regions import quote_boxes, quote_confidence

pytestmark = pytest.mark.unit

BODY = 10.0


def chars(text: str, x: float, y: float, size: float = BODY) -> list[Char]:
    """One printed line: each character a size-wide box, top at ``y``."""
    return [Char(ch, (x + i * size, y, x + (i + 1) * size, y + size), size) for i, ch in enumerate(text)]


def column(text: str, x: float, y: float, width: int = 10, size: float = BODY, indent: bool = True) -> list[Char]:
    """``text`` set in a column ``width`` characters wide, first line indented two characters."""
    out, line, first = [], 0, indent
    while text:
        room = width - (2 if first else 0)
        part, text = text[:room], text[room:]
        out += chars(part, x + (2 * size if first else 0), y + line * 1.5 * size, size)
        line, first = line + 1, False
    return out


def as_line(text: str, x: float, y: float, size: float = BODY, conf: float = 1.0) -> TextLine:
    return TextLine(text, (x, y, x + len(text) * size, y + size), size, False, conf)


def test_a_gutter_splits_a_baseline_shared_by_two_columns():
    row = chars("左栏的一行文字", 0, 0) + chars("右栏的一行文字", 85, 0)  # 15-unit gutter
    lines = chars_to_lines(row)
    assert sorted(ln.text for ln in lines) == ["右栏的一行文字", "左栏的一行文字"]


def test_spaces_inside_a_headline_stay_and_a_ligature_dash_is_kept():
    lines = chars_to_lines(chars("筑牢保障根基 护航幸福", 0, 0, 24))
    assert [ln.text for ln in lines] == ["筑牢保障根基 护航幸福"]
    dash = [Char("—", (0, 0, 20, 10), BODY), Char("—", (0, 0, 20, 10), BODY)] + chars("报销比例升了", 20, 0)
    assert [ln.text for ln in chars_to_lines(dash)] == ["——报销比例升了"]


def test_columns_read_left_to_right_under_their_headline_and_paragraphs_run_on():
    left = "甲" * 8 + "乙" * 10 + "丙" * 10  # three lines in the left column
    right = "丁" * 10 + "戊" * 4 + "。"
    page = (chars("标题横跨两栏", 0, 0, 24) + column(left, 0, 40) + column(right, 115, 40, indent=False))
    read = read_page(chars_to_lines(page), 800, is_furniture_text)
    (group,) = read.groups
    assert group.head.text == "标题横跨两栏"
    assert [b.text[:1] for b in group.blocks] == ["甲", "丁"]
    paras = paragraphs(group.blocks)
    assert len(paras) == 1  # the right column is not indented: the paragraph goes on
    assert "".join(ln.text for ln in paras[0]) == left + right


def test_kicker_headline_and_subheadline_are_told_apart_by_size_and_place():
    page = (chars("聚焦民生实事", 0, 0, 14) + chars("打通医保服务最后一公里", 0, 20, 26)
            + chars("——全市医保书写民生答卷", 0, 52, 14) + column("正文" * 20, 0, 80))
    (group,) = read_page(chars_to_lines(page), 800, is_furniture_text).groups
    assert group.kicker.text == "聚焦民生实事"
    assert group.head.text == "打通医保服务最后一公里"
    assert group.sub.text == "——全市医保书写民生答卷"


def test_two_articles_side_by_side_keep_their_own_columns():
    page = (chars("左边的新闻", 0, 0, 20) + column("左" * 40, 0, 30)
            + chars("右边的新闻", 230, 0, 20) + column("右" * 40, 230, 30))
    groups = read_page(chars_to_lines(page), 800, is_furniture_text).groups
    assert [g.head.text for g in groups] == ["左边的新闻", "右边的新闻"]
    assert {b.text[0] for b in groups[0].blocks} == {"左"}
    assert {b.text[0] for b in groups[1].blocks} == {"右"}


def test_a_column_beyond_a_narrow_headline_still_belongs_to_its_article():
    # The headline spans one column; the article runs on into a second column level with the first.
    page = (chars("短标题", 0, 0, 20) + column("一" * 30, 0, 30) + column("二" * 30, 115, 30, indent=False)
            + chars("下一篇报道的标题", 0, 120, 20) + column("三" * 30, 0, 150))
    groups = read_page(chars_to_lines(page), 800, is_furniture_text).groups
    first = next(g for g in groups if g.head.text == "短标题")
    assert {b.text[0] for b in first.blocks} == {"一", "二"}


def _page(header: str, lines: list[TextLine]) -> list[TextLine]:
    return [as_line(header, 0, 0, 8)] + lines


def test_page_header_gives_date_issue_page_and_page_name():
    hd = read_header(["2023年7月20日 星期四", "第23368期", "第02版 综合"])
    assert (hd.date, hd.issue, hd.page, hd.name) == ("2023-07-20", "23368", "02", "综合")
    assert not is_furniture_text("（上接第1版）")


def test_a_jump_is_joined_with_the_part_that_picks_it_up_on_its_page():
    p1 = _page("2023年7月20日 星期四 第23368期 第01版 要闻", [
        as_line("医保服务暖民心", 0, 40, 24),
        as_line("记者/王明", 0, 70, 8),
        as_line("　　全市医保参保人数达到353万人，", 0, 85),
        as_line("比上年增加两万人，参保", 0, 100),
        as_line("（下转第2版）", 60, 116, 8),
    ])
    p2 = _page("2023年7月20日 星期四 第23368期 第02版 综合", [
        as_line("医保服务暖民心", 0, 40, 20),
        as_line("（上接第1版）", 0, 66, 8),
        as_line("率保持在95%以上。", 0, 80),
        as_line("另一篇报道", 300, 40, 20),
        as_line("　　这是另一篇报道的正文，与医保无关。", 300, 70),
    ])
    got = build_articles([(0, p1, 600, 800), (1, p2, 600, 800)], "issue.pdf")
    assert (got.date, got.issue) == ("2023-07-20", "23368")
    stories = {a.headline: a for a in got.articles}
    joined = stories["医保服务暖民心"]
    assert joined.body.endswith("参保率保持在95%以上。")
    assert joined.page == "01" and joined.byline == "记者/王明"
    assert {r[2] for r in joined.regions} == {0, 1}  # its text lies on both pages
    assert stories["另一篇报道"].page == "02"
    assert len(got.articles) == 2


def test_adverts_and_notices_are_not_articles():
    page = _page("2023年7月20日 第23368期 第03版 广告", [
        as_line("神农家居广场 盛大开业", 0, 40, 20),
        as_line("全场家具五折起", 0, 70),
        as_line("咨询热线：0731-28835396", 0, 85),
        as_line("遗失声明", 300, 40, 20),
        as_line("·株洲某某有限公司遗失公章一枚，声明作废。", 300, 70),
        as_line("报道的标题", 0, 200, 20),
        as_line("　　这是一篇报道的正文，有好几句话。", 0, 230),
    ])
    got = build_articles([(0, page, 600, 800)], "p3.pdf")
    kinds = sorted((a.kind, a.headline) for a in got.articles)
    assert [k for k, _ in kinds] == ["article", "notice"]
    assert "报道的标题" in {h for _, h in kinds}
    assert not any("家居" in a.body for a in got.articles)


def test_quote_boxes_and_confidence_come_from_the_lines_it_spans():
    page = _page("2023年7月20日 第23368期 第01版 要闻", [
        as_line("标题在这里", 0, 40, 24),
        as_line("　　第一句话在这一行。第二", 0, 80, conf=0.99),
        as_line("句话在下一行，识别较差。", 0, 95, conf=0.62),
    ])
    (a,) = build_articles([(0, page, 600, 800)], "scan.png").articles
    first = a.body.index("第一句")
    second = a.body.index("第二句")
    assert quote_confidence(a, first, first + 10) == pytest.approx(0.99)
    assert quote_confidence(a, second, len(a.body)) == pytest.approx(0.62)
    boxes = quote_boxes(a, second, len(a.body))
    assert len(boxes) == 2 and all(b[0] == 0 for b in boxes)  # two line pieces on page 0
    assert boxes[0][1] > boxes[1][1]  # the first piece starts mid-line, right of the second
