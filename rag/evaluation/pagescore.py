"""How well printed pages come back: character error rate, article splits, page headers.

Pure functions of a :class:`~.newsprint.Truth` and the articles the parser
read. CER is the Levenshtein distance over the length of the truth (rapidfuzz,
MIT). An article is split right when its headline, byline and the two ends of
its body match what was printed and its body CER is under :data:`SPLIT_CER`.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

#: Above this body CER an article's boundaries cannot be right (a paragraph lost or gained).
SPLIT_CER = 0.05
_SPACE = re.compile(r"\s+")
_PUNCT = str.maketrans(",:;!?()", "，：；！？（）")


def norm(s: str | None) -> str:
    """Whitespace removed and ASCII punctuation made full-width: what the eye compares."""
    return _SPACE.sub("", (s or "").translate(_PUNCT))


def cer(truth: str, got: str) -> float:
    """Character error rate of ``got`` against ``truth`` (both normalised)."""
    from rapidfuzz.distance import Levenshtein

    t, g = norm(truth), norm(got)
    return Levenshtein.distance(t, g) / max(len(t), 1)


@dataclass(frozen=True)
class PageScore:
    articles: int  # printed
    found: int  # matched by headline
    split_right: int
    body_chars: int
    body_errors: int  # edit operations over all printed bodies (a missed article counts whole)
    pages: int
    headers_right: int  # date and 版次 both right

    @property
    def cer(self) -> float:
        return self.body_errors / max(self.body_chars, 1)

    @property
    def split_accuracy(self) -> float:
        return self.split_right / max(self.articles, 1)


def _match(truth_headline: str, articles: Sequence) -> object | None:
    want = norm(truth_headline)
    best, best_score = None, 0.0
    for a in articles:
        got = norm(a.headline)
        if got == want:
            return a
        from rapidfuzz.distance import Levenshtein

        score = 1 - Levenshtein.normalized_distance(want, got)
        if score > best_score:
            best, best_score = a, score
    return best if best_score >= 0.8 else None


def score_pages(truth, articles: Sequence, headers: Sequence) -> PageScore:
    """Compare one typeset file's truth with the articles and page headers read from it."""
    from rapidfuzz.distance import Levenshtein

    found = split = chars = errors = 0
    stories = [a for a in articles if a.kind == "article"]
    for t in truth.articles:
        body = norm(t.body)
        chars += len(body)
        a = _match(t.headline, stories)
        if a is None:
            errors += len(body)
            continue
        found += 1
        got = norm(a.body)
        dist = Levenshtein.distance(body, got)
        errors += dist
        ends = got[:10] == body[:10] and got[-10:] == body[-10:]
        if ends and dist / max(len(body), 1) <= SPLIT_CER and norm(a.byline) == norm(t.byline):
            split += 1
    right = 0
    for tp in truth.pages:
        hd = headers[tp.page - 1] if tp.page - 1 < len(headers) else None
        right += bool(hd and hd.date == tp.date and hd.page == tp.page_no)
    return PageScore(len(truth.articles), found, split, chars, errors, len(truth.pages), right)


def naive_text(pdf_path: str) -> list[str]:
    """Each page's characters read left to right, line by line, across the whole page:
    what a naive text extraction gives (the baseline the layout step must beat)."""
    import pypdfium2 as pdfium

    from ..ingest.pdfpages import page_chars

    out = []
    doc = pdfium.PdfDocument(pdf_path)
    try:
        for page in doc:
            chars, _, _ = page_chars(page)
            rows: dict[int, list] = {}
            for c in chars:
                rows.setdefault(round((c.box[1] + c.box[3]) / 2 / 4), []).append(c)
            out.append("".join(c.text for y in sorted(rows) for c in sorted(rows[y], key=lambda c: c.box[0])))
    finally:
        doc.close()
    return out


def sentences_intact(truth, texts: Sequence[str]) -> float:
    """Share of the printed sentences (15 characters or more) found whole in ``texts``."""
    from ..ingest.sentences import FULL_STOPS

    pool = "\n".join(norm(t) for t in texts)
    sentences = [s for t in truth.articles for s in re.split(f"(?<=[{FULL_STOPS}])", norm(t.body)) if len(s) >= 15]
    return sum(1 for s in sentences if s in pool) / max(len(sentences), 1)
