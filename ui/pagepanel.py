"""The 版面 panel: an article's page as printed, its lines outlined and the quote highlighted.

Pages are rendered once (PDF pages by PDFium at :data:`PAGE_DPI`, page images
scaled down) into JPEG files in the index's cache folder and read from there
for each view, never kept in memory. Boxes are fractions of the page, so they
are placed in percent and stay on their text at any zoom. Zoom is three radio
buttons and CSS, so it works without scripts and on a phone (where pinching
works too).
"""

from __future__ import annotations

import base64
import hashlib
from pathlib import Path

from rag.ingest.regions import DOUBT_BELOW, quote_boxes, quote_confidence, quote_place, run_source
from rag.records import Article

from .links import esc

PAGE_DPI = 110  # a broadsheet page is then about 1,700 px wide: sharp enough to read at 200%
_ZOOMS = (("100", "适应宽度"), ("200", "放大 2 倍"), ("300", "放大 3 倍"))


def page_image(source: str, page: int, cache: Path) -> Path:
    """The cached JPEG of ``page`` (0-based) of ``source``; rendered on first use."""
    src = Path(source).resolve()
    st = src.stat()
    key = hashlib.sha1(f"{src}|{st.st_size}|{st.st_mtime_ns}".encode()).hexdigest()[:16]
    out = cache / "pages" / f"{key}-p{page}.jpg"
    if out.exists():
        return out
    out.parent.mkdir(parents=True, exist_ok=True)
    if src.suffix.lower() == ".pdf":
        import pypdfium2 as pdfium

        doc = pdfium.PdfDocument(str(src))
        try:
            image = doc[page].render(scale=PAGE_DPI / 72).to_pil()
        finally:
            doc.close()
    else:
        from PIL import Image

        with Image.open(src) as im:
            image = im.convert("RGB")
        image.thumbnail((2400, 2400))
    tmp = out.with_suffix(".tmp")
    image.convert("RGB").save(tmp, "JPEG", quality=80)
    tmp.replace(out)
    return out


def _box(b: tuple, cls: str) -> str:
    _, x0, y0, x1, y1 = b
    return (f'<span class="{cls}" style="left:{x0 * 100:.3f}%;top:{y0 * 100:.3f}%;'
            f'width:{(x1 - x0) * 100:.3f}%;height:{(y1 - y0) * 100:.3f}%"></span>')


def page_panel(article: Article, span: tuple[int, int] | None, cache: Path, opened: bool = False) -> str:
    """The 版面 panel of ``article`` (empty for articles from text files)."""
    if not article.regions:
        return ""
    place = quote_place(article, *span) if span else None
    source, page = place or (run_source(article, article.regions[0]), article.regions[0][2])
    quote = quote_boxes(article, *span, source=source) if span else []
    title = f"版面 · 第{esc(article.page)}版" if article.page else "版面"
    try:
        data = base64.b64encode(page_image(source, page, cache).read_bytes()).decode()
    except Exception as exc:  # a moved or deleted source file: say so, keep the text view
        body = f'<div class="page-missing">版面图片不可用：{esc(type(exc).__name__)}（原文件 {esc(source)}）</div>'
    else:
        lines = "".join(_box((r[2], *r[3:7]), "page-line") for r in article.regions
                        if r[2] == page and run_source(article, r) == source)
        marks = "".join(_box(b, "page-hl") for b in quote if b[0] == page)
        zoom = "".join(f'<input type="radio" name="page-zoom" id="page-zoom-{z}" value="{z}"'
                       f'{" checked" if z == "100" else ""}><label for="page-zoom-{z}">{label}</label>'
                       for z, label in _ZOOMS)
        doubt = ""
        if span:
            conf = quote_confidence(article, *span)
            if conf is not None and conf < DOUBT_BELOW:
                doubt = f'<span class="ocr-doubt" title="识别置信度 {conf:.2f}">识别存疑</span>'
        body = (f'<div class="page-zoom">{zoom}{doubt}<div class="page-scroll" tabindex="0">'
                f'<div class="page-frame"><img src="data:image/jpeg;base64,{data}" alt="{title}原版图片">'
                f"{lines}{marks}</div></div></div>")
    return (f'<details class="page-panel" id="page-panel"{" open" if opened else ""}>'
            f'<summary class="panel-title">{title}</summary>{body}</details>')
