"""The default answerer: extractive, offline, and willing to say "not found".

The learned reader (``reader.py``) ranks the sentences, picks the answer
span and says whether the passages answer at all; this module turns its
reading into the answer text and its citations.
"""

from __future__ import annotations

from .reader import Reading
from ..records import Citation, Hit
from ..ingest.regions import quote_confidence
from ..ingest.sentences import SENTENCE_END_RE

#: A sentence shorter than this says too little alone; the next likely one joins it.
_SHORT_SENTENCE = 25
_MAX_SENTENCES_PER_ANSWER = 3
#: Further quoted sentences join the answer only while it stays within this many characters.
ANSWER_CHARS = 200
#: Further sentences are quoted only when the reader thinks them more likely than not to hold the answer.
_ALSO_QUOTE = 0.5


def compose(reading: Reading, list_question: bool) -> tuple[str, list[Citation]]:
    """The answer text with [n] markers (lead first when the reader is confident), and its citations."""
    first = reading.quoted
    chosen = [first]
    if list_question or len(first.text) < _SHORT_SENTENCE:
        for unit, p in reading.sentences:
            if len(chosen) >= _MAX_SENTENCES_PER_ANSWER or p < _ALSO_QUOTE:
                break
            if unit.text not in {c.text for c in chosen}:
                chosen.append(unit)
    lead = f"{reading.lead}。" if reading.lead else ""
    citations: list[Citation] = []
    parts: list[str] = []
    for unit in chosen:
        part = with_marker(unit.text, len(citations) + 1)
        if citations and len(lead) + sum(map(len, parts)) + len(part) > ANSWER_CHARS:
            break
        citations.append(make_citation(len(citations) + 1, unit.hit, unit.start, unit.end))
        parts.append(part)
    return lead + "".join(parts), citations


def with_marker(sentence: str, n: int) -> str:
    """Put [n] before the sentence's final punctuation: "…353万人[1]。"."""
    m = SENTENCE_END_RE.search(sentence)
    if m and m.end() == len(sentence):
        return f"{sentence[:m.start()]}[{n}]{m.group(0)}"
    return f"{sentence}[{n}]。"


def make_citation(n: int, hit: Hit, start: int, end: int) -> Citation:
    a = hit.article
    return Citation(n=n, article_id=a.id, chunk_id=hit.chunk.id, headline=a.headline, date=a.date,
                    date_inferred=a.date_inferred, issue=a.issue, page=a.page,
                    quote=a.body[start:end], start=start, end=end, byline=a.byline,
                    confidence=quote_confidence(a, start, end))


#: A refusal quotes at most this many characters of the question.
QUOTE_QUESTION_MAX = 50
#: Where a refusal starts naming the closest articles (the UI shows them as links instead).
CLOSEST_LABEL = "最接近的报道："


def refusal_text(question: str, hits: list[Hit]) -> str:
    """Say the archive holds no answer, and point to the closest articles."""
    asked = question.strip()
    if len(asked) > QUOTE_QUESTION_MAX:  # never echo a whole pasted page back
        asked = asked[:QUOTE_QUESTION_MAX] + "…"
    text = f"报纸档案中没有找到能回答“{asked}”的内容。"
    seen: list[str] = []
    for h in hits:
        label = f"《{h.article.headline}》" + (f"（{h.article.date}）" if h.article.date else "")
        if label not in seen:
            seen.append(label)
        if len(seen) == 3:
            break
    if seen:
        text += CLOSEST_LABEL + "、".join(seen) + "。"
    return text
