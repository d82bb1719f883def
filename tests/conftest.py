"""Shared fixtures: the bundled sample corpus indexed with the fake embedder."""

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "corpus"
DEV = ROOT / "eval" / "dev_questions.jsonl"


@pytest.fixture(autouse=True)
def _isolated_env(monkeypatch, tmp_path_factory):
    # No test reads the developer's own index or settings.
    for var in ("RAG_INDEX", "RAG_EMBED_MODEL", "RAG_LLM_BASE_URL", "RAG_LLM_MODEL"):
        monkeypatch.delenv(var, raising=False)


@pytest.fixture(scope="session")
def fake_index(tmp_path_factory):
    """The sample corpus indexed with the fake embedder (built once per session; read-only)."""
    from rag.ingest.indexer import ingest
    from rag.settings import Settings

    settings = Settings.load(index_dir=tmp_path_factory.mktemp("fake") / "index",
                             embed_model="fake:hash-256")
    report = ingest([CORPUS], settings, progress=False)
    assert report.ok, report
    return settings


@pytest.fixture(scope="session")
def fake_assistant(fake_index):
    from rag.pipeline import Assistant

    return Assistant.open(fake_index)
