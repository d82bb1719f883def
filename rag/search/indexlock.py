"""One writer per index: an exclusive lock held for an ingest's whole read-modify-swap.

The lock is a file beside the index folder (``index.lock`` next to ``index/``),
locked with flock through ``filelock``: the kernel releases it when its holder
dies, even by kill -9, so a crashed ingest never leaves the index locked.
Readers never take it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from ..errors import IndexBusy, IndexWriteError

BUSY_MESSAGE = "index busy, waiting…"


def lock_path(index_dir: Path) -> Path:
    """The lock file of an index folder: a sibling, since the folder itself is swapped."""
    index_dir = Path(index_dir)
    return index_dir.with_name(index_dir.name + ".lock")


def _lock(index_dir: Path):
    from filelock import FileLock

    path = lock_path(index_dir)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise IndexWriteError(exc.filename or path.parent, exc.strerror or str(exc)) from exc
    return FileLock(str(path), thread_local=False)


@contextmanager
def writer_lock(index_dir: Path, timeout_s: float,
                on_wait: Callable[[str], None] | None = None) -> Iterator[None]:
    """Hold the index's writer lock; wait up to ``timeout_s`` for another writer.

    ``on_wait`` hears once, with BUSY_MESSAGE, that we are waiting. Raises
    IndexBusy when the wait times out, IndexWriteError when the lock file
    cannot be created (read-only folder, no permission, disk full).
    """
    from filelock import Timeout

    lock = _lock(index_dir)
    try:
        try:
            lock.acquire(timeout=0)
        except Timeout:
            if on_wait:
                on_wait(BUSY_MESSAGE)
            lock.acquire(timeout=timeout_s)
    except Timeout:
        raise IndexBusy(
            f"index {index_dir} is busy: another ingest held it for more than {timeout_s:g} s; "
            f"try again later or raise RAG_INDEX_LOCK_TIMEOUT_S") from None
    except OSError as exc:
        raise IndexWriteError(exc.filename or lock_path(index_dir), exc.strerror or str(exc)) from exc
    try:
        yield
    finally:
        lock.release()


@contextmanager
def try_writer_lock(index_dir: Path) -> Iterator[bool]:
    """The writer lock if it is free right now (True), else nothing (False). Never raises."""
    from filelock import Timeout

    try:
        if not Path(index_dir).parent.is_dir():
            raise FileNotFoundError(index_dir)  # a reader creates no folders
        lock = _lock(index_dir)
        lock.acquire(timeout=0)
    except (Timeout, OSError, IndexWriteError):
        yield False
        return
    try:
        yield True
    finally:
        lock.release()
