"""The 版面 panel in headless Chromium, on a desktop and a phone screen."""

from __future__ import annotations

from pathlib import Path

import pytest

from .conftest import CORPUS
from .test_ui_browser import CHROMIUM, CHROMIUM_ARGS, DESKTOP, PHONE, SHOTS, served

pytestmark = [pytest.mark.browser, pytest.mark.filterwarnings("ignore::Warning:gradio.queueing")]


@pytest.fixture(scope="module")
def page_app(tmp_path_factory):
    if not Path(CHROMIUM).exists():
        pytest.skip(f"{CHROMIUM} is missing: install Debian's chromium (apt-get install chromium)")
    pytest.importorskip("playwright.sync_api", reason="the playwright Python package is not installed")
    pytest.importorskip("weasyprint")
    from rag.evaluation.newsprint import typeset_issue
    from rag.ingest.indexer import ingest
    from rag.ingest.parse import parse_file
    from rag.search.index import Index
    from rag.settings import Settings

    folder = tmp_path_factory.mktemp("pagesapp")
    pdf = folder / "issue.pdf"
    typeset_issue(list(parse_file(CORPUS / "002_7a2d84cb32ceeabd.txt").articles), pdf, seed=2)
    settings = Settings.load(index_dir=folder / "index", embed_model="fake:hash-256")
    assert ingest([pdf], settings, progress=False).ok
    article = next(a for a in Index.load(settings.index_dir).articles.values() if len(a.body) > 400)
    start = article.body.index("。") + 1
    span = (start, article.body.index("。", start) + 1)
    with served(settings) as url:
        yield f"{url}?article={article.id}&hl={span[0]}-{span[1]}&view=page"


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_page_panel_highlights_the_quote_and_zooms(page_app, viewport):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, timeout=60_000)
        page = browser.new_page(viewport=viewport, locale="zh-CN")
        page.set_default_timeout(90_000)
        try:
            page.goto(page_app, wait_until="load")
            page.wait_for_selector("#page-panel[open] .page-frame img")
            page.wait_for_function("document.querySelector('#page-panel img').naturalWidth > 0")
            img = page.locator("#page-panel img").bounding_box()
            marks = page.locator("#page-panel .page-hl")
            assert marks.count() >= 1
            mark = marks.first.bounding_box()
            # The highlight lies on the page image, not beside it.
            assert img["x"] <= mark["x"] <= img["x"] + img["width"]
            assert img["y"] <= mark["y"] <= img["y"] + img["height"] and mark["width"] > 2
            # The text view still marks the same sentence.
            assert page.locator("#article-mark").count() == 1
            doc_w = page.evaluate("document.documentElement.scrollWidth")
            assert doc_w <= viewport["width"] + 1  # the page scrolls inside its frame, not the screen
            name = "desktop" if viewport is DESKTOP else "phone"
            SHOTS.mkdir(parents=True, exist_ok=True)
            page.locator("#page-panel").screenshot(path=str(SHOTS / f"page-panel-{name}.png"))
            page.locator("label[for=page-zoom-200]").click()
            page.wait_for_function("document.querySelector('#page-panel img').getBoundingClientRect().width"
                                   f" > {img['width'] * 1.8}")
            assert page.evaluate("document.documentElement.scrollWidth") <= viewport["width"] + 1
        finally:
            browser.close()
