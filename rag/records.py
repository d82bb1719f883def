"""Small frozen records passed between the pipeline stages.

raw file -> Article -> Chunk -> Hit -> Answer (with Citations)
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass(frozen=True)
class Article:
    """One article (or notice) of one issue, with its metadata.

    ``body`` is the paragraphs joined by newlines; chunk and citation
    offsets are character offsets into ``body``.
    """

    id: str
    source: str  # file the article came from (as given to ingest)
    position: int  # 0-based position of the article in its issue / file
    headline: str
    body: str
    date: str | None = None  # ISO YYYY-MM-DD
    date_inferred: bool = False
    issue: str | None = None  # 期号, digits only, e.g. "23368"
    page: str | None = None  # 版次, e.g. "01"
    column: str | None = None  # column label, e.g. "新春走基层"
    subheadline: str | None = None
    byline: str | None = None
    captions: tuple[str, ...] = ()
    continuations: tuple[str, ...] = ()  # e.g. "下转02版"
    kind: str = "article"  # "article" | "notice"
    headline_derived: bool = False  # headline made from the text, not printed
    # Where the body sits on its pages (PDFs and scans only): one run per line,
    # (start, end, page index, x0, y0, x1, y1 as fractions of the page, OCR confidence).
    regions: tuple[tuple, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["captions"] = list(self.captions)
        d["continuations"] = list(self.continuations)
        if self.regions:
            d["regions"] = [list(r) for r in self.regions]
        else:
            del d["regions"]  # text issues: nothing to store
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "Article":
        d = dict(d)
        d["captions"] = tuple(d.get("captions") or ())
        d["continuations"] = tuple(d.get("continuations") or ())
        d["regions"] = tuple(tuple(r) for r in d.get("regions") or ())
        return cls(**d)


@dataclass(frozen=True)
class Chunk:
    """A run of whole sentences of one article, small enough to embed."""

    id: str  # f"{article_id}#{n}"
    article_id: str
    n: int
    start: int  # offsets into Article.body
    end: int
    sentences: tuple[tuple[int, int], ...]  # (start, end) of each sentence in Article.body
    text: str
    tokens: int  # embedding-model tokens of embed_text
    tiktokens: int  # cl100k_base tokens of text
    headline: str = ""
    # A phrase of the text that addresses a language model ("忽略以上指令"), found at
    # ingest (rag/ingest/instructions.py): such a passage never enters an LLM prompt.
    instruction: str | None = None

    @property
    def embed_text(self) -> str:
        """The text that gets embedded and keyword-indexed: headline + passage."""
        return f"{self.headline}\n{self.text}" if self.headline else self.text

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["sentences"] = [list(s) for s in self.sentences]
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "Chunk":
        d = dict(d)
        d["sentences"] = tuple(tuple(s) for s in d["sentences"])
        return cls(**d)


@dataclass(frozen=True)
class Hit:
    """A retrieved chunk with its fused score and the scores behind it."""

    chunk: Chunk
    article: Article
    score: float
    dense: float | None = None
    keyword: float | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "chunk_id": self.chunk.id,
            "article_id": self.article.id,
            "headline": self.article.headline,
            "score": round(float(self.score), 6),
        }


@dataclass(frozen=True)
class Citation:
    """A quoted sentence (or sentences) backing part of an answer."""

    n: int
    article_id: str
    chunk_id: str
    headline: str
    date: str | None
    date_inferred: bool
    issue: str | None
    page: str | None
    quote: str
    start: int = 0  # offsets of the quote in Article.body
    end: int = 0
    byline: str | None = None  # the article's, for the reference
    # Scanned pages only: the lowest OCR confidence of the lines the quote spans.
    confidence: float | None = None

    def to_dict(self) -> dict[str, Any]:
        from .answer.cite import format_reference

        return {
            "n": self.n,
            "article_id": self.article_id,
            "chunk_id": self.chunk_id,
            "headline": self.headline,
            "date": self.date,
            "date_inferred": self.date_inferred,
            "issue": self.issue,
            "page": self.page,
            "quote": self.quote,
            "reference": format_reference(self),
            "confidence": self.confidence,
        }


@dataclass(frozen=True)
class Answer:
    """What the assistant says to one question."""

    question: str
    text: str
    refused: bool
    citations: tuple[Citation, ...] = ()
    hits: tuple[Hit, ...] = ()
    timings_ms: dict[str, float] = field(default_factory=dict)
    notice: str | None = None  # e.g. LLM fell back to the extractive answer
    verified: bool | None = None  # LLM answers only: did its citations and numbers check out
    resolved_question: str | None = None  # follow-up rewritten with context
    lead: str | None = None  # the answer span the text opens with, when the reader is confident

    def to_dict(self, id: Any = None) -> dict[str, Any]:
        return {
            "id": id,
            "question": self.question,
            "answer": self.text,
            "lead": self.lead,
            "refused": self.refused,
            "citations": [c.to_dict() for c in self.citations],
            "hits": [h.to_dict() for h in self.hits],
            "verified": self.verified,
            "notice": self.notice,
            "timings_ms": {k: round(v, 2) for k, v in self.timings_ms.items()},
        }
