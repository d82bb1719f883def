"""Check: a whole draft against the archive, claim by claim.

- ``claims``: the draft split into checkable claims (numbers, dates, ranks, names), with offsets.
- ``draft``: reading ``.txt``/``.md``/``.docx`` drafts; verifying their claims in batches.
- ``report``: the result as a Markdown report and a Word document.
"""

from .. import lazy_exports

__all__, __getattr__ = lazy_exports(__name__, {
    "claims": ("MAX_DRAFT_CHARS", "Claim", "split_claims"),
    "draft": ("DRAFT_SUFFIXES", "CheckedClaim", "DraftCheck", "check_draft", "read_draft"),
    "report": ("summary_line", "to_markdown", "write_docx"),
})
