"""Decoding raw files: encodings, BOM, line endings, gzip, bad bytes."""

from __future__ import annotations

import codecs
import gzip
import os

import pytest

from rag.errors import InputError
from rag.ingest.textio import open_lines, read_text

pytestmark = pytest.mark.unit

TEXT = "株洲日报\n“马舞新春”全球生肖文化大联展亮相株洲,展览时间为2月10日至3月8日。\n"


@pytest.mark.parametrize(
    "data",
    [
        TEXT.encode("utf-8"),
        codecs.BOM_UTF8 + TEXT.encode("utf-8"),
        TEXT.encode("gb18030"),
        TEXT.encode("utf-16"),
        TEXT.replace("\n", "\r\n").encode("utf-8"),
        TEXT.replace("\n", "\r").encode("gb18030"),
    ],
    ids=["utf8", "utf8-bom", "gb18030", "utf16-bom", "crlf", "cr-gb18030"],
)
def test_read_text_decodes_to_the_same_text(tmp_path, data):
    p = tmp_path / "a.txt"
    p.write_bytes(data)
    assert read_text(p) == TEXT


def test_read_text_keeps_characters_exactly(tmp_path):
    s = "全角“引号”与半角\"引号\",(括号)(括号)  \n"
    p = tmp_path / "q.txt"
    p.write_bytes(s.encode("utf-8"))
    assert read_text(p) == s  # no width or quote normalisation


def test_gbk_only_text(tmp_path):
    p = tmp_path / "gbk.txt"
    p.write_bytes("醴陵经开区获全省通报表扬".encode("gbk"))
    assert read_text(p) == "醴陵经开区获全省通报表扬"


@pytest.mark.parametrize(
    "data, reason",
    [
        (b"", "empty file"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "binary file, not text"),
        (b"abc" + bytes(range(1, 9)) * 20, "binary file, not text"),
        ("株洲".encode() + b"\xff\xff\xff\xff", "cannot decode as UTF-8 or GB18030"),
    ],
    ids=["empty", "png", "control-chars", "undecodable"],
)
def test_read_text_errors(tmp_path, data, reason):
    p = tmp_path / "bad.txt"
    p.write_bytes(data)
    with pytest.raises(InputError) as exc:
        read_text(p)
    assert exc.value.reason == reason
    assert str(p) in str(exc.value)


def test_read_text_missing_and_unreadable(tmp_path):
    with pytest.raises(InputError, match="No such file"):
        read_text(tmp_path / "missing.txt")
    with pytest.raises(InputError, match="Is a directory"):
        read_text(tmp_path)
    p = tmp_path / "locked.txt"
    p.write_text("x", encoding="utf-8")
    p.chmod(0)
    try:
        if os.access(p, os.R_OK):
            pytest.skip("running as a user who can read anything")
        with pytest.raises(InputError, match="Permission denied"):
            read_text(p)
    finally:
        p.chmod(0o644)


def test_open_lines_plain_and_gzip_are_the_same(tmp_path):
    data = codecs.BOM_UTF8 + '{"a": 1}\r\n\r\n{"b": "株洲"}\n'.encode("utf-8")
    plain = tmp_path / "x.jsonl"
    plain.write_bytes(data)
    packed = tmp_path / "x.jsonl.gz"
    packed.write_bytes(gzip.compress(data))
    expected = [(1, '{"a": 1}'), (2, ""), (3, '{"b": "株洲"}')]
    assert list(open_lines(plain)) == expected
    assert list(open_lines(packed)) == expected


def test_open_lines_streams(tmp_path):
    p = tmp_path / "big.jsonl.gz"
    with gzip.open(p, "wt", encoding="utf-8") as f:
        for i in range(50_000):
            f.write(f'{{"n": {i}}}\n')
    it = open_lines(p)
    assert next(it) == (1, '{"n": 0}')
    assert next(it) == (2, '{"n": 1}')
    it.close()


def test_open_lines_bad_line_is_reported_and_skipped(tmp_path):
    p = tmp_path / "x.jsonl"
    p.write_bytes(b'{"a": 1}\n\xff\xff\xff\n' + '{"b": "株洲"}\n'.encode("gb18030"))
    errors: list[InputError] = []
    assert list(open_lines(p, errors)) == [(1, '{"a": 1}'), (3, '{"b": "株洲"}')]
    assert [(e.line, e.reason) for e in errors] == [(2, "cannot decode as UTF-8 or GB18030")]


def test_open_lines_file_errors(tmp_path):
    with pytest.raises(InputError, match="No such file"):
        list(open_lines(tmp_path / "missing.jsonl"))
    empty = tmp_path / "e.jsonl"
    empty.write_bytes(b"")
    with pytest.raises(InputError, match="empty file"):
        list(open_lines(empty))
    binary = tmp_path / "b.jsonl"
    binary.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00")
    with pytest.raises(InputError, match="binary"):
        list(open_lines(binary))
    broken = tmp_path / "t.jsonl.gz"
    broken.write_bytes(gzip.compress(b'{"a": 1}\n' * 1000)[:-30])
    with pytest.raises(InputError, match="corrupt"):
        list(open_lines(broken))
