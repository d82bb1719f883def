"""Raw input files -> Article records: format dispatch and issue metadata.

``.txt``/``.md`` files are newspaper issues (Markdown if they carry ``##``
headlines, else a raw text dump); ``.jsonl``/``.jsonl.gz`` files are archive
exports with one article per line; ``.pdf`` files and page images are read
page by page (:mod:`.parse_pages`).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from dataclasses import dataclass, replace
from pathlib import Path

from .dates import find_issue_date, find_issue_number, find_page, infer_issue_date
from ..errors import InputError, SettingsError
from .parse_common import finalize
from .parse_jsonl import parse_jsonl
from .parse_markdown import looks_like_markdown, parse_markdown
from .parse_raw import parse_raw
from .pdfpages import PAGE_SUFFIXES
from ..records import Article
from .textio import path_problem, read_text_lines

ISSUE_SUFFIXES = (".txt", ".md")
JSONL_SUFFIXES = (".jsonl", ".jsonl.gz")
SUFFIXES = ISSUE_SUFFIXES + JSONL_SUFFIXES + PAGE_SUFFIXES


@dataclass(frozen=True)
class ParsedFile:
    """The articles of one input file, its issue metadata and line errors."""

    path: str
    articles: tuple[Article, ...]
    date: str | None
    date_inferred: bool
    issue: str | None
    errors: tuple[InputError, ...] = ()


def validate_date(value: str | None) -> str | None:
    """Validate a ``--date`` value (``YYYY-MM-DD``); raise SettingsError naming it."""
    if value is None:
        return None
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}", value.strip()):
        try:
            return dt.date.fromisoformat(value.strip()).isoformat()
        except ValueError:
            pass
    raise SettingsError(f"invalid date {value!r}: expected YYYY-MM-DD, e.g. 2023-07-20")


def _suffix(path: Path) -> str:
    name = path.name.lower()
    for s in SUFFIXES:
        if name.endswith(s):
            return s
    return path.suffix.lower()


def parse_issue_text(text: str, source: str, date: str | None = None) -> ParsedFile:
    """Parse the text of one issue (Markdown or raw dump).

    The printed date wins; ``date`` fills in when none is printed; only
    then is the date inferred from the text (and marked so).
    """
    date = validate_date(date)
    printed = find_issue_date(text)
    inferred = False
    if printed:
        issue_date = printed
    elif date:
        issue_date = date
    else:
        issue_date = infer_issue_date(text)
        inferred = issue_date is not None
    issue = find_issue_number(text)
    drafts = parse_markdown(text) if looks_like_markdown(text) else parse_raw(text)
    articles = finalize(drafts, source, issue_date, inferred, issue, find_page(text))
    return ParsedFile(source, tuple(articles), issue_date, inferred, issue)


def parse_file(path: Path | str, date: str | None = None, **pages) -> ParsedFile:
    """Parse one input file into articles.

    Raises InputError when the file as a whole is unusable (missing,
    unreadable, empty, binary, undecodable, unknown extension, no
    articles); bad lines of a JSONL file and bad pages of a PDF are
    returned in ``errors``. ``pages`` go to :func:`.parse_pages.parse_pages`
    (``ocr``, ``cache_dir``, ``digest``, ``progress``).
    """
    path = Path(path)
    date = validate_date(date)
    suffix = _suffix(path)
    if suffix in PAGE_SUFFIXES:
        from .parse_pages import parse_pages

        articles, issue_date, inferred, issue, errors, _ = parse_pages(path, date, **pages)
        return ParsedFile(str(path), tuple(articles), issue_date, inferred, issue, tuple(errors))
    if suffix in JSONL_SUFFIXES:
        articles, errors = parse_jsonl(path, date)
        if not articles and not errors:
            raise InputError(path, "empty file")
        return ParsedFile(str(path), tuple(articles), date, False, None, tuple(errors))
    if suffix not in ISSUE_SUFFIXES:
        kind = repr(suffix) if suffix else "(no extension)"
        raise InputError(path, f"unknown file type {kind}: expected one of {', '.join(SUFFIXES)}")
    text, errors = read_text_lines(path)  # a bad line costs that line
    if not text.strip():
        raise InputError(path, "empty file")
    parsed = parse_issue_text(text, str(path), date)
    if not parsed.articles:
        raise InputError(path, "no articles found")
    return replace(parsed, errors=tuple(errors))


def iter_files(paths: Iterable[Path | str]) -> list[Path]:
    """Input files under ``paths``: folders are searched recursively (sorted,
    hidden entries skipped, known extensions only); files named directly are
    kept as given so that parse_file can report what is wrong with them."""
    return find_inputs(paths)[0]


def find_inputs(paths: Iterable[Path | str]) -> tuple[list[Path], list[InputError]]:
    """Like iter_files, and also one error per folder that cannot be listed
    and per input file that is a dangling symbolic link, a link loop, a FIFO
    or a device, so none is skipped without a word."""
    import os

    out: list[Path] = []
    errors: list[InputError] = []

    def unreadable(exc: OSError) -> None:
        errors.append(InputError(exc.filename or "?", f"cannot read folder: {exc.strerror or exc}"))

    for p in map(Path, paths):
        if not p.is_dir():
            out.append(p)
            continue
        found: list[Path] = []
        for folder, dirs, names in os.walk(p, onerror=unreadable):
            dirs[:] = sorted(d for d in dirs if not d.startswith("."))
            for name in names:
                f = Path(folder) / name
                if name.startswith(".") or _suffix(f) not in SUFFIXES:
                    continue
                problem = path_problem(f)  # a loop, a dangling link, a FIFO, a device
                if problem:
                    errors.append(InputError(f, problem))
                elif f.is_file():
                    found.append(f)
        out.extend(sorted(found, key=lambda f: f.as_posix()))
    return list(dict.fromkeys(out)), errors
