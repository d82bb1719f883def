"""Exceptions the library raises. Only the CLI and UI turn them into messages."""

from __future__ import annotations


def display_path(path: str) -> str:
    """``path`` safe to print on one line: newlines, other control and format
    characters and undecodable bytes (surrogates) are shown escaped, as Python
    writes them."""
    import unicodedata

    # Cc: control, Cs: surrogate, Cf: format (bidi overrides), Zl/Zp: line breaks.
    hidden = ("Cc", "Cs", "Cf", "Zl", "Zp")
    return "".join(repr(c)[1:-1] if unicodedata.category(c) in hidden else c for c in path)


class RagError(Exception):
    """Base class for every error the library raises on purpose."""


class SettingsError(RagError, ValueError):
    """A setting has a value that cannot work."""


class InputError(RagError):
    """A raw input file cannot be read or parsed.

    The message always names the file, and the line where one applies.
    """

    def __init__(self, path: str, reason: str, line: int | None = None):
        self.path = str(path)
        self.reason = reason
        self.line = line
        where = display_path(self.path) + (f":{line}" if line is not None else "")
        super().__init__(f"{where}: {reason}")


class BinaryInput(InputError):
    """The file as a whole is binary data, not text: none of it is used."""


class IndexError_(RagError):
    """The index folder is missing, damaged or incompatible."""


class IndexMissing(IndexError_):
    pass


class IndexMismatch(IndexError_):
    """The index was built with another embedding model or format."""


class IndexBusy(IndexError_):
    """Another ingest held the index for longer than the lock timeout."""


class IndexWriteError(IndexError_):
    """The index (or its lock) could not be written: disk full, read-only, no permission.

    The index already on disk is left as it was.
    """

    def __init__(self, path: str, reason: str):
        self.path = str(path)
        self.reason = reason
        super().__init__(f"cannot write the index: {display_path(self.path)}: {reason} (the index on disk is unchanged)")


class ModelLoadError(RagError):
    """An embedding model (or other model) could not be loaded."""


class GeneratorError(RagError):
    """The optional LLM endpoint failed or timed out."""
