"""Parsing a file in a child process, for servers: the parse holds no lock
and no thread of the server (Python's regular expressions keep the GIL while
they run), and a parse that runs too long is stopped, costing only its file.
"""

from __future__ import annotations

import multiprocessing
from pathlib import Path

from ..errors import InputError
from .parse import ParsedFile, parse_file

#: A file that takes longer than this to parse is refused (a 50 MB dump parses in seconds).
PARSE_TIMEOUT_S = 120.0
#: Printed pages may need OCR (several seconds a page on two cores): their files get longer.
PAGES_TIMEOUT_S = 1800.0


def _child(conn, path: str, date: str | None, pages: dict) -> None:
    try:
        conn.send(("ok", parse_file(path, date=date, **pages)))
    except InputError as exc:
        conn.send(("input", (exc.path, exc.reason, exc.line)))
    except Exception as exc:  # noqa: BLE001 - reported to the parent as the file's error
        conn.send(("input", (path, f"cannot parse: {type(exc).__name__}: {exc}", None)))
    finally:
        conn.close()


def parse_isolated(path: Path | str, date: str | None = None, timeout_s: float | None = None,
                   **pages) -> ParsedFile:
    """``parse_file`` in a fresh child process; InputError on a timeout or a crash.
    ``pages`` are ``parse_file``'s options for PDFs and page images.

    The child is spawned (not forked): a server's threads and model sessions
    are never copied into it, and it imports the parsers alone.
    """
    from .pdfpages import PAGE_SUFFIXES

    if timeout_s is None:
        timeout_s = PAGES_TIMEOUT_S if Path(path).suffix.lower() in PAGE_SUFFIXES else PARSE_TIMEOUT_S
    ctx = multiprocessing.get_context("spawn")
    parent, child = ctx.Pipe(duplex=False)
    proc = ctx.Process(target=_child, args=(child, str(path), date, pages), daemon=True)
    proc.start()
    child.close()
    try:
        if not parent.poll(timeout_s):
            raise InputError(path, f"parsing took longer than {timeout_s:.0f} s, the file was skipped")
        try:
            kind, value = parent.recv()
        except EOFError:
            raise InputError(path, f"the parser stopped (exit code {proc.exitcode})") from None
    finally:
        parent.close()
        if proc.is_alive():
            proc.kill()
        proc.join(5)
    if kind == "input":
        raise InputError(*value)
    return value
