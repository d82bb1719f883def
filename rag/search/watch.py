"""Following an index folder: notice when an ingest swapped in a new generation.

A server keeps its index in memory; a scheduled ``rag ingest`` replaces the
folder on disk. The watcher polls the manifest (a ``stat`` each time, a read
only when the file changed) and hands the new generation to a callback.
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Callable
from pathlib import Path

#: How often the manifest is looked at: a new generation is noticed within this.
POLL_INTERVAL_S = 0.5


def read_generation(index_dir: Path) -> str | None:
    """The generation the manifest at ``index_dir`` names, or None while there is none."""
    try:
        return json.loads((Path(index_dir) / "manifest.json").read_text(encoding="utf-8")).get("generation")
    except (OSError, ValueError):
        return None  # mid-swap or not yet built: look again next time


class GenerationWatcher:
    """Calls ``on_change(generation)`` from a daemon thread whenever the index at
    ``index_dir`` holds a generation other than the last one seen."""

    def __init__(self, index_dir: Path, generation: str | None,
                 on_change: Callable[[str], None], interval_s: float = POLL_INTERVAL_S):
        self.index_dir = Path(index_dir)
        self.generation = generation
        self.on_change = on_change
        self.interval_s = interval_s
        self._stamp: tuple[int, int, int] | None = self._stat()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="index-watcher", daemon=True)

    def _stat(self) -> tuple[int, int, int] | None:
        try:
            st = os.stat(self.index_dir / "manifest.json")
        except OSError:
            return None
        # A swap brings a new file (inode); a rewrite in place changes time and size.
        return st.st_ino, st.st_mtime_ns, st.st_size

    def check(self) -> bool:
        """Look once; True when a new generation was handed on."""
        stamp = self._stat()
        if stamp is None or stamp == self._stamp:
            return False
        generation = read_generation(self.index_dir)
        if generation is None:
            return False
        self._stamp = stamp
        if generation == self.generation:
            return False
        self.on_change(generation)
        self.generation = generation  # only once switched: a failed reload is tried again
        return True

    def _run(self) -> None:
        while not self._stop.wait(self.interval_s):
            try:
                self.check()
            except Exception as exc:  # noqa: BLE001 - a failed reload must not stop the watching
                print(f"index watcher: {exc}", flush=True)
                self._stamp = None  # try that generation again next time

    def start(self) -> "GenerationWatcher":
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()


def release_memory() -> None:
    """After a switch: collect the old index and hand its freed pages back to the
    system (glibc keeps them otherwise), so the server does not stay twice its size."""
    import ctypes
    import gc

    gc.collect()
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):
        pass  # not glibc: the pages are reused by the next index instead
