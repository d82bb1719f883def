"""Training windows for the span reader, built with the assistant's own window code.

For each question: one window around the answer's sentence (0–2 sentences before it,
chosen by hash), and no-answer windows: another stretch of the same context (or, for a
share of the questions chosen by hash, a retrieved near-miss: the best-ranked passage
the project's own retriever returns for the question whose article lacks every gold
answer), and a paragraph of the same article (same topic) that lacks every gold answer.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..answer.windows import PAD, Window, build_window, sentence_at, tokenize
from ..ingest.sentences import split_sentences
from .mrc_data import contrast_news, load, noise_articles, stable_fraction, synthetic_news


@dataclass(frozen=True)
class Item:
    id: str
    question: str
    title: str
    context: str
    answers: tuple[str, ...]
    start: int  # the answer's offset in context
    article: str  # contexts of one article share this key
    split: str


#: The split of training questions generated from news sentences (``synthetic_news``, ``contrast_news``).
GENERATED = "news_train"


def load_items(train_dir: Path, bench: Path, news: bool = True) -> list[Item]:
    """Every question with its context and answer offset, in a fixed order."""
    contexts, questions = load(train_dir)
    by_id = {c.id: c for c in contexts}
    items = []
    for q in questions:
        c = by_id[q.context_id]
        start = q.starts[0] if q.starts else c.text.find(q.answers[0])
        if start < 0:
            continue
        items.append(Item(q.id, q.question, c.title, c.text, q.answers, start,
                          c.id.rsplit("-", 1)[0], q.split))
    if news:
        rows = {f"noise-{i}": row for i, row in enumerate(noise_articles(bench, 3000))}
        # The contrast questions of training articles: two numbers in one sentence.
        for q in synthetic_news(bench) + contrast_news(bench, train=True):
            row = rows.get(q.context_id)
            text = (row or {}).get("text") or ""
            start = text.find(q.answers[0])
            if start >= 0:
                items.append(Item(q.id, q.question, row.get("headline") or "", text, q.answers, start,
                                  q.context_id, GENERATED if q.split == "train" else q.split))
    return items


#: A near-miss: (headline, article body, character the window is built around).
NearMiss = tuple[str, str, int]

def _unit(answer: str) -> str | None:
    """The unit a numeric answer ends in (the last character after its last digit:
    元 of 6589.15亿元, % of 5.6%, 名 of 21名), or None."""
    m = re.search(r"\d[^\d]*$", answer)
    tail = m.group(0)[1:].strip() if m else ""
    return tail[-1] if tail else None


def rivals(item: Item, text: str) -> bool:
    """Whether ``text`` could answer the item's question: it holds a gold answer or, for a
    question generated from a news sentence, a number in the answer's unit. Such questions
    are asked by their clause alone, without the article's date or place ("两市合计成交
    多少亿元？"), so another report's figure of that kind answers them as well."""
    if any(a in text for a in item.answers):
        return True
    if item.split != GENERATED:
        return False
    units = {u for a in item.answers if (u := _unit(a))}
    return any(re.search(r"\d[\d,.]*\s*[十百千万亿余多]*" + re.escape(u), text) for u in units)


def asked_for_near_miss(items: list[Item], share: float, human_only: bool = False) -> list[Item]:
    """The items whose far window a near-miss stands in for: ``share`` of them by hash and,
    with ``human_only``, none of the questions generated from news sentences."""
    return [it for it in items if stable_fraction("near:" + it.id) < share
            and not (human_only and it.split == GENERATED)]


def near_miss(item: Item, hits) -> NearMiss | None:
    """The best-ranked retrieved passage (``Hit``s in rank order) whose article holds none
    of the item's gold answers and whose passage does not otherwise ``rivals`` it, with the
    window centred on its chunk's sentence sharing the most characters with the question:
    what the reader would be shown when the evidence is not there."""
    asked = set(item.question)
    for h in hits:
        body = h.article.body
        if not body.strip() or any(a in body for a in item.answers) or rivals(item, body[h.chunk.start:h.chunk.end]):
            continue
        spans = h.chunk.sentences or ((h.chunk.start, h.chunk.end),)
        a, _ = max(spans, key=lambda s: (len(asked & set(body[s[0]:s[1]])), -s[0]))
        return h.article.headline, body, a
    return None


def _pick(key: str, n: int) -> int:
    return int(stable_fraction(key) * n) % max(n, 1)


def windows_for(item: Item, tok, cache: dict, siblings: list[Item], max_tokens: int,
                near: NearMiss | None = None):
    """(window, start_token, end_token) triples for one item: the answer window and up
    to two no-answer windows (start = end = 0): the ``near`` miss when given, else
    another stretch of the same context; and a paragraph of the same article."""
    def prepared(text: str):
        if text not in cache:
            cache[text] = (tokenize(tok, text), split_sentences(text))
        return cache[text]

    q, title = tokenize(tok, item.question), tokenize(tok, item.title)
    text, sents = prepared(item.context)
    if not sents:
        return []
    end = item.start + len(item.answers[0])
    center = sentence_at(sents, item.start)
    out = []
    w = build_window(q, title, text, sents, center, before=_pick("before:" + item.id, 3), focus=item.start,
                     max_tokens=max_tokens)
    a, b = w.token_at(item.start), w.token_at(end, end=True)
    if a is not None and b is not None and a <= b:
        out.append((w, w.body_first + a, w.body_first + b))

    def lacks(w: Window, context: str) -> bool:
        stretch = context[w.start:w.end]
        return bool(w.offsets) and not any(ans in stretch for ans in item.answers)

    far = [i for i in range(len(sents)) if abs(i - center) >= 3]
    nearby = None
    if near is not None:
        ntitle, ntext, char = near
        ntokens, nsents = prepared(ntext)
        if nsents:
            w = build_window(q, tokenize(tok, ntitle), ntokens, nsents, sentence_at(nsents, char), before=1,
                             max_tokens=max_tokens)
            if w.offsets and not rivals(item, ntext[w.start:w.end]):
                nearby = w
    if nearby is not None:
        out.append((nearby, 0, 0))
    elif far:  # no near-miss asked for, or its window could answer the question
        i = far[_pick("far:" + item.id, len(far))]
        w = build_window(q, title, text, sents, i, before=0, max_tokens=max_tokens)
        if lacks(w, item.context):
            out.append((w, 0, 0))
    others = [s for s in siblings if s.context != item.context]
    if others:
        other = others[_pick("sibling:" + item.id, len(others))]
        otext, osents = prepared(other.context)
        if osents:
            i = _pick("sibling-sentence:" + item.id, len(osents))
            w = build_window(q, tokenize(tok, other.title), otext, osents, i, before=1, max_tokens=max_tokens)
            if lacks(w, other.context):
                out.append((w, 0, 0))
    return out


def build_samples(items: list[Item], tok, max_tokens: int, near: dict[str, NearMiss] | None = None):
    """Padded ids (n, max_tokens) int32, lengths, body starts, start and end labels.
    ``near`` maps item ids to the near-miss that stands in for their far window."""
    from tqdm import tqdm

    by_article: dict[str, list[Item]] = {}
    for it in items:
        by_article.setdefault(it.article, []).append(it)
    # One context per article stands for its paragraphs as siblings (distinct contexts).
    siblings = {k: list({it.context: it for it in v}.values()) for k, v in by_article.items()}
    cache: dict = {}
    rows = []
    for it in tqdm(items, desc="windows", unit="q", mininterval=5):
        for w, s, e in windows_for(it, tok, cache, siblings[it.article], max_tokens, (near or {}).get(it.id)):
            rows.append((w.ids, w.body_first, s, e))
    n = len(rows)
    ids = np.full((n, max_tokens), PAD, np.int32)
    lengths = np.zeros(n, np.int32)
    body = np.zeros(n, np.int32)
    labels = np.zeros((n, 2), np.int32)
    for r, (w_ids, first, s, e) in enumerate(rows):
        ids[r, :len(w_ids)] = w_ids
        lengths[r], body[r], labels[r] = len(w_ids), first, (s, e)
    return ids, lengths, body, labels


def context_windows(tok, question: str, title: str, context: str, max_tokens: int) -> list[Window]:
    """Windows covering a whole context, each overlapping the previous by a sentence."""
    text, sents = tokenize(tok, context), split_sentences(context)
    q, t = tokenize(tok, question), tokenize(tok, title)
    out: list[Window] = []
    i = 0
    while i < len(sents):
        w = build_window(q, t, text, sents, i, before=1 if out else 0, max_tokens=max_tokens)
        out.append(w)
        covered = sentence_at(sents, max(w.end - 1, w.start))
        i = max(i + 1, covered + 1)
    return out
