"""E-paper PDFs and page images -> Article records with their place on the page.

Each page gives positioned lines: the PDF's text layer when it has a sound
one, else OCR (``ocr="auto"``; ``always`` / ``never`` force it either way).
:mod:`.layout` turns them into the page's furniture and article groups; the
furniture gives the page's date, 期号, 版次 and 版名. Each group's
paragraphs are classified by the raw-text parser's line rules
(:func:`~.parse_lines.line_kind`: notices, adverts, captions, bylines, jump
markers) and built by its :func:`~.parse_common.build_draft`, so both paths
share one set of rules. An article that jumps (下转第2版) is joined with the
part that picks it up on that page (上接第1版). Every article keeps, for each
run of its body, the page and the box (as fractions of the page) of the line
it came from, and that line's OCR confidence.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from pathlib import Path

from ..errors import InputError
from .dates import find_issue_date, find_issue_number, find_page, infer_issue_date
from .layout import TextLine, chars_to_lines, ocr_page_lines, paragraphs
from .layout_groups import Group, PageRead, read_page
from .parse_common import Draft, build_draft, finalize, notice_draft
from .parse_lines import BULLETS, Line, is_meta, is_notice, line_kind, strip_continuations
from .regions import regions
from .pdfpages import IMAGE_SUFFIXES, layer_quality, open_image, open_pdf, page_chars, render_pdf_page
from ..records import Article
from ..settings import OCR_MODES

#: Pages beyond this are not read: a newspaper issue has tens of pages, not hundreds.
MAX_PAGES = 100
_PAGE_NAME = re.compile(r"第?\s*([A-Z]?\d{1,2})\s*版\s*[:：·|｜\s]*([\u4e00-\u9fff]{2,6})")
_PAGE_NO = re.compile(r"第\s*[A-Z]?\d{1,2}\s*版|(?<![\d版])[A-Z]?\d{2}\s*版")


@dataclass
class _Piece:
    """One article's draft and the lines it was built from (page, line, page size)."""

    draft: Draft
    page_no: str | None
    lines: list[tuple[int, TextLine, float, float]] = field(default_factory=list)


@dataclass(frozen=True)
class PageHeader:
    """What a page's furniture prints about it."""

    date: str | None
    issue: str | None
    page: str | None  # 版次, two digits
    name: str | None  # 版名


def read_header(texts: list[str]) -> PageHeader:
    """Date, 期号, 版次 and 版名 from the furniture lines of one page."""
    text = "\n".join(texts)
    page = find_page(text)
    name = None
    m = _PAGE_NAME.search(text)
    if m:
        name = m[2]
        page = page or f"{int(re.sub(r'[A-Z]', '', m[1])):02d}"
    return PageHeader(find_issue_date(text), find_issue_number(text), page, name)


def is_furniture_text(text: str) -> bool:
    """A masthead or folio line: paper name, date line, 期号, 版次, CN number."""
    if strip_continuations(text)[1]:
        return False  # "（上接第1版）" is part of an article
    return is_meta(text) or bool(_PAGE_NO.search(text)) or find_issue_number(text) is not None


def _page_lines(doc, i: int, path: Path, mode: str, cache_dir: Path | None, digest: str):
    """(lines, width, height) of PDF page ``i``, from its text layer or by OCR."""
    from .ocr import OCR_DPI, cached_ocr

    page = doc[i]
    try:
        chars, width, height = page_chars(page)
        quality = layer_quality("".join(c.text for c in chars))
        if mode == "always" or (mode == "auto" and quality != "ok"):
            image = render_pdf_page(page, OCR_DPI)
            lines = cached_ocr(image, OCR_DPI / 72, cache_dir, f"{digest}-p{i}")
            _check_ocr(path, i, lines, quality)
            return ocr_page_lines(lines), width, height
        if quality == "empty":
            raise InputError(path, f"page {i + 1}: no text layer (a scan? use --ocr auto)")
        if quality == "garbage":
            raise InputError(path, f"page {i + 1}: the text layer is mojibake (use --ocr auto)")
        return chars_to_lines(chars), width, height
    finally:
        page.close()


def _check_ocr(path: Path, i: int, lines: list[TextLine], quality: str = "empty") -> None:
    text = "".join(ln.text for ln in lines)
    cjk = sum(1 for c in text if "\u4e00" <= c <= "\u9fff")
    if cjk < 50:
        what = "the text layer is mojibake and OCR" if quality == "garbage" else "OCR"
        raise InputError(path, f"page {i + 1}: {what} found no newspaper text "
                               f"({cjk} Chinese characters: a photo or a blank page?)")


def ocr_scale(image) -> float:
    """How much to shrink a page image for OCR: to OCR_DPI when it says its
    resolution, else to the size of a broadsheet page at OCR_DPI."""
    from .ocr import OCR_DPI

    dpi = image.info.get("dpi")
    if dpi and dpi[0] and dpi[0] > 1:
        return min(1.0, OCR_DPI / float(dpi[0]))
    return min(1.0, (OCR_DPI * 22) / max(image.size))  # 22 inches: the long side of a broadsheet


def read_pages(path: Path, mode: str = "auto", cache_dir: Path | None = None, digest: str = "",
               max_pages: int = MAX_PAGES, progress: bool = False):
    """Every readable page of ``path`` as (index, lines, width, height), and the page errors."""
    from .ocr import cached_ocr

    if mode not in OCR_MODES:
        raise InputError(path, f"unknown OCR mode {mode!r}: expected one of {', '.join(OCR_MODES)}")
    pages, errors = [], []
    if path.name.lower().endswith(IMAGE_SUFFIXES):
        image = open_image(path)
        if mode == "never":
            raise InputError(path, "page 1: an image can only be read by OCR (--ocr never was given)")
        scale = ocr_scale(image)
        small = image.resize((round(image.width * scale), round(image.height * scale))) if scale < 1 else image
        lines = cached_ocr(small, scale, cache_dir, f"{digest}-p0")
        _check_ocr(path, 0, lines)
        return [(0, ocr_page_lines(lines), float(image.width), float(image.height))], errors
    doc = open_pdf(path)
    try:
        n = len(doc)
        if n == 0:
            raise InputError(path, "the PDF has no pages")
        if n > max_pages:
            errors.append(InputError(path, f"pages {max_pages + 1}–{n} not read: more than {max_pages} "
                                           "pages is not a newspaper issue"))
        todo = range(min(n, max_pages))
        if progress:
            from tqdm import tqdm

            todo = tqdm(todo, desc=path.name, unit="page", leave=False)
        for i in todo:
            try:
                lines, w, h = _page_lines(doc, i, path, mode, cache_dir, digest)
                pages.append((i, lines, w, h))
            except InputError as exc:
                errors.append(exc)
            except Exception as exc:  # a damaged page object: the other pages still count
                errors.append(InputError(path, f"page {i + 1}: cannot be read ({type(exc).__name__}: {exc})"))
    finally:
        doc.close()
    return pages, errors


def _group_pieces(read: PageRead, index: int, page_no: str | None, w: float, h: float) -> list[_Piece]:
    """One page's groups -> article and notice pieces; adverts and bare titles are dropped."""
    out = []
    for g in read.groups:
        paras = paragraphs(g.blocks)
        texts = [_text(p) for p in paras]
        lines = [Line(t, 1, True, True) for t in texts]
        kinds = [line_kind(lines, i, 99) for i in range(len(lines))]
        small = [all(ln.size < read.body_size * 0.9 for ln in p) for p in paras]
        body_chars = sum(len(t) for t, k in zip(texts, kinds) if k == "text")
        if "ad" in kinds and body_chars < 300 or _is_advert(g):
            continue
        if g.head and is_notice(BULLETS[0] + _text(g.head.lines)) and sum(map(len, texts)) < 600:
            # A box headed 遗失声明 / 公告: each bulleted line is a notice (OCR may drop the bullets).
            out.extend(_Piece(notice_draft(_text(item)), page_no, [(index, ln, w, h) for ln in item])
                       for item in _bulleted([ln for p in paras for ln in p]))
            continue
        used: list[tuple[int, TextLine, float, float]] = []
        items = []
        for p, t, k, s in zip(paras, texts, kinds, small):
            if k == "notice":
                out.append(_Piece(notice_draft(t), page_no, [(index, ln, w, h) for ln in p]))
                continue
            if s and k == "text":
                k = "caption"
            items.append((k, Line(t, 1, True, True)))
            used.extend((index, ln, w, h) for ln in p)
        head = _text(g.head.lines) if g.head else None
        if not items or not any(k == "text" for k, _ in items):
            continue  # a box title alone ("遗失声明"), or a stray caption
        draft = build_draft(head, items, column=_text(g.kicker.lines) if g.kicker else None)
        if g.sub:
            draft = replace(draft, subheadline=_text(g.sub.lines).lstrip("—-– ").strip() or None)
        out.append(_Piece(draft, page_no, used))
    return out


def _bulleted(lines: list[TextLine]) -> list[list[TextLine]]:
    """Lines -> items, each starting at a bulleted line (all one item without bullets)."""
    items: list[list[TextLine]] = []
    for ln in lines:
        if not items or ln.text.lstrip()[:1] in BULLETS:
            items.append([ln])
        else:
            items[-1].append(ln)
    return items


def _is_advert(g: Group) -> bool:
    """A short box of lines with phone numbers or 广告/热线 lines (the raw parser's advert rule)."""
    from .parse_lines import is_ad

    texts = [ln.text.strip() for b in g.blocks for ln in b.lines]
    hits = sum(1 for i, t in enumerate(texts) if is_ad(t, texts[i + 1] if i + 1 < len(texts) else None))
    return hits >= 1 and sum(map(len, texts)) < 200


def _text(lines: list[TextLine]) -> str:
    out = ""
    for ln in lines:
        t = ln.text.strip()
        if out and out[-1].isascii() and out[-1].isalpha() and t[:1].isascii() and t[:1].isalpha():
            out += " "
        out += t
    return out


def _jumps(d: Draft, verbs: tuple[str, ...]) -> list[int]:
    out = []
    for c in d.continuations:
        m = re.match(r"(下转|上接|接上|转至|紧接|续)([A-Z]?)(\d{1,2}|[一二三四五六七八九十]{1,3})版", c)
        if m and m[1] in verbs and m[3].isdigit():
            out.append(int(m[3]))
    return out


def join_jumps(pieces: list[_Piece]) -> list[_Piece]:
    """An article that says 下转第N版 is joined with the piece on page N that says
    上接 its page; of several, the one whose headline shares most characters."""
    from .parse_lines import is_terminal

    out = list(pieces)
    for a in list(out):
        if a not in out:
            continue
        for target in _jumps(a.draft, ("下转", "转至")):
            here = int(a.page_no) if a.page_no and a.page_no.isdigit() else None
            cands = [b for b in out if b is not a and b.page_no and b.page_no.isdigit()
                     and int(b.page_no) == target and (here is None or here in _jumps(b.draft, ("上接", "接上")))]
            if not cands:
                continue
            b = max(cands, key=lambda b: len(set(b.draft.headline or "") & set(a.draft.headline or "")))
            pa, pb = list(a.draft.paragraphs), list(b.draft.paragraphs)
            if pa and pb and not is_terminal(pa[-1]):
                pa[-1] += pb.pop(0)
            merged = replace(a.draft, paragraphs=tuple(pa + pb), captions=a.draft.captions + b.draft.captions,
                             continuations=a.draft.continuations + b.draft.continuations)
            a.draft = merged
            a.lines = a.lines + b.lines
            out.remove(b)
    return out


@dataclass(frozen=True)
class PagesRead:
    """What the pages of one file hold."""

    articles: tuple[Article, ...]
    date: str | None
    date_inferred: bool
    issue: str | None
    headers: tuple[PageHeader, ...]


def build_articles(pages, source: str, date: str | None = None) -> PagesRead:
    """Pages as (index, lines, width, height) -> articles, jumps joined, with their regions.

    The date printed on a page wins, then ``date``, then one inferred from the text.
    """
    pieces: list[_Piece] = []
    headers = []
    for index, lines, w, h in pages:
        read = read_page(lines, h, is_furniture_text)
        header = read_header([ln.text for ln in read.furniture])
        headers.append(header)
        page_no = header.page or f"{index + 1:02d}"
        pieces.extend(_group_pieces(read, index, page_no, w, h))
    pieces = join_jumps(pieces)
    printed = next((hd.date for hd in headers if hd.date), None)
    issue = next((hd.issue for hd in headers if hd.issue), None)
    inferred = False
    issue_date = printed or date
    if issue_date is None:
        issue_date = infer_issue_date("\n".join("\n".join(p.draft.paragraphs) for p in pieces))
        inferred = issue_date is not None
    articles: list[Article] = []
    for page_no in dict.fromkeys(p.page_no for p in pieces):
        group = [p for p in pieces if p.page_no == page_no]
        done = finalize([p.draft for p in group], source, issue_date, inferred, issue, page_no)
        by_body = {("\n".join(p.draft.paragraphs)): p for p in group}
        for a in done:
            piece = by_body.get(a.body) or max(group, key=lambda p: _shared(p, a))
            articles.append(replace(a, position=len(articles), regions=regions(a, piece.lines)))
    return PagesRead(tuple(articles), issue_date, inferred, issue, tuple(headers))


def parse_pages(path: Path | str, date: str | None = None, ocr: str = "auto", cache_dir: Path | None = None,
                digest: str = "", progress: bool = False, max_pages: int = MAX_PAGES):
    """One PDF or page image -> (articles, date, date inferred, 期号, page errors, page headers)."""
    path = Path(path)
    if cache_dir is not None and not digest:  # the OCR cache is keyed by the file's content
        from .textio import file_hash

        digest = file_hash(path)
    pages, errors = read_pages(path, ocr, cache_dir, digest, max_pages, progress)
    got = build_articles(pages, str(path), date)
    if not got.articles and not errors:
        raise InputError(path, "no articles found on any page")
    return list(got.articles), got.date, got.date_inferred, got.issue, errors, list(got.headers)


def _shared(p: _Piece, a: Article) -> int:
    return len(set("".join(p.draft.paragraphs)) & set(a.body))

