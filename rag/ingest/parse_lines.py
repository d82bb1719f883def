"""Classifying the lines of a newspaper issue.

Each line of an issue is a masthead bit, a notice, an advertisement, a
photo caption, a byline, a page-jump marker, a dash sub-title or text;
text lines may further be headings (short, no sentence in them). These
are shape rules only, shared by the Markdown and the raw-dump parsers.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .dates import is_date_line
from .sentences import CLOSERS, SENTENCE_ENDS
# A line ending in one of these is certainly cut mid-sentence.
OPEN_END = ",，、:：(（“‘《【—-/"
HEADING_MAX = 40  # sub-heads and ordinary headlines are shorter than this
HEADLINE_MAX = 64  # a long headline still counts when a byline follows it
COLUMN_MAX = 12  # a column label (栏目) above a headline is shorter still

BULLETS = "·•●▪◆■"
_NOTICE_WORDS = re.compile(r"遗失|作废|声明|公告|启事|注销|挂失|减资|清算|拍卖|迁坟|寻人")
_LOST_NOTICE = re.compile(r"遗失.{0,60}(作废|声明)。?$")
_PHONE_ONLY = re.compile(r"^[\d\s\-—()（）+/、,，.]+$")
_PHONE = re.compile(r"(?<!\d)(?:0\d{2,3}[-—\s]?)?\d{7,8}(?!\d)|(?<!\d)1\d{10}(?!\d)")
_AD_WORDS = re.compile(r"广告|热线|电话|联系人|联系方式|地址")
_AD_STRONG = re.compile(r"广告(热线|电话|接待|刊例|招商|部|业务|代理)")
# "记者/周嵩 摄", "受访者 供图"; not "…拍摄" at the end of a heading.
_CREDIT = re.compile(r"(?:[\s/／][^\s/／]{0,12}\s*|\s)(?:(?<![拍航抓跟])摄|航拍|供图|制图|摄影|绘图)$")
_CAPTION_START = re.compile(r"^(?:图为|图[:：]|上图|下图|左图|右图|▲|△|资料图片)")
_QR_NOTE = re.compile(r"^(?:扫码|扫描二维码|扫一扫|扫描下方二维码)")
_BYLINE_SLASH = re.compile(
    r"^[\u4e00-\u9fff]{0,8}?(?:全媒体|融媒体|首席|特约|见习|本报|实习)?"
    r"(?:记者|通讯员|实习生|摄影|编辑|撰文|整理)\s*[/／:：]\s*\S"
)
_BYLINE_SPACE = re.compile(
    r"^(?:本报)?(?:全媒体|融媒体)?(?:记者|通讯员|实习生)"
    r"(?:\s+[\u4e00-\u9fff·]{2,4})+(?:\s+(?:记者|通讯员|实习生)(?:\s+[\u4e00-\u9fff·]{2,4})+)*$"
)
_BYLINE_PARA = re.compile(
    r"^(?P<src>[^\s(（,，。:：]{2,24}?(?:讯|电))\s*[(（](?P<who>[^()（）]{1,60})[)）]\s*(?P<rest>.*)$"
)
# A page-jump marker ("▶▶下转02版", "（上接第3版）"): found from its verb, then
# matched forward from there and extended backwards by hand over at most
# _CONT_LEAD arrows, brackets or spaces. Each character is looked at a bounded
# number of times, so a line of any length and whitespace costs linear time
# (``\s*`` on both sides of an optional arrow once backtracked cubically).
_CONT_VERB = re.compile(r"下转|上接|接上|转至|紧接|续")
_CONT_TAIL = re.compile(r"[\s第]{0,6}(?P<num>[A-Z]?\d{1,2}|[一二三四五六七八九十]{1,3})\s{0,4}版[\s)）]{0,8}")
_CONT_LEAD = 12
_CONT_LEAD_CHARS = frozenset("▶►>＞→(（")


def _jumps(s: str) -> list[tuple[int, int, str]]:
    """(start, end, "下转02版") of each page-jump marker in ``s``."""
    out: list[tuple[int, int, str]] = []
    last_end = 0
    for m in _CONT_VERB.finditer(s):
        if m.start() < last_end:
            continue
        tail = _CONT_TAIL.match(s, m.end())
        if not tail:
            continue
        start = m.start()
        while start > last_end and m.start() - start < _CONT_LEAD and \
                (s[start - 1].isspace() or s[start - 1] in _CONT_LEAD_CHARS):
            start -= 1
        out.append((start, tail.end(), f"{m.group(0)}{tail['num']}版"))
        last_end = tail.end()
    return out


_MASTHEAD = re.compile(r"^[\u4e00-\u9fff]{2,6}(日报|晚报|时报|商报)$")
_META = re.compile(
    r"总?第\s*\d{3,6}\s*期|今日\s*\d+\s*版|国内统一连续出版物号|CN\s*\d{2}\s*-\s*\d{4}|邮发代号"
    r"|主管.{0,6}主办|^第\s*[A-Z]?\d{1,2}\s*版"
)
_TWO_PHRASES = re.compile(r"[\u4e00-\u9fff”》]\s+[\u4e00-\u9fff“《]|[:：]\s+\S")
# "陈恢清强调,要以…": reported speech going on, not a heading.
_SPEECH = re.compile(r"(强调|指出|表示|介绍|认为|说|称|坦言|透露|告诉记者)[,，]")
_PAIRS = (("“", "”"), ("‘", "’"), ("(", ")"), ("（", "）"), ("《", "》"), ("【", "】"))
_CONTINUATION_START = set(",，、。;；:：)）”’」』》!！?？%…")


@dataclass(frozen=True)
class Line:
    """One non-blank line of an issue, with where it sits in its block."""

    text: str
    gap: int  # blank lines before it (0 inside a block)
    first: bool  # first line of its block (blank line or start before it)
    last: bool  # last line of its block
    level: int = 0  # Markdown heading level (# count), 0 for plain text


def split_lines(text: str) -> list[Line]:
    """Non-blank lines, trimmed, with their block position and blank-line gap.

    Trailing whitespace (Markdown's two-space line break) and indentation go;
    Markdown ``#`` markers are moved into ``level``.
    """
    raw = text.split("\n")
    out: list[Line] = []
    gap = 0
    seen_text = False
    for i, line in enumerate(raw):
        t = line.strip()
        if not t:
            gap += 1
            continue
        level = 0
        m = re.match(r"^(#{1,6})\s+(.*)$", t)
        if m:
            level, t = len(m[1]), m[2].strip()
        nxt_blank = i + 1 >= len(raw) or not raw[i + 1].strip()
        first = gap > 0 or not seen_text
        out.append(Line(t, gap if seen_text else 0, first, nxt_blank, level))
        gap = 0
        seen_text = True
    if len(out) >= 8 and sum(ln.first for ln in out) < len(out) / 10:
        # A dump without blank lines between paragraphs: every line is a
        # block of its own, so the block rules (joins, sub-heads) still work.
        out = [Line(ln.text, 1 if i else 0, True, True, ln.level) for i, ln in enumerate(out)]
    return out


def is_terminal(s: str) -> bool:
    """The line ends a sentence: ``。！？；…`` possibly inside closing quotes."""
    t = s.rstrip().rstrip(CLOSERS)
    return bool(t) and t[-1] in SENTENCE_ENDS


def is_heading_like(s: str, limit: int = HEADING_MAX) -> bool:
    """Short, no sentence inside, and not ending like a sentence or mid-clause."""
    s = s.strip()
    if not s or len(s) > limit or is_terminal(s) or s[-1] in OPEN_END:
        return False
    if any(c in s for c in "。;；") or _SPEECH.search(s) or not _balanced(s):
        return False  # a sentence, or the start of one cut short
    # A page-jump marker ends an article's text, never a heading.
    return not _jumps(s)


def _balanced(s: str) -> bool:
    return all(s.count(a) <= s.count(b) for a, b in _PAIRS)


def continues_line(prev: str, s: str) -> bool:
    """``s`` can only be the rest of ``prev``: it starts with punctuation
    that follows other text, or ``prev`` ends in a number and ``s`` starts
    with its unit (``预计10万`` / ``吨,其中…``)."""
    if not s:
        return False
    if s[0] in _CONTINUATION_START:
        return True
    return bool(re.search(r"\d[万亿千百]?$", prev)) and "\u4e00" <= s[0] <= "\u9fff"


def has_two_phrases(s: str) -> bool:
    """``强作风 打造一流干部队伍`` / ``保障基本盘: 网底…``: a sub-head's shape."""
    return bool(_TWO_PHRASES.search(s))


def is_caption(s: str) -> bool:
    """A photo credit line (``… 摄``, ``… 供图``) or a QR-code / picture note."""
    if len(s) > 150:
        return False
    if _QR_NOTE.match(s):
        return not is_terminal(s)  # "扫码即可办理。" is a sentence
    return bool(_CREDIT.search(s) or _CAPTION_START.match(s))


def is_byline_line(s: str) -> bool:
    """``株洲日报全媒体记者/刘琼``, ``通讯员/尹胜科 杨浩``, ``记者 王明``."""
    if len(s) > 50 or re.search(r"[,，。;；!！?？]", s):
        return False
    return bool(_BYLINE_SLASH.match(s) or _BYLINE_SPACE.match(s))


def split_byline_para(s: str) -> tuple[str | None, str]:
    """``株洲日报讯(全媒体记者/陈正明) 7月18日,…`` -> (``全媒体记者/陈正明``, ``7月18日,…``)."""
    m = _BYLINE_PARA.match(s)
    if not m:
        return None, s
    return m["who"].strip(), m["rest"].strip()


def is_notice(s: str) -> bool:
    """A classified notice line: ``·某某公司遗失公章一枚``."""
    if len(s) > 200:
        return False
    if s[0] in BULLETS:
        return bool(_NOTICE_WORDS.search(s))
    return len(s) <= 120 and bool(_LOST_NOTICE.search(s)) and "讯" not in s[:12]


def is_phone_only(s: str) -> bool:
    """A line that is only phone numbers (``28835396``, ``0731-22334455``)."""
    return bool(_PHONE_ONLY.match(s) and _PHONE.search(s))


def is_ad(s: str, next_text: str | None) -> bool:
    """Advertising / contact lines: phone numbers, ``广告接待热线`` and the like."""
    if is_phone_only(s):
        return True
    if len(s) > 30 or is_terminal(s) or not _AD_WORDS.search(s):
        return False
    return bool(_AD_STRONG.search(s) or _PHONE.search(s) or (next_text and is_phone_only(next_text)))


def is_meta(s: str) -> bool:
    """Masthead bits: paper name, date line, issue/page line, CN number."""
    if len(s) > 60 or is_terminal(s):
        return False
    return bool(_MASTHEAD.match(s) or is_date_line(s) or _META.search(s))


def strip_continuations(s: str) -> tuple[str, tuple[str, ...]]:
    """Remove page-jump markers (``▶▶下转02版``); return the text and the markers."""
    jumps = _jumps(s)
    if not jumps:
        return s, ()
    pieces, pos = [], 0
    for start, end, _ in jumps:
        pieces.append(s[pos:start])
        pos = end
    pieces.append(s[pos:])
    return " ".join(pieces).strip(), tuple(found for _, _, found in jumps)


def photo_gap(lines: list[Line]) -> int:
    """How many blank lines mark where a photo was: more than the usual
    gap between paragraphs of this file, and at least two."""
    gaps = sorted(ln.gap for ln in lines[1:] if ln.first)
    usual = gaps[len(gaps) // 2] if gaps else 1
    return max(2, usual + 1)


def line_kinds(lines: list[Line]) -> list[str]:
    """:func:`line_kind` of every line."""
    gap = photo_gap(lines)
    return [line_kind(lines, i, gap) for i in range(len(lines))]


def line_kind(lines: list[Line], i: int, photo_gap: int = 2) -> str:
    """The kind of ``lines[i]`` from its shape and its neighbours.

    One of ``meta``, ``notice``, ``ad``, ``caption``, ``byline``, ``cont``
    (a page-jump marker alone), ``dash`` (starts with ``——``) or ``text``.
    """
    ln = lines[i]
    t = ln.text
    nxt = lines[i + 1].text if i + 1 < len(lines) else None
    if ln.level == 1 or is_meta(t):
        return "meta"
    if is_notice(t):
        return "notice"
    if is_ad(t, nxt):
        return "ad"
    if is_caption(t):
        return "caption"
    # A lone short sentence after a run of blank lines is where a photo
    # was: its caption ("2025年10月15日,…调研…情况。").
    if ln.first and ln.last and ln.gap >= photo_gap and len(t) <= 100 and is_terminal(t):
        if split_byline_para(t)[0] is None:
            return "caption"
    if is_byline_line(t):
        return "byline"
    if not strip_continuations(t)[0]:
        return "cont"
    if t.startswith(("——", "--", "—")):
        return "dash"
    return "text"


