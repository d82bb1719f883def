"""Parsing issue files and archive JSONL into Article records."""

from __future__ import annotations

import codecs
import gzip
import json
from pathlib import Path

import pytest

from rag.errors import InputError, SettingsError
from rag.ingest.parse import ParsedFile, iter_files, parse_file
from rag.ingest.parse_common import article_id, derive_title
from rag.ingest.parse_lines import is_heading_like, is_terminal, line_kinds, split_lines

pytestmark = pytest.mark.unit

CORPUS = Path(__file__).resolve().parent.parent / "corpus"
MD_ISSUE = CORPUS / "002_7a2d84cb32ceeabd.txt"
RAW_ISSUE = CORPUS / "000_61bc0c60d6173f57.txt"

MD_HEADLINES = [
    "中国百强城市榜单 株洲居第78位",
    "异地就医可结算 参保事项有人帮 打通医保服务“最后一公里”",
    "陈恢清在市十六届人民政府第二次全体(扩大)会议上强调 全力推动经济运行稳中向好 努力完成全年目标任务",
    "早稻收购即将全面开秤 最低收购价252元/百公斤",
    "挑灯夜战忙施工 轨道交通装备产业园展馆9月底建成交付",
    "登记“小窗口” 服务“大民生”",
    "我市第一封清华大学录取通知书送达 收件人株洲市二中邓薛彤,梦想投身中国动画事业",
]

RAW_HEADLINES = [
    "醴陵经开区获全省通报表扬",
    "“马舞新春”全球生肖文化大联展亮相株洲",
    "“她创课堂”赋能200余名女性数字创业",
    "自办“村晚”迎新年",
    "筑牢保障根基 护航幸福株洲",
]


@pytest.fixture(scope="module")
def md() -> ParsedFile:
    return parse_file(MD_ISSUE)


@pytest.fixture(scope="module")
def raw() -> ParsedFile:
    return parse_file(RAW_ISSUE)


def by_headline(parsed: ParsedFile, headline: str):
    return next(a for a in parsed.articles if a.headline == headline)


# --- the Markdown issue (002) -------------------------------------------


def test_markdown_issue_articles_and_metadata(md):
    assert [a.headline for a in md.articles] == MD_HEADLINES
    assert (md.date, md.date_inferred, md.issue) == ("2023-07-20", False, "23368")
    for pos, a in enumerate(md.articles):
        assert a.position == pos
        assert (a.date, a.date_inferred, a.issue, a.kind) == ("2023-07-20", False, "23368", "article")
        assert a.source == str(MD_ISSUE)
        assert not a.headline_derived
        assert a.body and "##" not in a.body
    assert md.errors == ()


def test_markdown_masthead_is_not_an_article(md):
    text = "\n".join(a.headline + "\n" + a.body for a in md.articles)
    assert "CN 43-0005" not in text
    assert "星期四" not in text


def test_markdown_bylines_are_pulled_out_of_the_body(md):
    first = md.articles[0]
    assert "陈正明" in first.byline
    assert first.body.startswith("7月18日,由华顿经济研究院")
    assert "株洲日报讯" not in first.body
    medical = md.articles[1]
    assert "刘琼" in medical.byline and "曾怡婧" in medical.byline and "尹志华" in medical.byline
    assert "刘琼" not in medical.body
    grain = md.articles[3]
    assert "廖喜张" in grain.byline and "谭斌" in grain.byline
    for a in md.articles:
        assert a.byline, a.headline
        assert "记者/" not in a.body


def test_markdown_column_subheadline_and_jump(md):
    reg = by_headline(md, "登记“小窗口” 服务“大民生”")
    assert reg.subheadline == "市不动产登记中心多措并举推动作风建设"
    assert reg.column == "打好优化发展环境持久仗"
    assert reg.continuations == ("下转02版",)
    assert "▶" not in reg.body and "下转" not in reg.body
    assert reg.body.split("\n")[-1].endswith("完善服务举措,")
    # A ### right after the headline is handled the same way: the column.
    assert md.articles[1].column == "聚焦“三微”“六位” 建设幸福株洲"
    assert md.articles[1].subheadline is None


def test_markdown_captions_are_not_body(md):
    works = md.articles[4]
    assert works.captions == ("轨道交通装备产业园基础设施项目一期施工现场。记者/周嵩 摄",)
    assert "摄" not in works.body
    assert md.articles[6].captions == ("收到清华大学录取通知书的邓薛彤。受访者 供图",)
    grain = md.articles[3]
    assert any(c.startswith("扫码查询") for c in grain.captions)
    assert "扫码" not in grain.body


def test_markdown_broken_paragraphs_are_joined(md):
    body = "\n".join(a.body for a in md.articles)
    for joined in ("辩证的眼光分析研判形势", "预计10万吨,其中", "有力推动了市经济社会", "安源区曹山镇的邹大姐",
                   "天元区栗雨街道", "廉政风险问题。", "为不动产登记工作", "都能直接报销,这才是",
                   "“制造名城、幸福株洲”奋斗目标,按照"):
        assert joined in body, joined


def test_markdown_subheads_stay_their_own_lines(md):
    medical = md.articles[1].body.split("\n")
    assert "上半年,全市普通门诊异地直接结算14万余人次" in medical
    assert "101家定点医院与江西开通异地就医直接结算" in medical
    assert "——打造“15分钟”医保服务圈" in medical
    # The line after a sub-head joins the block it was cut from.
    i = medical.index("上半年,全市普通门诊异地直接结算14万余人次")
    assert medical[i + 1].startswith("“现在方便了,看门诊都能直接报销,这才是真正的长株潭融合!”")
    assert "强作风 打造一流干部队伍" in md.articles[5].body.split("\n")


# --- the raw dump (000) -------------------------------------------------


def test_raw_dump_articles_and_notices(raw):
    news = [a for a in raw.articles if a.kind == "article"]
    notices = [a for a in raw.articles if a.kind == "notice"]
    assert [a.headline for a in news] == RAW_HEADLINES
    assert len(notices) == 2
    assert [a.position for a in raw.articles] == list(range(len(raw.articles)))
    assert raw.issue is None and raw.errors == ()


def test_raw_dump_notices_are_separate_items(raw):
    notices = [a for a in raw.articles if a.kind == "notice"]
    assert all(n.headline_derived and n.headline for n in notices)
    assert notices[0].body == "醴陵市明月镇紫荆花幼儿园遗失J5525001970301号开户许可证正本"
    assert notices[1].body == "株洲钻石切削刀具股份有限公司工会委员会遗失公章一枚"
    for a in raw.articles:
        if a.kind == "article":
            assert "遗失" not in a.body


def test_raw_dump_date_is_inferred_in_february_2026(raw):
    assert raw.date_inferred is True
    assert "2026-02-01" <= raw.date <= "2026-02-28"
    assert all(a.date == raw.date and a.date_inferred for a in raw.articles)


def test_raw_dump_no_advertisement(raw):
    text = "\n".join(a.headline + a.body + "".join(a.captions) for a in raw.articles)
    assert "广告" not in text and "28835396" not in text


def test_raw_dump_bylines_and_column(raw):
    first = by_headline(raw, "醴陵经开区获全省通报表扬")
    assert "刘毅" in first.byline and first.body.startswith("日前,《湖南省人民政府办公厅")
    village = by_headline(raw, "自办“村晚”迎新年")
    assert village.column == "新春走基层"
    assert "新春走基层" not in village.body
    assert all(a.headline != "新春走基层" for a in raw.articles)
    assert village.captions == ("官塘村村民表演节目。通讯员/田婧杨 廖婕 供图",)


def test_raw_dump_repeated_block_kept_once(raw):
    body = by_headline(raw, "自办“村晚”迎新年").body
    assert body.count("官塘村党总支书记、村主任唐瑛笑着说") == 1
    assert body.count("随着天色渐晚,篝火被点燃") == 1
    everything = "\n".join(a.body for a in raw.articles)
    assert everything.count("官塘村党总支书记、村主任唐瑛笑着说") == 1


def test_raw_dump_broken_lines_joined(raw):
    body = "\n".join(a.body for a in raw.articles)
    assert "新签约项目29个" in body
    assert "提升园区产业集聚度" in body
    assert "罗慧说,“老师一句话点醒我" in body
    assert "都踩在了民生关切的关键点上。" in body
    for a in raw.articles:
        paras = a.body.split("\n")
        for i, p in enumerate(paras):
            nxt = paras[i + 1] if i + 1 < len(paras) else None
            if not is_terminal(p) and nxt is not None:
                # Only sub-heads, or a paragraph cut just before a sub-head.
                short = len(p) <= 40 and "。" not in p
                nxt_short = len(nxt) <= 40 and not is_terminal(nxt)
                assert short or nxt_short, (p, nxt)


def test_raw_dump_feature_article(raw):
    feature = by_headline(raw, "筑牢保障根基 护航幸福株洲")
    assert feature.subheadline == "2025年株洲医保书写民生答卷纪实"
    assert "沈全华" in feature.byline and "尹胜科" in feature.byline
    assert "沈全华" not in feature.body
    assert "截至2025年底,全市基本医疗保险参保人数达到353万人。" in feature.body
    for sub in ("保障基本盘: 网底织得更牢,托底更有力量", "改革硬实力: 药价耗材降下去,百姓负担减下来",
                "治理提效能: 优化保障水平,绘就民生幸福曲线", "服务新温度: 窗口开到家门口,办事搬到指尖上"):
        assert sub in feature.body.split("\n")
    # A paragraph cut off before a sub-head is not glued to the sub-head.
    i = feature.body.split("\n").index("改革硬实力: 药价耗材降下去,百姓负担减下来")
    assert feature.body.split("\n")[i - 1].endswith("都是这张保障")
    assert any(c.startswith("2025年10月15日,省医保局") for c in feature.captions)
    assert "2025年10月15日,省医保局" not in feature.body
    assert "——2025年株洲医保" not in feature.body


# --- the same issue in the other format gives the same articles ---------


def _same(a, b) -> bool:
    return {**a.to_dict(), "source": None} == {**b.to_dict(), "source": None}


def test_markdown_issue_as_raw_dump(tmp_path, md):
    # Strip every Markdown marker: headlines become bare lines, hard line
    # breaks plain ones. The raw-dump rules must recover the same articles.
    text = MD_ISSUE.read_text(encoding="utf-8")
    bare = "\n".join(line.lstrip("#").strip() for line in text.split("\n"))
    p = tmp_path / "bare.txt"
    p.write_text(bare, encoding="utf-8")
    parsed = parse_file(p)
    assert [a.headline for a in parsed.articles] == MD_HEADLINES
    assert (parsed.date, parsed.issue) == ("2023-07-20", "23368")
    same = [_same(a, b) for a, b in zip(parsed.articles, md.articles)]
    assert all(same), [a.headline for a, ok in zip(parsed.articles, same) if not ok]


def test_raw_dump_as_markdown(tmp_path, raw):
    text = RAW_ISSUE.read_text(encoding="utf-8")
    for h in RAW_HEADLINES:
        text = text.replace(f"\n{h}\n", f"\n## {h}\n")
    text = text.replace("新春走基层\n\n## 自办“村晚”迎新年", "## 自办“村晚”迎新年\n\n### 新春走基层")
    p = tmp_path / "marked.md"
    p.write_text(text, encoding="utf-8")
    parsed = parse_file(p)
    assert len(parsed.articles) == len(raw.articles)
    assert all(_same(a, b) for a, b in zip(parsed.articles, raw.articles))


# --- a synthetic raw dump: the heuristics are not tied to the seeds -----

SYNTHETIC = """
·湘江机械有限公司遗失营业执照副本一份,声明作废

炎陵黄桃提前上市

株洲日报讯(全媒体记者/李明 通讯员/王芳)8月3日,炎陵县首批黄桃在中村乡开摘。2024年,全县黄桃种植面积达8.2万亩,预计产量

6.5万吨,产值超过12亿元。

据介绍,今年黄桃采摘期将持续到9月中旬,电商订单已超过3万单。

城市更新

老旧小区改造惠及三千户

株洲日报全媒体记者/赵强
通讯员/钱红

今年以来,芦淞区启动17个老旧小区改造项目,涉及居民3120户,计划年底前全部完工。



小区改造施工现场。记者/赵强 摄

管网更新: 告别“马路拉链”

改造中,施工方对小区雨污管网进行了整体更新,居民反映强烈的积水问题得到解决。

“现在下雨也不怕了。”居民刘阿姨说。

改造中,施工方对小区雨污管网进行了整体更新,居民反映强烈的积水问题得到解决。

“现在下雨也不怕了。”居民刘阿姨说。

订报热线

0731-22334455
"""


@pytest.fixture()
def synthetic(tmp_path) -> Path:
    p = tmp_path / "synthetic.txt"
    p.write_text(SYNTHETIC, encoding="utf-8")
    return p


def test_synthetic_dump_segmentation(synthetic):
    parsed = parse_file(synthetic)
    kinds = [(a.kind, a.headline) for a in parsed.articles]
    assert kinds[0][0] == "notice"
    assert [h for k, h in kinds if k == "article"] == ["炎陵黄桃提前上市", "老旧小区改造惠及三千户"]
    peach, homes = parsed.articles[1], parsed.articles[2]
    assert "预计产量6.5万吨,产值超过12亿元。" in peach.body
    assert "李明" in peach.byline and peach.body.startswith("8月3日,炎陵县")
    assert homes.column == "城市更新"
    assert "赵强" in homes.byline and "钱红" in homes.byline
    assert homes.captions == ("小区改造施工现场。记者/赵强 摄",)
    assert "管网更新: 告别“马路拉链”" in homes.body.split("\n")
    assert homes.body.count("施工方对小区雨污管网") == 1
    assert homes.body.count("居民刘阿姨说") == 1
    everything = "".join(a.body + a.headline for a in parsed.articles)
    assert "热线" not in everything and "22334455" not in everything
    assert parsed.articles[0].body == "湘江机械有限公司遗失营业执照副本一份,声明作废"


def test_synthetic_dump_date_inferred_and_override(synthetic):
    parsed = parse_file(synthetic)
    assert (parsed.date, parsed.date_inferred) == ("2024-08-04", True)
    given = parse_file(synthetic, date="2024-08-05")
    assert (given.date, given.date_inferred) == ("2024-08-05", False)
    assert all(a.date == "2024-08-05" and not a.date_inferred for a in given.articles)


def test_printed_date_wins_over_date_option():
    parsed = parse_file(MD_ISSUE, date="2020-01-01")
    assert (parsed.date, parsed.date_inferred) == ("2023-07-20", False)


@pytest.mark.parametrize("bad", ["2023-7-20", "20230720", "2023-02-30", "yesterday"])
def test_bad_date_option_is_rejected(bad):
    with pytest.raises(SettingsError, match=bad):
        parse_file(MD_ISSUE, date=bad)


# --- encodings: the same issue gives the same articles ------------------


@pytest.mark.parametrize(
    "encode",
    [
        lambda t: t.encode("gb18030"),
        lambda t: codecs.BOM_UTF8 + t.replace("\n", "\r\n").encode("utf-8"),
        lambda t: t.replace("\n", "\r").encode("utf-8"),
    ],
    ids=["gb18030", "bom-crlf", "cr"],
)
@pytest.mark.parametrize("issue", [MD_ISSUE, RAW_ISSUE], ids=["markdown", "raw"])
def test_encoding_variants_give_identical_articles(tmp_path, encode, issue):
    original = parse_file(issue)
    copy = tmp_path / issue.name
    copy.write_bytes(encode(issue.read_text(encoding="utf-8")))
    variant = parse_file(copy)
    strip = lambda a: {**a.to_dict(), "source": None}  # noqa: E731
    assert [strip(a) for a in variant.articles] == [strip(a) for a in original.articles]
    assert (variant.date, variant.issue) == (original.date, original.issue)


def test_ids_are_deterministic_hashes_of_issue_and_content(md):
    for a in md.articles:
        assert a.id == article_id(a.headline, a.body, "2023-07-20", "23368", a.page)
        assert a.id != article_id(a.headline, a.body, "2024-03-15", "23368", a.page)
    assert len({a.id for a in md.articles}) == len(md.articles)
    assert [a.id for a in parse_file(MD_ISSUE).articles] == [a.id for a in md.articles]


# --- bad issue files ------------------------------------------------------


def test_empty_file(tmp_path):
    p = tmp_path / "empty.txt"
    p.write_bytes(b"")
    with pytest.raises(InputError, match="empty file") as exc:
        parse_file(p)
    assert str(p) in str(exc.value)


def test_whitespace_only_file(tmp_path):
    p = tmp_path / "blank.md"
    p.write_text(" \n\n  \n", encoding="utf-8")
    with pytest.raises(InputError, match="empty file"):
        parse_file(p)


def test_binary_file(tmp_path):
    p = tmp_path / "photo.txt"
    p.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x01\x00")
    with pytest.raises(InputError, match="binary file, not text") as exc:
        parse_file(p)
    assert exc.value.path == str(p)


def test_missing_file(tmp_path):
    p = tmp_path / "nope.txt"
    with pytest.raises(InputError, match="No such file") as exc:
        parse_file(p)
    assert str(p) in str(exc.value)


def test_unknown_extension(tmp_path):
    p = tmp_path / "issue.docx"
    p.write_bytes(b"PK\x03\x04")
    with pytest.raises(InputError, match="unknown file type '.docx'"):
        parse_file(p)


def test_undecodable_file(tmp_path):
    p = tmp_path / "bad.txt"
    p.write_bytes("株洲".encode("utf-8") + b"\xff\xfe\xff\x80" * 4)
    with pytest.raises(InputError, match="cannot decode as UTF-8 or GB18030"):
        parse_file(p)


# --- archive JSONL --------------------------------------------------------


def _jsonl(tmp_path, rows: list, name="archive.jsonl") -> Path:
    lines = [r if isinstance(r, str) else json.dumps(r, ensure_ascii=False) for r in rows]
    p = tmp_path / name
    data = ("\n".join(lines) + "\n").encode("utf-8")
    p.write_bytes(gzip.compress(data) if name.endswith(".gz") else data)
    return p


GOOD = [
    {"id": 17, "date": "2023-07-28", "headline": "株洲开通新航线", "text": "株洲至成都航线今日首航。\n旅客反响热烈。", "x": 1},
    {"text": "株洲日报讯(记者/王某)8月1日,市民公园正式开放,占地面积120亩,游客络绎不绝。", "date": None,
     "date_raw": "[ 2023-07-28 16：40 ]", "issue": "第23370期", "page": "3"},
    {"text": "没有日期的文章。", "byline": "记者 李四"},
]


def test_jsonl_fields(tmp_path):
    parsed = parse_file(_jsonl(tmp_path, GOOD))
    a, b, c = parsed.articles
    assert parsed.errors == ()
    assert (a.id, a.headline, a.headline_derived, a.date) == ("17", "株洲开通新航线", False, "2023-07-28")
    assert a.body.split("\n") == ["株洲至成都航线今日首航。", "旅客反响热烈。"]
    assert b.date == "2023-07-28" and not b.date_inferred  # from date_raw
    assert (b.issue, b.page) == ("23370", "03")
    assert b.headline_derived and b.headline == "8月1日,市民公园正式开放,占地面积120亩…"
    assert b.id == article_id(b.headline, b.body, "2023-07-28", "23370", "03")
    assert c.date is None and c.byline == "记者 李四" and c.headline == "没有日期的文章"
    assert [x.position for x in parsed.articles] == [0, 1, 2]


def test_jsonl_date_option_fills_missing_dates_only(tmp_path):
    parsed = parse_file(_jsonl(tmp_path, GOOD), date="2023-09-01")
    assert [a.date for a in parsed.articles] == ["2023-07-28", "2023-07-28", "2023-09-01"]


def test_jsonl_broken_line_in_the_middle(tmp_path):
    rows = [GOOD[0], '{"text": "半截', GOOD[2]]
    parsed = parse_file(_jsonl(tmp_path, rows))
    assert [a.headline for a in parsed.articles] == ["株洲开通新航线", "没有日期的文章"]
    (err,) = parsed.errors
    assert err.line == 2 and "invalid JSON" in err.reason
    assert f"archive.jsonl:2:" in str(err)


@pytest.mark.parametrize(
    "row, reason",
    [
        ({"headline": "无正文"}, 'missing or empty "text"'),
        ({"text": "   "}, 'missing or empty "text"'),
        ({"text": 42}, 'missing or empty "text"'),
        ([1, 2], "not a JSON object"),
        ({"text": "正文。", "date": "2023-13-01"}, "bad date"),
        ({"text": "正文。", "date": "上周"}, "bad date"),
    ],
)
def test_jsonl_bad_lines(tmp_path, row, reason):
    parsed = parse_file(_jsonl(tmp_path, [GOOD[0], row, GOOD[2]]))
    assert len(parsed.articles) == 2
    (err,) = parsed.errors
    assert err.line == 2 and reason in err.reason


def test_jsonl_duplicate_id(tmp_path):
    parsed = parse_file(_jsonl(tmp_path, [GOOD[0], {**GOOD[2], "id": 17}]))
    assert len(parsed.articles) == 1
    assert parsed.errors[0].line == 2 and "duplicate id" in parsed.errors[0].reason


def test_jsonl_gz(tmp_path):
    plain = parse_file(_jsonl(tmp_path, GOOD))
    packed = parse_file(_jsonl(tmp_path, GOOD, name="archive.jsonl.gz"))
    assert [a.id for a in packed.articles] == [a.id for a in plain.articles]
    assert packed.articles[0].source.endswith("archive.jsonl.gz")


def test_jsonl_empty_and_binary(tmp_path):
    empty = tmp_path / "e.jsonl"
    empty.write_bytes(b"")
    with pytest.raises(InputError, match="empty file"):
        parse_file(empty)
    blank = tmp_path / "b.jsonl"
    blank.write_bytes(b"\n\n")
    with pytest.raises(InputError, match="empty file"):
        parse_file(blank)
    binary = tmp_path / "x.jsonl"
    binary.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00")
    with pytest.raises(InputError, match="binary"):
        parse_file(binary)


def test_jsonl_crlf_and_bom(tmp_path):
    p = tmp_path / "w.jsonl"
    rows = "\r\n".join(json.dumps(r, ensure_ascii=False) for r in GOOD)
    p.write_bytes(codecs.BOM_UTF8 + rows.encode("utf-8"))
    assert [a.to_dict() for a in parse_file(p).articles] == [
        {**a.to_dict(), "source": str(p)} for a in parse_file(_jsonl(tmp_path, GOOD)).articles
    ]


# --- helpers ----------------------------------------------------------------


def test_derive_title():
    assert derive_title("株洲日报讯(记者/王某) 今天天气晴。明天下雨。") == "今天天气晴"
    long = "市发展改革委会同市财政局等部门联合印发通知,进一步规范全市政府投资项目管理工作。"
    title = derive_title(long)
    assert title.endswith("…") and len(title) <= 25 and long.startswith(title[:-1])
    # Never cut inside a number.
    assert derive_title("醴陵市明月镇紫荆花幼儿园遗失J5525001970301号开户许可证正本", 20) == "醴陵市明月镇紫荆花幼儿园遗失…"


def test_iter_files(tmp_path):
    (tmp_path / "b").mkdir()
    (tmp_path / ".hidden").mkdir()
    for name in ["b/2.md", "a.txt", "b/1.jsonl.gz", "c.jsonl", ".secret.txt", ".hidden/x.txt", "notes.docx"]:
        (tmp_path / name).write_text("x", encoding="utf-8")
    found = iter_files([tmp_path])
    assert [f.relative_to(tmp_path).as_posix() for f in found] == ["a.txt", "b/1.jsonl.gz", "b/2.md", "c.jsonl"]
    named = tmp_path / "notes.docx"
    assert iter_files([named, tmp_path / "a.txt", named]) == [named, tmp_path / "a.txt"]


@pytest.mark.parametrize(
    "raw, expected",
    [
        ("[ 2023-07-28 16：40 ]", "2023-07-28"),
        ("23-07-26 22:00", "2023-07-26"),
        ("202307/25 05:01:02", "2023-07-25"),
        ("2023年7月28日", "2023-07-28"),
        ("07-20 22:43", None),  # no year: not guessed
        ("来源：中国青年报客户端", None),
    ],
)
def test_jsonl_date_raw_forms(tmp_path, raw, expected):
    parsed = parse_file(_jsonl(tmp_path, [{"text": "正文。", "date": None, "date_raw": raw}]))
    assert parsed.articles[0].date == expected
    assert parsed.errors == ()


# --- line shapes (the building blocks of the heuristics) --------------------


@pytest.mark.parametrize(
    "line, kind",
    [
        ("通讯员/尹胜科 杨浩", "byline"),
        ("株洲日报全媒体记者/刘琼", "byline"),
        ("记者 王五", "byline"),
        ("记者从市发改委了解到,收购已开始。", "text"),
        ("轨道交通装备产业园基础设施项目一期施工现场。记者/周嵩 摄", "caption"),
        ("市民 用镜头拍摄", "text"),
        ("扫码查询全市早稻政策性收购库点", "caption"),
        ("扫码即可办理业务,十分方便。", "text"),
        ("·某某公司遗失公章一枚", "notice"),
        ("某某公司遗失营业执照正本,声明作废", "notice"),
        ("广告接待热线", "ad"),
        ("28835396", "ad"),
        ("12345热线接通率达98%", "text"),
        ("2023年7月20日 星期四", "meta"),
        ("癸卯年六月初三 第23368期 今日8版", "meta"),
        ("▶▶下转02版", "cont"),
        ("——2025年株洲医保书写民生答卷纪实", "dash"),
    ],
)
def test_line_kinds(line, kind):
    assert line_kinds(split_lines(line)) == [kind]


@pytest.mark.parametrize(
    "line, heading",
    [
        ("保障基本盘: 网底织得更牢,托底更有力量", True),
        ("强作风 打造一流干部队伍", True),
        ("“现在方便了,看门诊都能直接", False),  # unclosed quote: a cut sentence
        ("陈恢清强调,要以全面、辩证的眼光", False),  # reported speech goes on
        ("“之前拍视频零散,没方向。”罗慧说,", False),
        ("完善服务举措, ▶▶下转02版", False),
    ],
)
def test_heading_shape(line, heading):
    assert is_heading_like(line) is heading
