"""Test pages: sample issues typeset as broadsheet e-paper PDFs, with their truth.

No real e-paper PDFs can be fetched here, so the PDF/scan path is tested and
measured on pages made from ``corpus/``. WeasyPrint (BSD) lays them out: it
is a real CSS layout engine (grid bands, multi-column bodies, line breaking
of CJK text) and, unlike ReportLab, embeds the CFF-outline Noto CJK fonts
that Debian ships (``fonts-noto-cjk``). Each page has a masthead or folio
(date, 期号, 版次, 版名), 4-6 columns, bands of articles side by side with
headlines over their columns, kickers, sub-headlines, bylines, image boxes
with captions, a jump (下转第2版 / 上接第1版), an advert and notices.

:func:`typeset_issue` writes the PDF and returns the :class:`Truth`: what was
printed, for the CER and article-split measures of ``rag bench``.
"""

from __future__ import annotations

import datetime as dt
import html
import random
from dataclasses import asdict, dataclass, field
from pathlib import Path

from ..records import Article

PAGE_MM = (390, 545)  # 对开 broadsheet
_WEEKDAYS = "一二三四五六日"
_PAGE_NAMES = ("要闻", "综合", "时政", "民生", "经济", "文化")
_ADS = (
    ("神农家居广场 盛大开业", "全场家具五折起 满万元送家电", "咨询热线：0731-28835396", "地址：天元区珠江北路88号"),
    ("株洲日报广告刊例", "整版 半版 通栏 报花 均可预订", "广告热线：0731-22334455", "联系人：王经理 13807330000"),
    ("湘江驾校 暑期特惠", "学车送接 随到随学", "报名电话：0731-28123456", "地址：芦淞区建设中路16号"),
)


@dataclass(frozen=True)
class TruthArticle:
    """One printed article: what a perfect reading of the pages gives back."""

    headline: str
    body: str
    kicker: str | None
    subheadline: str | None
    byline: str | None
    pages: tuple[int, ...]  # 1-based page numbers of the PDF it is printed on


@dataclass(frozen=True)
class TruthPage:
    page: int  # 1-based in the PDF
    date: str
    issue: str
    page_no: str  # 版次 as printed, two digits
    page_name: str


@dataclass(frozen=True)
class Truth:
    pdf: str
    pages: tuple[TruthPage, ...]
    articles: tuple[TruthArticle, ...]
    notices: tuple[str, ...] = ()
    adverts: tuple[str, ...] = field(default_factory=tuple)

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass
class _Piece:
    """One article (or the part of one) placed in a band."""

    article: Article
    paras: list[str]
    jump_to: int | None = None  # 下转第N版
    jump_from: int | None = None  # 上接第N版
    inline_byline: bool = False
    image: bool = False
    span: int = 1


#: House styles, as CSS laid over the base style. ``classic``: serif body, justified, headlines
#: flush left, column rules. ``centred``: sans body set ragged at a looser leading (1.6), serif
#: headlines and kickers centred over their columns, no rules between columns or bands.
STYLES = {
    "classic": "",
    "centred": """
body { font-family: 'Noto Sans CJK SC'; line-height: 1.6; }
h1 { font-family: 'Noto Serif CJK SC'; text-align: center; }
.kicker, .sub { text-align: center; }
.band { border-bottom: none; margin-bottom: 5mm; }
.cols { column-rule: none; column-gap: 7mm; }
p { text-align: left; }
.byline { text-align: center; }
""",
}


def _css(cols: int, rng: random.Random, style: str = "classic") -> str:
    body_pt = rng.choice((9.5, 10, 10.5))
    return _base_css(cols, body_pt) + STYLES[style]


def _base_css(cols: int, body_pt: float) -> str:
    return f"""
@page {{ size: {PAGE_MM[0]}mm {PAGE_MM[1]}mm; margin: 14mm 12mm; }}
body {{ font-family: 'Noto Serif CJK SC'; font-size: {body_pt}pt; line-height: 1.5; margin: 0; }}
.mast {{ display: flex; justify-content: space-between; align-items: flex-end;
        border-bottom: 3pt double black; padding-bottom: 3mm; margin-bottom: 4mm; }}
.mast .title {{ font-family: 'Noto Serif CJK SC'; font-weight: bold; font-size: 64pt; letter-spacing: 6pt; }}
.mast .info {{ font-family: 'Noto Sans CJK SC'; font-size: 9pt; line-height: 1.6; text-align: right; }}
.folio {{ display: flex; justify-content: space-between; font-family: 'Noto Sans CJK SC'; font-size: 9pt;
         border-bottom: 1.5pt solid black; padding-bottom: 1.5mm; margin-bottom: 4mm; }}
.band {{ display: grid; grid-template-columns: repeat({cols}, 1fr); column-gap: 6mm;
        border-bottom: 0.6pt solid #444; padding-bottom: 3mm; margin-bottom: 4mm; }}
.kicker {{ font-family: 'Noto Sans CJK SC'; font-size: 12pt; margin-bottom: 1mm; }}
h1 {{ font-family: 'Noto Sans CJK SC'; font-weight: bold; margin: 0 0 1.5mm 0; line-height: 1.25; }}
.sub {{ font-family: 'Noto Sans CJK SC'; font-size: 13pt; margin-bottom: 2mm; }}
.byline {{ font-family: 'Noto Sans CJK SC'; font-size: 9pt; margin-bottom: 2mm; }}
.cols {{ column-gap: 5mm; column-rule: 0.4pt solid #999; }}
p {{ margin: 0; text-indent: 2em; text-align: justify; }}
p.jump {{ text-indent: 0; text-align: right; font-family: 'Noto Sans CJK SC'; font-size: 9pt; }}
p.from {{ text-indent: 0; font-family: 'Noto Sans CJK SC'; font-size: 9pt; }}
.img {{ height: 46mm; background: #bbb; border: 0.5pt solid #666; margin: 1mm 0; }}
.cap {{ font-family: 'Noto Sans CJK SC'; font-size: 8pt; line-height: 1.35; margin-bottom: 2mm; }}
.box {{ border: 1.2pt solid black; padding: 3mm; font-family: 'Noto Sans CJK SC'; }}
.box .adt {{ font-size: 20pt; font-weight: bold; }}
.box div {{ font-size: 10pt; line-height: 1.6; }}
"""


def _e(s: str) -> str:
    return html.escape(s, quote=False)


def _article_html(p: _Piece, lead: bool) -> str:
    a = p.article
    size = 30 if lead else (22 if p.span >= 3 else 17 if p.span == 2 else 14)
    out = [f'<div style="grid-column: span {p.span}">']
    if a.column and not p.jump_from:
        out.append(f'<div class="kicker">{_e(a.column)}</div>')
    out.append(f'<h1 style="font-size:{size}pt">{_e(a.headline)}</h1>')
    if a.subheadline and not p.jump_from:
        out.append(f'<div class="sub">——{_e(a.subheadline)}</div>')
    paras = list(p.paras)
    if a.byline and not p.jump_from:
        if p.inline_byline:
            paras[0] = f"株洲日报讯({a.byline}) {paras[0]}"
        else:
            out.append(f'<div class="byline">{_e(a.byline)}</div>')
    out.append(f'<div class="cols" style="column-count:{p.span}">')
    if p.jump_from:
        out.append(f'<p class="from">（上接第{p.jump_from}版）</p>')
    for i, para in enumerate(paras):
        if p.image and i == min(1, len(paras) - 1):
            cap = a.captions[0] if a.captions else f"图为{a.headline.split(' ')[0]}现场。记者/李明 摄"
            out.append(f'<div class="img"></div><div class="cap">{_e(cap)}</div>')
        out.append(f"<p>{_e(para)}</p>")
    if p.jump_to:
        out.append(f'<p class="jump">（下转第{p.jump_to}版）</p>')
    out.append("</div></div>")
    return "".join(out)


def _bands(pieces: list[_Piece], cols: int, rng: random.Random) -> list[list[_Piece]]:
    """Group pieces into bands of 1-3 side by side, spans by length."""
    bands: list[list[_Piece]] = []
    i = 0
    while i < len(pieces):
        k = min(len(pieces) - i, rng.choice((1, 2, 2, 3)) if cols >= 5 else rng.choice((1, 2)))
        band = pieces[i:i + k]
        sizes = [max(1, sum(map(len, p.paras))) for p in band]
        spans = [max(1, round(cols * s / sum(sizes))) for s in sizes]
        while sum(spans) > cols:
            spans[spans.index(max(spans))] -= 1
        spans[spans.index(max(spans))] += cols - sum(spans)
        for p, s in zip(band, spans):
            p.span = s
        bands.append(band)
        i += k
    return bands


def _page_html(folio: str, mast: str | None, bands: list[list[_Piece]], boxes: list[str],
               cols: int, rng: random.Random, lead_first: bool, style: str = "classic") -> str:
    parts = [f"<html><head><style>{_css(cols, rng, style)}</style></head><body>"]
    parts.append(mast or folio)
    for bi, band in enumerate(bands):
        parts.append('<div class="band">')
        parts.extend(_article_html(p, lead_first and bi == 0 and j == 0) for j, p in enumerate(band))
        parts.append("</div>")
    if boxes:
        parts.append(f'<div class="band">{"".join(boxes)}</div>')
    parts.append("</body></html>")
    return "".join(parts)


def _ad_box(ad: tuple[str, ...], span: int) -> str:
    lines = "".join(f"<div>{_e(t)}</div>" for t in ad[1:])
    return f'<div class="box" style="grid-column: span {span}"><div class="adt">{_e(ad[0])}</div>{lines}</div>'


def _notice_box(notices: list[str], span: int) -> str:
    lines = "".join(f"<div>·{_e(t)}</div>" for t in notices)
    return f'<div class="box" style="grid-column: span {span}"><div class="adt">遗失声明</div>{lines}</div>'


def _split_lead(a: Article) -> tuple[list[str], list[str]]:
    paras = a.body.split("\n")
    if len(paras) < 3:
        return paras, []
    cut = max(1, len(paras) // 2)
    return paras[:cut], paras[cut:]


def typeset_issue(articles: list[Article], out_pdf: str | Path, seed: int = 0,
                  date: str | None = None, issue: str | None = None, style: str = "classic") -> Truth:
    """Typeset one issue's articles on two broadsheet pages in a house ``style`` (:data:`STYLES`)."""
    import weasyprint

    rng = random.Random(seed)
    date = date or next((a.date for a in articles if a.date), None) or "2024-01-01"
    issue = issue or next((a.issue for a in articles if a.issue), None) or str(23000 + seed)
    stories = [a for a in articles if a.kind == "article" and not a.headline_derived and a.body]
    notices = [a.body for a in articles if a.kind == "notice"]
    day = dt.date.fromisoformat(date)
    date_cn = f"{day.year}年{day.month}月{day.day}日 星期{_WEEKDAYS[day.weekday()]}"
    names = rng.sample(_PAGE_NAMES[1:], 1)
    page_names = ["要闻", names[0]]
    lead = max(stories, key=lambda a: len(a.body))
    rest = [a for a in stories if a is not lead]
    rng.shuffle(rest)
    first, second = _split_lead(lead)
    half = (len(rest) + 1) // 2
    page_pieces = [
        [_Piece(lead, first, jump_to=2 if second else None)] + [_Piece(a, a.body.split("\n")) for a in rest[:half]],
        ([_Piece(lead, second, jump_from=1)] if second else []) + [_Piece(a, a.body.split("\n")) for a in rest[half:]],
    ]
    docs, truth_pages = [], []
    for n, pieces in enumerate(page_pieces, 1):
        cols = rng.choice((4, 5, 6))
        for p in pieces:
            p.inline_byline = rng.random() < 0.5
            p.image = rng.random() < 0.35 or bool(p.article.captions and not p.jump_from)
        bands = _bands(pieces, cols, rng)
        ad_span = rng.randint(2, cols - 1)
        boxes = [_ad_box(rng.choice(_ADS), ad_span)]
        if notices and n == 2:
            boxes.append(_notice_box(notices, cols - ad_span))
        page_no = f"{n:02d}"
        folio = (f'<div class="folio"><span>{date_cn}</span><span>第{issue}期</span>'
                 f'<span>第{page_no}版 {page_names[n - 1]}</span><span>责任编辑 周雯 美术编辑 刘洋</span></div>')
        mast = None
        if n == 1:
            mast = (f'<div class="mast"><div class="title">株洲日报</div><div class="info">'
                    f'<div>{date_cn}</div><div>第{issue}期 今日2版</div>'
                    f'<div>第{page_no}版 {page_names[0]}</div>'
                    f'<div>中共株洲市委主管、主办 国内统一连续出版物号 CN 43-0005</div></div></div>')
        doc = weasyprint.HTML(string=_page_html(folio, mast, bands, boxes, cols, rng, n == 1, style)).render()
        if len(doc.pages) != 1:
            raise RuntimeError(f"page {n} of {out_pdf} overflowed into {len(doc.pages)} pages")
        docs.append(doc)
        truth_pages.append(TruthPage(n, date, issue, page_no, page_names[n - 1]))
    all_pages = [p for d in docs for p in d.pages]
    Path(out_pdf).parent.mkdir(parents=True, exist_ok=True)
    docs[0].copy(all_pages).write_pdf(str(out_pdf))
    truth_articles = tuple(
        TruthArticle(a.headline, a.body, a.column, a.subheadline, a.byline,
                     (1, 2) if a is lead and second else (1 if a is lead or a in rest[:half] else 2,))
        for a in [lead] + rest
    )
    return Truth(str(out_pdf), tuple(truth_pages), truth_articles, tuple(notices))


def typeset_corpus(corpus: str | Path, out_dir: str | Path, seeds: tuple[int, ...] = (0,),
                   style: str = "classic") -> list[Truth]:
    """Every issue file under ``corpus`` typeset once per seed into ``out_dir``."""
    import json

    from ..ingest.parse import iter_files, parse_file

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    truths = []
    for f in iter_files([corpus]):
        parsed = parse_file(f)
        for seed in seeds:
            stem = f"{f.stem}-s{seed}" + ("" if style == "classic" else f"-{style}")
            pdf = out_dir / f"{stem}.pdf"
            truth = typeset_issue(list(parsed.articles), pdf, seed, style=style)
            (out_dir / f"{stem}.truth.json").write_text(
                json.dumps(truth.to_dict(), ensure_ascii=False, indent=1), encoding="utf-8")
            truths.append(truth)
    return truths


def typeset_clipping(article: Article, out_pdf: str | Path, date: str = "2023-07-20", issue: str = "23368",
                     page_no: str = "03", page_name: str = "民生", size_mm: tuple[int, int] = (150, 190),
                     cols: int = 2, chars: int = 600) -> TruthArticle:
    """One article (its first ``chars`` characters, whole paragraphs) on a small page
    with a folio: a cheap page for the OCR tests."""
    import weasyprint

    paras, n = [], 0
    for p in article.body.split("\n"):
        if n and n + len(p) > chars:
            break
        paras.append(p)
        n += len(p)
    day = dt.date.fromisoformat(date)
    folio = (f'<div class="folio"><span>{day.year}年{day.month}月{day.day}日 星期{_WEEKDAYS[day.weekday()]}</span>'
             f'<span>第{issue}期</span><span>第{page_no}版 {page_name}</span></div>')
    piece = _Piece(article, paras, span=cols)
    css = _css(cols, random.Random(0)).replace(f"size: {PAGE_MM[0]}mm {PAGE_MM[1]}mm; margin: 14mm 12mm",
                                               f"size: {size_mm[0]}mm {size_mm[1]}mm; margin: 8mm")
    html_doc = (f"<html><head><style>{css} body {{ font-size: 11pt; }}</style></head><body>{folio}"
                f'<div class="band">{_article_html(piece, False)}</div></body></html>')
    weasyprint.HTML(string=html_doc).write_pdf(str(out_pdf))
    return TruthArticle(article.headline, "\n".join(paras), article.column, article.subheadline,
                        article.byline, (1,))
