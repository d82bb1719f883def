"""Reading raw input files as text: encodings, BOMs, line endings, gzip.

Every failure becomes an :class:`~rag.errors.InputError` naming the file
(and the line, for line-oriented files), so one bad file never shows up as
a bare ``UnicodeDecodeError`` or ``OSError``.
"""

from __future__ import annotations

import codecs
import hashlib
import gzip
import re
import zlib
from collections.abc import Iterator
from pathlib import Path

from ..errors import BinaryInput, InputError

_GZIP_MAGIC = b"\x1f\x8b"
# Control characters that never occur in text (tab, LF, CR, FF, VT do).
_CONTROL = frozenset(range(0x00, 0x09)) | frozenset(range(0x0E, 0x20)) | {0x7F}
_CONTROL_BYTES = bytes(sorted(_CONTROL))
_CONTROL_CHARS = re.compile("[" + re.escape("".join(map(chr, sorted(_CONTROL)))) + "]")
# A file whose bytes are more than this share control characters is binary
# (images and compressed data hold 10-40 %); below it, only the lines holding
# them are lost. Measured over the whole file, never a head sample.
_MAX_CONTROL_SHARE = 0.05


def file_hash(path: Path) -> str:
    """sha256 of a file's bytes, read in blocks."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def normalize_newlines(text: str) -> str:
    """CRLF and lone CR become LF."""
    if "\r" not in text:
        return text
    return text.replace("\r\n", "\n").replace("\r", "\n")


def _os_reason(exc: OSError) -> str:
    return exc.strerror or exc.__class__.__name__


def control_bytes(data: bytes) -> int:
    """How many of ``data``'s bytes are control characters that text never holds."""
    return len(data) - len(data.translate(None, _CONTROL_BYTES))


def _decode_whole(data: bytes) -> str | None:
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            pass
    return None


def decode_text(data: bytes, path: str | Path) -> tuple[str, list[InputError]]:
    """Decode a whole file's bytes: UTF-8 (BOM stripped), else GB18030, else line by line.

    A line that decodes in neither encoding, or that holds control
    characters, is dropped, with an InputError naming it; the rest of the
    file stands. Raises BinaryInput when the whole file's share
    of control bytes is that of binary data, InputError when it is empty or
    no line decodes.
    """
    if not data:
        raise InputError(path, "empty file")
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        # UTF-16 text is full of NUL bytes, so recognise it by its BOM first.
        try:
            return normalize_newlines(data.decode("utf-16")), []
        except UnicodeDecodeError:
            raise InputError(path, "cannot decode as UTF-16") from None
    if control_bytes(data) > _MAX_CONTROL_SHARE * len(data):
        raise BinaryInput(path, "binary file, not text")
    text = _decode_whole(data)
    if text is not None and not _CONTROL_CHARS.search(text):
        return normalize_newlines(text), []
    if text is None and data.startswith(codecs.BOM_UTF8):
        data = data[len(codecs.BOM_UTF8):]
    lines, errors = [], []
    raw_lines = data.split(b"\n") if text is None else normalize_newlines(text).split("\n")
    dropped = False
    for n, raw in enumerate(raw_lines, 1):
        line = _decode_line(raw.rstrip(b"\r")) if isinstance(raw, bytes) else raw
        if line is None:
            errors.append(InputError(path, "cannot decode as UTF-8 or GB18030", line=n))
        elif _CONTROL_CHARS.search(line):
            errors.append(InputError(path, "binary data (control characters) in line", line=n))
        elif dropped and not line.strip() and lines and not lines[-1].strip():
            dropped = False  # a dropped paragraph leaves one gap, not a photo's wide one
        else:
            lines.append(line)
            dropped = False
            continue
        dropped = True
    if not any(ln.strip() for ln in lines):
        raise InputError(path, errors[0].reason if errors else "empty file")
    return normalize_newlines("\n".join(lines)), errors


def read_text_lines(path: str | Path) -> tuple[str, list[InputError]]:
    """Read a text file as str with LF line endings, and one error per bad line.

    Accepts UTF-8 (with or without BOM), GB18030/GBK/GB2312 and UTF-16 with
    a BOM. Raises InputError for a missing, unreadable, special (FIFO,
    device), empty or binary file, or one in which no line decodes.
    """
    problem = path_problem(Path(path))
    if problem:
        raise InputError(path, problem)
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise InputError(path, _os_reason(exc)) from None
    return decode_text(data, path)


def path_problem(path: Path) -> str | None:
    """Why ``path`` cannot be read as a regular file, without opening it (a FIFO
    or a device would block or never end), else None."""
    import errno
    import stat

    try:
        mode = path.stat().st_mode
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            return "symbolic link loop"
        if path.is_symlink():
            return "broken symbolic link (its target is missing)"
        return _os_reason(exc)
    if stat.S_ISFIFO(mode):
        return "a named pipe (FIFO), not a file: refused"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device, not a file: refused"
    if stat.S_ISSOCK(mode):
        return "a socket, not a file: refused"
    return None


def read_text(path: str | Path) -> str:
    """Read a text file as str with LF line endings; any bad line raises
    (see :func:`read_text_lines`, which keeps the good ones)."""
    text, errors = read_text_lines(path)
    if errors:
        raise errors[0]
    return text


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
    problem = path_problem(p)
    if problem:
        raise InputError(path, problem)
    n = 0
    size = bad = 0
    try:
        f = _open_binary(p)
    except OSError as exc:
        raise InputError(path, _os_reason(exc)) from None
    with f:
        try:
            for n, raw in enumerate(f, 1):
                size += len(raw)
                bad += control_bytes(raw)
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
    if bad > _MAX_CONTROL_SHARE * size:
        # Judged on the whole file once read: the caller drops what it yielded.
        raise BinaryInput(path, "binary file, not text")
