"""Server-side parsing in a child process: same result, a bounded time, one file's cost."""

import os

import pytest

from rag.errors import InputError
from rag.ingest import isolated
from rag.ingest.parse import parse_file

from .conftest import ISSUE, ISSUE_ARTICLES

pytestmark = pytest.mark.unit


def test_child_parse_gives_what_parse_file_gives():
    parsed = isolated.parse_isolated(ISSUE)
    assert len(parsed.articles) == ISSUE_ARTICLES
    assert parsed == parse_file(ISSUE)


def test_child_reports_the_files_own_error(tmp_path):
    bad = tmp_path / "empty.txt"
    bad.write_bytes(b"")
    with pytest.raises(InputError) as err:
        isolated.parse_isolated(bad)
    assert err.value.path == str(bad) and "empty" in err.value.reason


def test_a_parse_past_its_time_is_stopped_and_named(tmp_path):
    big = tmp_path / "big.txt"
    big.write_text("标题\n\n" + "正文。\n\n" * 200_000, encoding="utf-8")
    with pytest.raises(InputError) as err:
        isolated.parse_isolated(big, timeout_s=0.01)
    assert str(big) in str(err.value) and "longer than" in str(err.value)


def test_the_upload_parses_in_another_process(tmp_path, monkeypatch, fake_index):
    # The server's upload handler hands ingest the child-process parser.
    from rag.ingest import indexer

    from .conftest import FAKE_MODEL, copy_index

    seen = []
    real = isolated.parse_isolated

    def spy(path, date=None, **pages):
        seen.append(path)
        return real(path, date, **pages)

    settings = copy_index(fake_index.index_dir.parent, tmp_path / "idx", embed_model=FAKE_MODEL)
    monkeypatch.setattr(isolated, "parse_isolated", spy)
    from ui.handlers import Engine, Handlers
    from rag.pipeline import Assistant

    engine = Engine(Assistant.open(settings), settings)
    src = tmp_path / "new.txt"
    src.write_text("# 株洲日报\n\n2024年5月2日 第24002期\n\n## 新闻标题一则\n\n株洲日报讯 5月1日,某地举行活动。\n",
                   encoding="utf-8")
    report, _, _ = Handlers(engine, settings).upload([str(src)])
    assert [os.path.basename(p) for p in map(str, seen)] == [f for f in os.listdir(settings.index_dir.parent / "uploads")]
    assert "新增 1 篇文章" in report
    assert "新闻标题一则" in {a.headline for a in engine.assistant.index.articles.values()}


def test_the_new_reasons_read_in_chinese_on_the_page():
    from ui.handlers import zh_file_error

    error = ("a.txt:3: binary data (control characters) in line; "
             "a.txt:5: impossible date_raw '2026年13月45日' (no such day)")
    assert zh_file_error(error, "a.txt") == "第 3 行：这一行含有控制字符，已跳过；第 5 行：日期 '2026年13月45日' 不存在"
    assert zh_file_error("a.txt: parsing took longer than 120 s, the file was skipped", "a.txt") == \
        "解析超过 120 秒，已跳过此文件"
