"""One bad byte or line costs that line; odd paths are refused with one line, before the lock."""

import json
import os
import subprocess
import sys
import time

import pytest

from rag.errors import InputError
from rag.ingest.indexer import ingest
from rag.ingest.parse import parse_file
from rag.search.indexlock import writer_lock
from rag.settings import Settings

from .conftest import FAKE_MODEL, ROOT

pytestmark = pytest.mark.unit


def _rows(n: int) -> list[str]:
    return [json.dumps({"id": f"a{i}", "date": "2024-01-02", "text": f"第{i}篇报道的正文。"},
                       ensure_ascii=False) for i in range(n)]


def test_a_nul_byte_early_in_jsonl_costs_only_its_line(tmp_path):
    rows = _rows(81)
    rows[2] = rows[2][:10] + "\x00" + rows[2][10:]  # well inside the first 8 KB
    p = tmp_path / "nul.jsonl"
    p.write_bytes("\n".join(rows).encode())
    parsed = parse_file(p)
    assert len(parsed.articles) == 80
    assert [(e.line, e.reason) for e in parsed.errors] == [(3, "binary data in line")]


def test_stray_control_characters_cost_only_their_lines(tmp_path):
    body = "\n\n".join(f"株洲日报讯 第{i}段新闻内容写在这里，共有若干文字。" for i in range(40))
    text = "# 株洲日报\n\n2024年1月2日 星期二\n\n## 一则新闻\n\n" + body + "\n"
    lines = text.split("\n")
    hit = [i for i, ln in enumerate(lines) if "第1段" in ln or "第3段" in ln]
    for i in hit:  # 40 stray control characters on two lines
        lines[i] = lines[i][:5] + "\x01\x02" * 10 + lines[i][5:]
    p = tmp_path / "issue.txt"
    p.write_text("\n".join(lines), encoding="utf-8")
    parsed = parse_file(p)
    body = parsed.articles[0].body
    assert "第2段" in body and "第39段" in body and "第1段" not in body and "\x01" not in body
    assert sorted(e.line for e in parsed.errors) == [i + 1 for i in hit]
    assert all(str(p) in str(e) for e in parsed.errors)


def test_binary_data_as_a_whole_is_still_refused(tmp_path):
    data = bytes(range(256)) * 64  # 11 % control bytes, spread through the file
    for name in ("blob.txt", "blob.jsonl"):
        p = tmp_path / name
        p.write_bytes(b'{"text": "\xe6\xad\xa3\xe6\x96\x87"}\n' * 50 + data)
        with pytest.raises(InputError, match="binary file, not text"):
            parse_file(p)


def test_impossible_jsonl_date_is_an_error_on_its_line(tmp_path):
    p = tmp_path / "d.jsonl"
    p.write_text("\n".join([
        json.dumps({"id": "x1", "date_raw": "2026年13月45日", "text": "正文一。"}, ensure_ascii=False),
        json.dumps({"id": "x2", "date_raw": "2026年1月5日", "text": "正文二。"}, ensure_ascii=False),
    ]), encoding="utf-8")
    parsed = parse_file(p)
    assert [a.id for a in parsed.articles] == ["x2"] and parsed.articles[0].date == "2026-01-05"
    assert len(parsed.errors) == 1 and parsed.errors[0].line == 1
    assert "impossible date_raw" in parsed.errors[0].reason


def _settings(tmp_path, **kw):
    return Settings.load(index_dir=tmp_path / "index", embed_model=FAKE_MODEL, **kw)


@pytest.mark.parametrize("kind", ["fifo", "device"])
def test_fifo_and_device_are_refused_before_the_lock(tmp_path, kind):
    path = tmp_path / "pipe.txt"
    if kind == "fifo":
        os.mkfifo(path)
    else:
        path = "/dev/zero"
    settings = _settings(tmp_path, index_lock_timeout_s=30)
    t0 = time.monotonic()
    with writer_lock(settings.index_dir, 1):  # another writer holds the index
        report = ingest([path], settings, progress=False)
    assert time.monotonic() - t0 < 10  # neither waited for the lock nor read forever
    (f,) = report.files
    assert f.status == "error" and str(path) in f.error and "refused" in f.error
    assert report.error is None


def test_fifo_in_a_folder_is_named_not_read(tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    os.mkfifo(folder / "pipe.txt")
    (folder / "ok.md").write_text("# 株洲日报\n\n2024年1月2日\n\n## 标题\n\n正文内容一句。\n", encoding="utf-8")
    report = ingest([folder], _settings(tmp_path), progress=False)
    status = {os.path.basename(f.path): f for f in report.files}
    assert status["ok.md"].status == "ok"
    assert status["pipe.txt"].status == "error" and "FIFO" in status["pipe.txt"].error


def test_symlink_loop_is_reported_as_a_loop(tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "a.txt").symlink_to(folder / "b.txt")
    (folder / "b.txt").symlink_to(folder / "a.txt")
    report = ingest([folder, folder / "a.txt"], _settings(tmp_path), progress=False)
    assert report.files and all("symbolic link loop" in f.error for f in report.files)
    assert {os.path.basename(f.path) for f in report.files} == {"a.txt", "b.txt"}


def test_errors_are_one_line_whatever_the_file_name_holds(tmp_path):
    bad = tmp_path / "two\nlines\r\u2028.txt"
    bad.write_bytes(b"")
    proc = subprocess.run([sys.executable, "-m", "rag.cli", "ingest", str(bad), "--index",
                           str(tmp_path / "index")], capture_output=True, text=True, cwd=ROOT,
                          env={**os.environ, "RAG_EMBED_MODEL": FAKE_MODEL}, timeout=120)
    errors = [ln for ln in proc.stderr.splitlines() if ln.strip()]
    assert proc.returncode == 1
    assert len(errors) == 1 and "two\\nlines\\r\\u2028.txt" in errors[0] and "empty file" in errors[0]
