"""Printed issue dates, issue numbers, pages, and inferred dates."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from rag.ingest.dates import (
    find_issue_date,
    find_issue_number,
    find_mentions,
    find_page,
    infer_issue_date,
    is_date_line,
    parse_date,
)

pytestmark = pytest.mark.unit

CORPUS = Path(__file__).resolve().parent.parent / "corpus"


@pytest.mark.parametrize(
    "text, expected",
    [
        ("# 株洲日报\n\n2023年7月20日 星期四\n第23368期", "2023-07-20"),
        ("株洲日报\n2023-07-20\n要闻", "2023-07-20"),
        ("2023年07月20日 星期四 癸卯年六月初三\n", "2023-07-20"),
        ("株洲日报 2024年1月5日 周五 第23500期\n", "2024-01-05"),
    ],
)
def test_find_issue_date(text, expected):
    assert find_issue_date(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "醴陵经开区获全省通报表扬\n\n2025年10月15日,省医保局党组书记一行到株洲调研。",  # a sentence
        "2026年2月8日起全市实行垃圾分类新规\n株洲日报讯(记者/王某)…",  # a headline
        "2023年2月30日 星期四",  # no such day
        "没有日期的文字。",
    ],
)
def test_find_issue_date_ignores_dates_that_are_not_a_date_line(text):
    assert find_issue_date(text) is None


def test_date_line_shape():
    assert is_date_line("2023年7月20日 星期四")
    assert not is_date_line("2023年7月20日,市委召开常委会议。")


def test_issue_number_and_page():
    head = "# 株洲日报\n2023年7月20日 星期四\n癸卯年六月初三 第23368期 今日8版\n"
    assert find_issue_number(head) == "23368"
    assert find_page(head) is None  # "今日8版" is the page count
    assert find_page("株洲日报\n第03版:要闻\n") == "03"
    assert find_page("01版 要闻\n") == "01"
    assert find_page("第A3版\n") == "A03"
    assert find_page("正文……▶▶下转02版\n") is None
    assert find_issue_number("今年第100期读书会在株洲图书馆举行,共有200人参加,活动持续了三个小时之久以上。") is None


def test_parse_date():
    assert parse_date("2023/7/20") == dt.date(2023, 7, 20)
    assert parse_date("发布于2023年7月20日") == dt.date(2023, 7, 20)
    assert parse_date("2023-02-30") is None


def test_mentions_mark_ranges_and_plans_as_future():
    text = "展览时间为2月10日至3月8日。2月7日,记者走访。将于3月1日开幕。自4月1日起施行。截至2月5日,已有百人。"
    found = {(m.month, m.day): m.future for m in find_mentions(text)}
    assert found == {(2, 10): True, (3, 8): True, (2, 7): False, (3, 1): True, (4, 1): True, (2, 5): False}


@pytest.mark.parametrize(
    "text, expected",
    [
        # Latest past month-day in the latest year mentioned, plus one day.
        ("2024年,全县黄桃丰收。8月3日,首批开摘。8月1日,召开会议。", "2024-08-04"),
        # A month-day closest to the latest full date: February of the next year.
        ("2025年10月15日,局长调研。2月7日,展示数据。2月8日,农历腊月二十一。", "2026-02-09"),
        # Dates just before a full date stay in its year.
        ("2023年7月18日,榜单发布。7月17日23时,工地灯火通明。", "2023-07-19"),
        # A future range or a plan is not the news day.
        ("2026年新春之际,联展开放。展览时间为2月10日至3月8日。2月8日,开幕。", "2026-02-09"),
        ("2024年1月5日,会议召开。将于3月1日开工。", "2024-01-06"),
        # A far target year does not move the guess.
        ("2023年7月18日,发布规划,到2035年建成。7月19日,召开会议。", "2023-07-20"),
    ],
)
def test_infer_issue_date(text, expected):
    assert infer_issue_date(text) == expected


@pytest.mark.parametrize("text", ["今天天气很好。", "2月8日,开演。", "2025年,全年增长。", "2025年10月全市增长。"])
def test_infer_issue_date_none_without_a_day(text):
    assert infer_issue_date(text) is None


def test_infer_on_seed_issues():
    raw = (CORPUS / "000_61bc0c60d6173f57.txt").read_text(encoding="utf-8")
    guess = infer_issue_date(raw)
    assert "2026-02-01" <= guess <= "2026-02-28"
    md = (CORPUS / "002_7a2d84cb32ceeabd.txt").read_text(encoding="utf-8")
    body = md.split("## ", 1)[1]  # without the printed date line
    assert infer_issue_date(body) == "2023-07-20"
