"""Pack an article's sentences into token-limited, overlapping chunks."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence

from ..records import Article, Chunk
from .instructions import find_instruction
from .sentences import split_sentences

#: Counts tokens of many texts at once with the embedding model's tokenizer.
TokenCounter = Callable[[Sequence[str]], list[int]]

# Room for the model's special tokens and the "passage: " prompt.
_RESERVED_TOKENS = 8


def chunk_article(article: Article, count_tokens: TokenCounter, max_tokens: int = 256,
                  overlap: int = 1) -> list[Chunk]:
    """Chunks of whole sentences, each within ``max_tokens`` including the headline.

    Consecutive chunks share ``overlap`` sentences so that an answer spanning a
    boundary is whole in at least one chunk. A single sentence longer than the
    budget becomes a chunk of its own (the model truncates it).
    """
    spans = split_sentences(article.body)
    if not spans:
        return []
    body = article.body
    counts = count_tokens([body[a:b] for a, b in spans])
    headline_tokens = count_tokens([article.headline])[0] if article.headline else 0
    budget = max(16, max_tokens - headline_tokens - _RESERVED_TOKENS)

    groups: list[list[int]] = []
    i = 0
    while i < len(spans):
        group = [i]
        used = counts[i]
        j = i + 1
        while j < len(spans) and used + counts[j] <= budget:
            group.append(j)
            used += counts[j]
            j += 1
        groups.append(group)
        if j >= len(spans):
            break
        # Step back for overlap, but always move forward by at least one sentence.
        i = max(group[0] + 1, j - overlap)
    return [_make_chunk(article, n, [spans[k] for k in g], headline_tokens + sum(counts[k] for k in g))
            for n, g in enumerate(groups)]


def _make_chunk(article: Article, n: int, spans: list[tuple[int, int]], tokens: int) -> Chunk:
    start, end = spans[0][0], spans[-1][1]
    text = article.body[start:end]
    return Chunk(
        id=f"{article.id}#{n}",
        article_id=article.id,
        n=n,
        start=start,
        end=end,
        sentences=tuple(spans),
        text=text,
        tokens=tokens + _RESERVED_TOKENS,
        tiktokens=0,
        headline=article.headline,
        instruction=find_instruction(f"{article.headline}\n{text}"),
    )


def chunk_articles(articles: Iterable[Article], count_tokens: TokenCounter,
                   max_tokens: int = 256, overlap: int = 1) -> list[Chunk]:
    """Chunk many articles and fill in each chunk's cl100k_base token count."""
    from dataclasses import replace

    from ..embedding.tokens import count_tiktokens_batch

    chunks = [c for a in articles for c in chunk_article(a, count_tokens, max_tokens, overlap)]
    tik = count_tiktokens_batch([c.text for c in chunks]) if chunks else []
    return [replace(c, tiktokens=t) for c, t in zip(chunks, tik)]
