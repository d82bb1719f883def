"""The chat UI in a real headless Chromium: answers, cards, escaping, and no outside requests."""

import socket
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlparse

import pytest

from .conftest import PLANTED_HEADLINE, PLANTED_QUESTION, SCRIPT_TEXT, UPLOAD_ISSUE

pytestmark = [
    pytest.mark.browser,
    # Gradio's queue calls a pandas option that pandas 3 deprecates; not ours to fix.
    pytest.mark.filterwarnings("ignore::Warning:gradio.queueing"),
]

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = "/usr/bin/chromium"
SHOTS = ROOT / "eval" / "screenshots"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
LOCAL_HOSTS = {"127.0.0.1", "localhost"}


def require_browser() -> None:
    """Skip unless Debian's Chromium and the playwright package are both here."""
    if not Path(CHROMIUM).exists():
        pytest.skip(f"{CHROMIUM} is missing: install Debian's chromium (apt-get install chromium)")
    pytest.importorskip("playwright.sync_api", reason="the playwright Python package is not installed")


@pytest.fixture(scope="module")
def app_url(request):
    require_browser()
    # The bundled corpus and the planted issue, indexed with the default model (conftest.py):
    # this module's own copy, which the upload test adds to. Built after the checks above,
    # so a machine without Chromium skips at once.
    settings = request.getfixturevalue("ui_settings")
    with served(settings) as url:
        yield url


@contextmanager
def served(settings):
    """The app over ``settings``' index on a free local port; yields its address."""
    from rag.pipeline import Assistant
    from ui.app import build_app, launch_options

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    demo = build_app(Assistant.open(settings), settings).queue()
    demo.launch(server_name="127.0.0.1", server_port=port, prevent_thread_lock=True, quiet=True,
                **launch_options(settings))
    try:
        yield f"http://127.0.0.1:{port}/"
    finally:
        demo.close()


DESKTOP = {"width": 1366, "height": 900}
PHONE = {"width": 390, "height": 844}


@pytest.fixture(params=[DESKTOP], ids=["desktop"])
def page(request, app_url):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, timeout=60_000)
        context = browser.new_context(viewport=request.param, locale="zh-CN")
        context.grant_permissions(["clipboard-read", "clipboard-write"], origin=app_url.rstrip("/"))
        page = context.new_page()
        page.set_default_timeout(90_000)  # generous: a 2-core machine under other load is slow, not broken
        page.requested = []
        page.errors = []
        page.on("request", lambda r: page.requested.append(r.url))
        page.on("websocket", lambda ws: page.requested.append(ws.url))
        page.on("pageerror", lambda e: page.errors.append(str(e)))
        try:
            yield page
        finally:
            browser.close()


def _open(page, url):
    page.goto(url, wait_until="load")
    page.wait_for_function("document.body.dataset.zzReady === '1'")  # the page is up (READY_JS)


def _clear(page):
    """Clear the conversation and wait for a reply from the server (the question box is
    left alone, so a question typed before the reply lands stays)."""
    with page.expect_response(lambda r: "/run/" in r.url and r.request.method == "POST"):
        page.click("#clear-button")


def wait_for_replies(page, n_replies, timeout=None):
    """Wait until ``n_replies`` answers are on screen; on a timeout, say what the page shows."""
    from playwright.sync_api import TimeoutError as PageTimeout

    try:
        page.wait_for_function(
            f"document.querySelectorAll('#conversation .reply:not(.pending)').length >= {n_replies}",
            timeout=timeout)
    except PageTimeout:
        state = page.evaluate("""() => ({
            replies: document.querySelectorAll('#conversation .reply:not(.pending)').length,
            pending: [...document.querySelectorAll('#conversation .reply.pending')].map(r => r.innerText),
            questions: [...document.querySelectorAll('#conversation .q-bubble')].map(q => q.innerText),
            box: (document.querySelector('#question textarea') || {}).value,
            status: (document.querySelector('#chat-status') || {}).innerText})""")
        raise AssertionError(f"{n_replies} replies expected; the page shows {state}; errors {page.errors}") from None


def _ask(page, question, n_replies):
    page.fill("#question textarea", question)
    page.click("#ask-button")
    wait_for_replies(page, n_replies)


def _wait_until_saved(page):
    """Wait for the browser to store the conversation. A request after the answer saves it
    (gr.BrowserState, encrypted in localStorage: about 70 characters empty, over 1000 with
    one answered question); a reload that comes first would find the empty one."""
    from ui.history import STORAGE_KEY

    page.wait_for_function(f"(localStorage.getItem({STORAGE_KEY!r}) || '').length > 200")


def _outside_requests(urls):
    outside = []
    for url in urls:
        u = urlparse(url)
        if u.scheme in ("data", "blob", "about", "chrome-extension"):
            continue
        if u.hostname not in LOCAL_HOSTS:
            outside.append(url)
    return outside


def test_chat_in_browser(page, app_url):
    SHOTS.mkdir(parents=True, exist_ok=True)
    _open(page, app_url)
    _ask(page, "2025年株洲医保参保人数", 1)
    conversation = page.locator("#conversation")
    assert "353万" in conversation.inner_text()
    card = page.locator("#sources .cite-card", has_text="《筑牢保障根基 护航幸福株洲》").first
    assert card.is_visible()
    assert "推断" in card.inner_text()
    assert card.locator("mark").inner_text().startswith("截至2025年底")
    page.mouse.move(0, 0)
    page.screenshot(path=str(SHOTS / "chat.png"))

    # [1] leads to its card; the copy button copies the formatted reference.
    conversation.locator("a.cite-link").first.click()
    page.wait_for_function("document.querySelector('#sources .cite-card').classList.contains('flash')")
    card.locator("button.copy-ref").click()
    page.wait_for_function("document.querySelector('#sources button.copy-ref').textContent === '已复制'")
    copied = page.evaluate("navigator.clipboard.readText()")
    assert copied == ("“截至2025年底,全市基本医疗保险参保人数达到353万人。”\n"
                      "沈全华, 尹胜科, 杨浩. 筑牢保障根基 护航幸福株洲[N]. 株洲日报, 2026-02-09(推断).")

    # The planted article's markup shows as text and never runs.
    _ask(page, PLANTED_QUESTION, 2)
    page.wait_for_timeout(300)
    assert page.evaluate("typeof window.__pwned") == "undefined"
    assert page.evaluate("window.__pwned") is None
    planted_card = page.locator("#sources .cite-card", has_text=PLANTED_HEADLINE)
    assert planted_card.is_visible()
    assert SCRIPT_TEXT in planted_card.inner_text()
    assert SCRIPT_TEXT in conversation.inner_text()
    assert page.locator("#conversation script, #sources script, #conversation img, #sources img").count() == 0

    # Empty and overlong questions get a message instead of an answer.
    page.fill("#question textarea", "株" * 600)
    page.click("#ask-button")
    page.wait_for_selector("#chat-status .msg")
    assert "太长" in page.locator("#chat-status").inner_text()
    assert page.locator("#conversation .turn").count() == 2

    assert not page.errors, page.errors
    assert not _outside_requests(page.requested), _outside_requests(page.requested)


def test_verify_and_archive_tabs_in_browser(page, app_url, tmp_path):
    _open(page, app_url)
    page.click("button[role=tab]:has-text('核查说法')")
    page.fill("#claim textarea", "截至2025年底，全市基本医疗保险参保人数达到360万人。")
    page.click("#verify-button")
    page.wait_for_selector("#verdict .verdict")
    verdict = page.locator("#verdict").inner_text()
    assert "与报道不符" in verdict and "353万人" in verdict and "筑牢保障根基" in verdict
    page.mouse.move(0, 0)
    page.screenshot(path=str(SHOTS / "verify.png"))
    page.locator("#claim-examples button.example-chip").first.click()  # fills the claim and checks it
    page.wait_for_selector("#verdict .verdict-supported")
    assert "有依据" in page.locator("#verdict").inner_text()

    page.click("button[role=tab]:has-text('档案')")
    page.wait_for_selector("#issues table")
    assert "50 MB" in page.locator("body").inner_text()
    upload = tmp_path / "炎陵黄桃节.md"
    upload.write_text(UPLOAD_ISSUE, encoding="utf-8")
    page.set_input_files("#upload-files input[type=file]", [str(upload)])
    page.wait_for_selector("#upload-files >> text=炎陵黄桃节.md")
    page.click("#ingest-button")
    page.wait_for_selector("#ingest-report table")
    report = page.locator("#ingest-report").inner_text()
    assert "已导入" in report and "24001" in report
    rows = page.locator("#issues tbody tr")
    assert "2026年2月9日" in rows.nth(0).inner_text()  # newest first
    assert "2024年5月1日" in page.locator("#issues").inner_text()
    page.mouse.move(0, 0)
    page.screenshot(path=str(SHOTS / "archive.png"), full_page=True)

    # The uploaded issue answers questions at once.
    page.click("button[role=tab]:has-text('问答')")
    _ask(page, "炎陵黄桃节吸引了多少游客？", 1)
    assert "3.2万" in page.locator("#conversation").inner_text()

    assert not page.errors, page.errors
    assert not _outside_requests(page.requested), _outside_requests(page.requested)



REFUSED_QUESTION = "火星上有多少人口？"


def _in_view(page, selector) -> bool:
    return page.evaluate(f"""() => {{
        const r = document.querySelector({selector!r}).getBoundingClientRect();
        return r.height > 0 && r.top >= 0 && r.bottom <= window.innerHeight;
    }}""")


def _no_horizontal_scroll(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def test_article_view_from_a_citation_and_from_a_refusal(page, app_url):
    _open(page, app_url)
    _ask(page, "2025年株洲医保参保人数", 1)
    page.locator("#sources a.article-link", has_text="筑牢保障根基").first.click()
    view = page.locator("#article-view")
    view.locator(".article-view").wait_for()
    text = view.inner_text()
    assert "筑牢保障根基 护航幸福株洲" in text and "2025年株洲医保书写民生答卷纪实" in text  # sub-headline
    assert "沈全华" in text and "2026年2月9日" in text and "推断" in view.locator(".card-meta").inner_text()
    mark = view.locator("mark#article-mark")
    assert mark.inner_text().startswith("截至2025年底")
    page.wait_for_function("(() => { const r = document.querySelector('#article-mark').getBoundingClientRect();"
                           " return r.top >= 0 && r.bottom <= innerHeight; })()")
    assert "“她创课堂”赋能200余名女性数字创业" in view.locator(".issue-list").inner_text()  # same issue
    assert "article=" in page.url and "hl=" in page.url  # a shareable address
    page.mouse.move(0, 0)
    page.screenshot(path=str(SHOTS / "article.png"))

    # Another article of the issue opens in the same view.
    view.locator(".issue-list a", has_text="她创课堂").click()
    page.wait_for_function("document.querySelector('#article-view .article-title').textContent.includes('她创课堂')")

    # A refusal's closest reports are links to their articles, the retrieved passage marked.
    page.click("button[role=tab]:has-text('问答')")
    _ask(page, REFUSED_QUESTION, 2)
    refusal = page.locator("#conversation .reply.refusal").last
    link = refusal.locator("a.closest-link").first
    headline = link.inner_text().strip("《》")
    link.click()
    page.wait_for_function(f"document.querySelector('#article-view .article-title').textContent === {headline!r}")
    assert page.locator("#article-view mark#article-mark").is_visible()
    page.wait_for_function("(() => { const r = document.querySelector('#article-view mark').getBoundingClientRect();"
                           " return r.top >= 0 && r.bottom <= innerHeight; })()")
    assert not page.errors, page.errors


def test_reload_keeps_the_conversation_and_links_reopen(page, app_url):
    _open(page, app_url)
    _clear(page)
    _ask(page, "2025年株洲医保参保人数", 1)
    _wait_until_saved(page)
    page.reload(wait_until="load")
    page.wait_for_selector("#conversation .conv")
    page.wait_for_function("document.querySelector('#conversation').innerText.includes('353万')")
    assert "2025年株洲医保参保人数" in page.locator("#conversation").inner_text()
    page.wait_for_selector("#sources .cite-card:has-text('筑牢保障根基')")
    _ask(page, "那2024年呢？", 2)  # the restored conversation still carries follow-ups
    assert "按上文理解为" in page.locator("#conversation").inner_text()

    # Clearing really clears: a reload then shows an empty conversation.
    _clear(page)
    page.wait_for_selector("#conversation .conv-empty")
    page.wait_for_timeout(300)
    page.reload(wait_until="load")
    page.wait_for_selector("#conversation .conv-empty")
    page.wait_for_timeout(500)
    assert page.locator("#conversation .turn").count() == 0

    # ?q= asks its question, once: the address drops it so a reload does not ask again.
    page.goto(app_url + "?q=" + "株洲在2023年中国百强城市排行榜中排第几位？", wait_until="load")
    wait_for_replies(page, 1)
    assert "78" in page.locator("#conversation").inner_text()
    assert "q=" not in page.url
    article_id = page.locator("#sources a.article-link").first.get_attribute("data-article")

    # ?article= opens that article's view directly; an unknown id says so in Chinese.
    page.goto(f"{app_url}?article={article_id}", wait_until="load")
    page.wait_for_function("(document.querySelector('#article-view .article-title') || {}).textContent"
                           " === '中国百强城市榜单 株洲居第78位'")
    assert page.locator("#article-view").is_visible()
    page.goto(f"{app_url}?article=no-such-id", wait_until="load")
    page.wait_for_selector("#article-view .article-empty:has-text('no-such-id')")
    assert "档案中没有编号为" in page.locator("#article-view").inner_text()
    assert not page.errors, page.errors


@pytest.mark.parametrize("page", [PHONE], ids=["phone"], indirect=True)
def test_phone_layout_has_no_horizontal_scroll(page, app_url):
    _open(page, app_url)
    _clear(page)
    _ask(page, "2025年株洲医保参保人数", 1)
    assert _no_horizontal_scroll(page), page.evaluate("document.documentElement.scrollWidth")
    # The sources follow the answer, and the ask button is on screen, not cut off.
    assert page.locator("#sources").bounding_box()["y"] > page.locator("#conversation").bounding_box()["y"]
    button = page.locator("#ask-button").bounding_box()
    assert button["x"] >= 0 and button["x"] + button["width"] <= PHONE["width"]
    page.mouse.move(0, 0)
    page.screenshot(path=str(SHOTS / "phone-chat.png"), full_page=True)
    _ask(page, REFUSED_QUESTION, 2)
    assert _no_horizontal_scroll(page)
    page.locator("#conversation a.closest-link").first.click()
    page.locator("#article-view .article-view").wait_for()
    page.wait_for_timeout(400)  # the marked passage scrolls into view
    assert _no_horizontal_scroll(page)
    page.screenshot(path=str(SHOTS / "phone-article.png"))
    page.click("button[role=tab]:has-text('档案')")
    page.wait_for_selector("#issues table")
    assert _no_horizontal_scroll(page), page.evaluate("document.documentElement.scrollWidth")
    page.screenshot(path=str(SHOTS / "phone-archive.png"), full_page=True)
    assert not page.errors, page.errors


def test_chinese_errors_enter_to_check_and_character_count(page, app_url, tmp_path):
    _open(page, app_url)
    # A question without Chinese is still searched, with a hint to ask in Chinese.
    _ask(page, "medical insurance", 1)
    assert "用中文提问" in page.locator("#chat-status").inner_text()

    # The count appears near the 500-character limit and turns red past it.
    page.fill("#question textarea", "株" * 450)
    page.wait_for_selector("#question-count:has-text('450/500')")
    page.fill("#question textarea", "株" * 520)
    page.wait_for_selector("#question-count.over:has-text('超出 20 字')")
    page.fill("#question textarea", "")

    # Enter checks a claim; Shift+Enter only breaks the line.
    page.click("button[role=tab]:has-text('核查说法')")
    box = page.locator("#claim textarea")
    box.fill("截至2025年底，全市基本医疗保险参保人数达到360万人。")
    box.press("Shift+Enter")
    page.wait_for_timeout(500)
    assert page.locator("#verdict .verdict").count() == 0 and box.input_value().endswith("\n")
    box.press("Enter")
    page.wait_for_selector("#verdict .verdict-contradicted")

    # A binary file is refused in Chinese; a wrong type is named at once, with no English toast.
    page.click("button[role=tab]:has-text('档案')")
    binary = tmp_path / "扫描件.txt"
    binary.write_bytes(bytes(range(256)) * 64)
    page.set_input_files("#upload-files input[type=file]", [str(binary)])
    page.wait_for_selector("#upload-files >> text=扫描件.txt", timeout=90_000)  # uploads queue on a busy machine
    page.click("#ingest-button")
    page.wait_for_selector("#ingest-report table")
    report = page.locator("#ingest-report").inner_text()
    assert "扫描件.txt" in report and "是二进制文件，不是文本" in report and "binary" not in report
    doc = tmp_path / "版面.docx"
    doc.write_bytes(b"PK\x03\x04")
    page.set_input_files("#upload-files input[type=file]", [str(doc)])
    page.wait_for_selector("#ingest-report:has-text('不支持的文件类型')")
    page.wait_for_timeout(300)
    assert "Invalid" not in page.locator("body").inner_text()
    assert page.locator("#question textarea").get_attribute("aria-label") in (None, "问题")
    assert "Textbox" not in page.locator("#question").inner_html()
    assert not page.errors, page.errors
