"""Named features of sentences and candidate answers, shared by training and answering.

Every number the reader decides on is a function of these features with
weights learned from open reading-comprehension data (``train.py``); no
weight is set by hand here. The features only measure: how much of the
question a sentence (or the clause around a candidate) holds, how far a
candidate stands from the question's words, whether its type is the kind the
question asks for, and what retrieval thought of its passage.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from difflib import SequenceMatcher

from .candidates import CANDIDATE_TYPES, QUALIFIER_AFTER, QUALIFIER_BEFORE, Candidate, rule_candidates
from ..search.fusion import term_coverage
from ..search.periods import period_match
from ..records import Hit

#: Question kinds, as ``qtype.question_type`` names them (None is "other").
QUESTION_KINDS = (None, "ordinal", "number", "time", "person", "org", "place", "list", "entity")
#: Which candidate types name the thing each kind of question asks for.
EXPECTED_TYPES = {
    "number": {"NUM"}, "ordinal": {"ORD", "NUM"}, "time": {"TIME"}, "person": {"PER"},
    "org": {"ORG", "NZ"}, "place": {"LOC", "ORG"}, "list": {"NOUN", "NZ", "ORG", "LOC", "PER", "WORK", "QUOTE"},
    "entity": {"NZ", "WORK", "QUOTE", "NOUN", "ORG", "LOC", "PER"},
}
# Function characters that say nothing about a topic; kept out of character overlap.
_FUNCTION_CHARS = set("的了是在和与及或等也都而为对把被从到于以之其这那有就将并又还向给让个吗呢么啊吧")
_CLAUSE_BREAK = re.compile(r"[，,；;：:、。！？!?（）()]")
_NON_CONTENT = re.compile(r"[\s\W_]+", re.UNICODE)
_WINDOW = 12  # characters beside a candidate compared with the words beside the question word


def normalize(text: str) -> str:
    """NFKC, no whitespace, lower case: how answers are compared."""
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", text)).lower()


def char_bigrams(text: str) -> set[str]:
    out: set[str] = set()
    for part in _NON_CONTENT.split(text):
        out.update(part[i:i + 2] for i in range(len(part) - 1))
    return out


def _chars(text: str) -> set[str]:
    return {c for c in text if c.isalnum() and c not in _FUNCTION_CHARS}


@dataclass(frozen=True)
class QuestionView:
    """What the features need from a question, computed once."""

    text: str
    content: str  # the question without question words, lower-cased
    before: str  # the words just before the question word
    after: str  # the words just after it
    kind: str | None
    unit: str | None
    noun: str | None  # the kind of thing asked for ("哪个专业" → 专业)
    terms: tuple[str, ...]
    weights: dict[str, float]
    focus: tuple[str, ...]
    names: tuple[str, ...]
    period: object
    chars: frozenset[str]
    bigrams: frozenset[str]


def question_view(query) -> QuestionView:
    """What the reader needs of retrieval's ``Query``."""
    from .qtype import focus_spans, strip_question_words

    from ..ingest.script import fold

    folded = fold(query.text)
    text = folded.lower()
    spans = focus_spans(text)
    before = after = ""
    content = _NON_CONTENT.sub(" ", strip_question_words(text)).strip()
    if spans:
        a, b = spans[0]
        before = _NON_CONTENT.sub("", text[max(0, a - 8):a])
        after = _NON_CONTENT.sub("", text[b:b + 8])
    else:  # "2025年株洲医保参保人数": the answer follows the words the question ends with
        before = _NON_CONTENT.sub("", content)[-8:]
    return QuestionView(folded, content, before, after, query.qtype.kind, query.qtype.unit, query.qtype.noun,
                        query.terms,
                        query.weights, query.focus, query.names, query.period,
                        frozenset(_chars(content)), frozenset(char_bigrams(content)))


@dataclass(frozen=True)
class SentenceUnit:
    """One sentence of a retrieved passage."""

    hit: Hit
    rank: int  # rank of its passage among the hits
    start: int  # offsets in the article body
    end: int

    @property
    def text(self) -> str:
        return self.hit.article.body[self.start:self.end]


def sentence_units(hits: list[Hit]) -> list[SentenceUnit]:
    """Every sentence of the hits once, in hit order."""
    seen: set[tuple[str, int]] = set()
    out = []
    for rank, hit in enumerate(hits):
        for start, end in hit.chunk.sentences:
            key = (hit.article.id, start)
            if key not in seen:
                seen.add(key)
                out.append(SentenceUnit(hit, rank, start, end))
    return out


def _cov(q: QuestionView, text: str) -> tuple[float, float, float]:
    """Character, bigram and weighted-term coverage of the question in ``text``."""
    chars = len(q.chars & _chars(text)) / len(q.chars) if q.chars else 0.0
    bigrams = len(q.bigrams & char_bigrams(text)) / len(q.bigrams) if q.bigrams else 0.0
    return chars, bigrams, term_coverage(q.terms, text, q.weights)


def _missing_names(q: QuestionView, text: str) -> int:
    n = 0
    for name in q.names:
        short = name[:-1] if len(name) > 2 and name[-1] in "省市县区" else name  # 株洲市 = 株洲
        n += short not in text
    return n


SENTENCE_FEATURES = (
    "qkind", "q_len", "q_terms", "s_char", "s_bigram", "s_term", "s_focus", "s_lcs",
    "ctx_char", "ctx_bigram", "ctx_term", "head_term", "rank", "rel_score", "dense", "dense_gap",
    "keyword_rel", "position", "s_len", "period_s", "period_ctx", "has_period",
    "n_num", "n_ord", "n_time", "n_quote", "n_unit", "names_missing", "names_missing_s",
    "typed_left", "typed_focus",
)


def sentence_features(q: QuestionView, units: list[SentenceUnit]) -> list[list[float]]:
    """One row of SENTENCE_FEATURES per sentence."""
    if not units:
        return []
    hits = [u.hit for u in units]
    top = max(h.score for h in hits) or 1.0
    dense_top = max((h.dense for h in hits if h.dense is not None), default=0.0)
    kw_top = max((h.keyword for h in hits if h.keyword is not None), default=0.0) or 1.0
    kind = float(QUESTION_KINDS.index(q.kind)) if q.kind in QUESTION_KINDS else 0.0
    expected = EXPECTED_TYPES.get(q.kind or "", set(CANDIDATE_TYPES))
    context_cache: dict[str, tuple] = {}
    rows = []
    for u in units:
        s = u.text.lower()
        art = u.hit.article
        ctx_key = u.hit.chunk.id
        if ctx_key not in context_cache:
            ctx = f"{art.headline}\n{art.subheadline or ''}\n{u.hit.chunk.text}".lower()
            whole = f"{art.headline}\n{art.subheadline or ''}\n{art.body}".lower()
            context_cache[ctx_key] = (ctx, _cov(q, ctx), term_coverage(q.terms, art.headline.lower(), q.weights),
                                      _missing_names(q, whole),
                                      period_match(q.period, ctx, art.date))
        ctx, ctx_cov, head, missing_whole, period_ctx = context_cache[ctx_key]
        s_char, s_bigram, s_term = _cov(q, s)
        focus = sum(t in s for t in q.focus) / len(q.focus) if q.focus else 0.0
        lcs = 0.0
        if q.content:
            m = SequenceMatcher(None, q.content, s, autojunk=False).find_longest_match(
                0, len(q.content), 0, len(s))
            lcs = m.size / len(q.content)
        rule = rule_candidates(u.text)
        counts = {k: sum(c.kind == k for c in rule) for k in ("NUM", "ORD", "TIME", "QUOTE")}
        n_unit = sum(c.kind == "NUM" and bool(q.unit) and _unit_of(c.text).endswith(q.unit) for c in rule)
        # The asked kind of value beside the asked words: the span-level signal, summed up per sentence.
        typed = [c for c in rule if c.kind in expected]
        focus_pos = _term_positions(s, q.focus or q.terms)
        typed_left = max((_left_overlap(q, s, c) for c in typed), default=0.0)
        typed_focus = min((_distance((c.start, c.end), focus_pos) for c in typed), default=60.0)
        rows.append([
            kind, len(q.content), len(q.terms), s_char, s_bigram, s_term, focus, lcs,
            *ctx_cov, head, u.rank, u.hit.score / top,
            u.hit.dense if u.hit.dense is not None else -1.0,
            dense_top - u.hit.dense if u.hit.dense is not None else 1.0,
            (u.hit.keyword or 0.0) / kw_top,
            u.start / max(len(art.body), 1), len(s),
            period_match(q.period, s, art.date), period_ctx, float(q.period is not None),
            counts["NUM"], counts["ORD"], counts["TIME"], counts["QUOTE"], n_unit,
            missing_whole, _missing_names(q, s), typed_left, typed_focus,
        ])
    return rows


def _left_overlap(q: QuestionView, s: str, c: Candidate) -> float:
    """Share of the character pairs before the question word that stand just before ``c``."""
    left = _NON_CONTENT.sub("", s[max(0, c.start - _WINDOW):c.start])
    return len(char_bigrams(q.before) & char_bigrams(left)) / max(len(char_bigrams(q.before)), 1)


def _unit_of(number: str) -> str:
    return re.sub(r"(以上|以下|左右|上下|之多|余|多)$", "", number)


SPAN_FEATURES = (
    "qkind", "ctype", "expected", "source_rule", "in_question", "c_q_chars", "c_len", "c_pos",
    "dist_term", "dist_focus", "clause_char", "clause_bigram", "clause_term", "clause_focus",
    "left_bigram", "right_bigram", "left_suffix", "right_prefix", "n_same", "order_same",
    "unit_match", "qualified", "noun_match", "sent_p", "sent_order", "s_term", "s_bigram", "rank", "dense",
    "period_s",
)


def _clause(sentence: str, start: int, end: int) -> str:
    a = max((m.end() for m in _CLAUSE_BREAK.finditer(sentence, 0, start)), default=0)
    m = _CLAUSE_BREAK.search(sentence, end)
    return sentence[a:m.start() if m else len(sentence)]


def _term_positions(s: str, terms) -> list[tuple[int, int]]:
    out = []
    for t in terms:
        for m in re.finditer(re.escape(t), s):
            out.append(m.span())
    return out


def _distance(span: tuple[int, int], positions: list[tuple[int, int]], cap: int = 60) -> float:
    a, b = span
    best = cap
    for x, y in positions:
        if y <= a:
            best = min(best, a - y)
        elif x >= b:
            best = min(best, x - b)
        else:
            best = 0
    return float(best)


def _common_suffix(x: str, y: str) -> int:
    n = 0
    while n < len(x) and n < len(y) and x[-1 - n] == y[-1 - n]:
        n += 1
    return n


def _common_prefix(x: str, y: str) -> int:
    n = 0
    while n < len(x) and n < len(y) and x[n] == y[n]:
        n += 1
    return n


def span_features(q: QuestionView, unit: SentenceUnit, cands: list[Candidate], sent_p: float,
                  sent_order: int, sent_row: list[float]) -> list[list[float]]:
    """One row of SPAN_FEATURES per candidate of one sentence."""
    s = unit.text.lower()
    kind = float(QUESTION_KINDS.index(q.kind)) if q.kind in QUESTION_KINDS else 0.0
    expected = EXPECTED_TYPES.get(q.kind or "", set(CANDIDATE_TYPES))
    terms = _term_positions(s, q.terms)
    focus = _term_positions(s, q.focus)
    qn = normalize(q.text)
    idx = {name: i for i, name in enumerate(SENTENCE_FEATURES)}
    rows = []
    by_kind: dict[str, list[Candidate]] = {}
    for c in sorted(cands, key=lambda c: c.start):
        by_kind.setdefault(c.kind, []).append(c)
    for c in cands:
        text = normalize(c.text)
        clause = _clause(s, c.start, c.end)
        cc, cb, ct = _cov(q, clause.replace(c.text.lower(), " "))
        left = _NON_CONTENT.sub("", s[max(0, c.start - _WINDOW):c.start])
        right = _NON_CONTENT.sub("", s[c.end:c.end + _WINDOW])
        lb = _left_overlap(q, s, c)
        rb = len(char_bigrams(q.after) & char_bigrams(right)) / max(len(char_bigrams(q.after)), 1)
        same = by_kind[c.kind]
        cchars = _chars(text)
        rows.append([
            kind, float(CANDIDATE_TYPES.index(c.kind)), float(c.kind in expected), float(c.source == "rule"),
            float(bool(text) and text in qn), len(cchars & q.chars) / max(len(cchars), 1),
            len(c.text), c.start / max(len(s), 1),
            _distance((c.start, c.end), terms), _distance((c.start, c.end), focus),
            cc, cb, ct, float(any(t in clause for t in q.focus)),
            lb, rb, _common_suffix(q.before, left), _common_prefix(q.after, right),
            len(same), same.index(c),
            float(bool(q.unit) and c.kind == "NUM" and _unit_of(c.text).endswith(q.unit)),
            float(c.kind == "NUM" and c.text != _strip_qualifier(c.text)),
            float(bool(q.noun) and (c.text.endswith(q.noun) or s.startswith(q.noun, c.end))),
            sent_p, sent_order, sent_row[idx["s_term"]], sent_row[idx["s_bigram"]],
            sent_row[idx["rank"]], sent_row[idx["dense"]], sent_row[idx["period_s"]],
        ])
    return rows


def _strip_qualifier(number: str) -> str:
    return re.sub(rf"^(?:{QUALIFIER_BEFORE})|(?:{QUALIFIER_AFTER})$", "", number)


def categorical(names: tuple[str, ...]) -> list[int]:
    """Indexes of the categorical features (question kind, candidate type)."""
    return [i for i, n in enumerate(names) if n in ("qkind", "ctype")]
