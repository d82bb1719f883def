"""The search kind (exact or HNSW) is a setting, recorded in manifest.json; nothing patches globals."""

import json

import numpy as np
import pytest

from rag.errors import SettingsError
from rag.ingest import ingest
from rag.search.index import ANN_THRESHOLD, Index, resolve_kind
from rag.settings import Settings

from .conftest import CORPUS

pytestmark = pytest.mark.unit


def test_auto_is_exact_below_the_threshold_and_hnsw_above():
    assert resolve_kind("auto", ANN_THRESHOLD) == "flat"
    assert resolve_kind("auto", ANN_THRESHOLD + 1) == "hnsw"
    assert resolve_kind("hnsw", 3) == "hnsw"
    with pytest.raises(SettingsError, match="index_kind must be one of auto, flat, hnsw, got 'ivf'"):
        Settings.load(index_kind="ivf")


def test_the_kind_asked_for_is_built_recorded_and_searched(tmp_path):
    s = Settings.load(index_dir=tmp_path / "index", embed_model="fake:hash-256", index_kind="hnsw")
    assert ingest([CORPUS], s, progress=False).ok
    manifest = json.loads((s.index_dir / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["faiss"] == "hnsw" and (s.index_dir / "faiss.index").exists()
    index = Index.load(s.index_dir)
    assert type(index.faiss).__name__ == "IndexHNSWFlat"
    row, score = index.search_dense(index.vectors[5], 1)[0]
    assert row == 5 and score == pytest.approx(1.0, abs=1e-5)

    # Asking for exact search rewrites the index without embedding anything again.
    before = np.asarray(index.vectors).copy()
    report = ingest([CORPUS], s.with_(index_kind="flat"), progress=False)
    assert report.chunks_embedded == 0
    manifest = json.loads((s.index_dir / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["faiss"] == "flat" and not (s.index_dir / "faiss.index").exists()
    flat = Index.load(s.index_dir)
    assert type(flat.faiss).__name__ == "IndexFlatIP"
    assert (np.asarray(flat.vectors) == before).all()
