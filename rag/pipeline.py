"""The assistant: one object the CLI, the chat UI and the evaluation all use."""

from __future__ import annotations

import time
from collections.abc import Iterator, Sequence
from datetime import date

from .answer.answerer import Answerer, ExtractiveAnswerer, LLMAnswerer
from .answer.reader import EXTRA_CANDIDATES, Reader, make_reader
from .embedding.embed import Embedder, make_embedder
from .errors import SettingsError
from .records import Answer, Hit
from .search.index import Index
from .search.retrieve import HybridRetriever, Query, Retriever
from .settings import Settings

#: Printed by `rag serve` once the model and word segmenter are loaded (``rag bench`` waits for it).
WARM_MESSAGE = "model ready"

class Assistant:
    """Answers questions from an index, with checked citations.

    The retriever and the answerer are chosen once, here: the LLM answerer
    when a generator is given, else the extractive one. ``ask`` and
    ``stream`` share that choice.
    """

    def __init__(self, index: Index, embedder: Embedder, settings: Settings, generator=None,
                 reader: Reader | None = None, retriever: Retriever | None = None):
        self.index = index
        self.embedder = embedder
        self.settings = settings
        self.retriever: Retriever = retriever or HybridRetriever(index, embedder, settings)
        self.generator = generator
        self.reader = reader or make_reader(settings)
        self.extractive = ExtractiveAnswerer(self.reader)
        self.answerer: Answerer = LLMAnswerer(generator, settings, self.extractive) if generator else self.extractive

    @classmethod
    def open(cls, settings: Settings | None = None, embedder: Embedder | None = None,
             use_llm: bool | None = None) -> "Assistant":
        """Load the index the settings name, with a matching embedder.

        ``use_llm``: None answers with the LLM when one is configured
        (``RAG_LLM_BASE_URL``); False never does; True requires one.
        """
        settings = settings or Settings.load()
        if use_llm and not settings.llm_base_url:
            raise SettingsError("an LLM answer needs RAG_LLM_BASE_URL (an OpenAI-compatible server)")
        embedder = embedder or make_embedder(settings)
        index = Index.load(settings.index_dir, model_id=embedder.model_id)
        generator = None
        if settings.llm_base_url and use_llm is not False:
            from .answer.llm import OpenAIChatGenerator

            generator = OpenAIChatGenerator.from_settings(settings)
        return cls(index, embedder, settings, generator)

    def warm_up(self, questions: Sequence[str] = ("株洲在哪里？",), **search) -> None:
        """Load the models and tokenizers now rather than on the first question.
        Answers extractively: a warm-up spends no LLM calls."""
        for question in questions:
            self.extractive.answer(question, *self.retrieve(question, **search))

    def retrieve(self, question: str, history: Sequence[tuple[str, str]] = (), *,
                 date_from: str | None = None, date_to: str | None = None, mode: str | None = None,
                 date_aware: bool | None = None, today: date | None = None) -> tuple[Query, list[Hit], list[Hit]]:
        """The question as analysed (follow-ups completed), the pool of passages the
        answerer reads, and its top, which an answer lists."""
        query = self.retriever.analyse(self.resolve(question, history), today)
        k = max(self.settings.top_k, 5)
        pool = self.retriever.search(query, k=k, mode=mode, date_from=date_from, date_to=date_to,
                                     date_aware=date_aware, extra=EXTRA_CANDIDATES)
        return query, pool, pool[:k]

    def ask(self, question: str, history: Sequence[tuple[str, str]] = (), **search) -> Answer:
        """Answer one question. ``history`` is earlier (question, answer) turns; ``search``
        takes ``retrieve``'s keywords (date range, mode, date awareness, today)."""
        t0 = time.perf_counter()
        query, pool, hits = self.retrieve(question, history, **search)
        t1 = time.perf_counter()
        answer = self.answerer.answer(question, query, pool, hits)
        return _timed(answer, t0, t1)

    def stream(self, question: str, history: Sequence[tuple[str, str]] = (), **search) -> Iterator[str | Answer]:
        """Yield pieces of answer text as they come, then the final ``Answer``."""
        t0 = time.perf_counter()
        query, pool, hits = self.retrieve(question, history, **search)
        t1 = time.perf_counter()
        for piece in self.answerer.stream(question, query, pool, hits):
            yield _timed(piece, t0, t1) if isinstance(piece, Answer) else piece

    def resolve(self, question: str, history: Sequence[tuple[str, str]]) -> str:
        """Complete a follow-up ("那2023年呢？") from the earlier turns."""
        from .answer.conversation import resolve_followup

        return resolve_followup(question, [q for q, _ in history])

    def verify(self, claim: str, **kwargs):
        """Check a claim against the archive: supported, contradicted or not found."""
        from .answer.verify import verify_claim

        return verify_claim(self, claim, **kwargs)


def _timed(answer: Answer, t0: float, t1: float) -> Answer:
    """``answer`` with its timings: retrieval from t0 to t1, answering from t1 to now."""
    from dataclasses import replace

    t2 = time.perf_counter()
    return replace(answer, timings_ms={"retrieve": (t1 - t0) * 1000, "answer": (t2 - t1) * 1000,
                                       "total": (t2 - t0) * 1000})
