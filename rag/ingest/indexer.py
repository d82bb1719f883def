"""Add raw issue files to the index: incremental, idempotent and atomic."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from .chunk import chunk_articles
from .pdfpages import PAGE_SUFFIXES
from .textio import file_hash
from ..embedding.embed import Embedder, embed_documents, make_embedder
from ..errors import IndexMissing, IndexWriteError, InputError
from ..search.index import FORMAT_VERSION, Index, clean_leftovers, empty_index, resolve_kind
from ..search.indexlock import writer_lock
from ..search.keyword import KeywordIndex, Tokenizer, corpus_user_words
from ..records import Article
from ..settings import Settings


@dataclass(frozen=True)
class FileReport:
    """What happened to one input file."""

    path: str
    status: str  # "ok" | "skipped" | "error"
    error: str | None = None
    date: str | None = None
    date_inferred: bool = False
    issue: str | None = None
    articles: tuple[dict[str, Any], ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {"path": self.path, "status": self.status, "error": self.error, "date": self.date,
                "date_inferred": self.date_inferred, "issue": self.issue,
                "articles": list(self.articles)}


@dataclass(frozen=True)
class IngestReport:
    files: tuple[FileReport, ...]
    articles_added: int
    articles_unchanged: int
    chunks: int
    chunks_embedded: int = 0
    timings_s: dict[str, float] = field(default_factory=dict)
    error: str | None = None  # why the whole ingest failed (index busy, disk full, …)
    # New passages that read as instructions to a model: kept out of LLM prompts.
    flagged: tuple[dict[str, str], ...] = ()

    @property
    def ok(self) -> bool:
        return self.error is None and all(f.status != "error" for f in self.files)

    @classmethod
    def failed(cls, error: str) -> "IngestReport":
        """The report of an ingest that changed nothing."""
        return cls((), 0, 0, 0, error=error)

    def to_dict(self) -> dict[str, Any]:
        return {"files": [f.to_dict() for f in self.files], "articles_added": self.articles_added,
                "articles_unchanged": self.articles_unchanged, "chunks": self.chunks,
                "error": self.error, "flagged_passages": list(self.flagged)}


def _same_content(old: Article, new: Article) -> bool:
    # The same article arriving under another file name or position is not new.
    return replace(old, source=new.source, position=new.position) == new


def _fingerprint(settings: Settings) -> dict[str, Any]:
    return {"max_tokens": settings.chunk_max_tokens, "overlap": settings.chunk_overlap_sentences}




def _summary(articles: Sequence[Article]) -> tuple[dict[str, Any], ...]:
    return tuple({"id": a.id, "headline": a.headline, "chars": len(a.body)} for a in articles)


def ingest(paths: Sequence[str | Path], settings: Settings, date: str | None = None,
           embedder: Embedder | None = None, progress: bool = True,
           on_file: Callable[[FileReport], None] | None = None,
           on_wait: Callable[[str], None] | None = None,
           parse: Callable[..., Any] | None = None) -> IngestReport:
    """Parse ``paths`` (files or folders) and add their articles to the index.

    Unchanged files are skipped, unchanged chunks keep their vectors, and the
    index folder is replaced whole only once everything has succeeded. One
    ingest at a time: a second one waits for the writer lock (``on_wait``
    hears that it waits) and raises IndexBusy after the lock timeout. A disk
    fault raises IndexWriteError and leaves the index on disk as it was.
    ``parse`` replaces ``parse_file`` (a server parses in a child process).
    """
    from .textio import path_problem

    # Named paths that cannot be read are refused before the lock is taken:
    # reading a FIFO or /dev/zero would block, or never end, while holding it.
    refused, readable = [], []
    for p in map(Path, paths):
        problem = path_problem(p) if p.exists() or p.is_symlink() else None
        if problem:
            refused.append(FileReport(str(p), "error", str(InputError(p, problem))))
        else:
            readable.append(p)
    if not readable:
        return IngestReport(tuple(refused), 0, 0, _chunks_on_disk(settings.index_dir))
    embedder = embedder or make_embedder(settings)
    with writer_lock(settings.index_dir, settings.index_lock_timeout_s, on_wait):
        clean_leftovers(settings.index_dir)
        report = _ingest_locked(readable, settings, date, embedder, progress, on_file, parse)
    return replace(report, files=tuple(refused) + report.files)


def _ingest_locked(paths, settings: Settings, date, embedder: Embedder, progress: bool, on_file,
                   parse=None):
    import time

    from .parse import find_inputs, parse_file

    parse = parse or parse_file
    t0 = time.perf_counter()
    try:
        index = Index.load(settings.index_dir, model_id=embedder.model_id)
        if index.manifest.get("chunking") != _fingerprint(settings):
            index = _rechunk_all(index, settings)
    except IndexMissing:
        index = empty_index(settings.index_dir, embedder.model_id, embedder.dim, _fingerprint(settings))

    files_meta: dict[str, dict[str, Any]] = dict(index.files)
    articles: dict[str, Article] = dict(index.articles)
    holders = _holders(files_meta)
    reports: list[FileReport] = []
    added: list[Article] = []
    unchanged = 0

    expanded: list[Path] = []
    for p in paths:
        p = Path(p)
        if not p.exists():
            reports.append(FileReport(str(p), "error", str(InputError(p, "no such file or folder"))))
            continue
        found, problems = find_inputs([p])
        expanded.extend(found)
        reports.extend(FileReport(e.path, "error", str(e)) for e in problems)

    # 1. Parse what changed; 2. join jumps between page files of one issue; 3. apply.
    jobs: list[tuple[Path, str, str, Any, int, str | None]] = []  # path, key, sha256, parsed, report slot, --date
    for path in expanded:
        key = str(path.resolve())
        try:
            digest = file_hash(path)
        except OSError as exc:
            reports.append(FileReport(str(path), "error", str(InputError(path, exc.strerror or str(exc)))))
            continue
        meta = files_meta.get(key)
        if meta and meta["sha256"] == digest and meta.get("date_option") == date \
                and meta.get("ocr_option", "auto") == settings.ocr_mode \
                and all(i in articles for i in meta["articles"]):
            kept = [articles[i] for i in meta["articles"]]
            unchanged += len(kept)
            reports.append(FileReport(str(path), "skipped", None, meta.get("date"),
                                      meta.get("date_inferred", False), meta.get("issue"), _summary(kept)))
            continue
        try:
            parsed = parse(path, date=date, **_page_options(settings, digest, progress))
        except InputError as exc:
            reports.append(FileReport(str(path), "error", str(exc)))
            continue
        jobs.append((path, key, digest, parsed, len(reports), date))
        reports.append(None)  # filled in when applied

    def reread(key: str) -> None:
        """A page file not parsed this time, parsed again because a jump partner changed."""
        nonlocal unchanged
        given = files_meta[key].get("date_option")
        slot = next((i for i, r in enumerate(reports) if r and r.status == "skipped"
                     and str(Path(r.path).resolve()) == key), None)
        path = Path(reports[slot].path) if slot is not None else Path(key)
        try:
            digest = file_hash(path)
            parsed = parse(path, date=given, **_page_options(settings, digest, progress))
        except (OSError, InputError):
            return  # gone or unreadable: its articles stay as they are
        if slot is not None:
            unchanged -= len(reports[slot].articles)
        else:
            slot = len(reports)
            reports.append(None)
        jobs.append((path, key, digest, parsed, slot, given))

    partners = _page_partners(jobs, files_meta, articles, holders)
    for key in partners:
        reread(key)
    pieces, held, joined_with = _join_page_files(jobs)

    for path, key, digest, parsed, slot, given in jobs:
        meta = files_meta.get(key)
        parsed = replace(parsed, articles=tuple(pieces.get(key, parsed.articles)))
        ids = [a.id for a in parsed.articles] + held.get(key, [])
        for old_id in (set(meta["articles"]) if meta else set()) - set(ids):
            _release(old_id, key, holders, articles)
        for article in parsed.articles:
            if article.id in articles and _same_content(articles[article.id], article):
                unchanged += 1
            else:
                added.append(article)
                articles[article.id] = article
            holders.setdefault(article.id, set()).add(key)
        for aid in held.get(key, []):
            holders.setdefault(aid, set()).add(key)
        files_meta[key] = {"sha256": digest, "date_option": given, "ocr_option": settings.ocr_mode, "date": parsed.date,
                           "date_inferred": parsed.date_inferred, "issue": parsed.issue, "articles": ids}
        if joined_with.get(key):
            files_meta[key]["jumps_with"] = sorted(joined_with[key])
        error = "; ".join(str(e) for e in parsed.errors[:20]) or None
        if error and len(parsed.errors) > 20:
            error += f"; … and {len(parsed.errors) - 20} more broken lines"
        report = FileReport(str(path), "error" if error else "ok", error, parsed.date,
                            parsed.date_inferred, parsed.issue, _summary(parsed.articles))
        reports[slot] = report
        if on_file:
            on_file(report)
    t_parse = time.perf_counter() - t0

    changed = bool(added) or set(articles) != set(index.articles) or files_meta != index.files \
        or index.manifest.get("format_version") != FORMAT_VERSION
    # Another search kind asked for: the index is written again (its vectors are kept).
    rekind = index.manifest.get("faiss") != resolve_kind(settings.index_kind, len(index.chunks))
    n_embedded = 0
    t_chunk = t_embed = t_index = 0.0
    if changed or (rekind and index.chunks):
        t2 = time.perf_counter()
        if changed:
            index, n_embedded, t_chunk, t_embed = _rebuild_vectors(index, articles, embedder, settings, progress)
            t2 = time.perf_counter()
            index.keyword = _keyword_index(index, progress)
            index.manifest["files"] = files_meta
        try:
            index.save(settings.index_dir, settings.index_kind)
        except OSError as exc:
            raise IndexWriteError(exc.filename or settings.index_dir, exc.strerror or str(exc)) from exc
        t_index = time.perf_counter() - t2
    added_ids = {a.id for a in added}
    flagged = tuple({"chunk_id": c.id, "headline": c.headline, "phrase": c.instruction}
                    for c in index.chunks if c.instruction and c.article_id in added_ids)
    return IngestReport(tuple(reports), len(added_ids), unchanged, len(index.chunks), n_embedded,
                        {"parse": t_parse, "chunk": t_chunk, "embed": t_embed, "index": t_index,
                         "fsync": index.fsync_s, "total": time.perf_counter() - t0}, flagged=flagged)


def _page_partners(jobs, files_meta: dict[str, dict[str, Any]], articles: dict[str, Article],
                   holders: dict[str, set[str]]) -> list[str]:
    """Page files not parsed now that must be, to join jumps again: the files a changed
    file was joined with before, and the files holding a piece that a new piece jumps to
    or from."""
    from .jumps import dangling, partner

    parsed = {key for _, key, *_ in jobs}
    want: set[str] = set()
    pool = [a for a in articles.values() if a.regions]
    for _, key, _, got, _, _ in jobs:
        want.update((files_meta.get(key) or {}).get("jumps_with", []))
        outs, ins = dangling(list(got.articles))
        for a in outs:
            b = partner(a, pool)
            if b is not None:
                want.update(holders.get(b.id, ()))
        for b in ins:
            want.update(k for a in pool if partner(a, [b]) is b for k in holders.get(a.id, ()))
    return sorted(k for k in want - parsed if k in files_meta and Path(k).suffix.lower() in PAGE_SUFFIXES)


def _join_page_files(jobs):
    """Join the jumps between the page files parsed now: (articles per file key, ids a file
    holds through a join, the files each was joined with)."""
    from .jumps import dangling, join, partner

    pieces = {key: list(got.articles) for path, key, _, got, _, _ in jobs if path.suffix.lower() in PAGE_SUFFIXES}
    held: dict[str, list[str]] = {}
    joined_with: dict[str, set[str]] = {}
    for key in list(pieces):
        for a in dangling(pieces[key])[0]:
            into = [(k, b) for k, arts in pieces.items() if k != key for b in dangling(arts)[1]]
            b = partner(a, [b for _, b in into])
            if b is None:
                continue
            other = next(k for k, x in into if x is b)
            pieces[key][pieces[key].index(a)] = join(a, b)
            pieces[other].remove(b)
            held.setdefault(other, []).append(a.id)
            joined_with.setdefault(key, set()).add(other)
            joined_with.setdefault(other, set()).add(key)
    return pieces, held, joined_with


def _chunks_on_disk(index_dir: Path) -> int:
    import json

    try:
        return int(json.loads((Path(index_dir) / "manifest.json").read_text("utf-8"))["n_chunks"])
    except (OSError, ValueError, KeyError, TypeError):
        return 0


def cache_dir(settings: Settings) -> Path:
    """Beside the index, not in it (the index folder is swapped whole): OCR results, page images."""
    return settings.index_dir.parent / f"{settings.index_dir.name}.cache"


def _page_options(settings: Settings, digest: str, progress: bool) -> dict[str, Any]:
    return {"ocr": settings.ocr_mode, "cache_dir": cache_dir(settings) / "ocr", "digest": digest,
            "progress": progress, "max_pages": settings.pdf_max_pages}


def _holders(files_meta: dict[str, dict[str, Any]]) -> dict[str, set[str]]:
    """Which files hold each article: an article goes only when no file holds it."""
    holders: dict[str, set[str]] = {}
    for key, meta in files_meta.items():
        for aid in meta["articles"]:
            holders.setdefault(aid, set()).add(key)
    return holders


def _release(aid: str, key: str, holders: dict[str, set[str]], articles: dict[str, Article]) -> None:
    """File ``key`` no longer holds article ``aid``; drop the article if no other file does."""
    left = holders.get(aid, set()) - {key}
    if left:
        holders[aid] = left
        if aid in articles and str(Path(articles[aid].source).resolve()) == key:
            articles[aid] = replace(articles[aid], source=min(left))
    else:
        holders.pop(aid, None)
        articles.pop(aid, None)


def _rebuild_vectors(index: Index, articles: dict[str, Article], embedder: Embedder,
                     settings: Settings, progress: bool):
    """Chunk the new article set, reusing vectors of chunks whose text is unchanged."""
    import time

    t0 = time.perf_counter()
    # A vector depends on the embedded text alone: reuse it across ids (a
    # reprint in another issue, or ids renamed by a format migration).
    old_rows = {c.embed_text: i for i, c in enumerate(index.chunks)}
    old_by_article: dict[str, list] = {}
    for c in index.chunks:
        old_by_article.setdefault(c.article_id, []).append(c)
    fresh = [a for a in articles.values()
             if a.id not in old_by_article or index.articles.get(a.id) != a]
    new_chunks = {a.id: [] for a in fresh}
    for c in chunk_articles(fresh, embedder.count_tokens, settings.chunk_max_tokens,
                            settings.chunk_overlap_sentences):
        new_chunks[c.article_id].append(c)
    chunks = []
    for a in articles.values():
        chunks.extend(new_chunks[a.id] if a.id in new_chunks else old_by_article.get(a.id, []))
    t_chunk = time.perf_counter() - t0

    vectors = np.zeros((len(chunks), embedder.dim), np.float32)
    todo: dict[str, list[int]] = {}  # identical texts are embedded once
    for i, c in enumerate(chunks):
        row = old_rows.get(c.embed_text)
        if row is not None:
            vectors[i] = index.vectors[row]
        else:
            todo.setdefault(c.embed_text, []).append(i)
    texts = list(todo)
    t1 = time.perf_counter()
    if texts:
        embedded = embed_documents(embedder, texts, settings.embed_batch_size, progress)
        for text, vec in zip(texts, embedded):
            vectors[todo[text]] = vec
    t_embed = time.perf_counter() - t1
    new = replace(index, articles=dict(articles), chunks=chunks, vectors=vectors, _faiss=None)
    return new, len(texts), t_chunk, t_embed


def _rechunk_all(index: Index, settings: Settings) -> Index:
    # Chunking settings changed: drop every chunk so all are rebuilt.
    index.manifest["chunking"] = _fingerprint(settings)
    return replace(index, chunks=[], vectors=np.zeros((0, index.vectors.shape[1]), np.float32))


def _keyword_index(index: Index, progress: bool) -> KeywordIndex:
    base = Tokenizer()
    texts = [a.headline + "\n" + a.body for a in index.articles.values()]
    tokenizer = Tokenizer(corpus_user_words(texts, base.is_word))
    return KeywordIndex.build([c.embed_text for c in index.chunks], tokenizer, progress)
