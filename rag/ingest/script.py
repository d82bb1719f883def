"""One script for matching: traditional characters and full-width forms folded, length kept.

Questions and archives come in either script (醫保參保人數 / 医保参保人数) and with
full-width digits and letters (２０２５年, ＧＤＰ). Retrieval and reading compare
folded text. ``fold`` maps each character to exactly one character, so offsets
into folded text are offsets into the original: quotes stay the article's own text.

The traditional → simplified table is OpenCC's character table (``TSCharacters``,
first choice), shipped with opencc-python-reimplemented. Phrase-level conversion
(OpenCC's ``t2s``) can change lengths and is left to training data preparation.
"""

from __future__ import annotations

import functools
from pathlib import Path


@functools.lru_cache(maxsize=1)
def _table() -> dict[int, str]:
    import opencc

    table: dict[int, str] = {cp: chr(cp - 0xFEE0) for cp in range(0xFF01, 0xFF5F)}  # ！..～ → !..~
    table[0x3000] = " "
    path = Path(opencc.__file__).parent / "dictionary" / "TSCharacters.txt"
    for line in path.read_text(encoding="utf-8").splitlines():
        src, _, targets = line.partition("\t")
        target = targets.split(" ")[0] if targets else ""
        if len(src) == 1 and len(target) == 1 and src != target:
            table[ord(src)] = target
    return table


def fold(text: str) -> str:
    """``text`` in simplified characters with half-width ASCII; same length, char for char."""
    return text.translate(_table())
