"""Pages of PDFs and image files: open them, read text layers, render them.

pypdfium2 (Apache-2.0/BSD, Google's PDFium) does both jobs the PDF path
needs: it gives every character of a text layer with its box and font size,
and it renders a page to an image for OCR and for the 版面 panel. pdfminer.six
and pdfplumber (MIT) read characters too but cannot render, and PyMuPDF is
AGPL, which an MIT project cannot ship. Pillow reads the image files.

Every failure becomes an :class:`~rag.errors.InputError` naming the file and,
where one applies, the page.
"""

from __future__ import annotations

import ctypes
import unicodedata
from pathlib import Path

from ..errors import InputError
from .layout import Char

PDF_SUFFIXES = (".pdf",)
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".tif", ".tiff")  # lower case; names are compared lowered
PAGE_SUFFIXES = PDF_SUFFIXES + IMAGE_SUFFIXES
#: An image whose shorter side is below this many pixels cannot be read.
MIN_IMAGE_SIDE = 600
#: A text layer with fewer characters than this is empty (a scan, perhaps with a stray word).
MIN_LAYER_CHARS = 20


def open_pdf(path: Path):
    """An open pypdfium2 document; InputError for empty, encrypted or damaged files."""
    import pypdfium2 as pdfium

    if path.stat().st_size == 0:
        raise InputError(path, "empty file")
    try:
        return pdfium.PdfDocument(str(path))
    except pdfium.PdfiumError as exc:
        text = str(exc).lower()
        if "password" in text:
            raise InputError(path, "encrypted PDF (password protected): cannot be read") from None
        raise InputError(path, f"damaged or truncated PDF ({exc})") from None


def page_chars(page) -> tuple[list[Char], float, float]:
    """The characters of one page's text layer, in page points (y downwards), and its size."""
    import pypdfium2.raw as raw

    width, height = page.get_size()
    textpage = page.get_textpage()
    try:
        n = raw.FPDFText_CountChars(textpage)
        rect = raw.FS_RECTF()
        chars = []
        for i in range(max(n, 0)):
            if raw.FPDFText_IsGenerated(textpage, i) == 1:
                continue
            code = raw.FPDFText_GetUnicode(textpage, i)
            if code in (0, 0xFFFE, 0xFFFF) or code < 32:
                continue
            ch = chr(code)
            if not raw.FPDFText_GetLooseCharBox(textpage, i, ctypes.byref(rect)):
                continue
            box = (rect.left, height - rect.top, rect.right, height - rect.bottom)
            size = raw.FPDFText_GetFontSize(textpage, i)
            weight = raw.FPDFText_GetFontWeight(textpage, i)
            chars.append(Char(ch, box, float(size), weight >= 600))
        return chars, width, height
    finally:
        textpage.close()


def layer_quality(text: str) -> str:
    """``ok``, ``empty`` or ``garbage`` for a page's text-layer characters.

    Garbage is a layer whose characters are mostly neither CJK, nor ASCII,
    nor common punctuation: a font without a proper ToUnicode map yields
    Latin-1 accents (``ÖÐ¹ú``), private-use code points or U+FFFD.
    """
    chars = [c for c in text if not c.isspace()]
    if len(chars) < MIN_LAYER_CHARS:
        return "empty"
    good = sum(1 for c in chars if _plausible(c))
    return "ok" if good / len(chars) >= 0.8 else "garbage"


def _plausible(c: str) -> bool:
    o = ord(c)
    if 0x4E00 <= o <= 0x9FFF or 0x3400 <= o <= 0x4DBF or 0x3000 <= o <= 0x303F or 0xFF00 <= o <= 0xFFEF:
        return True
    if o < 0x80:
        return c.isalnum() or c in ".,:;!?()[]%/-+·'\"&*#@<>=_~"
    return unicodedata.category(c) in ("Pd", "Ps", "Pe", "Pi", "Pf", "Po") and o < 0x2100


def render_pdf_page(page, dpi: float, grayscale: bool = True):
    """One PDF page as a Pillow image at ``dpi``."""
    return page.render(scale=dpi / 72, grayscale=grayscale).to_pil()


def open_image(path: Path):
    """A page image as a Pillow RGB image; InputError when unreadable or too small."""
    from PIL import Image, UnidentifiedImageError

    if path.stat().st_size == 0:
        raise InputError(path, "empty file")
    Image.MAX_IMAGE_PIXELS = 200_000_000  # a 600 dpi broadsheet scan is about 120 megapixels
    try:
        with Image.open(path) as im:
            im.load()
            image = im.convert("RGB")
            image.info["dpi"] = im.info.get("dpi")  # convert() keeps no resolution
    except (UnidentifiedImageError, OSError, SyntaxError) as exc:
        raise InputError(path, f"page 1: not a readable image ({exc})") from None
    if min(image.size) < MIN_IMAGE_SIDE:
        raise InputError(path, f"page 1: image too small to read ({image.width}×{image.height} px, "
                               f"the shorter side needs at least {MIN_IMAGE_SIDE} px)")
    return image
