"""The assistant: one object the CLI, the chat UI and the evaluation all use."""

from __future__ import annotations

import time
from collections.abc import Iterator, Sequence
from datetime import date

from .answer import compose, is_answerable, refusal_text, score_sentences
from .cite import attribute
from .embed import Embedder, make_embedder
from .index import Index
from .qtype import question_type
from .records import Answer
from .retrieve import Retriever
from .settings import Settings

#: Passages from the top of each single ranking that the answerer also reads.
EXTRA_CANDIDATES = 2


class Assistant:
    """Answers questions from an index, with checked citations."""

    def __init__(self, index: Index, embedder: Embedder, settings: Settings, generator=None):
        self.index = index
        self.embedder = embedder
        self.settings = settings
        self.retriever = Retriever(index, embedder, settings)
        self.generator = generator

    @classmethod
    def open(cls, settings: Settings | None = None, embedder: Embedder | None = None) -> "Assistant":
        """Load the index the settings name, with a matching embedder."""
        settings = settings or Settings.load()
        embedder = embedder or make_embedder(settings)
        index = Index.load(settings.index_dir, model_id=embedder.model_id)
        generator = None
        if settings.llm_base_url:
            from .llm import OpenAIChatGenerator

            generator = OpenAIChatGenerator.from_settings(settings)
        return cls(index, embedder, settings, generator)

    def warm_up(self) -> None:
        """Load the model and tokenizer now rather than on the first question."""
        self.retriever.search("株洲", k=1)

    def ask(self, question: str, history: Sequence[tuple[str, str]] = (), *,
            date_from: str | None = None, date_to: str | None = None, mode: str | None = None,
            date_aware: bool | None = None, today: date | None = None,
            use_llm: bool | None = None) -> Answer:
        """Answer one question. ``history`` is earlier (question, answer) turns."""
        t0 = time.perf_counter()
        resolved = self.resolve(question, history)
        k = max(self.settings.top_k, 5)
        pool = self.retriever.search(resolved, k=k, mode=mode, date_from=date_from, date_to=date_to,
                                     date_aware=date_aware, today=today, extra=EXTRA_CANDIDATES)
        hits = pool[:k]
        t1 = time.perf_counter()
        answer = self._extractive(question, resolved, pool, today, hits)
        if (use_llm if use_llm is not None else self.generator is not None) and self.generator:
            from .llm import answer_with_llm

            answer = answer_with_llm(self.generator, resolved, hits, answer, self.settings)
        t2 = time.perf_counter()
        timings = {"retrieve": (t1 - t0) * 1000, "answer": (t2 - t1) * 1000, "total": (t2 - t0) * 1000}
        return self._attributed(_replace(answer, timings_ms=timings))

    def stream(self, question: str, history: Sequence[tuple[str, str]] = (), **kwargs) -> Iterator[str | Answer]:
        """Yield pieces of answer text as they come, then the final ``Answer``."""
        if self.generator is not None and kwargs.get("use_llm", True):
            from .llm import stream_with_llm

            resolved = self.resolve(question, history)
            kw = {k: v for k, v in kwargs.items() if k != "use_llm"}
            k = max(self.settings.top_k, 5)
            pool = self.retriever.search(resolved, k=k, extra=EXTRA_CANDIDATES, **kw)
            hits = pool[:k]
            fallback = self._extractive(question, resolved, pool, kw.get("today"), hits)
            for piece in stream_with_llm(self.generator, resolved, hits, fallback, self.settings):
                yield self._attributed(piece) if isinstance(piece, Answer) else piece
            return
        answer = self.ask(question, history, **kwargs)
        # The extractive answer is ready at once; stream it in short pieces so the
        # chat shows the same progressive reply as with an LLM.
        for i in range(0, len(answer.text), 8):
            yield answer.text[i:i + 8]
        yield answer

    def _extractive(self, question: str, resolved: str, pool, today, hits) -> Answer:
        """Answer from the sentences of ``pool``; ``hits`` (its top) are what the answer lists."""
        query = self.retriever.analyse(resolved, today)
        qtype = question_type(resolved)
        evidence = score_sentences(query, pool, qtype)
        resolved_q = resolved if resolved != question else None
        if not evidence or not is_answerable(evidence[0], query, self.settings.min_answer_score):
            return Answer(question, refusal_text(query, hits), True, (), tuple(hits),
                          resolved_question=resolved_q)
        text, citations = compose(evidence, qtype, query)
        return Answer(question, text, False, tuple(citations), tuple(hits), resolved_question=resolved_q)

    def resolve(self, question: str, history: Sequence[tuple[str, str]]) -> str:
        """Complete a follow-up ("那2023年呢？") from the earlier turns."""
        from .conversation import resolve_followup

        return resolve_followup(question, [q for q, _ in history])

    def verify(self, claim: str, **kwargs):
        """Check a claim against the archive: supported, contradicted or not found."""
        from .verify import verify_claim

        verdict = verify_claim(self, claim, **kwargs)
        return _replace(verdict, evidence=attribute(verdict.evidence, self.index.articles))

    def _attributed(self, answer: Answer) -> Answer:
        """The answer with each citation's byline, which its reference names."""
        return _replace(answer, citations=attribute(answer.citations, self.index.articles))


def _replace(answer: Answer, **changes) -> Answer:
    from dataclasses import replace

    return replace(answer, **changes)
