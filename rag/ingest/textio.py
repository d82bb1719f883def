"""Reading raw input files as text: encodings, BOMs, line endings, gzip.

Every failure becomes an :class:`~rag.errors.InputError` naming the file
(and the line, for line-oriented files), so one bad file never shows up as
a bare ``UnicodeDecodeError`` or ``OSError``.
"""

from __future__ import annotations

import codecs
import gzip
import zlib
from collections.abc import Iterator
from pathlib import Path

from ..errors import InputError

_GZIP_MAGIC = b"\x1f\x8b"
# Control characters that never occur in text (tab, LF, CR, FF, VT do).
_CONTROL = frozenset(range(0x00, 0x09)) | frozenset(range(0x0E, 0x20)) | {0x7F}
# Above this share of control characters a "decodable" file is still binary.
_MAX_CONTROL_SHARE = 0.01


def normalize_newlines(text: str) -> str:
    """CRLF and lone CR become LF."""
    if "\r" not in text:
        return text
    return text.replace("\r\n", "\n").replace("\r", "\n")


def _os_reason(exc: OSError) -> str:
    return exc.strerror or exc.__class__.__name__


def _looks_binary(text: str) -> bool:
    if not text:
        return False
    sample = text[:65536]
    controls = sum(1 for ch in sample if ord(ch) in _CONTROL)
    return controls / len(sample) > _MAX_CONTROL_SHARE


def decode_bytes(data: bytes, path: str | Path) -> str:
    """Decode a whole file's bytes: UTF-8 (BOM stripped), else GB18030.

    Raises InputError for empty, binary or undecodable data.
    """
    if not data:
        raise InputError(path, "empty file")
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        # UTF-16 text is full of NUL bytes, so recognise it by its BOM first.
        try:
            text = data.decode("utf-16")
        except UnicodeDecodeError:
            raise InputError(path, "cannot decode as UTF-16") from None
    else:
        if b"\x00" in data:
            raise InputError(path, "binary file, not text")
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError:
            try:
                text = data.decode("gb18030")
            except UnicodeDecodeError:
                raise InputError(path, "cannot decode as UTF-8 or GB18030") from None
    if _looks_binary(text):
        raise InputError(path, "binary file, not text")
    return normalize_newlines(text)


def read_text(path: str | Path) -> str:
    """Read a text file as str with LF line endings.

    Accepts UTF-8 (with or without BOM), GB18030/GBK/GB2312 and UTF-16 with
    a BOM. Raises InputError for a missing or unreadable file, an empty
    file, a binary file, or bytes that decode in none of these.
    """
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise InputError(path, _os_reason(exc)) from None
    return decode_bytes(data, path)


def _open_binary(path: Path):
    """Open plain or gzip-compressed files; gzip is recognised by its magic."""
    f = open(path, "rb")  # noqa: SIM115 - returned to the caller's with-block
    try:
        magic = f.read(2)
        f.seek(0)
    except OSError:
        f.close()
        raise
    if magic == _GZIP_MAGIC:
        return gzip.GzipFile(fileobj=f, mode="rb")
    return f


def _decode_line(raw: bytes) -> str | None:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        try:
            return raw.decode("gb18030")
        except UnicodeDecodeError:
            return None


def open_lines(
    path: str | Path, errors: list[InputError] | None = None
) -> Iterator[tuple[int, str]]:
    """Stream ``(line_number, text)`` from a text or ``.gz`` file, 1-based.

    Lines are decoded one at a time (UTF-8, else GB18030), without their
    line ending; a leading BOM is dropped. A line that decodes in neither
    is skipped and an InputError for it is appended to ``errors`` (if
    given). Raises InputError if the file cannot be opened, is empty, is
    binary, or its gzip stream is corrupt (lines already yielded stand).
    """
    p = Path(path)
    n = 0
    try:
        f = _open_binary(p)
    except OSError as exc:
        raise InputError(path, _os_reason(exc)) from None
    with f:
        try:
            head = f.read(8192)
            f.seek(0)
            if b"\x00" in head:
                raise InputError(path, "binary file, not text")
            for n, raw in enumerate(f, 1):
                if n == 1 and raw.startswith(codecs.BOM_UTF8):
                    raw = raw[len(codecs.BOM_UTF8) :]
                if b"\x00" in raw:
                    if errors is not None:
                        errors.append(InputError(path, "binary data in line", line=n))
                    continue
                text = _decode_line(raw.rstrip(b"\r\n"))
                if text is None:
                    if errors is not None:
                        errors.append(
                            InputError(path, "cannot decode as UTF-8 or GB18030", line=n)
                        )
                    continue
                yield n, text
        except (OSError, EOFError, zlib.error) as exc:
            # gzip.BadGzipFile is an OSError; a truncated stream is an EOFError.
            reason = str(exc) or exc.__class__.__name__
            raise InputError(path, f"corrupt or unreadable data: {reason}", line=n + 1) from None
    if n == 0:
        raise InputError(path, "empty file")
