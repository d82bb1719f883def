"""Ingest: raw issue files -> ``Article`` records -> sentence-aware ``Chunk`` records -> the index.

- ``textio``: decoding (UTF-8, GB18030, gzip) with file-and-line errors.
- ``parse`` and ``parse_*``: Markdown, raw PDF text and archive JSONL into articles.
- ``dates``: printed issue dates, 期号 and 版次, and dates inferred from the text.
- ``sentences`` and ``chunk``: Chinese sentence splitting with offsets; token-limited chunks.
- ``indexer``: the ``rag ingest`` command's logic (incremental, locked, atomic).
- ``pdfpages``, ``ocr``, ``layout`` + ``layout_groups``, ``parse_pages``, ``regions``: e-paper
  PDFs and scanned pages read into articles that keep their place on the page.
"""

from .. import lazy_exports

__all__, __getattr__ = lazy_exports(__name__, {
    "chunk": ("chunk_article", "chunk_articles"),
    "indexer": ("IngestReport", "ingest"),
    "parse": ("SUFFIXES", "ParsedFile", "find_inputs", "iter_files", "parse_file", "validate_date"),
    "parse_pages": ("build_articles", "parse_pages", "read_header"),
    "regions": ("DOUBT_BELOW", "quote_boxes", "quote_confidence"),
    "sentences": ("FULL_STOPS", "SENTENCE_END_RE", "SENTENCE_ENDS", "sentences", "split_sentences"),
    "textio": ("file_hash", "open_lines", "read_text"),
})
