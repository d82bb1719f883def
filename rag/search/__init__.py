"""Search: the index folder and retrieval over it.

- ``index``: vectors (FAISS), chunk and article records, ``manifest.json``.
- ``indexlock``: one writer at a time; ``migrate``: older index formats.
- ``keyword``: the jieba tokenizer and BM25 (bm25s).
- ``retrieve``: question analysis into a ``Query``, hybrid dense + keyword search.
- ``fusion``: reciprocal rank fusion and term coverage; ``periods``: the dates a question asks about.
"""

from .. import lazy_exports

__all__, __getattr__ = lazy_exports(__name__, {
    "fusion": ("rrf", "term_coverage"),
    "index": ("Index",),
    "indexlock": ("writer_lock",),
    "keyword": ("KeywordIndex", "Tokenizer"),
    "periods": ("Period", "passage_years", "period_match", "question_period"),
    "retrieve": ("HybridRetriever", "Query", "Retriever"),
})
