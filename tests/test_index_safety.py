"""Nothing lost: concurrent writers, articles shared by files, re-dated issues,
disk faults, leftovers of a killed ingest, and readers during a swap."""

import errno
import json
import os
import shutil
import subprocess
import sys

import pytest

from rag.cli import main
from rag.search.index import Index
from rag.search.indexlock import lock_path
from rag.ingest.indexer import ingest
from rag.settings import Settings

from .conftest import CORPUS, ISSUE, ROOT

pytestmark = pytest.mark.unit

RAW = CORPUS / "000_61bc0c60d6173f57.txt"
FIRST = "中国百强城市榜单 株洲居第78位"


@pytest.fixture(autouse=True)
def _fake_model(monkeypatch):
    monkeypatch.setenv("RAG_EMBED_MODEL", "fake:hash-256")


def _settings(tmp_path, **kw):
    return Settings.load(index_dir=tmp_path / "index", embed_model="fake:hash-256", **kw)


def _headlines(s):
    return sorted(a.headline for a in Index.load(s.index_dir).articles.values())


def _issue_text():
    return ISSUE.read_text(encoding="utf-8")


def _without(text, headline):
    """The issue with one article (from its ## line to the next) left out."""
    start = text.index(f"## {headline}")
    end = text.index("\n## ", start + 1)
    return text[:start] + text[end + 1:]


def test_two_ingests_in_separate_processes_keep_both(tmp_path):
    idx = tmp_path / "index"
    env = {**os.environ, "RAG_EMBED_MODEL": "fake:hash-256", "PYTHONPATH": str(ROOT)}
    runs = [subprocess.Popen([sys.executable, "-m", "rag.cli", "ingest", str(f), "--index", str(idx), "--json"],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, text=True)
            for f in (ISSUE, RAW)]
    results = [r.communicate(timeout=300) for r in runs]
    assert [r.returncode for r in runs] == [0, 0], results
    added = sum(json.loads(out)["articles_added"] for out, _ in results)
    index = Index.load(idx)
    assert added == len(index.articles) > 7
    assert {a.source for a in index.articles.values()} == {str(ISSUE), str(RAW)}


def test_a_second_writer_waits_then_fails_clearly(issue_index, monkeypatch, capsys):
    from filelock import FileLock

    s = issue_index  # ISSUE indexed, as ingest([ISSUE], s) leaves it
    monkeypatch.setenv("RAG_INDEX_LOCK_TIMEOUT_S", "0.3")
    with FileLock(str(lock_path(s.index_dir))):
        code = main(["ingest", str(RAW), "--index", str(s.index_dir), "--json"])
    captured = capsys.readouterr()
    assert code == 1
    assert "index busy, waiting" in captured.err and "RAG_INDEX_LOCK_TIMEOUT_S" in captured.err
    assert "busy" in json.loads(captured.out)["error"]
    assert len(Index.load(s.index_dir).articles) == 7  # nothing overwritten, nothing half-done


def test_shared_articles_survive_a_change_to_either_file(tmp_path):
    s = _settings(tmp_path)
    whole, part = tmp_path / "whole.txt", tmp_path / "part.txt"
    text = _issue_text()
    whole.write_text(text, encoding="utf-8")
    # The same issue, cut short: its first articles are the very same articles.
    part.write_text(text[:text.index("## 陈恢清")], encoding="utf-8")
    ingest([whole, part], s, progress=False)
    assert len(_headlines(s)) == 7

    whole.write_text(_without(text, FIRST), encoding="utf-8")  # one file drops the story
    ingest([whole], s, progress=False)
    assert FIRST in _headlines(s) and len(_headlines(s)) == 7  # the other still holds it
    again = ingest([part], s, progress=False)
    assert again.files[0].status == "skipped" and FIRST in _headlines(s)

    part.write_text(_without(text[:text.index("## 陈恢清")], FIRST), encoding="utf-8")
    ingest([part], s, progress=False)
    assert FIRST not in _headlines(s) and len(_headlines(s)) == 6  # no file holds it now


def test_a_re_dated_copy_is_a_second_issue(issue_index, tmp_path):
    s = issue_index  # ISSUE indexed, as ingest([ISSUE], s) leaves it
    copy = tmp_path / "copy.txt"
    copy.write_text(_issue_text().replace("2023年7月20日", "2024年3月15日"), encoding="utf-8")
    report = ingest([copy], s, progress=False)
    assert report.articles_added == 7
    index = Index.load(s.index_dir)
    firsts = sorted(a.date for a in index.articles.values() if a.headline == FIRST)
    assert firsts == ["2023-07-20", "2024-03-15"] and len(index.articles) == 14


def test_disk_full_is_one_line_exit_1_and_the_index_is_untouched(issue_index, monkeypatch, capsys):
    import numpy as np

    import rag.search.index

    s = issue_index  # ISSUE indexed, as ingest([ISSUE], s) leaves it
    before = sorted(p.name for p in s.index_dir.parent.iterdir())

    def full(path, *a, **k):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(path))

    monkeypatch.setattr(rag.search.index.np, "save", full)
    code = main(["ingest", str(RAW), "--index", str(s.index_dir), "--json"])
    monkeypatch.setattr(rag.search.index.np, "save", np.save)
    captured = capsys.readouterr()
    assert code == 1
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1 and "No space left on device" in lines[0] and "vectors.npy" in lines[0]
    assert "Traceback" not in captured.err
    report = json.loads(captured.out)
    assert "No space left on device" in report["error"] and report["articles_added"] == 0
    assert sorted(p.name for p in s.index_dir.parent.iterdir()) == before  # no temp folder left
    assert len(Index.load(s.index_dir).articles) == 7


def test_a_read_only_index_folder_is_one_line(issue_index, monkeypatch, capsys):
    s = issue_index  # ISSUE indexed, as ingest([ISSUE], s) leaves it
    folder = s.index_dir.parent
    if os.geteuid() != 0:
        folder.chmod(0o555)
    else:  # root writes anywhere: make the folder refuse new entries as a read-only mount would
        real_mkdir = type(folder).mkdir

        def refuse(self, *a, **k):
            if self.parent == folder and not self.exists():
                raise OSError(errno.EROFS, os.strerror(errno.EROFS), str(self))
            return real_mkdir(self, *a, **k)

        monkeypatch.setattr(type(folder), "mkdir", refuse)
    try:
        code = main(["ingest", str(RAW), "--index", str(s.index_dir)])
    finally:
        folder.chmod(0o755)
        monkeypatch.undo()
    err = capsys.readouterr().err
    assert code == 1 and len(err.strip().splitlines()) == 1
    assert str(folder) in err and ("Read-only" in err or "Permission denied" in err)
    assert len(Index.load(s.index_dir).articles) == 7


def test_unreadable_folders_and_dangling_links_are_reported(tmp_path, monkeypatch, capsys):
    inbox = tmp_path / "in"
    (inbox / "locked").mkdir(parents=True)
    shutil.copy(RAW, inbox / "locked" / "hidden.txt")
    shutil.copy(ISSUE, inbox / "good.txt")
    (inbox / "gone.txt").symlink_to(tmp_path / "missing.txt")
    (inbox / "locked").chmod(0o000)
    if os.geteuid() == 0:  # root reads mode-000 folders: make listing it fail as it would for a user
        real_scandir = os.scandir

        def scandir(path="."):
            if os.fspath(path) == str(inbox / "locked"):
                raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), os.fspath(path))
            return real_scandir(path)

        monkeypatch.setattr(os, "scandir", scandir)
    try:
        code = main(["ingest", str(inbox), "--index", str(tmp_path / "index"), "--json"])
    finally:
        (inbox / "locked").chmod(0o755)
    report = json.loads(capsys.readouterr().out)
    errors = {f["path"]: f["error"] for f in report["files"] if f["status"] == "error"}
    assert code == 1
    assert "Permission denied" in errors[str(inbox / "locked")]
    assert "broken symbolic link" in errors[str(inbox / "gone.txt")]
    assert report["articles_added"] == 7  # good.txt still went in


def test_leftovers_of_a_killed_ingest_are_cleaned(issue_index, tmp_path):
    s = issue_index  # ISSUE indexed, as ingest([ISSUE], s) leaves it
    tmp = s.index_dir.with_name("index.tmp-4242-1")
    shutil.copytree(s.index_dir, tmp)
    (tmp / "manifest.json").unlink()  # killed mid-write
    shutil.copytree(s.index_dir, s.index_dir.with_name("index.old"))  # killed after the swap
    assert len(Index.load(s.index_dir).articles) == 7
    assert sorted(p.name for p in tmp_path.iterdir()) == ["index", "index.lock"]


def test_a_reader_during_a_swap_sees_one_whole_index(issue_index, monkeypatch):
    import rag.search.index
    from rag.search.keyword import KeywordIndex

    s = issue_index  # ISSUE indexed, as ingest([ISSUE], s) leaves it
    real_load = KeywordIndex.load
    swapped = []

    def load_and_swap(path):
        if not swapped:  # another process finishes an ingest while we read
            swapped.append(True)
            monkeypatch.setattr(rag.search.index.KeywordIndex, "load", real_load)
            ingest([RAW], s, progress=False)
        return real_load(path)

    monkeypatch.setattr(rag.search.index.KeywordIndex, "load", staticmethod(load_and_swap))
    index = Index.load(s.index_dir)
    assert swapped
    assert len(index.articles) == index.manifest["n_articles"] > 7
    assert len(index.chunks) == index.vectors.shape[0] == index.manifest["n_chunks"]
    assert {c.article_id for c in index.chunks} == set(index.articles)


def test_a_format_1_index_is_migrated_without_embedding_again(issue_index):
    import hashlib

    s = issue_index  # ISSUE indexed, as ingest([ISSUE], s) leaves it
    d = s.index_dir  # rewrite it as the previous version wrote it: ids from the text alone
    arts = [json.loads(line) for line in (d / "articles.jsonl").read_text().splitlines()]
    old = {a["id"]: hashlib.sha1(f"{a['headline']}\n{a['body']}".encode()).hexdigest()[:16] for a in arts}
    (d / "articles.jsonl").write_text("".join(json.dumps({**a, "id": old[a["id"]]}) + "\n" for a in arts))
    chunks = [json.loads(line) for line in (d / "chunks.jsonl").read_text().splitlines()]
    (d / "chunks.jsonl").write_text("".join(
        json.dumps({**c, "id": f"{old[c['article_id']]}#{c['n']}", "article_id": old[c["article_id"]]}) + "\n"
        for c in chunks))
    manifest = json.loads((d / "manifest.json").read_text())
    manifest["format_version"] = 1
    for meta in manifest["files"].values():
        meta["articles"] = [old[i] for i in meta["articles"]]
    (d / "manifest.json").write_text(json.dumps(manifest))

    assert set(Index.load(d).articles) == set(old)  # readable as it is, under the new ids
    report = ingest([ISSUE], s, progress=False)
    assert (report.articles_added, report.articles_unchanged, report.chunks_embedded) == (0, 7, 0)
    assert json.loads((d / "manifest.json").read_text())["format_version"] == 2
