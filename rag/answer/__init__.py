"""Answer: from retrieved passages to a cited answer, a refusal, or a verdict on a claim.

- ``qtype``: what kind of answer a question asks for.
- ``candidates`` and ``features``: typed answer candidates (LAC + rules) and named features.
- ``reader``: the learned reader (LightGBM sentence and span models, an
  answerability model), retrained by ``rag.training``.
- ``answerer``: the ``Answerer`` protocol; the extractive and LLM answerers.
- ``compose`` and ``cite``: answer text with ``[n]`` markers, citations and references.
- ``llm``: the OpenAI-compatible generator and the checks on what it writes.
- ``verify``: supported / contradicted / not found for a claim.
- ``conversation``: completing follow-up questions from earlier turns.
"""

from .. import lazy_exports

__all__, __getattr__ = lazy_exports(__name__, {
    "answerer": ("Answerer", "ExtractiveAnswerer", "LLMAnswerer"),
    "cite": ("MARKER_RE", "format_date", "format_reference", "quoted_reference"),
    "reader": ("EXTRA_CANDIDATES", "Reader", "Reading", "default_reader"),
    "verify": ("VERDICT_LABELS", "VERDICTS", "Verdict"),
})
