"""The index: a folder of plain files, written whole and swapped in atomically.

    manifest.json   model id, dimension, counts, format version, source files
    articles.jsonl  one Article per line
    chunks.jsonl    one Chunk per line; row i matches vectors row i
    vectors.npy     float32, L2-normalized (inner product = cosine)
    faiss.index     only for the approximate (HNSW) index of large archives
    keyword/        BM25 (bm25s), jieba user dictionary, document frequencies
"""

from __future__ import annotations

import gc
import glob
import json
import os
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import orjson

from ..errors import IndexError_, IndexMismatch, IndexMissing
from .keyword import KeywordIndex
from ..records import Article, Chunk
from ..settings import INDEX_KINDS

#: 2: an article's id includes its issue (date, 期号, 版次); 1 is migrated on load.
FORMAT_VERSION = 2
READABLE_FORMATS = (1, 2)
#: Reads that find the index swapped under them start over this many times.
LOAD_ATTEMPTS = 5
#: Nearest-neighbour search: exact inner product, or an HNSW graph. "auto" picks
#: HNSW above ANN_THRESHOLD chunks. The kind built is recorded in manifest.json.
ANN_THRESHOLD = 200_000


def resolve_kind(kind: str, n_vectors: int) -> str:
    """"flat" or "hnsw" for ``kind`` (one of INDEX_KINDS) over ``n_vectors`` vectors."""
    if kind not in INDEX_KINDS:
        raise ValueError(f"index kind must be one of {', '.join(INDEX_KINDS)}, got {kind!r}")
    if kind == "auto":
        return "hnsw" if n_vectors > ANN_THRESHOLD else "flat"
    return kind


@dataclass
class Index:
    """Everything retrieval needs, in memory."""

    path: Path
    manifest: dict[str, Any]
    articles: dict[str, Article]
    chunks: list[Chunk]
    vectors: np.ndarray
    keyword: KeywordIndex
    _faiss: Any = field(default=None, repr=False)
    fsync_s: float = field(default=0.0, repr=False)  # what the last save spent in fsync

    @property
    def model_id(self) -> str:
        return self.manifest["model"]

    @property
    def files(self) -> dict[str, dict[str, Any]]:
        return self.manifest.get("files", {})

    @property
    def faiss(self):
        if self._faiss is None:
            self._faiss = _faiss_index(self.path, self.vectors, self.manifest.get("faiss", "flat"))
        return self._faiss

    def search_dense(self, query_vector: np.ndarray, k: int) -> list[tuple[int, float]]:
        """(row, cosine) of the ``k`` nearest chunks."""
        if not self.chunks:
            return []
        k = min(k, len(self.chunks))
        scores, rows = self.faiss.search(query_vector.reshape(1, -1).astype(np.float32), k)
        return [(int(r), float(s)) for r, s in zip(rows[0], scores[0]) if r >= 0]

    @classmethod
    def load(cls, path: Path, model_id: str | None = None) -> "Index":
        """Load an index folder; refuse one built with another model or format.

        Never waits for a writer: a swap that happens while we read is seen
        (the manifest's generation changed) and the read starts over.
        """
        from .indexlock import try_writer_lock

        path = Path(path)
        with try_writer_lock(path) as idle:
            if idle:  # no writer: finish what a crashed one left behind
                clean_leftovers(path)
        for attempt in range(LOAD_ATTEMPTS):
            try:
                return cls._load_once(path, model_id)
            except _Moved:
                time.sleep(0.02 * (attempt + 1))
            except OSError as exc:
                raise IndexError_(f"cannot read the index: {exc.filename or path}: "
                                  f"{exc.strerror or exc}") from exc
        raise IndexError_(f"index at {path} is incomplete or kept changing while being read: "
                          f"try again, or delete it and ingest again")

    @classmethod
    def _load_once(cls, path: Path, model_id: str | None) -> "Index":
        folder = path
        if not (path / "manifest.json").exists():
            old = path.with_name(path.name + ".old")
            if not (old / "manifest.json").exists():
                raise IndexMissing(f"no index at {path}: run `rag ingest corpus/` first")
            folder = old  # between a writer's two renames: the old index is whole
        manifest = _read_manifest(folder)
        check_manifest(path, manifest, model_id)
        # Tens of thousands of small records: the cyclic GC would rescan them all
        # many times over while they are created, and none of them form cycles.
        gc_was_on = gc.isenabled()
        gc.disable()
        try:
            articles = {a.id: a for a in map(Article.from_dict, _read_jsonl(folder / "articles.jsonl"))}
            chunks = [Chunk.from_dict(d) for d in _read_jsonl(folder / "chunks.jsonl")]
            vectors = np.load(folder / "vectors.npy", mmap_mode="r") if chunks else \
                np.zeros((0, manifest["dim"]), np.float32)
            keyword = KeywordIndex.load(folder / "keyword")
        except FileNotFoundError:
            raise _Moved() from None
        finally:
            if gc_was_on:
                gc.enable()
        if _read_manifest(folder).get("generation") != manifest.get("generation"):
            raise _Moved()  # swapped while we read: some files may be from the new index
        if manifest.get("format_version") != FORMAT_VERSION:
            from .migrate import migrate

            manifest, articles, chunks = migrate(manifest, articles, chunks)
        return cls(path, manifest, articles, chunks, np.asarray(vectors), keyword)

    def save(self, path: Path | None = None, kind: str = "auto") -> None:
        """Write the whole index to a temporary sibling folder, then swap it in.
        ``kind`` (INDEX_KINDS) chooses exact or HNSW search; the manifest records it."""
        kind = resolve_kind(kind, len(self.chunks))
        target = Path(path or self.path)
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_name(f"{target.name}.tmp-{os.getpid()}-{time.monotonic_ns()}")
        tmp.mkdir()
        try:
            self.manifest.update(
                # A reader compares generations to notice a swap under it.
                format_version=FORMAT_VERSION, generation=f"{os.getpid()}-{time.time_ns()}",
                n_articles=len(self.articles),
                n_chunks=len(self.chunks), dim=int(self.vectors.shape[1]),
                faiss=kind,
                written=time.strftime("%Y-%m-%dT%H:%M:%S"))
            _write_jsonl(tmp / "articles.jsonl", (a.to_dict() for a in self.articles.values()))
            _write_jsonl(tmp / "chunks.jsonl", (c.to_dict() for c in self.chunks))
            np.save(tmp / "vectors.npy", np.ascontiguousarray(self.vectors, dtype=np.float32))
            if kind == "hnsw":
                import faiss

                faiss.write_index(build_faiss(self.vectors, kind), str(tmp / "faiss.index"))
            self.keyword.save(tmp / "keyword")
            t0 = time.perf_counter()
            # On disk before the manifest names them, and the manifest before the swap
            # (as SQLite and LMDB order their writes): a power cut never leaves a
            # manifest pointing at files the disk does not hold.
            fsync_tree(tmp)
            spent = time.perf_counter() - t0
            # The manifest is written last: a folder without one is never loaded.
            (tmp / "manifest.json").write_text(
                json.dumps(self.manifest, ensure_ascii=False, indent=1), encoding="utf-8")
            t0 = time.perf_counter()
            fsync_path(tmp / "manifest.json")
            fsync_path(tmp)
            _swap(tmp, target)
            fsync_path(target.parent)  # the rename itself, recorded in the parent folder
            self.fsync_s = spent + time.perf_counter() - t0
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        self.path = target
        self._faiss = None


def fsync_path(path: Path) -> None:
    """Flush one file's or folder's contents (a folder's: its entries) to the disk."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def fsync_tree(folder: Path) -> None:
    """fsync every file under ``folder``, then each folder, deepest first."""
    for root, dirs, files in os.walk(folder, topdown=False):
        for name in files:
            fsync_path(Path(root) / name)
        fsync_path(Path(root))


def build_faiss(vectors: np.ndarray, kind: str = "flat", hnsw_m: int = 32):
    """A FAISS index over ``vectors``: exact inner product ("flat") or an HNSW graph ("hnsw")."""
    import faiss

    vectors = np.ascontiguousarray(vectors, dtype=np.float32)
    dim = vectors.shape[1]
    if resolve_kind(kind, len(vectors)) == "hnsw":
        index = faiss.IndexHNSWFlat(dim, hnsw_m, faiss.METRIC_INNER_PRODUCT)
        index.hnsw.efConstruction = 80
        index.hnsw.efSearch = 64
    else:
        index = faiss.IndexFlatIP(dim)
    if len(vectors):
        index.add(vectors)
    return index


def _faiss_index(path: Path, vectors: np.ndarray, kind: str):
    stored = path / "faiss.index"
    if kind == "hnsw" and stored.exists():
        import faiss

        index = faiss.read_index(str(stored))
        index.hnsw.efSearch = 64
        return index
    return build_faiss(vectors, kind)


class _Moved(Exception):
    """The index folder was swapped while being read."""


def _read_manifest(folder: Path) -> dict[str, Any]:
    try:
        return json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise _Moved() from None


def check_manifest(path: Path, manifest: dict[str, Any], model_id: str | None) -> None:
    """Refuse an index of an unknown format or built with another model."""
    if manifest.get("format_version") not in READABLE_FORMATS:
        raise IndexMismatch(
            f"index at {path} has format {manifest.get('format_version')}, this version "
            f"reads {FORMAT_VERSION}: delete it and ingest again")
    if model_id is not None and manifest["model"] != model_id:
        raise IndexMismatch(
            f"index at {path} was built with embedding model {manifest['model']!r}, "
            f"but the settings name {model_id!r}: use that model (RAG_EMBED_MODEL) "
            f"or build a new index with --index")


def _swap(new: Path, target: Path) -> None:
    # Where the kernel can, the two folders trade places in one step, so a
    # reader always finds a whole index at ``target``. Elsewhere two renames:
    # the old folder stays whole until the new one is in place, readers use
    # it meanwhile, and clean_leftovers() finishes the job after a crash.
    if target.exists() and _exchange(new, target):
        shutil.rmtree(new, ignore_errors=True)  # ``new`` now holds the old index
        return
    old = target.with_name(target.name + ".old")
    if old.exists():
        shutil.rmtree(old)
    if target.exists():
        os.rename(target, old)
    os.rename(new, target)
    shutil.rmtree(old, ignore_errors=True)


def _exchange(a: Path, b: Path) -> bool:
    """Atomically swap two paths (Linux renameat2 RENAME_EXCHANGE); False where unsupported."""
    import ctypes
    import errno

    try:
        libc = ctypes.CDLL(None, use_errno=True)
        renameat2 = libc.renameat2
    except (OSError, AttributeError):
        return False
    renameat2.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint]
    at_fdcwd, rename_exchange = -100, 2
    if renameat2(at_fdcwd, os.fsencode(a), at_fdcwd, os.fsencode(b), rename_exchange) == 0:
        return True
    err = ctypes.get_errno()
    if err in (errno.EINVAL, errno.ENOSYS, errno.EOPNOTSUPP, errno.ENOTSUP):
        return False
    raise OSError(err, os.strerror(err), str(b))


def clean_leftovers(target: Path) -> None:
    """Recover or remove what a killed writer left: ``index.old``, ``index.tmp-*``.

    Call only while holding the writer lock, so no live writer owns them.
    """
    old = target.with_name(target.name + ".old")
    try:
        if not (target / "manifest.json").exists() and (old / "manifest.json").exists():
            if target.exists():
                shutil.rmtree(target)
            os.rename(old, target)
        if old.exists():
            shutil.rmtree(old, ignore_errors=True)
        for tmp in target.parent.glob(f"{glob.escape(target.name)}.tmp-*"):
            shutil.rmtree(tmp, ignore_errors=True)
    except OSError:
        pass  # a read-only folder: readers still load the whole index where it is


def empty_index(path: Path, model_id: str, dim: int, settings_fingerprint: dict[str, Any]) -> Index:
    """A new, empty index for ``model_id``."""
    from .keyword import Tokenizer

    manifest = {"format_version": FORMAT_VERSION, "model": model_id, "dim": dim,
                "chunking": settings_fingerprint, "files": {}}
    return Index(Path(path), manifest, {}, [], np.zeros((0, dim), np.float32),
                 KeywordIndex(Tokenizer(), None, {}, 0))


def _read_jsonl(path: Path):
    with open(path, "rb") as fh:
        for line in fh:
            if line.strip():
                yield orjson.loads(line)


def _write_jsonl(path: Path, rows) -> None:
    with open(path, "w", encoding="utf-8") as fh:
        for row in rows:
            fh.write(json.dumps(row, ensure_ascii=False))
            fh.write("\n")
