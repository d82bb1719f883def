"""HTML for the chat UI: answers, citation cards, verdicts and archive tables.

Pure functions of records, no Gradio. Every string that comes from the
corpus or from a user passes through ``esc`` before it reaches HTML: an
article containing ``<script>`` must show as text and never run.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from rag.answer.cite import MARKER_RE, format_date, format_reference, quoted_reference
from rag.answer.compose import CLOSEST_LABEL
from rag.answer.verify import VERDICT_LABELS
from rag.ingest.sentences import FULL_STOPS
from rag.records import Article, Citation

from .links import article_link, esc, question_url

#: Characters of context shown on each side of a quote inside its paragraph.
CONTEXT_CHARS = 160

_UPLOAD_PREFIX = re.compile(r"^[0-9a-f]{12}-")  # see handlers.Handlers._accept

STATUS_LABELS = {"ok": "已导入", "skipped": "已在索引中", "error": "出错", "rejected": "已拒绝"}


def esc_lines(text: str) -> str:
    """Escape, keeping line breaks visible."""
    return esc(text).replace("\n", "<br>")


@dataclass(frozen=True)
class Source:
    """A citation with the paragraph text around its quote, ready to display."""

    citation: Citation
    before: str = ""
    after: str = ""


@dataclass(frozen=True)
class ArticleRef:
    """An article a reply points to without quoting it (a refusal's closest reports)."""

    article_id: str
    headline: str
    date: str | None = None
    start: int | None = None  # the retrieved passage, marked when the article opens
    end: int | None = None


@dataclass(frozen=True)
class Turn:
    """One question and the assistant's reply, as the conversation shows it."""

    question: str
    text: str
    refused: bool
    sources: tuple[Source, ...] = ()
    notice: str | None = None
    resolved: str | None = None
    total_ms: float | None = None  # from the question's arrival, waiting for the model included
    closest: tuple[ArticleRef, ...] = ()
    wait_ms: float | None = None  # of total_ms, spent waiting for the model to load


#: A refusal links to this many of the closest articles.
CLOSEST_ARTICLES = 3


def closest_articles(hits, n: int = CLOSEST_ARTICLES) -> tuple[ArticleRef, ...]:
    """The first ``n`` distinct articles among retrieved hits, each with its passage's span."""
    out: dict[str, ArticleRef] = {}
    for h in hits:
        a = h.article
        if a.id not in out:
            out[a.id] = ArticleRef(a.id, a.headline, a.date, h.chunk.start, h.chunk.end)
        if len(out) == n:
            break
    return tuple(out.values())


def quote_context(body: str, start: int, end: int, quote: str,
                  width: int = CONTEXT_CHARS) -> tuple[str, str, str]:
    """(before, quote, after): the quote inside its paragraph of ``body``.

    The offsets are trusted only when they point at the quote; otherwise the
    quote is looked up in the body, and shown alone if it is not there.
    """
    if not (0 <= start < end <= len(body)) or body[start:end] != quote:
        found = body.find(quote) if quote else -1
        if found < 0:
            return "", quote, ""
        start, end = found, found + len(quote)
    p_start = body.rfind("\n", 0, start) + 1
    p_end = body.find("\n", end)
    p_end = len(body) if p_end < 0 else p_end
    before, after = body[p_start:start], body[end:p_end]
    if len(before) > width:
        cut = before[-width:]
        # Start the context at a sentence boundary when one is close.
        for i, ch in enumerate(cut[:width // 2]):
            if ch in FULL_STOPS:
                cut = cut[i + 1:]
                break
        before = "…" + cut
    if len(after) > width:
        cut = after[:width]
        for i in range(len(cut) - 1, width // 2, -1):
            if cut[i] in FULL_STOPS:
                cut = cut[:i + 1]
                break
        after = cut + "…"
    return before, body[start:end], after


def make_sources(citations: Iterable[Citation], articles: Mapping[str, Article]) -> tuple[Source, ...]:
    """Attach to each citation the paragraph around its quote."""
    out = []
    for c in citations:
        article = articles.get(c.article_id)
        if article is None:
            out.append(Source(c))
            continue
        before, quote, after = quote_context(article.body, c.start, c.end, c.quote)
        out.append(Source(c, before, after) if quote == c.quote else Source(c))
    return tuple(out)


def meta_html(date: str | None, inferred: bool, issue: str | None, page: str | None) -> str:
    """Date (with a 推断 badge), 期号 and 版次 as small labels."""
    parts = [f'<span class="meta-date">{esc(format_date(date, False))}</span>']
    if date and inferred:
        parts.append('<span class="badge badge-inferred" title="该期报纸未印出版日期，日期由正文推断">推断</span>')
    if issue:
        parts.append(f'<span class="meta-item">第{esc(issue)}期</span>')
    if page:
        parts.append(f'<span class="meta-item">第{esc(page)}版</span>')
    return '<div class="card-meta">' + "".join(parts) + "</div>"


def citation_card(source: Source, anchor: str) -> str:
    """A card: headline, date/期号/版次, the paragraph with the quote marked, a copy button."""
    c = source.citation
    reference = format_reference(c)
    title = article_link(c.article_id, f"《{c.headline}》", c.start, c.end, cls="article-link card-title")
    return (
        f'<div class="cite-card" id="{esc(anchor)}" tabindex="-1">'
        f'<div class="card-head"><span class="cite-n">[{c.n}]</span>{title}</div>'
        + meta_html(c.date, c.date_inferred, c.issue, c.page) + page_note(c)
        + f'<blockquote class="card-context">{esc_lines(source.before)}'
        f'<mark>{esc_lines(c.quote)}</mark>{esc_lines(source.after)}</blockquote>'
        f'<div class="card-actions"><button type="button" class="copy-ref" data-copy="{esc(quoted_reference(c))}" '
        f'title="复制引文和参考文献">复制引用</button>'
        f'<span class="ref-text">{esc(reference)}</span></div>'
        "</div>"
    )


def page_note(c: Citation) -> str:
    """For a quote from a PDF or a scan: a link to it on its page, and 识别存疑 when the
    OCR was unsure of a line it spans (its lowest confidence, ``confidence``, is known
    only for pages)."""
    from rag.ingest.regions import DOUBT_BELOW

    if c.confidence is None:
        return ""
    link = article_link(c.article_id, "在版面上查看", c.start, c.end, cls="article-link page-link", view="page")
    doubt = (f'<span class="ocr-doubt" title="识别置信度 {c.confidence:.2f}">识别存疑</span>'
             if c.confidence < DOUBT_BELOW else "")
    return f'<div class="card-page">{link}{doubt}</div>'


def anchor_id(prefix: str, n: int) -> str:
    return f"{prefix}-{n}"


def linkify(text: str, numbers: Iterable[int] | Mapping[int, str], prefix: str) -> str:
    """Escape answer text and turn its ``[n]`` markers into links to the cards; given
    {n: headline}, each link is named for its article ("引用1：《…》")."""
    names = numbers if isinstance(numbers, Mapping) else {}
    valid = set(numbers)

    def link(m: re.Match) -> str:
        n = int(m.group(1))
        if n not in valid:
            return m.group(0)
        target = anchor_id(prefix, n)
        name = f' aria-label="引用{n}：《{esc(names[n])}》"' if n in names else ""
        return f'<a class="cite-link" href="#{target}" data-target="{target}"{name}>[{n}]</a>'

    return MARKER_RE.sub(link, esc_lines(text))


def turn_prefix(i: int) -> str:
    return f"cite-t{i}"


def answer_html(turn: Turn, prefix: str) -> str:
    """The assistant's reply: an answer with linked markers, or a refusal box."""
    meta = []
    if turn.resolved:
        meta.append(f"按上文理解为：{esc(turn.resolved)}")
    if turn.sources:
        meta.append(f"引用 {len(turn.sources)} 篇报道")
    if turn.total_ms is not None:
        took = f"用时 {duration(turn.total_ms)}"
        if turn.wait_ms:
            took += f"（其中等待模型加载 {duration(turn.wait_ms)}）"
        meta.append(took)
    meta_line = f'<div class="a-meta">{" · ".join(meta)}</div>' if meta else ""
    notice = f'<div class="notice">⚠ {esc(turn.notice)}</div>' if turn.notice else ""
    if turn.refused:
        links, text = "", turn.text
        if turn.closest:
            text = text.split(CLOSEST_LABEL)[0]  # the links below name them: once is enough
            links = ('<div class="closest"><span class="closest-label">打开最接近的报道：</span>'
                     + "".join(article_link(r.article_id, f"《{r.headline}》", r.start, r.end,
                                            cls="article-link closest-link") for r in turn.closest)
                     + "</div>")
        return ('<div class="reply refusal"><div class="refusal-title">档案中未找到</div>'
                f'<div class="a-text">{esc_lines(text)}</div>{links}{notice}{meta_line}</div>')
    body = linkify(turn.text, {s.citation.n: s.citation.headline for s in turn.sources}, prefix)
    return f'<div class="reply answer"><div class="a-text">{body}</div>{notice}{meta_line}</div>'


def duration(ms: float) -> str:
    """"170 毫秒" below a second, "9.3 秒" above."""
    return f"{ms:.0f} 毫秒" if ms < 1000 else f"{ms / 1000:.1f} 秒"


def _question_html(question: str, link: bool = True) -> str:
    share = (f'<a class="q-link" href="{esc(question_url(question))}" target="_blank" rel="noopener" '
             f'title="在新页面重新提这个问题（可分享的链接）" aria-label="链接：重新提问“{esc(_short(question, 24))}”">链接</a>') if link else ""
    return f'<div class="q-row">{share}<div class="q-bubble">{esc_lines(question)}</div></div>'


def conversation_html(turns: Sequence[Turn], pending: str | None = None,
                      partial: str | None = None, loading: bool = False) -> str:
    """The whole conversation; ``pending`` is a question still being answered
    (``loading`` while it waits for the model)."""
    if not turns and pending is None:
        return ('<div class="conv conv-empty"><div class="empty-title">向株洲日报档案提问</div>'
                '<p>回答只摘自报纸原文，每句都标注来源。点击回答中的 <b>[1]</b> 查看引用的报道段落，'
                '点击报道标题阅读全文，在引用卡片上可一键复制规范引用。档案里没有的内容，助手会明确说“档案中未找到”。</p></div>')
    parts = []
    for i, turn in enumerate(turns):
        parts.append(f'<div class="turn">{_question_html(turn.question)}'
                     f'{answer_html(turn, turn_prefix(i))}</div>')
    if pending is not None:
        waiting = "正在加载模型…首次提问需要稍等片刻" if loading else "正在检索档案…"
        body = (f'<div class="a-text">{esc_lines(partial)}<span class="cursor">▍</span></div>'
                if partial else f'<div class="a-text searching">{waiting}</div>')
        parts.append(f'<div class="turn">{_question_html(pending, link=False)}'
                     f'<div class="reply answer pending">{body}</div></div>')
    return '<div class="conv">' + "".join(parts) + "</div>"


def sources_html(turns: Sequence[Turn]) -> str:
    """Citation cards of every turn, newest first; only the newest group is open."""
    if not turns:
        return '<div class="sources-empty">提问后，这里显示回答所引用的报道原文。</div>'
    groups = []
    for i in range(len(turns) - 1, -1, -1):
        turn = turns[i]
        prefix = turn_prefix(i)
        if turn.sources:
            cards = "".join(citation_card(s, anchor_id(prefix, s.citation.n)) for s in turn.sources)
        else:
            cards = '<div class="sources-none">这个问题没有可引用的报道。</div>'
        is_open = " open" if i == len(turns) - 1 else ""
        groups.append(f'<details class="source-group"{is_open}><summary>'
                      f'<span class="group-n">第{i + 1}问</span>{esc(_short(turn.question))}</summary>'
                      f"{cards}</details>")
    return '<div class="sources">' + "".join(groups) + "</div>"


def _short(text: str, n: int = 36) -> str:
    text = " ".join(text.split())
    return text if len(text) <= n else text[:n] + "…"


def message_html(text: str, kind: str = "warn") -> str:
    """A short status message (kind: warn, error, info, ok)."""
    return f'<div class="msg msg-{esc(kind)}">{esc(text)}</div>'


def values_html(verdict, claimed_label: str) -> str:
    """What the claim says (under ``claimed_label``) beside what the archive printed, if either is known."""
    if not (verdict.claimed or verdict.found):
        return ""
    values = '<div class="verdict-values">'
    if verdict.claimed:
        values += f'<span>{esc(claimed_label)}：<b>{esc(verdict.claimed)}</b></span>'
    if verdict.found:
        values += f'<span>报道中：<b>{esc(verdict.found)}</b></span>'
    return values + "</div>"


def verdict_html(verdict, sources: Sequence[Source]) -> str:
    """A verification result: the verdict, why, and the evidence as citation cards."""
    kind = verdict.verdict
    label = VERDICT_LABELS.get(kind, kind)
    values = values_html(verdict, "说法中")
    cards = "".join(citation_card(s, anchor_id("ev", s.citation.n)) for s in sources)
    if cards:
        cards = f'<div class="evidence-title">依据</div>{cards}'
    return (f'<div class="verdict verdict-{esc(kind)}" data-announce><div class="verdict-label">{esc(label)}</div>'
            f'<div class="verdict-claim">“{esc(verdict.claim)}”</div>'
            f'<div class="verdict-why">{esc(verdict.explanation)}</div>{values}</div>{cards}')


@dataclass(frozen=True)
class FileRow:
    """One line of the upload report."""

    name: str
    status: str  # ok | skipped | error | rejected
    date: str | None = None
    date_inferred: bool = False
    issue: str | None = None
    articles: int = 0
    error: str | None = None


def ingest_report_html(rows: Sequence[FileRow], summary: str | None) -> str:
    """Per file: status, date, 期号, article count and the reason for any rejection."""
    if not rows:
        return message_html("没有收到文件。", "warn")
    body = []
    for r in rows:
        date = esc(format_date(r.date, False) if r.date else "—") + (' <span class="badge badge-inferred">推断</span>'
                                      if r.date and r.date_inferred else "")
        body.append(
            f'<tr class="row-{esc(r.status)}"><td class="col-file">{esc(r.name)}</td>'
            f'<td><span class="status status-{esc(r.status)}">{esc(STATUS_LABELS.get(r.status, r.status))}</span></td>'
            f'<td class="nowrap">{date}</td><td>{esc(r.issue or "—")}</td><td class="num">{r.articles}</td>'
            f'<td class="col-error">{esc(r.error or "")}</td></tr>')
    head = ("<tr><th>文件</th><th>状态</th><th>日期</th><th>期号</th><th>文章数</th><th>说明</th></tr>")
    summary_html = f'<div class="report-summary">{esc(summary)}</div>' if summary else ""
    return (f'{summary_html}<div class="table-wrap"><table class="data-table report-table"><thead>{head}</thead>'
            f'<tbody>{"".join(body)}</tbody></table></div>')


@dataclass(frozen=True)
class IssueRow:
    date: str | None
    date_inferred: bool
    issue: str | None
    articles: int
    sources: tuple[str, ...]


def display_name(source: str) -> str:
    """A file's name as the user knows it: without the content-hash prefix of uploads."""
    return _UPLOAD_PREFIX.sub("", Path(source).name)


def issue_rows(articles: Iterable[Article]) -> list[IssueRow]:
    """Indexed articles grouped by issue (date, 期号), newest first, undated last."""
    groups: dict[tuple, list[Article]] = {}
    for a in articles:
        groups.setdefault((a.date, a.date_inferred, a.issue), []).append(a)
    rows = [IssueRow(d, inf, iss, len(arts), tuple(sorted({display_name(a.source) for a in arts})))
            for (d, inf, iss), arts in groups.items()]
    rows.sort(key=lambda r: (r.date is not None, r.date or "", r.issue or ""), reverse=True)
    return rows


def issues_html(articles: Iterable[Article], chunks: int | None = None) -> str:
    """The listing of what is indexed: issues by date, newest first."""
    articles = list(articles)
    rows = issue_rows(articles)
    if not rows:
        return message_html("索引中还没有任何报纸。", "info")
    total = f"共 {len(rows)} 期 · {len(articles)} 篇文章" + (f" · {chunks} 个段落" if chunks else "")
    body = []
    for r in rows:
        if not r.date:
            inferred = "—"
        elif r.date_inferred:
            inferred = '<span class="badge badge-inferred" title="未印出版日期，由正文推断">推断</span>'
        else:
            inferred = '<span class="muted">报头</span>'
        files = "、".join(r.sources)
        body.append(f'<tr><td class="nowrap">{esc(format_date(r.date, False))}</td><td>{inferred}</td>'
                    f"<td>{esc(r.issue or '—')}</td><td class=\"num\">{r.articles}</td>"
                    f'<td class="col-file">{esc(files)}</td></tr>')
    head = "<tr><th>出版日期</th><th>日期来源</th><th>期号</th><th>文章数</th><th>来源文件</th></tr>"
    return (f'<div class="report-summary">{esc(total)}</div><div class="table-wrap"><table class="data-table issue-table">'
            f'<thead>{head}</thead><tbody>{"".join(body)}</tbody></table></div>')


def header_html(articles: int, issues: int) -> str:
    """The page banner with the size of the archive."""
    return ('<div class="banner"><h1 class="masthead">株洲日报<span>档案问答</span></h1>'
            '<div class="tagline">编辑部事实核查助手 · 回答均摘自报纸原文并附出处</div>'
            f'<div class="stats">已收录 {issues} 期 · {articles} 篇文章'
            ' · <a class="api-link" href="/api/docs" target="_blank" rel="noopener">HTTP 接口文档</a></div></div>')
