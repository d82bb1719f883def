"""Reading windows: a question and a stretch of whole sentences, as model tokens.

The span reader reads ``<s> question </s></s> headline </s> body </s>``. The body
is a run of whole sentences of one text around a chosen sentence, cut to a token
budget. Every body token keeps its character offsets in that text, so a span the
model picks maps back to the text's own characters exactly: a lead is always a
substring of the sentence it is quoted from. Training and the assistant build
windows with the same code.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass

#: Tokens in a whole window, special tokens included.
MAX_TOKENS = 160
#: At most this many tokens of the question and of the headline.
QUESTION_TOKENS = 48
TITLE_TOKENS = 24
CLS, SEP, PAD = 0, 2, 1  # XLM-R ids: <s>, </s>, <pad>


@dataclass(frozen=True)
class Tokens:
    """A text's token ids with each token's (start, end) character offsets."""

    ids: tuple[int, ...]
    offsets: tuple[tuple[int, int], ...]

    @property
    def starts(self) -> list[int]:
        return [a for a, _ in self.offsets]


@dataclass(frozen=True)
class Window:
    """One model input; body token ``j`` is ``ids[body_first + j]`` and spans ``offsets[j]``."""

    ids: tuple[int, ...]
    body_first: int
    offsets: tuple[tuple[int, int], ...]
    start: int  # the body's character range in the text
    end: int
    # Body token ``j`` belongs to sentence ``sentence_of[j]`` of the text: a span never
    # crosses a sentence end, so the sentence it is quoted from holds all of it.
    sentence_of: tuple[int, ...] = ()

    def chars(self, first: int, last: int) -> tuple[int, int]:
        """Character range of body tokens ``first``..``last`` (inclusive)."""
        return self.offsets[first][0], self.offsets[last][1]

    def token_at(self, char: int, end: bool = False) -> int | None:
        """The body token holding character ``char`` (for an end, the one holding char - 1)."""
        c = char - 1 if end else char
        for j, (a, b) in enumerate(self.offsets):
            if a <= c < b:
                return j
        return None


def tokenize(tokenizer, text: str) -> Tokens:
    """Token ids and offsets of ``text`` without special tokens; a bare word-start
    marker (SentencePiece's ``▁`` standing alone) is dropped, since it holds no character.
    A token's offsets leave out the white space its marker stands for ("\n18" is "18"),
    so a span never starts between two sentences."""
    enc = tokenizer.encode(text, add_special_tokens=False)
    keep = []
    for i, (a, b), t in zip(enc.ids, enc.offsets, enc.tokens):
        while a < b and text[a].isspace():
            a += 1
        if t != "\u2581" and b > a:
            keep.append((i, (a, b)))
    return Tokens(tuple(i for i, _ in keep), tuple(o for _, o in keep))


def _token_range(tokens: Tokens, starts: list[int], a: int, b: int) -> tuple[int, int]:
    """Tokens that start inside characters [a, b): (first, stop)."""
    return bisect.bisect_left(starts, a), bisect.bisect_left(starts, b)


def build_window(question: Tokens, title: Tokens, text: Tokens, sentences: list[tuple[int, int]],
                 center: int, before: int = 1, focus: int | None = None,
                 max_tokens: int = MAX_TOKENS) -> Window:
    """The window around sentence ``center`` of a text (sentences as character ranges).

    Up to ``before`` sentences before it come first if they fit, then the sentences
    after it while they fit, then earlier ones. A centre sentence longer than the
    budget is cut around character ``focus`` (its start when not given).
    """
    q = question.ids[:QUESTION_TOKENS]
    t = title.ids[:TITLE_TOKENS]
    head = (CLS, *q, SEP, SEP, *t, SEP)
    budget = max(8, max_tokens - len(head) - 1)
    starts = text.starts
    ranges = [_token_range(text, starts, a, b) for a, b in sentences]
    lo, hi = ranges[center]
    if hi - lo > budget:
        at = bisect.bisect_right(starts, focus if focus is not None else sentences[center][0]) - 1
        lo = max(lo, min(at - budget // 3, hi - budget))
        hi = lo + budget
    else:
        first = last = center
        for step in range(before):
            if first == 0 or hi - ranges[first - 1][0] > budget:
                break
            first -= 1
            lo = ranges[first][0]
        while last + 1 < len(ranges) and ranges[last + 1][1] - lo <= budget:
            last += 1
            hi = ranges[last][1]
        while first > 0 and hi - ranges[first - 1][0] <= budget:
            first -= 1
            lo = ranges[first][0]
    body = text.ids[lo:hi]
    offsets = text.offsets[lo:hi]
    if not offsets:
        a = b = sentences[center][0]
    else:
        a, b = offsets[0][0], offsets[-1][1]
    sentence_starts = [s for s, _ in sentences]
    owners = tuple(max(0, bisect.bisect_right(sentence_starts, o[0]) - 1) for o in offsets)
    return Window((*head, *body, SEP), len(head), offsets, a, b, owners)


def sentence_at(sentences: list[tuple[int, int]], char: int) -> int:
    """Index of the sentence holding character ``char`` (the nearest one before it otherwise)."""
    i = bisect.bisect_right([a for a, _ in sentences], char) - 1
    return max(0, min(i, len(sentences) - 1))
