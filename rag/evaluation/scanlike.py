"""Typeset pages made to look scanned: rasterised, turned, speckled, JPEG-compressed.

The OCR path is tested and measured on these: a 300 or 200 dpi grey page,
turned by up to ±1.5° (a page laid askew on the scanner), with Gaussian
noise and the blocking of a JPEG at modest quality, saved as PNG.
"""

from __future__ import annotations

import io
import random
from pathlib import Path


def scan_page(pdf_path: str | Path, page_index: int = 0, dpi: int = 300, seed: int = 0,
              max_skew: float = 1.5, noise: float = 8.0, jpeg_quality: int = 55):
    """One PDF page as a Pillow image that looks scanned (deterministic for a seed)."""
    import numpy as np
    import pypdfium2 as pdfium
    from PIL import Image

    rng = random.Random(seed)
    doc = pdfium.PdfDocument(str(pdf_path))
    try:
        image = doc[page_index].render(scale=dpi / 72, grayscale=True).to_pil().convert("L")
    finally:
        doc.close()
    angle = rng.uniform(-max_skew, max_skew)
    image = image.rotate(angle, resample=Image.BICUBIC, expand=True, fillcolor=255)
    pixels = np.asarray(image, dtype=np.float32)
    pixels += np.random.default_rng(seed).normal(0.0, noise, pixels.shape).astype(np.float32)
    image = Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8), "L")
    buf = io.BytesIO()
    image.save(buf, "JPEG", quality=jpeg_quality)
    buf.seek(0)
    return Image.open(buf).convert("L"), angle


def scan_pdf(pdf_path: str | Path, out_dir: str | Path, dpi: int = 300, seed: int = 0) -> list[Path]:
    """Every page of ``pdf_path`` as a scanned-looking PNG in ``out_dir``."""
    import pypdfium2 as pdfium

    doc = pdfium.PdfDocument(str(pdf_path))
    n = len(doc)
    doc.close()
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = []
    for i in range(n):
        image, _ = scan_page(pdf_path, i, dpi, seed + i)
        path = out_dir / f"{Path(pdf_path).stem}-p{i + 1}-{dpi}dpi.png"
        image.save(path, dpi=(dpi, dpi))  # as a scanner records it
        paths.append(path)
    return paths
