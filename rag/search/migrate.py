"""Read an index of an earlier format as the current one.

Format 1 derived an article's id from its headline and body alone, so the
same story in two issues was stored once and one issue's copy was lost.
Format 2 adds the issue (date, 期号, 版次) to the id.
"""

from __future__ import annotations

import hashlib
from dataclasses import replace
from typing import Any

from ..ingest.parse_common import article_id
from ..records import Article, Chunk


def _format1_id(a: Article) -> str:
    return hashlib.sha1(f"{a.headline}\n{a.body}".encode()).hexdigest()[:16]


def migrate(manifest: dict[str, Any], articles: dict[str, Article],
            chunks: list[Chunk]) -> tuple[dict[str, Any], dict[str, Article], list[Chunk]]:
    """A format-1 index's records under format-2 ids; vectors keep their rows.

    Ids an archive gave its articles are kept. Every source file is marked
    changed, so the next ingest that names it parses it again and brings
    back issues that format 1 had merged away.
    """
    renamed = {aid: (article_id(a.headline, a.body, a.date, a.issue, a.page)
                     if aid == _format1_id(a) else aid) for aid, a in articles.items()}
    new_articles = {renamed[aid]: replace(a, id=renamed[aid]) for aid, a in articles.items()}
    new_chunks = [replace(c, id=f"{renamed.get(c.article_id, c.article_id)}#{c.n}",
                          article_id=renamed.get(c.article_id, c.article_id)) for c in chunks]
    files = {key: {**meta, "sha256": None, "articles": [renamed.get(i, i) for i in meta["articles"]]}
             for key, meta in manifest.get("files", {}).items()}
    return {**manifest, "files": files, "migrated_from": manifest.get("format_version")}, \
        new_articles, new_chunks
