"""Addresses inside the app: ``?article=ID[&hl=START-END][&view=page]`` and ``?q=问题``, and links to them."""

from __future__ import annotations

import html
from urllib.parse import quote as url_quote
from urllib.parse import urlencode


def esc(text: object) -> str:
    """HTML-escape anything (None becomes an empty string)."""
    return html.escape("" if text is None else str(text), quote=True)


def article_url(article_id: str, start: int | None = None, end: int | None = None,
                view: str | None = None) -> str:
    """The app's address for an article (``?article=ID``, with the marked span if any;
    ``view="page"`` opens it on its printed page)."""
    params = {"article": article_id}
    if start is not None and end is not None and end > start:
        params["hl"] = f"{start}-{end}"
    if view:
        params["view"] = view
    return "?" + urlencode(params)


def parse_span(text: str | None) -> tuple[int, int] | None:
    """"120-158" as (120, 158); None for anything else."""
    start, _, end = (text or "").partition("-")
    if start.isdigit() and end.isdigit() and int(end) > int(start):
        return int(start), int(end)
    return None


def article_link(article_id: str, label: str, start: int | None = None, end: int | None = None,
                 cls: str = "article-link", view: str | None = None) -> str:
    """A link that opens the article view in the app (and works as a plain URL)."""
    span = f' data-start="{start}" data-end="{end}"' if start is not None and end is not None else ""
    span += f' data-view="{esc(view)}"' if view else ""
    return (f'<a class="{esc(cls)}" href="{esc(article_url(article_id, start, end, view))}" '
            f'data-article="{esc(article_id)}"{span}>{esc(label)}</a>')


def question_url(question: str) -> str:
    """The app's address that asks ``question`` (``?q=…``)."""
    return "?" + urlencode({"q": question}, quote_via=url_quote)
