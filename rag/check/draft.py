"""Checking a whole draft: read it, split it into claims, verify them in batches.

Each claim goes through the same verification as ``rag verify``
(``Assistant.verify``). Claims are verified a batch at a time, each batch
spread over a few threads: retrieval, the tagger and the reader's models
spend most of their time in native code that releases the GIL, so two cores
check two claims at once. A claim that repeats word for word is verified once.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import InputError
from .claims import MAX_DRAFT_CHARS, Claim, split_claims

#: Suffixes a draft file may have.
DRAFT_SUFFIXES = (".txt", ".md", ".docx")
#: Claims verified per batch (the UI reports progress after each one).
BATCH_SIZE = 8
#: Threads per batch: one per core of the machines this runs on.
WORKERS = 2


@dataclass(frozen=True)
class CheckedClaim:
    """A claim of the draft and the verdict on it."""

    claim: Claim
    verdict: Any  # rag.answer.verify.Verdict

    def to_dict(self) -> dict[str, Any]:
        """The JSON object of ``rag check --json`` and ``POST /api/check``."""
        v = self.verdict.to_dict()
        return {"claim": self.claim.text, "start": self.claim.start, "end": self.claim.end,
                "verdict": v["verdict"], "label": v["label"], "explanation": v["explanation"],
                "claimed": v["claimed"], "found": v["found"], "evidence": v["evidence"]}


@dataclass(frozen=True)
class DraftCheck:
    """A draft with every checkable claim verified, in draft order."""

    text: str
    claims: tuple[CheckedClaim, ...]
    timings_ms: dict[str, float] = field(default_factory=dict)

    def counts(self) -> dict[str, int]:
        """How many claims got each verdict (every verdict present, zeros included)."""
        from ..answer.verify import VERDICTS

        counts = dict.fromkeys(VERDICTS, 0)
        for c in self.claims:
            counts[c.verdict.verdict] += 1
        return counts

    def to_dict(self) -> dict[str, Any]:
        return {"claims": [c.to_dict() for c in self.claims]}


def check_text(text: str | None, source: str = "draft") -> str:
    """The draft itself, or InputError when it is empty or too long."""
    if not text or not text.strip():
        raise InputError(source, "the draft is empty")
    if len(text) > MAX_DRAFT_CHARS:
        raise InputError(source, f"the draft has {len(text):,} characters; at most {MAX_DRAFT_CHARS:,} are checked at once")
    return text


def read_draft(path: str | Path) -> str:
    """A draft file's text: ``.txt``/``.md`` decoded as the ingest decodes issues,
    ``.docx`` as its paragraphs joined by newlines."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in DRAFT_SUFFIXES:
        raise InputError(path, f"unknown draft type {suffix or '(none)'}: expected one of {', '.join(DRAFT_SUFFIXES)}")
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise InputError(path, exc.strerror or type(exc).__name__) from None
    text = _docx_text(data, path) if suffix == ".docx" else decode_draft(data, path)
    return check_text(text, str(path))


def decode_draft(data: bytes, source) -> str:
    """A draft's bytes as text, decoded as the ingest decodes issues; a line that does not
    decode is an error naming it (a claim's offsets must hold for the whole draft)."""
    from ..ingest.textio import decode_text

    text, errors = decode_text(data, source)
    if errors:
        raise errors[0]
    return text


def _docx_text(data: bytes, path: Path) -> str:
    import io
    import zipfile

    from docx import Document

    try:
        document = Document(io.BytesIO(data))
    except (zipfile.BadZipFile, KeyError, ValueError) as exc:
        raise InputError(path, f"not a readable .docx file ({type(exc).__name__})") from None
    return "\n".join(p.text for p in document.paragraphs)


def check_draft(assistant, text: str, *, batch_size: int = BATCH_SIZE, workers: int = WORKERS,
                progress: Callable[[int, int], None] | None = None, source: str = "draft") -> DraftCheck:
    """Split ``text`` into claims and verify each; ``progress(done, total)`` after each batch.
    ``source`` names the draft in the error raised for an empty or overlong one."""
    text = check_text(text, source)
    t0 = time.perf_counter()
    claims = split_claims(text)
    t1 = time.perf_counter()
    unique = list(dict.fromkeys(c.text for c in claims))
    verdicts: dict[str, Any] = {}
    with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
        for i in range(0, len(unique), batch_size):
            batch = unique[i:i + batch_size]
            for claim, verdict in zip(batch, pool.map(assistant.verify, batch)):
                verdicts[claim] = verdict
            if progress:
                progress(min(i + batch_size, len(unique)), len(unique))
    t2 = time.perf_counter()
    checked = tuple(CheckedClaim(c, verdicts[c.text]) for c in claims)
    return DraftCheck(text, checked, {"split": (t1 - t0) * 1000, "verify": (t2 - t1) * 1000,
                                      "total": (t2 - t0) * 1000})
