"""The jieba + BM25 keyword index (bm25s on scipy sparse matrices)."""

from __future__ import annotations

import functools
import json
import math
import re
import threading
from collections import Counter
from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np

from ..ingest.script import fold

# Words that carry no topic: function words, question words, generic verbs.
STOPWORDS = frozenset("""
的 了 是 在 和 与 及 或 等 也 都 而 为 对 把 被 从 到 于 以 之 其 这 那 有 就 将 并 又 还 向 给 让
个 位 次 年 月 日 号 我 你 他 她 它 们 我们 他们 什么 多少 哪 哪个 哪些 哪里 哪儿 哪家 哪位 哪天 哪年
谁 几 几个 如何 怎么 怎样 何时 是否 吗 呢 么 啊 吧 请问 请 一下 为什么 什么时候 多久 多长 多大
是什么 有没有 是不是 有何 哪一 该 此 上 下 中 内 后 前 里 共 约 已 已经 曾 能 可 可以 会 要 应 被 由
""".split())

_PUNCT = re.compile(r"^[\s\W_]+$", re.UNICODE)
_CJK = "\u4e00-\u9fff"
_PLACE = re.compile(
    rf"(?:^|(?<=[^{_CJK}])|(?<=[区县市镇乡村省在于到]))"
    rf"([{_CJK}]{{2}}(?:经开区|高新区|开发区|街道|社区|区|县|镇|乡|村))")
_QUOTED = re.compile(rf"[“\"「『]([{_CJK}A-Za-z0-9]{{2,8}})[”\"」』]")


class Tokenizer:
    """An own ``jieba.Tokenizer`` with the corpus's user words (never jieba's global one)."""

    def __init__(self, user_words: Iterable[str] = ()):
        self.user_words = sorted(set(user_words))
        self._loaded = None
        self._lock = threading.Lock()

    @property
    def _jieba(self):
        # jieba's dictionary takes ~0.5 s to load: on first use, not when an index opens.
        if self._loaded is None:
            with self._lock:
                if self._loaded is None:
                    import logging

                    import jieba

                    jieba.setLogLevel(logging.WARNING)
                    tok = jieba.Tokenizer()
                    # The base dictionary is loaded once per process; each tokenizer adds
                    # its own user words to a copy of it.
                    freq, total = _base_dictionary()
                    tok.FREQ, tok.total, tok.initialized = dict(freq), total, True
                    for w in self.user_words:
                        tok.add_word(w, freq=_USER_FREQ)
                    self._loaded = tok
        return self._loaded

    def is_word(self, word: str) -> bool:
        """Whether jieba's dictionary knows ``word``."""
        self._jieba.check_initialized()
        return bool(self._jieba.FREQ.get(word))

    def tokens(self, text: str) -> list[str]:
        """Search-mode tokens without stopwords and punctuation, lower-cased."""
        return [t.lower() for t in self._jieba.lcut_for_search(fold(text))
                if t.strip() and t not in STOPWORDS and not _PUNCT.match(t)]

    def is_name(self, word: str) -> bool:
        """Whether ``word`` names a place, organisation or other proper noun: jieba's
        dictionary tags it ns/nt/nz, or it ends like a place name (X市, X县, X镇…)."""
        if word in _NOT_NAMES or len(word) < 2:
            return False
        return word in _proper_nouns() or bool(_PLACE_END.search(word))

    def words(self, text: str) -> list[str]:
        """Precise-mode words without stopwords and punctuation, lower-cased: no
        overlapping sub-words, so each word of a question counts once."""
        return [t.lower() for t in self._jieba.lcut(fold(text))
                if t.strip() and t not in STOPWORDS and not _PUNCT.match(t)]


# High enough that jieba keeps the word whole, low enough not to swallow neighbours.
_USER_FREQ = 2000

# Proper nouns too general to pin a passage down ("中国百强城市" is about cities in China).
_NOT_NAMES = frozenset("中国 全国 我国 国内 国家 国际 世界 全球 城市 地区 全省 全市 我市 本市 全区 我省".split())
_PLACE_END = re.compile(r"..(?:省|市|县|区|镇|乡|村|街道|社区|经开区|高新区)$")


@functools.lru_cache(maxsize=1)
def _base_dictionary() -> tuple[dict[str, int], int]:
    """jieba's base dictionary: word frequencies and their total (about 0.9 s to load)."""
    import jieba

    base = jieba.Tokenizer()
    base.check_initialized()
    return base.FREQ, base.total


@functools.lru_cache(maxsize=1)
def _proper_nouns() -> frozenset[str]:
    """jieba's dictionary words tagged place (ns), organisation (nt) or other proper noun (nz)."""
    import jieba

    path = Path(jieba.__file__).parent / "dict.txt"
    text = path.read_text(encoding="utf-8")
    return frozenset(m.lower() for m in re.findall(r"^(\S{2,}) \d+ n[stz]$", text, re.MULTILINE))


def corpus_user_words(texts: Iterable[str], is_word=lambda w: False) -> set[str]:
    """Place names (X区, X镇, X村, X经开区…) and quoted terms (“村晚”) found in the corpus.

    ``is_word`` tells whether a string is in jieba's base dictionary; a place
    suffix that runs on into a longer word (乡 in 乡贤, 村 in 村民) is no suffix.
    """
    words: set[str] = set()
    for text in texts:
        for m in _PLACE.finditer(text):
            word, after = m.group(1), text[m.end():m.end() + 1]
            if not after or not is_word(word[-1] + after):
                words.add(word)
        words.update(m.group(1) for m in _QUOTED.finditer(text))
    return {w for w in words if not _generic(w)}


# Characters that do not start or sit inside a place name's two-character stem.
_NOT_IN_NAME = set("的在是了个名只时最多见和与及为把被从到于以之其这那有就将并又还向给让对等"
                   "全本该各我此某每一二三四五六七八九十百千万几")


def _generic(word: str) -> bool:
    # "全市", "本区", "该村", "在社区" and the like are not names.
    return word in STOPWORDS or bool(_NOT_IN_NAME & set(word[:2]))


class KeywordIndex:
    """BM25 over chunk tokens, with document frequencies kept for term weighting."""

    def __init__(self, tokenizer: Tokenizer, bm25, df: dict[str, int], n_docs: int):
        self.tokenizer = tokenizer
        self.bm25 = bm25
        self.df = df
        self.n_docs = n_docs

    @classmethod
    def build(cls, texts: Sequence[str], tokenizer: Tokenizer, progress: bool = False) -> "KeywordIndex":
        import bm25s

        corpus = [tokenizer.tokens(t) for t in _progress(texts, progress, "keyword index")]
        df: Counter[str] = Counter()
        for toks in corpus:
            df.update(set(toks))
        bm25 = bm25s.BM25()
        if corpus:
            bm25.index(corpus, show_progress=False)
        return cls(tokenizer, bm25, dict(df), len(corpus))

    def idf(self, term: str) -> float:
        """Smoothed inverse document frequency; unseen terms get the maximum."""
        return math.log(1 + (self.n_docs + 1) / (self.df.get(term.lower(), 0) + 0.5))

    def search(self, query: str, k: int, extra_terms: Iterable[str] = ()) -> list[tuple[int, float]]:
        """(row, BM25 score) of the best ``k`` chunks; rows index the chunk list."""
        terms = self.query_terms(query)
        vocab = self.bm25.vocab_dict if self.n_docs else {}
        terms += [t for t in extra_terms if t in vocab and t not in terms]
        if not terms or self.n_docs == 0:
            return []
        scores = self.bm25.get_scores(terms)
        k = min(k, len(scores))
        top = np.argpartition(-scores, k - 1)[:k]
        top = top[np.argsort(-scores[top])]
        return [(int(i), float(scores[i])) for i in top if scores[i] > 0]

    def query_terms(self, query: str) -> list[str]:
        vocab = self.bm25.vocab_dict if self.n_docs else {}
        return [t for t in self.tokenizer.tokens(query) if t in vocab]

    def save(self, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        if self.n_docs:
            self.bm25.save(str(folder / "bm25"), show_progress=False)
        (folder / "userdict.txt").write_text("\n".join(self.tokenizer.user_words), encoding="utf-8")
        (folder / "df.json").write_text(
            json.dumps({"n_docs": self.n_docs, "df": self.df}, ensure_ascii=False), encoding="utf-8")

    @classmethod
    def load(cls, folder: Path) -> "KeywordIndex":
        import bm25s

        words = (folder / "userdict.txt").read_text(encoding="utf-8").split("\n")
        tokenizer = Tokenizer(w for w in words if w)
        stats = json.loads((folder / "df.json").read_text(encoding="utf-8"))
        bm25 = bm25s.BM25.load(str(folder / "bm25"), show_progress=False) if stats["n_docs"] else None
        return cls(tokenizer, bm25, stats["df"], stats["n_docs"])


def _progress(items: Sequence[str], on: bool, desc: str):
    if not on or len(items) < 2000:
        return items
    from tqdm import tqdm

    return tqdm(items, desc=desc, unit="chunk")
