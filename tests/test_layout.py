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


def ocr_line(text: str, x: float, y: float, size: float = BODY, pitch: float | None = None) -> TextLine:
    """An OCR line with its character positions (``pitch`` apart)."""
    step = pitch or size
    xs = tuple(x + i * step for i in range(len(text) + 1))
    return TextLine(text, (x, y, xs[-1], y + size), size, False, 0.99, xs)


def test_a_line_the_detector_ran_across_a_gutter_is_cut_where_its_neighbours_show_it():
    from rag.ingest.layout import cut_at_gutters

    # Two 10-character columns, a 15-unit gutter (x 100-115). The first row was detected as one
    # line, the gutter read as a stray 」; the rows below respect the gutter (one is indented).
    merged = TextLine("左栏第一行文字甲乙丙」右栏第一行文字甲乙丙", (0, 0, 215, 10), BODY, False, 0.97,
                      tuple(range(0, 100, 10)) + (104,) + tuple(range(115, 216, 10)))
    rows = [ocr_line("左栏第二行文字甲乙丙", 0, 15), ocr_line("右栏第二行文字甲乙丙", 115, 15),
            ocr_line("左栏第三行文字甲乙丙", 0, 30), ocr_line("右栏新段落文字甲", 135, 30)]
    got = sorted(ln.text for ln in cut_at_gutters([merged] + rows))
    assert "左栏第一行文字甲乙丙" in got and "右栏第一行文字甲乙丙" in got and not any("」" in t for t in got)
    # A line of a wide column that its own neighbours run across is left whole.
    wide = [ocr_line("通栏的一行文字" * 3, 0, 15 * i) for i in range(3)]
    assert cut_at_gutters(wide) == wide


def test_a_columns_first_line_run_across_the_gutter_is_cut_from_the_two_lines_below():
    from rag.ingest.layout import cut_at_gutters

    # The first row of two columns set at a leading of 1.6, detected as one line; there is
    # nothing above it, so only the two rows below show the gutter (x 100-115).
    merged = ocr_line("左栏第一行文字甲乙丙右栏第一行文字甲乙丙", 0, 0)
    merged = TextLine(merged.text, (0, 0, 215, 10), BODY, False, 0.99,
                      tuple(range(0, 100, 10)) + tuple(range(115, 216, 10)))
    rows = [ocr_line("左栏第二行文字甲乙丙", 0, 16), ocr_line("右栏第二行文字甲乙丙", 115, 16),
            ocr_line("左栏第三行文字甲乙丙", 0, 32), ocr_line("右栏第三行文字甲乙丙", 115, 32)]
    got = sorted(ln.text for ln in cut_at_gutters([merged] + rows))
    assert "左栏第一行文字甲乙丙" in got and "右栏第一行文字甲乙丙" in got
    # The detector's boxes end a column's lines raggedly (a narrow last character): up to a
    # character or so short of the column's edge still shows the gutter.
    rows[0] = ocr_line("左栏第二行文字甲乙", 0, 16, pitch=10.2)
    got = sorted(ln.text for ln in cut_at_gutters([merged] + rows))
    assert "左栏第一行文字甲乙丙" in got and "右栏第一行文字甲乙丙" in got


def test_a_short_ocr_fragment_with_a_misjudged_size_rejoins_its_line():
    from rag.ingest.layout import make_blocks, snap_sizes

    body = [ocr_line("株洲日报讯（记者/某某通讯员/杨", 0, 15 * i) if i == 0 else
            ocr_line("这是正文的一行文字内容很长的", 0, 15 * i) for i in range(6)]
    # The line after the byline starts with "媛）", read as a separate box sized 1.4x by its pitch.
    frag = TextLine("媛）", (0, 90, 20, 100), 14.0, False, 0.85, (0, 10, 20))
    rest = ocr_line("“咨询电话变多了", 35, 90)
    blocks = make_blocks(snap_sizes(body + [frag, rest]))
    assert any(ln.text.startswith("媛）“咨询") for b in blocks for ln in b.lines)


def test_a_head_misjudged_from_one_body_line_is_demoted_even_above_a_short_last_line():
    # A notice box: its title, then two body lines, the middle one measured 1.25x by the OCR.
    lines = [as_line("遗失声明", 10, 0, 24), as_line("·某某幼儿园遗失开户", 0, 40),
             TextLine("许可证正本一份声明作废", (0, 52, 138, 64), 12.5, False, 0.99),
             as_line("作废。", 0, 66)]
    read = read_page(lines, 800, is_furniture_text)
    (group,) = read.groups
    assert group.head.text == "遗失声明" and group.sub is None
    assert "".join(b.text for b in group.blocks) == "·某某幼儿园遗失开户许可证正本一份声明作废作废。"


def test_a_column_level_with_an_articles_first_row_is_its_even_past_its_own_columns():
    # Article A across the top; article B below it, narrower headline. B's second column starts
    # with a one-line box and goes on lower; its third column starts level with its first row,
    # right under A's headline's span but far below A's text.
    top = chars("上面文章的通栏大标题横跨四栏", 0, 0, 30) + column("甲" * 38, 0, 40) + column("乙" * 40, 115, 40)
    b_head = chars("下面的标题", 0, 150, 20)
    b_cols = (column("丙" * 38, 0, 190) + chars("询电话", 115, 195) + column("丁" * 30, 115, 220, indent=False)
              + column("戊" * 28 + "。", 230, 190, indent=False))
    read = read_page(chars_to_lines(top + b_head + b_cols), 800, is_furniture_text)
    b = next(g for g in read.groups if g.head.text == "下面的标题")
    assert "戊" * 10 in "".join(x.text for x in b.blocks)
    a = next(g for g in read.groups if g.head.text.startswith("上面"))
    assert "戊" not in "".join(x.text for x in a.blocks)


def test_blocks_sharing_a_row_read_left_to_right():
    from rag.ingest.layout import Block
    from rag.ingest.layout_groups import columns_order

    left = Block([as_line("株洲日报讯（记者/某某", 0, 100.4)])
    right = Block([as_line("通讯员/某某）", 130, 100.0)])
    below = Block([as_line("正文第一行文字正文第一行文字正文第一行", 0, 115)])  # the column, under both
    assert [b.text[:2] for b in columns_order([below, right, left])] == ["株洲", "通讯", "正文"]


def test_a_short_last_line_sized_wrong_by_the_ocr_stays_with_its_column():
    from rag.ingest.layout import make_blocks

    col = [ocr_line("产业发展的质量和效益持续提", 0, 15 * i) for i in range(3)]
    last = TextLine("升。", (0, 45, 28, 59), 14.0, False, 0.98, (0, 14, 28))  # 1.4x, a bit taller
    (block,) = make_blocks(col + [last])
    assert block.lines[-1].text == "升。"
    # A larger line that does not end a sentence is not a last line: a head keeps its own block.
    head = TextLine("新的小标题", (0, 45, 70, 59), 14.0, False, 0.98, tuple(range(0, 71, 14)))
    assert len(make_blocks(col + [head])) == 2


def test_pitch_size_averages_the_recognisers_grid_jitter():
    from rag.ingest.layout import pitch_size

    lefts = [0.0]
    for i in range(20):
        lefts.append(lefts[-1] + (38 if i % 2 else 46))  # steps jitter 38/46 around 42
    assert pitch_size("株" * 21, lefts) == pytest.approx(42, abs=0.5)
    assert pitch_size("2025年", [0, 20, 40, 60, 80]) is None  # too few Chinese steps to say


def test_a_headlines_short_second_line_keeps_the_headlines_size_and_a_byline_keeps_its_own():
    from rag.ingest.layout import snap_sizes

    body = [ocr_line("正文的一行文字正文的一行文字", 0, 200 + 15 * i) for i in range(8)]
    head1 = ocr_line("“她创课堂”赋能200余", 0, 100, 16.0)
    head2 = TextLine("名女性数字创业", (0, 118, 96, 132), 13.5, False, 0.99)  # measured near the body size
    byline = TextLine("记者/某某", (0, 138, 50, 148), 10.0, False, 0.99)
    sized = {ln.text: ln.size for ln in snap_sizes(body + [head1, head2, byline])}
    assert sized["名女性数字创业"] == 16.0
    assert sized["记者/某某"] == 10.0


def test_a_headline_between_its_kicker_and_its_byline_is_not_taken_for_a_body_line():
    lines = [as_line("新春走基层", 0, 0, 11.5), as_line("自办村晚迎新年", 0, 14, 22),
             as_line("记者/某某 通讯员/某某", 0, 38)] + [as_line("正文的一行文字正文的一行", 0, 55 + 15 * i) for i in range(6)]
    read = read_page(lines, 800, is_furniture_text)
    assert [g.head.text for g in read.groups if g.head] == ["自办村晚迎新年"]


def test_a_column_between_two_articles_goes_on_from_the_one_on_its_left():
    # A continued article (headline over its first columns) and, top right, another article
    # whose headline sits over its own column only. The two middle columns are level with both.
    page = (chars("左边文章的标题", 0, 0, 20) + column("甲" * 40, 0, 40) + column("乙" * 40, 115, 40, indent=False)
            + column("丙" * 40, 230, 40, indent=False) + column("丁" * 39 + "。", 345, 39, indent=False)
            + chars("右边标题", 460, 0, 20) + column("戊" * 40, 460, 45))
    read = read_page(chars_to_lines(page), 800, is_furniture_text)
    left = next(g for g in read.groups if g.head.text.startswith("左边"))
    assert "".join(b.text for b in left.blocks).replace("甲", "").replace("乙", "").startswith("丙" * 10)
    assert "丁" * 10 in "".join(b.text for b in left.blocks)


def test_a_column_right_of_a_short_headline_in_its_row_is_that_articles():
    # A's headline is set over its first column only, which starts with an image (no text);
    # A's second column starts right under the headline's row. B's headline, to the right,
    # is over its own columns, which start level with A's second column.
    page = (chars("短标题", 0, 0, 20) + column("甲" * 30, 0, 150) + column("乙" * 60, 115, 30, indent=False)
            + chars("右边文章的标题", 230, 0, 20) + chars("记者/某某", 230, 28)
            + column("丙" * 40, 230, 45) + column("丁" * 40, 345, 45, indent=False))
    read = read_page(chars_to_lines(page), 800, is_furniture_text)
    a = next(g for g in read.groups if g.head.text == "短标题")
    b = next(g for g in read.groups if g.head.text.startswith("右边"))
    assert "乙" * 10 in "".join(x.text for x in a.blocks)
    assert "乙" not in "".join(x.text for x in b.blocks)


def test_a_column_going_on_under_an_articles_text_is_not_taken_by_a_level_neighbour():
    # A's second column: a short line level with its first column, a subheading of two lines
    # (each its own block), then the text. B, to the right, has a column that starts level with that text, with only B's own
    # first column between: the text still goes on under A's lines, so it is A's.
    a = (chars("左边标题", 0, 0, 20) + column("甲" * 60, 0, 30)
         + chars("每一步都踩在", 115, 30) + chars("服务新温度窗口开", 135, 45)
         + chars("尖上", 115, 60) + column("乙" * 60, 115, 75))
    b = (chars("右边文章的很长的标题", 240, 0, 20) + chars("记者/某某", 240, 28)
         + column("丙" * 50, 240, 45) + column("丁" * 50, 355, 75, indent=False))
    read = read_page(chars_to_lines(a + b), 800, is_furniture_text)
    left = next(g for g in read.groups if g.head.text.startswith("左边"))
    right = next(g for g in read.groups if g.head.text.startswith("右边"))
    assert "乙" * 10 in "".join(x.text for x in left.blocks)
    assert "乙" not in "".join(x.text for x in right.blocks)


def test_a_piece_the_detector_read_twice_goes_and_its_line_stays():
    from rag.ingest.layout import drop_repeats

    line = ocr_line("曾在学校拿到全年级第一的成绩", 115, 30)
    piece = ocr_line("曾", 113, 30)  # cut off a line the detector ran into this one
    elsewhere = ocr_line("曾", 0, 60)  # the same character on another line is text
    assert drop_repeats([piece, line, elsewhere]) == [line, elsewhere]


def test_two_headlines_side_by_side_on_one_baseline_are_cut_at_their_narrow_gutter():
    # The gutter between two grid cells is narrower than an em of headline type.
    row = chars("左边文章的大标题", 0, 0, 24) + chars("右边文章的大标题", 8 * 24 + 15, 0, 24)
    assert sorted(ln.text for ln in chars_to_lines(row)) == ["右边文章的大标题", "左边文章的大标题"]
    # A justified line's stretched space is no gutter: the line stays whole.
    stretched = chars("报销比例 ", 0, 0) + chars("升了一大截", 50 + 8, 0)
    assert [ln.text for ln in chars_to_lines(stretched)] == ["报销比例 升了一大截"]


def test_a_byline_centred_over_the_middle_column_is_read_before_the_columns():
    head = chars("标题居中横跨三栏", 45, 0, 30)
    byline = chars("全媒体记者/某某 通讯员/某某", 90, 40)  # centred: 90-240, over the middle column
    cols = column("甲" * 38, 0, 55) + column("乙" * 40, 115, 55, indent=False) + column("丙" * 30, 230, 55,
                                                                                      indent=False)
    read = read_page(chars_to_lines(head + byline + cols), 800, is_furniture_text)
    (group,) = read.groups
    assert [b.text[:2] for b in group.blocks] == ["全媒", "甲甲", "乙乙", "丙丙"]


def test_a_column_under_the_edge_of_a_centred_headline_is_that_articles():
    # A's headline is set flush left over its two columns; B's is centred over its two and
    # covers only a few characters of each. B's first column is level with A's columns.
    a = chars("左边文章标题", 0, 0, 20) + column("甲" * 38, 0, 40) + column("乙" * 40, 115, 40, indent=False)
    b = chars("居中短标题", 292.5, 2, 18) + column("丙" * 38, 230, 40) + column("丁" * 30, 345, 40, indent=False)
    read = read_page(chars_to_lines(a + b), 800, is_furniture_text)
    right = next(g for g in read.groups if g.head.text == "居中短标题")
    assert [x.text[:1] for x in right.blocks] == ["丙", "丁"]


def test_a_continuation_keeps_its_jump_line_and_what_lies_under_its_first_columns_image():
    # A jumped article's rest: its headline centred over the later columns; the first column
    # starts with 上接 over its text, then an image, its caption and more text.
    size, w = BODY, 12
    head = chars("筑牢保障根基", 190, 0, 24)
    jump = chars("（上接第1版）", 0, 40)
    first = column("甲" * 22, 0, 52, width=w)
    caption = chars("图为现场。记者/某某 摄", 0, 200, 8)
    under = column("乙" * 20, 0, 212, width=w, indent=False)
    cols = column("丙" * 60, 135, 40, width=w, indent=False) + column("丁" * 50, 270, 40, width=w, indent=False)
    read = read_page(chars_to_lines(head + jump + first + caption + under + cols), 800, is_furniture_text)
    (group,) = read.groups
    text = "".join(b.text for b in group.blocks)
    assert text.startswith("（上接第1版）甲") and "图为现场" in text and "乙" * 10 in text
