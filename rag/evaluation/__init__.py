"""Evaluation: ``rag eval`` (scores, reports) and ``rag bench`` (speed, size, memory, safety).

- ``evaluate``: run a question set through the assistant; ``metrics``: the scores.
- ``report``: Markdown, TREC run files and plots of a run.
- ``bench``, ``bench_safety``, ``bench_serve``, ``bench_pages``: benchmarks that print numbers.
- ``newsprint``, ``scanlike``, ``pagescore``: typeset and 'scanned' test pages, and their scores.
"""

from .. import lazy_exports

__all__, __getattr__ = lazy_exports(__name__, {
    "evaluate": ("load_questions",),
    "metrics": ("METRIC_KEYS", "answer_correct", "citation_correct", "hit_at_k", "hit_rank"),
})
