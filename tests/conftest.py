"""Shared fixtures: the bundled sample corpus indexed with the fake embedder, and one
sample issue indexed with it (a fresh copy per test).

Indexes are built once per session and never changed: a test that writes to an
index gets its own copy in ``tmp_path``.
"""

import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "corpus"
DEV = ROOT / "eval" / "dev_questions.jsonl"
FAKE_MODEL = "fake:hash-256"

ISSUE = CORPUS / "002_7a2d84cb32ceeabd.txt"  # 2023-07-20, 第23368期, 7 articles
ISSUE_ARTICLES = 7


@pytest.fixture(autouse=True)
def _isolated_env(monkeypatch, tmp_path_factory):
    # No test reads the developer's own index or settings.
    for var in ("RAG_INDEX", "RAG_EMBED_MODEL", "RAG_LLM_BASE_URL", "RAG_LLM_MODEL"):
        monkeypatch.delenv(var, raising=False)


def copy_index(template: Path, folder: Path, **settings):
    """A writable copy of the index folder ``template/index`` (and its lock file) in ``folder``."""
    from rag.settings import Settings

    shutil.copytree(template, folder, dirs_exist_ok=True)
    return Settings.load(index_dir=folder / "index", **settings)


@pytest.fixture(scope="session")
def fake_index(tmp_path_factory):
    """The sample corpus indexed with the fake embedder (built once per session; read-only)."""
    from rag.ingest.indexer import ingest
    from rag.settings import Settings

    settings = Settings.load(index_dir=tmp_path_factory.mktemp("fake") / "index",
                             embed_model=FAKE_MODEL)
    report = ingest([CORPUS], settings, progress=False)
    assert report.ok, report
    return settings


@pytest.fixture(scope="session")
def fake_assistant(fake_index):
    from rag.pipeline import Assistant

    return Assistant.open(fake_index)


@pytest.fixture(scope="session")
def _issue_index_template(tmp_path_factory):
    from rag.ingest.indexer import ingest
    from rag.settings import Settings

    folder = tmp_path_factory.mktemp("issue-template")
    settings = Settings.load(index_dir=folder / "index", embed_model=FAKE_MODEL)
    report = ingest([ISSUE], settings, progress=False)
    assert report.ok and report.articles_added == ISSUE_ARTICLES, report
    return folder


@pytest.fixture
def issue_index(_issue_index_template, tmp_path):
    """``tmp_path/index`` holding ISSUE indexed with the fake embedder, as
    ``ingest([ISSUE], settings)`` leaves it (``index`` and ``index.lock``): the
    test's own copy, free to change. Returns its settings."""
    return copy_index(_issue_index_template, tmp_path, embed_model=FAKE_MODEL)
