"""The report of a draft check, as Markdown and as a Word document.

Both hold the same three parts: the draft with each claim marked inline
(有依据 / 与报道不符 / 档案中未找到, numbered), each claim's verdict with its
evidence (what the archive printed, the quote, a link to the article), and
the references in GB/T 7714 form.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

from ..answer.cite import format_reference
from ..answer.verify import CONTRADICTED, NOT_FOUND, SUPPORTED, VERDICT_LABELS
from ..records import Citation
from .draft import DraftCheck

#: Where a report links an article: given a citation, an address (or None for no link).
ArticleLink = Callable[[Citation], "str | None"]
#: Highlight colours of the Word report's marks (python-docx WD_COLOR_INDEX names).
_DOCX_COLOURS = {SUPPORTED: "BRIGHT_GREEN", CONTRADICTED: "RED", NOT_FOUND: "YELLOW"}


def summary_line(result: DraftCheck) -> str:
    """"共 15 条可核查的说法：有依据 9 条，与报道不符 2 条，档案中未找到 4 条。"."""
    counts = result.counts()
    parts = "，".join(f"{VERDICT_LABELS[v]} {n} 条" for v, n in counts.items())
    return f"共 {len(result.claims)} 条可核查的说法：{parts}。"


def references(result: DraftCheck) -> list[str]:
    """Each cited article's reference once, in the order the claims cite them."""
    return list(dict.fromkeys(format_reference(c) for checked in result.claims for c in checked.verdict.evidence))


def marked_segments(result: DraftCheck) -> list[tuple[str, int | None]]:
    """The draft as (text, claim number or None) pieces: claims numbered from 1."""
    out, pos = [], 0
    for n, checked in enumerate(result.claims, start=1):
        c = checked.claim
        if c.start > pos:
            out.append((result.text[pos:c.start], None))
        out.append((result.text[c.start:c.end], n))
        pos = c.end
    if pos < len(result.text):
        out.append((result.text[pos:], None))
    return out


def _md_escape(text: str) -> str:
    return "".join("\\" + ch if ch in "\\`*_[]<>#|" else ch for ch in text)


def to_markdown(result: DraftCheck, link: ArticleLink | None = None, title: str = "稿件核查报告") -> str:
    """The report as Markdown."""
    refs = references(result)
    lines = [f"# {title}", "", summary_line(result), "", "## 稿件（逐条标注）", ""]
    draft = []
    for text, n in marked_segments(result):
        if n is None:
            draft.append(_md_escape(text))
        else:
            verdict = result.claims[n - 1].verdict.verdict
            draft.append(f"**{_md_escape(text)}**〔{n}·{VERDICT_LABELS[verdict]}〕")
    lines += [re.sub(r"\n+", "\n\n", "".join(draft).strip()), "", "## 逐条依据", ""]
    for n, checked in enumerate(result.claims, start=1):
        v = checked.verdict
        lines.append(f"{n}. **{VERDICT_LABELS[v.verdict]}**：{_md_escape(checked.claim.text)}")
        lines.append(f"   - 说明：{_md_escape(v.explanation)}")
        if v.claimed:
            lines.append(f"   - 稿件中：{_md_escape(v.claimed)}" + (f"；报道中：{_md_escape(v.found)}" if v.found else ""))
        for c in v.evidence:
            ref = refs.index(format_reference(c)) + 1
            address = link(c) if link else None
            where = f"[{_md_escape(c.headline)}]({address})" if address else f"《{_md_escape(c.headline)}》"
            lines.append(f"   - 原文：“{_md_escape(c.quote)}”（{where}）[{ref}]")
    if refs:
        lines += ["", "## 参考文献", ""]
        lines += [f"[{i}] {_md_escape(r)}  " for i, r in enumerate(refs, start=1)]
    return "\n".join(lines) + "\n"


def write_docx(result: DraftCheck, path: str | Path, link: ArticleLink | None = None,
               title: str = "稿件核查报告") -> Path:
    """The report as a Word document at ``path``: marks are highlighted runs."""
    from docx import Document
    from docx.enum.text import WD_COLOR_INDEX

    refs = references(result)
    doc = Document()
    doc.add_heading(title, level=1)
    doc.add_paragraph(summary_line(result))
    doc.add_heading("稿件（逐条标注）", level=2)
    para = doc.add_paragraph()
    for text, n in marked_segments(result):
        for i, line in enumerate(text.split("\n")):
            if i:
                para = doc.add_paragraph()
            if not line:
                continue
            run = para.add_run(line)
            if n is not None:
                verdict = result.claims[n - 1].verdict.verdict
                run.font.highlight_color = getattr(WD_COLOR_INDEX, _DOCX_COLOURS[verdict])
        if n is not None:
            verdict = result.claims[n - 1].verdict.verdict
            para.add_run(f"〔{n}·{VERDICT_LABELS[verdict]}〕").bold = True
    doc.add_heading("逐条依据", level=2)
    for n, checked in enumerate(result.claims, start=1):
        v = checked.verdict
        p = doc.add_paragraph(style="List Number")
        p.add_run(VERDICT_LABELS[v.verdict]).bold = True
        p.add_run(f"：{checked.claim.text}")
        doc.add_paragraph(f"说明：{v.explanation}", style="List Bullet")
        if v.claimed:
            doc.add_paragraph(f"稿件中：{v.claimed}" + (f"；报道中：{v.found}" if v.found else ""), style="List Bullet")
        for c in v.evidence:
            ref = refs.index(format_reference(c)) + 1
            address = link(c) if link else None
            doc.add_paragraph(f"原文：“{c.quote}”（《{c.headline}》{' ' + address if address else ''}）[{ref}]",
                              style="List Bullet")
    if refs:
        doc.add_heading("参考文献", level=2)
        for i, r in enumerate(refs, start=1):
            doc.add_paragraph(f"[{i}] {r}")
    path = Path(path)
    doc.save(str(path))
    return path
