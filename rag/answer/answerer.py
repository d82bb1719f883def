"""The two ways to answer from retrieved passages, behind one ``Answerer`` protocol.

The assistant chooses one when it opens (the LLM answerer when one is
configured, else the extractive one), and asking and streaming share it.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Protocol

from ..records import Answer, Hit
from ..search.retrieve import Query
from ..settings import Settings
from .compose import compose, refusal_text
from .features import question_view
from .reader import Reader

#: Characters per piece when an extractive answer is streamed to the chat.
STREAM_PIECE_CHARS = 8


class Answerer(Protocol):
    """Answers a question from its retrieved passages.

    ``pool`` is every passage the answer may quote; ``hits`` (its top) are the
    passages an answer lists, and a refusal names.
    """

    def answer(self, question: str, query: Query, pool: Sequence[Hit], hits: Sequence[Hit]) -> Answer: ...

    def stream(self, question: str, query: Query, pool: Sequence[Hit],
               hits: Sequence[Hit]) -> Iterator[str | Answer]:
        """Pieces of the answer's text as they come, then the final ``Answer``."""
        ...


class ExtractiveAnswerer:
    """Quotes the sentences the learned reader picks, or refuses when it judges them absent."""

    def __init__(self, reader: Reader):
        self.reader = reader

    def answer(self, question: str, query: Query, pool: Sequence[Hit], hits: Sequence[Hit]) -> Answer:
        reading = self.reader.read(question_view(query), list(pool))
        resolved_q = query.text if query.text != question else None
        if reading.refuse:
            return Answer(question, refusal_text(query.text, list(hits)), True, (), tuple(hits),
                          resolved_question=resolved_q)
        text, citations = compose(reading, query.qtype.kind == "list")
        return Answer(question, text, False, tuple(citations), tuple(hits), resolved_question=resolved_q,
                      lead=reading.lead, notice=_quoted_instruction(citations, pool))

    def stream(self, question: str, query: Query, pool: Sequence[Hit],
               hits: Sequence[Hit]) -> Iterator[str | Answer]:
        # The answer is ready at once; it streams in short pieces so the chat
        # shows the same progressive reply as with an LLM.
        answer = self.answer(question, query, pool, hits)
        for i in range(0, len(answer.text), STREAM_PIECE_CHARS):
            yield answer.text[i:i + STREAM_PIECE_CHARS]
        yield answer


def _quoted_instruction(citations, pool: Sequence[Hit]) -> str | None:
    """A notice when the answer quotes a passage that reads as an instruction to a model:
    the quote is the archive's text, but it may have been planted."""
    from ..ingest.instructions import QUOTED_INSTRUCTION_NOTICE, chunk_instruction

    chunks = {h.chunk.id: h.chunk for h in pool}
    for c in citations:
        phrase = chunk_instruction(chunks[c.chunk_id]) if c.chunk_id in chunks else None
        if phrase:
            return QUOTED_INSTRUCTION_NOTICE.format(phrase=phrase)
    return None


class LLMAnswerer:
    """An LLM writes the answer from numbered passages; its citations and numbers are
    checked, and the extractive answer stands in when it fails or cannot be checked."""

    def __init__(self, generator, settings: Settings, extractive: ExtractiveAnswerer):
        self.generator = generator
        self.settings = settings
        self.extractive = extractive

    def answer(self, question: str, query: Query, pool: Sequence[Hit], hits: Sequence[Hit]) -> Answer:
        from .llm import answer_with_llm

        fallback = self.extractive.answer(question, query, pool, hits)
        return answer_with_llm(self.generator, query.text, list(hits), fallback, self.settings)

    def stream(self, question: str, query: Query, pool: Sequence[Hit],
               hits: Sequence[Hit]) -> Iterator[str | Answer]:
        from .llm import stream_with_llm

        fallback = self.extractive.answer(question, query, pool, hits)
        yield from stream_with_llm(self.generator, query.text, list(hits), fallback, self.settings)
