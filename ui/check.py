"""The 核查稿件 tab: a whole draft checked claim by claim, its marks, evidence and reports.

``draft_html`` is a pure function of a ``DraftCheck`` (every draft and corpus
string passes through ``esc``); ``DraftDesk`` holds what the tab's buttons do,
with no Gradio in it, so both are tested without a server.
"""

from __future__ import annotations

import logging
import queue
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path

from rag.answer.verify import CONTRADICTED, VERDICT_LABELS
from rag.check.claims import MAX_DRAFT_CHARS
from rag.check.draft import DRAFT_SUFFIXES, DraftCheck, check_draft, read_draft
from rag.check.report import marked_segments, summary_line, to_markdown, write_docx
from rag.errors import RagError

from .handlers import zh_file_error
from .links import article_url, esc
from .render import citation_card, esc_lines, make_sources, message_html, values_html

log = logging.getLogger(__name__)

EMPTY = ('<div class="verify-empty">粘贴一篇稿件（不超过 10,000 字），或上传 .txt、.md、.docx 文件，'
         '助手会找出其中陈述数字、日期、名次、人名、地名和单位的句子，逐条到档案中核对。'
         '观点和评论不作核查。</div>')


def claim_anchor(n: int) -> str:
    return f"claim-ev-{n}"


def draft_html(result: DraftCheck, articles) -> str:
    """Summary counts, the draft with a mark after each claim, and each claim's evidence."""
    counts = result.counts()
    chips = "".join(f'<span class="count-chip verdict-{esc(v)}">{esc(VERDICT_LABELS[v])} <b>{n}</b></span>'
                    for v, n in counts.items())
    summary = (f'<h3 class="panel-title" id="draft-summary" data-announce>{esc(summary_line(result))}</h3>'
               f'<div class="draft-counts">{chips}</div>')
    if not result.claims:
        return summary + message_html("稿件中没有找到可核查的说法（数字、日期、名次、人名、地名或单位）。", "info")
    body = []
    for text, n in marked_segments(result):
        if n is None:
            body.append(esc_lines(text))
            continue
        v = result.claims[n - 1].verdict
        label = VERDICT_LABELS[v.verdict]
        # A contradicted claim says at the mark what the archive printed instead.
        instead = f"，报道中为{v.found}" if v.verdict == CONTRADICTED and v.found else ""
        body.append(f'<mark class="claim claim-{esc(v.verdict)}">{esc_lines(text)}</mark>'
                    f'<a class="cite-link claim-mark verdict-{esc(v.verdict)}" href="#{claim_anchor(n)}" '
                    f'data-target="{claim_anchor(n)}" title="{esc(label + instead)}" '
                    f'aria-label="第{n}条：{esc(label + instead)}，查看依据">{n}·{esc(label)}</a>')
    evidence = "".join(_evidence_html(n, checked, articles) for n, checked in enumerate(result.claims, start=1))
    return (f'{summary}<h3 class="panel-title">稿件（点击标注查看依据）</h3>'
            f'<div class="draft-marked">{"".join(body)}</div>'
            f'<h3 class="panel-title">逐条依据</h3><div class="draft-evidence">{evidence}</div>')


def _evidence_html(n: int, checked, articles) -> str:
    v = checked.verdict
    values = values_html(v, "稿件中")
    cards = "".join(citation_card(s, f"{claim_anchor(n)}-{s.citation.n}") for s in make_sources(v.evidence, articles))
    return (f'<section class="claim-ev verdict verdict-{esc(v.verdict)}" id="{claim_anchor(n)}" tabindex="-1" '
            f'aria-label="第{n}条的依据"><div class="verdict-label">{n}·{esc(VERDICT_LABELS[v.verdict])}</div>'
            f'<div class="verdict-claim">“{esc(checked.claim.text)}”</div>'
            f'<div class="verdict-why">{esc(v.explanation)}</div>{values}{cards}</section>')


class DraftDesk:
    """What the 核查稿件 tab's controls do."""

    def __init__(self, engine, report_dir: Path | None = None):
        self.engine = engine
        self.report_dir = Path(report_dir or tempfile.mkdtemp(prefix="zhuzhou-check-"))

    def load_file(self, path: str | None) -> tuple[str, str]:
        """(the draft box's new text, a message): a chosen file's text goes into the box."""
        if not path:
            return "", ""
        name = Path(str(path)).name
        if not name.lower().endswith(DRAFT_SUFFIXES):
            return "", message_html(f"不支持的文件类型“{Path(name).suffix or name}”，只接受 {'、'.join(DRAFT_SUFFIXES)}")
        try:
            return read_draft(path), ""
        except RagError as exc:
            return "", message_html(f"{name}：{zh_file_error(str(exc), str(path))}")

    def check(self, text: str | None, base_url: str = "") -> Iterator[tuple[str, str, list[str] | None]]:
        """Stream (status, result, report files) while the draft is checked."""
        text = text or ""
        if not text.strip():
            yield message_html("请粘贴稿件，或上传稿件文件。"), EMPTY, None
            return
        if len(text) > MAX_DRAFT_CHARS:
            yield message_html(f"稿件太长（{len(text):,} 字），一次最多核查 {MAX_DRAFT_CHARS:,} 字，请分段核查。"), EMPTY, None
            return
        assistant = self.engine.assistant
        yield message_html("正在拆分稿件、逐条核查…", "info"), "", None
        updates: queue.Queue = queue.Queue()
        outcome: dict = {}

        def run() -> None:
            try:
                outcome["result"] = check_draft(assistant, text, progress=lambda d, t: updates.put((d, t)))
            except Exception as exc:  # shown below, whatever broke
                outcome["error"] = exc
            updates.put(None)

        threading.Thread(target=run, daemon=True).start()
        while (update := updates.get()) is not None:
            yield message_html(f"已核查 {update[0]}/{update[1]} 条说法…", "info"), "", None
        if "error" in outcome:
            exc = outcome["error"]
            if not isinstance(exc, RagError):
                log.error("checking a draft failed", exc_info=exc)
            yield message_html(f"出错了：{exc}", "error"), "", None
            return
        result = outcome["result"]
        files = self.reports(result, base_url)
        took = f"用时 {result.timings_ms['total'] / 1000:.1f} 秒"
        yield message_html(f"核查完成，{took}。可下载 Markdown 和 Word 格式的核查报告。", "ok"), \
            draft_html(result, assistant.index.articles), files

    def reports(self, result: DraftCheck, base_url: str = "") -> list[str]:
        """The Markdown and .docx reports, in a folder of their own, linking articles at ``base_url``."""
        folder = Path(tempfile.mkdtemp(dir=self.report_dir))

        def link(c):
            return base_url + article_url(c.article_id, c.start, c.end) if base_url else None

        md = folder / "核查报告.md"
        md.write_text(to_markdown(result, link=link), encoding="utf-8")
        docx = write_docx(result, folder / "核查报告.docx", link=link)
        return [str(md), str(docx)]
