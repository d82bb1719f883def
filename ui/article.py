"""The article view: one article in full, its quote marked, and the rest of its issue.

Pure functions of records, no Gradio; every corpus string passes through ``esc``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from rag.answer.cite import format_reference, quoted_reference
from rag.records import Article, Citation

from .links import article_link, esc
from .render import meta_html

#: The id of the marked passage, which the page scrolls into view.
MARK_ID = "article-mark"


def issue_key(a: Article) -> tuple:
    """What makes articles one issue: date and 期号, or the file when both are unknown."""
    return (a.date, a.date_inferred, a.issue) + (() if a.date or a.issue else (a.source,))


def same_issue(article: Article, articles: Iterable[Article]) -> list[Article]:
    """The other articles of ``article``'s issue, in page and print order."""
    key = issue_key(article)
    others = [a for a in articles if a.id != article.id and issue_key(a) == key]
    return sorted(others, key=lambda a: (a.page or "", a.source, a.position, a.id))


def _body_html(body: str, span: tuple[int, int] | None) -> str:
    """Paragraphs, with the span marked in each paragraph it touches (the first mark has MARK_ID)."""
    out, offset, marked = [], 0, False
    for para in body.split("\n"):
        p_start, p_end = offset, offset + len(para)
        offset = p_end + 1
        if not para.strip():
            continue
        if span and span[0] < p_end and span[1] > p_start:
            a, b = max(span[0], p_start) - p_start, min(span[1], p_end) - p_start
            mark_id = "" if marked else f' id="{MARK_ID}"'
            marked = True
            out.append(f"<p>{esc(para[:a])}<mark class=\"hl\"{mark_id}>{esc(para[a:b])}</mark>{esc(para[b:])}</p>")
        else:
            out.append(f"<p>{esc(para)}</p>")
    return "".join(out)


def article_html(article: Article | None, others: Iterable[Article] = (),
                 span: tuple[int, int] | None = None, wanted: str | None = None, panel: str = "") -> str:
    """The whole article: headline, sub-headline, byline, date/期号/版次, body, and its issue."""
    if article is None:
        return ('<div class="article-empty">'
                + (f"档案中没有编号为“{esc(wanted)}”的文章，可能已被移除或链接有误。" if wanted else
                   "在问答中点击引用卡片的标题，或“档案中未找到”下方列出的报道，这里显示报道全文。")
                + "</div>")
    body = article.body
    if span and not (0 <= span[0] < span[1] <= len(body)):
        span = None
    quote = body[span[0]:span[1]] if span else ""
    c = Citation(0, article.id, "", article.headline, article.date, article.date_inferred, article.issue,
                 article.page, quote, *(span or (0, 0)), byline=article.byline)
    reference = format_reference(c)
    copy = quoted_reference(c) if quote else reference
    head = [f'<h2 class="article-title">{esc(article.headline)}</h2>']
    if article.subheadline:
        head.append(f'<div class="article-sub">——{esc(article.subheadline)}</div>')
    if article.column:
        head.append(f'<div class="article-column">【{esc(article.column)}】</div>')
    if article.byline:
        head.append(f'<div class="article-byline">{esc(article.byline)}</div>')
    head.append(meta_html(article.date, article.date_inferred, article.issue, article.page))
    actions = (f'<div class="card-actions"><button type="button" class="copy-ref" data-copy="{esc(copy)}" '
               f'title="{esc(copy)}">复制引用</button><span class="ref-text">{esc(reference)}</span></div>')
    others = list(others)
    if others:
        items = "".join(f"<li>{article_link(a.id, a.headline)}"
                        + (f'<span class="muted"> · 第{esc(a.page)}版</span>' if a.page else "") + "</li>"
                        for a in others)
        issue = f"（第{esc(article.issue)}期）" if article.issue else ""
        siblings = f'<div class="issue-list"><h3 class="panel-title">同期其他文章{issue}</h3><ol>{items}</ol></div>'
    else:
        siblings = ""
    # The head stays in view (CSS sticky) while the marked passage is scrolled to.
    return (f'<article class="article-view" data-article="{esc(article.id)}">'
            f'<header class="article-head">{"".join(head)}</header>{actions}'
            f'{panel}<div class="article-body">{_body_html(body, span)}</div></article>{siblings}')


def open_article(articles: Mapping[str, Article], article_id: str | None,
                 span: tuple[int, int] | None = None, page_panel=None) -> str:
    """The article view for an id (a message when no such article is indexed);
    ``page_panel(article, span)`` gives its 版面 panel."""
    article = articles.get(article_id or "")
    others = same_issue(article, articles.values()) if article else ()
    if article and span and not (0 <= span[0] < span[1] <= len(article.body)):
        span = None
    panel = page_panel(article, span) if article and page_panel else ""
    return article_html(article, others, span, wanted=article_id, panel=panel)
