"""The default answerer: extractive, offline, fast, and willing to say "not found"."""

from __future__ import annotations

import re
from dataclasses import dataclass

from .fusion import term_coverage
from .periods import period_match
from .qtype import QuestionType, answer_spans, question_type
from .records import Citation, Hit
from .retrieve import Query

_MAX_SENTENCES_PER_ANSWER = 3
_ANSWER_CHARS = 200


@dataclass(frozen=True)
class Evidence:
    """A candidate sentence with why it might answer the question."""

    hit: Hit
    start: int  # offsets in the article body
    end: int
    score: float
    coverage: float
    typed: bool  # holds the kind of answer the question wants
    spans: tuple[tuple[int, int], ...]  # answer candidates, relative to the sentence

    @property
    def text(self) -> str:
        return self.hit.article.body[self.start:self.end]


def score_sentences(query: Query, hits: list[Hit], qtype: QuestionType | None = None) -> list[Evidence]:
    """Every sentence of the hits, scored by how well it answers the question."""
    qtype = qtype or question_type(query.text)
    seen: set[tuple[str, int]] = set()
    out: list[Evidence] = []
    for rank, hit in enumerate(hits):
        article, chunk = hit.article, hit.chunk
        context = _around(hit, chunk.text)
        prior = 1.0 / (1.0 + 0.15 * rank)
        for start, end in chunk.sentences:
            if (article.id, start) in seen:
                continue
            seen.add((article.id, start))
            sentence = article.body[start:end]
            coverage = _coverage(query, sentence.lower(), context)
            spans = tuple(answer_spans(sentence, qtype, query.text))
            typed = bool(spans) or not qtype.strict
            match = period_match(query.period, sentence, article.date)
            if match == 0.0 and query.period is not None:
                # The sentence may lean on its article for the year ("去年…").
                match = 0.5 * period_match(query.period, context, article.date)
            # "谁" wants a name: a sentence naming nobody is a weak answer, not an impossible one.
            weak = not spans and qtype.kind == "person"
            score = coverage * (1.0 if typed and not weak else 0.8 if typed else 0.35) \
                + 0.08 * match + 0.06 * prior
            if spans and (qtype.kind in ("person", "org", "place") or qtype.noun):
                score += 0.04
            if spans and _near_focus(sentence.lower(), spans, query.focus):
                score += 0.06
            out.append(Evidence(hit, start, end, score, coverage, typed, spans))
    out.sort(key=lambda e: -e.score)
    return out


_NEAR = 8  # characters between an answer and a focus word that still count as beside it


def _near_focus(sentence: str, spans, focus) -> bool:
    """Whether a candidate answer stands beside a word the question asks about."""
    for term in focus:
        for m in re.finditer(re.escape(term), sentence):
            if any(m.start() - _NEAR <= b and a <= m.end() + _NEAR for a, b in spans):
                return True
    return False


def _coverage(query: Query, sentence: str, context: str) -> float:
    """Share of the question's weighted terms in the sentence; terms found only
    in its passage or headline count half."""
    if not query.terms:
        return 0.0
    own = term_coverage(query.terms, sentence, query.weights)
    around = term_coverage(query.terms, context + sentence, query.weights)
    return own + 0.5 * (around - own)


def _around(hit: Hit, text: str) -> str:
    """``text`` under its article's headline and sub-headline, lower-cased, for term lookups."""
    return f"{hit.article.headline}\n{hit.article.subheadline or ''}\n{text}".lower()


#: A question word carrying this share of the question's weight must be in the
#: passage: "株洲博物馆馆长是谁" is not answered by a passage on the museum alone.
KEY_TERM_SHARE = 0.4


def missing_key_term(best: Evidence, query: Query) -> str | None:
    """A heavy question term that neither the sentence nor its passage contains."""
    total = sum(query.weights.get(t, 1.0) for t in query.terms)
    if not total:
        return None
    around = _around(best.hit, best.hit.chunk.text)
    for t in query.terms:
        if query.weights.get(t, 1.0) / total >= KEY_TERM_SHARE and t not in around:
            return t
    return None


def missing_name(best: Evidence, query: Query) -> str | None:
    """A place or organisation the question names that the article does not:
    深圳's growth rate does not answer a question about 株洲's. The whole article
    counts, as a passage often says only 全市 for the city its article names."""
    around = _around(best.hit, best.hit.article.body)
    for name in query.names:
        short = name[:-1] if len(name) > 2 and name[-1] in "省市县区" else name  # 株洲市 = 株洲
        if short not in around:
            return name
    return None


def is_answerable(best: Evidence, query: Query, min_score: float) -> bool:
    """Whether the best sentence really answers: enough of the question's
    weighted key terms, none of its heaviest missing, every place and
    organisation it names present, the right kind of answer, and not another year."""
    if best.score < min_score or not best.typed or missing_key_term(best, query) \
            or missing_name(best, query):
        return False
    if query.period is not None and not query.period.relative:
        match = period_match(query.period, best.text, best.hit.article.date)
        if match < 0 and period_match(query.period, best.hit.chunk.text, best.hit.article.date) < 0:
            return False
    return True


def short_answer(evidence: Evidence, qtype: QuestionType, query: Query) -> str | None:
    """The answer phrase itself (e.g. "353万人"), when the question type allows one."""
    if not evidence.spans or qtype.kind not in ("number", "ordinal"):
        return None
    sentence = evidence.text.lower()
    anchors = [sentence.find(t) + len(t) for t in query.terms if t in sentence]
    if not anchors:
        a, b = evidence.spans[0]
        return evidence.text[a:b]

    def distance(span: tuple[int, int]) -> int:
        # Prefer the first number after a key term ("降幅达53.72%"), then the nearest.
        after = [span[0] - a for a in anchors if span[0] >= a]
        return min(after) if after else 1000 + min(abs(span[0] - a) for a in anchors)

    a, b = min(evidence.spans, key=distance)
    return evidence.text[a:b]


def compose(evidence: list[Evidence], qtype: QuestionType, query: Query) -> tuple[str, list[Citation]]:
    """The answer text with [n] markers, and its citations."""
    chosen = [evidence[0]]
    if qtype.kind == "list" or len(evidence[0].text) < 25:
        for e in evidence[1:]:
            if len(chosen) >= _MAX_SENTENCES_PER_ANSWER:
                break
            if e.typed and e.score >= 0.8 * evidence[0].score and e.text not in {c.text for c in chosen}:
                chosen.append(e)
    citations: list[Citation] = []
    parts: list[str] = []
    for e in chosen:
        n = len(citations) + 1
        citations.append(make_citation(n, e))
        parts.append(_with_marker(e.text, n))
    lead = short_answer(evidence[0], qtype, query)
    body = "".join(parts)
    text = f"{lead}。{body}" if lead and lead not in body[:len(lead) + 12] else body
    if len(text) > _ANSWER_CHARS and len(parts) > 1:
        text = (f"{lead}。" if lead else "") + parts[0]
        citations = citations[:1]
    return text, citations


def _with_marker(sentence: str, n: int) -> str:
    """Put [n] before the sentence's final punctuation: "…353万人[1]。"."""
    m = re.search(r"([。！？；!?;…]+[”’」』）)】》\"']*)$", sentence)
    if m:
        return f"{sentence[:m.start()]}[{n}]{m.group(1)}"
    return f"{sentence}[{n}]。"


def make_citation(n: int, e: Evidence) -> Citation:
    a = e.hit.article
    return Citation(n=n, article_id=a.id, chunk_id=e.hit.chunk.id, headline=a.headline, date=a.date,
                    date_inferred=a.date_inferred, issue=a.issue, page=a.page, quote=e.text,
                    start=e.start, end=e.end)


def refusal_text(query: Query, hits: list[Hit]) -> str:
    """Say the archive holds no answer, and point to the closest articles."""
    text = f"报纸档案中没有找到能回答“{query.text.strip()}”的内容。"
    seen: list[str] = []
    for h in hits:
        label = f"《{h.article.headline}》" + (f"（{h.article.date}）" if h.article.date else "")
        if label not in seen:
            seen.append(label)
        if len(seen) == 3:
            break
    if seen:
        text += "最接近的报道：" + "、".join(seen) + "。"
    return text
