"""Chinese sentence splitting that keeps character offsets."""

from __future__ import annotations

import re

# A sentence ends after a run of these; closing quotes and brackets that follow
# stay with it. Half-width '.' is left out on purpose: it sits inside numbers
# (4.1%, 1014.42亿元) far more often than at a sentence end in this archive.
#: The marks that always end a sentence. Parsing, chunking, citing, the reader
#: and the UI all import these two definitions.
FULL_STOPS = "。！？；!?;"
#: FULL_STOPS and the ellipsis, which ends a sentence when text is split into
#: sentences, but not a title made from one ("供卵、供精、代孕……不少人在手机上…")
#: nor a line that would otherwise be a date line.
SENTENCE_ENDS = FULL_STOPS + "…"
#: Closing quotes and brackets that stay with the sentence they close.
CLOSERS = "”’」』）)】》\"'"
_SENTENCE_END = re.compile(f"[{SENTENCE_ENDS}]+[{re.escape(CLOSERS)}]*")
#: A sentence's closing punctuation (with any closing quotes after it).
SENTENCE_END_RE = _SENTENCE_END
# Where an over-long sentence may be cut: after a comma-like mark.
_SOFT_BREAK = re.compile(r"[，,、：:]")


def split_sentences(text: str, max_chars: int = 300) -> list[tuple[int, int]]:
    """(start, end) offsets of the sentences of ``text``, whitespace trimmed.

    Newlines always end a sentence (paragraph boundary). A sentence longer than
    ``max_chars`` is cut at commas, then hard, so every piece stays embeddable.
    """
    spans: list[tuple[int, int]] = []
    pos = 0
    for line in text.split("\n"):
        line_start = pos
        pos += len(line) + 1
        start = 0
        for m in _SENTENCE_END.finditer(line):
            _emit(line, line_start, start, m.end(), spans, max_chars)
            start = m.end()
        _emit(line, line_start, start, len(line), spans, max_chars)
    return spans


def _emit(line: str, base: int, start: int, end: int,
          out: list[tuple[int, int]], max_chars: int) -> None:
    while start < end and line[start].isspace():
        start += 1
    while end > start and line[end - 1].isspace():
        end -= 1
    if start >= end:
        return
    while end - start > max_chars:
        window = line[start:start + max_chars]
        cuts = [m.end() for m in _SOFT_BREAK.finditer(window)]
        cut = start + (cuts[-1] if cuts and cuts[-1] > max_chars // 3 else max_chars)
        out.append((base + start, base + cut))
        start = cut
    out.append((base + start, base + end))


def sentences(text: str) -> list[str]:
    """The sentences of ``text`` as strings."""
    return [text[a:b] for a, b in split_sentences(text)]
