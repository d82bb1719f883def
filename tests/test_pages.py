"""E-paper PDFs and scans through the whole pipeline, and the bad page files.

The pages are typeset here from the bundled sample issue (WeasyPrint and the
Debian Noto CJK fonts); OCR runs on one small page only.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from rag.cli import main
from rag.evaluation.pagescore import cer, naive_text, norm, score_pages, sentences_intact
from rag.ingest.indexer import ingest
from rag.ingest.parse import parse_file
from rag.search.index import Index
from rag.settings import Settings

from .conftest import CORPUS

pytestmark = pytest.mark.unit

ISSUE_FILE = CORPUS / "002_7a2d84cb32ceeabd.txt"

pytest.importorskip("weasyprint")


def _settings(tmp_path: Path, **kw) -> Settings:
    return Settings.load(index_dir=tmp_path / "index", embed_model="fake:hash-256", **kw)


@pytest.fixture(scope="session")
def typeset(tmp_path_factory):
    """The Markdown sample issue typeset on two broadsheet pages, with its truth."""
    from rag.evaluation.newsprint import typeset_issue

    out = tmp_path_factory.mktemp("pages") / "issue.pdf"
    truth = typeset_issue(list(parse_file(ISSUE_FILE).articles), out, seed=1)
    return out, truth


@pytest.fixture(scope="session")
def small_scan(tmp_path_factory):
    """One article on a small page, 'scanned' at 200 dpi with skew, noise and JPEG blocks."""
    from rag.evaluation.newsprint import typeset_clipping
    from rag.evaluation.scanlike import scan_page

    folder = tmp_path_factory.mktemp("scan")
    article = next(a for a in parse_file(ISSUE_FILE).articles if a.headline.startswith("中国百强城市"))
    truth = typeset_clipping(article, folder / "clip.pdf", chars=300)
    image, angle = scan_page(folder / "clip.pdf", 0, dpi=200, seed=5)
    png = folder / "clip.png"
    image.save(png, dpi=(200, 200))
    return png, truth, angle


def test_typeset_pages_defeat_a_naive_reading_but_not_the_layout_step(typeset):
    pdf, truth = typeset
    parsed = parse_file(pdf)
    naive = sentences_intact(truth, naive_text(str(pdf)))
    ours = sentences_intact(truth, [a.body for a in parsed.articles])
    assert naive < 0.3  # read across the columns, most sentences come out broken
    assert ours > 0.95
    from rag.ingest.parse_pages import parse_pages

    articles, *_, headers = parse_pages(pdf)
    score = score_pages(truth, articles, headers)
    assert score.headers_right == score.pages == 2
    assert score.cer < 0.01 and score.split_accuracy >= 0.8


def test_a_pdf_issue_through_ingest_and_ask(typeset, tmp_path):
    pdf, truth = typeset
    s = _settings(tmp_path)
    report = ingest([pdf], s, progress=False)
    assert report.ok, report.files
    (f,) = report.files
    assert (f.date, f.issue) == ("2023-07-20", "23368")
    index = Index.load(s.index_dir)
    articles = [a for a in index.articles.values() if a.kind == "article"]
    assert {norm(a.headline) for a in articles} >= {norm(t.headline) for t in truth.articles}
    jumped = next(t for t in truth.articles if len(t.pages) == 2)
    joined = [a for a in articles if norm(a.headline) == norm(jumped.headline)]
    assert len(joined) == 1 and cer(jumped.body, joined[0].body) < 0.01  # one article across the jump
    assert {r[2] for r in joined[0].regions} == {0, 1}
    assert all(a.regions and a.page in ("01", "02") for a in articles)
    assert not any("热线" in a.body for a in index.articles.values())  # the advert is not an article
    again = ingest([pdf], s, progress=False)
    assert again.articles_added == 0 and again.files[0].status == "skipped"

    from rag.pipeline import Assistant

    answer = Assistant.open(s).ask("2023年中国百强城市排行榜在哪里发布")
    assert answer.citations
    assert answer.citations[0].to_dict()["confidence"] == 1.0  # a text layer is read, not recognised


def _one_pdf_per_page(pdf: Path, folder: Path) -> list[Path]:
    import pypdfium2 as pdfium

    src = pdfium.PdfDocument(str(pdf))
    out = []
    try:
        for i in range(len(src)):
            doc = pdfium.PdfDocument.new()
            doc.import_pages(src, [i])
            out.append(folder / f"page-{i + 1:02d}.pdf")
            doc.save(str(out[-1]))
            doc.close()
    finally:
        src.close()
    return out


def test_a_jump_between_two_page_files_of_one_issue_becomes_one_article(typeset, tmp_path):
    pdf, truth = typeset
    folder = tmp_path / "epaper"
    folder.mkdir()
    first, second = _one_pdf_per_page(pdf, folder)
    jumped = next(t for t in truth.articles if len(t.pages) == 2)

    def joined(s):
        index = Index.load(s.index_dir)
        return index, [a for a in index.articles.values() if norm(a.headline) == norm(jumped.headline)]

    # The whole folder at once.
    s = _settings(tmp_path / "a")
    assert ingest([folder], s, progress=False).ok
    index, found = joined(s)
    assert len(found) == 1 and cer(jumped.body, found[0].body) < 0.01
    tail = [r for r in found[0].regions if len(r) > 8]
    assert tail and {r[8] for r in tail} == {str(second)}  # the second half points at its own file
    assert not any(norm(jumped.body[-30:]) in norm(a.body) for a in index.articles.values() if a is not found[0])

    # Page by page, the second page first; then the first page changes (a re-export).
    s = _settings(tmp_path / "b")
    assert ingest([second], s, progress=False).ok
    assert ingest([first], s, progress=False).ok
    index, found = joined(s)
    assert len(found) == 1 and cer(jumped.body, found[0].body) < 0.01
    again = ingest([folder], s, progress=False)
    assert again.articles_added == 0 and {f.status for f in again.files} == {"skipped"}
    first.write_bytes(first.read_bytes() + b"\n% re-exported\n")
    assert ingest([first], s, progress=False).ok
    index, found = joined(s)
    assert len(found) == 1 and cer(jumped.body, found[0].body) < 0.01
    assert sum(len(a.body) for a in index.articles.values()) == sum(
        len(a.body) for a in joined(_settings(tmp_path / "a"))[0].articles.values())

    # The 版面 panel of a quote from the second half opens the second file's page.
    from ui.pagepanel import page_panel, quote_place

    article = found[0]
    start = len(article.body) - 20
    assert quote_place(article, start, len(article.body))[0] == str(second)
    html = page_panel(article, (start, len(article.body)), tmp_path / "cache", opened=True)
    assert "page-hl" in html and "版面图片不可用" not in html


def test_a_scanned_page_through_ocr_with_confidence_and_a_cache(small_scan, tmp_path, monkeypatch):
    png, truth, angle = small_scan
    assert abs(angle) > 0.1  # the scan is askew
    s = _settings(tmp_path)
    report = ingest([png], s, progress=False)
    assert report.ok, report.files
    index = Index.load(s.index_dir)
    (a,) = [a for a in index.articles.values() if a.kind == "article"]
    assert norm(a.headline) == norm(truth.headline)
    assert (a.date, a.issue, a.page) == ("2023-07-20", "23368", "03")
    assert cer(truth.body, a.body) < 0.03
    assert all(0.0 < r[7] <= 1.0 for r in a.regions)

    # The citation of a sentence of the scan carries the lowest confidence of its lines.
    from rag.answer.compose import make_citation
    from rag.ingest.regions import quote_confidence
    from rag.pipeline import Assistant

    hit = Assistant.open(s).ask("中国百强城市排行榜").hits[0]
    start, end = hit.chunk.sentences[0]
    c = make_citation(1, hit, start, end).to_dict()
    assert c["confidence"] == quote_confidence(a, start, end)
    assert 0.0 < c["confidence"] <= min(r[7] for r in a.regions if r[0] < end and r[1] > start) + 1e-9

    # Another index, same file: the OCR result comes from the cache beside the index.
    import rag.ingest.ocr as ocr

    other = _settings(tmp_path / "other")
    shutil.copytree(tmp_path / "index.cache", tmp_path / "other" / "index.cache")
    monkeypatch.setattr(ocr, "ocr_lines", lambda *a, **k: pytest.fail("OCR ran twice on an unchanged file"))
    assert ingest([png], other, progress=False).ok


def _bad_files(folder: Path, good: Path) -> dict[str, Path]:
    from PIL import Image
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont
    from reportlab.pdfgen import canvas

    files = {}
    files["encrypted"] = folder / "encrypted.pdf"
    c = canvas.Canvas(str(files["encrypted"]), encrypt="secret")
    c.drawString(30, 500, "locked")
    c.showPage()
    c.save()
    files["truncated"] = folder / "truncated.pdf"
    data = good.read_bytes()
    files["truncated"].write_bytes(data[: len(data) // 3])
    files["empty"] = folder / "empty.pdf"
    files["empty"].write_bytes(b"")
    pdfmetrics.registerFont(UnicodeCIDFont("STSong-Light"))
    files["long"] = folder / "long.pdf"
    c = canvas.Canvas(str(files["long"]), pagesize=(420, 595))
    for i in range(400):
        c.setFont("STSong-Light", 9)
        c.drawString(30, 560, f"2024年3月1日 第24001期 第{i % 99 + 1:02d}版")
        c.setFont("STSong-Light", 20)
        c.drawString(30, 520, f"第{i + 1}页的报道标题")
        c.setFont("STSong-Light", 10)
        c.drawString(30, 490, f"这是第{i + 1}页的正文，用来检验很长的文件。")
        c.showPage()
    c.save()
    files["mojibake"] = folder / "mojibake.pdf"
    c = canvas.Canvas(str(files["mojibake"]), pagesize=(300, 300))
    c.setFont("Helvetica", 10)
    for k in range(15):
        c.drawString(20, 280 - k * 15, "ÖÐ¹ú¹²²úµ³ÖêÖÞÈÕ±¨ ¼ÇÕß ±¨µÀ")  # GBK bytes read as Latin-1
    c.showPage()
    c.save()
    import numpy as np

    rng = np.random.default_rng(0)
    smooth = rng.normal(128, 40, (9, 12)).clip(0, 255).astype("uint8")
    files["photo"] = folder / "photo.jpg"
    Image.fromarray(smooth).resize((960, 720), Image.BICUBIC).convert("RGB").save(files["photo"])
    files["tiny"] = folder / "tiny.png"
    Image.new("L", (200, 150), 255).save(files["tiny"])
    return files


def test_bad_page_files_each_get_one_line_naming_file_and_page(typeset, tmp_path):
    pdf, _ = typeset
    folder = tmp_path / "in"
    folder.mkdir()
    shutil.copy(pdf, folder / "good.pdf")
    bad = _bad_files(folder, pdf)
    s = _settings(tmp_path, pdf_max_pages=100)
    report = ingest([folder], s, progress=False)
    by_name = {Path(f.path).name: f for f in report.files}
    assert by_name["good.pdf"].status == "ok"
    expect = {"encrypted": "encrypted", "truncated": "damaged or truncated", "empty": "empty file",
              "long": "pages 101–400 not read", "mojibake": "mojibake", "photo": "page 1: OCR found no newspaper text",
              "tiny": "page 1: image too small"}
    for key, words in expect.items():
        f = by_name[bad[key].name]
        assert f.status == "error", key
        assert bad[key].name in f.error and words in f.error and "\n" not in f.error, f.error
    assert "page 1" in by_name["mojibake.pdf"].error
    long = by_name["long.pdf"]
    assert len(long.articles) == 100  # the pages before the limit are still read
    index = Index.load(s.index_dir)
    assert {Path(a.source).name for a in index.articles.values()} == {"good.pdf", "long.pdf"}


def test_ocr_never_refuses_images_and_empty_layers(tmp_path, small_scan, capsys):
    png, _, _ = small_scan
    code = main(["ingest", str(png), "--ocr", "never", "--json", "--index", str(tmp_path / "index")])
    out = json.loads(capsys.readouterr().out)
    assert code == 1
    assert "--ocr never" in out["files"][0]["error"] and "page 1" in out["files"][0]["error"]


def test_the_page_panel_shows_the_quote_on_its_cached_page(typeset, tmp_path):
    from rag.ingest.regions import quote_boxes
    from ui.pagepanel import page_panel

    pdf, _ = typeset
    s = _settings(tmp_path)
    ingest([pdf], s, progress=False)
    index = Index.load(s.index_dir)
    a = next(a for a in index.articles.values() if {r[2] for r in a.regions} == {0, 1})  # the jumped one
    start = a.regions[-1][0]  # a run on its second page
    span = (start, a.body.find("。", start) + 1)
    cache = tmp_path / "cache"
    html = page_panel(a, span, cache, opened=True)
    assert html.startswith('<details class="page-panel" id="page-panel" open>')
    assert "data:image/jpeg;base64," in html and "第01版" in html
    assert html.count('class="page-hl"') == len([b for b in quote_boxes(a, *span) if b[0] == 1])
    (jpg,) = (cache / "pages").glob("*-p1.jpg")  # the quote is on the PDF's second page
    stamp = jpg.stat().st_mtime_ns
    page_panel(a, span, cache)
    assert jpg.stat().st_mtime_ns == stamp  # rendered once, then read from the cache
    text_only = next(iter(Index.load(s.index_dir).articles.values()))
    from dataclasses import replace

    assert page_panel(replace(text_only, regions=()), None, cache) == ""


def test_citation_cards_link_to_the_page_and_flag_doubtful_ocr():
    from rag.cli import format_answer
    from rag.records import Answer, Citation
    from ui.render import Source, citation_card

    def card(confidence):
        c = Citation(1, "abc", "abc#0", "标题", "2024-05-01", False, "24001", "02", "引文。", 10, 13,
                     confidence=confidence)
        return c, citation_card(Source(c), "cite-1")

    c, doubtful = card(0.62)
    assert "识别存疑" in doubtful and "view=page" in doubtful and 'data-view="page"' in doubtful
    assert "识别存疑" in format_answer(Answer("问", "答[1]。", False, (c,)))
    _, sure = card(0.98)
    assert "view=page" in sure and "识别存疑" not in sure
    _, text = card(None)  # from a text file: no page to show
    assert "view=page" not in text and "识别存疑" not in text
