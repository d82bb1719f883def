"""The Gradio app behind `rag serve`: chat with citations, claim checks, the archive.

Gradio is imported inside ``build_app``/``serve`` so that importing this
module stays cheap. Nothing on the page is fetched from outside the machine:
analytics are off and the theme uses system fonts only.
"""

import warnings
from pathlib import Path

from rag.ingest.parse import ISSUE_SUFFIXES, JSONL_SUFFIXES
from rag.ingest.pdfpages import PAGE_SUFFIXES
from rag.settings import RETRIEVAL_MODES

from .article import article_html
from .handlers import MAX_QUESTION_CHARS, Engine, Handlers
from .history import STORAGE_KEY, dump_turns, load_turns
from .links import esc, parse_span
from .render import conversation_html, message_html, sources_html
from .scripts import (ARTICLE_JS, EXAMPLE_JS, LOAD_JS, PAGE_JS, READY_JS, RESULT_JS, SCROLL_JS,
                      SOURCES_JS)

#: How the page names each retrieval mode.
MODE_LABELS = {"hybrid": "混合检索", "keyword": "关键词", "dense": "语义"}

CSS_FILE = Path(__file__).parent / "static" / "app.css"

#: How often an open page refreshes the banner's article and issue counts.
BANNER_REFRESH_S = 10

#: Events answered at once; the queue holds the rest, so a crowd waits rather than fails.
CONCURRENCY = 8

EXAMPLES = (
    "2025年株洲医保参保人数",
    "株洲在2023年中国百强城市排行榜中排第几位？",
    "“她创课堂”是哪个部门打造的？",
)
CLAIM_EXAMPLES = (
    "截至2025年底，全市基本医疗保险参保人数达到353万人。",
    "株洲在2023年中国百强城市排行榜中居第80位。",
)

SYSTEM_FONTS = ("PingFang SC", "Hiragino Sans GB", "Microsoft YaHei", "Noto Sans CJK SC",
                "Source Han Sans SC", "WenQuanYi Micro Hei", "system-ui", "-apple-system",
                "Segoe UI", "Helvetica Neue", "Arial", "sans-serif")
MONO_FONTS = ("ui-monospace", "SFMono-Regular", "Menlo", "Consolas", "Noto Sans Mono CJK SC", "monospace")

def make_theme():
    """Gradio's default look with system fonts only: no web-font requests."""
    import gradio as gr

    theme = gr.themes.Default(primary_hue="red", neutral_hue="slate",
                              font=list(SYSTEM_FONTS), font_mono=list(MONO_FONTS))
    # The masthead red of the paper, darker than the palette's bright red-500.
    return theme.set(button_primary_background_fill="#b4232a",
                     button_primary_background_fill_hover="#8f1b21",
                     button_primary_background_fill_dark="#b4232a",
                     button_primary_background_fill_hover_dark="#8f1b21",
                     button_primary_text_color="#ffffff")


def launch_options(settings) -> dict:
    """Keyword arguments for ``Blocks.launch``: theme, CSS and the upload size limit."""
    return {"theme": make_theme(), "css": CSS_FILE.read_text(encoding="utf-8"), "js": PAGE_JS,
            "max_file_size": f"{settings.upload_max_mb}mb",
            # Gradio's footer (its API page, its mostly English settings panel) is left out:
            # the banner links the HTTP API's documentation instead.
            "footer_links": []}


def build_app(assistant, settings=None, engine: Engine | None = None):
    """The Blocks app around an open Assistant (not launched).

    ``engine`` is given by ``serve``, which loads the model while the page opens.
    """
    import gradio as gr

    settings = settings or assistant.settings
    h = Handlers(engine or Engine(assistant, settings), settings)
    with warnings.catch_warnings():
        # Gradio 6 moved theme/css/js to launch(); passing them here too keeps a bare
        # `build_app(...).launch()` styled and free of web fonts.
        warnings.simplefilter("ignore")
        demo = gr.Blocks(analytics_enabled=False, title="株洲日报档案问答", theme=make_theme(),
                         css=CSS_FILE.read_text(encoding="utf-8"), js=PAGE_JS)
    with demo:
        header = gr.HTML(h.header(), elem_id="banner")
        # "wrap": on a phone the five tabs wrap to a second line instead of hiding behind "…".
        with gr.Tabs(elem_id="tabs", overflow_behavior="wrap") as tabs:
            with gr.Tab("问答", id="chat"):
                chat = _chat_tab(gr, h, settings)
            with gr.Tab("核查说法", id="verify"):
                verdict = _verify_tab(gr, h)
            with gr.Tab("核查稿件", id="draft"):
                draft = _draft_tab(gr, h)
            with gr.Tab("原文", id="article"):
                article = gr.HTML(article_html(None), elem_id="article-view", js_on_load=ARTICLE_JS)
            with gr.Tab("档案", id="archive"):
                issues = _archive_tab(gr, h, settings, header)
        demo.load(lambda: (h.header(), h.issues()), None, [header, issues],
                  api_visibility="private", queue=False)
        # The banner's counts follow an index that changes under the server.
        gr.Timer(BANNER_REFRESH_S).tick(h.header, None, header, api_visibility="private",
                                        queue=False, show_progress="hidden")
        _wire_articles(gr, h, tabs, article, [chat["conversation"], chat["sources"], verdict, draft, article])
        _wire_history(gr, h, demo, chat, tabs, article)
    return demo


def _wire_articles(gr, h: Handlers, tabs, article, sources) -> None:
    """Article links in any of ``sources`` open the article view."""
    def open_clicked(evt: gr.EventData):
        span = parse_span(getattr(evt, "span", ""))
        return h.article(getattr(evt, "article", ""), span, getattr(evt, "view", "")), gr.Tabs(selected="article")

    for component in sources:
        component.click(open_clicked, None, [article, tabs], api_visibility="private", queue=False)


def _wire_history(gr, h: Handlers, demo, chat: dict, tabs, article) -> None:
    """The conversation survives a reload; ?q= asks a question, ?article= opens an article."""
    from urllib.parse import parse_qs

    search, asked = gr.Textbox(visible=False), gr.State("")

    def restore(saved, query: str):
        # Unqueued, so it lands before any question the reader types.
        params = {k: v[-1] for k, v in parse_qs((query or "").lstrip("?")).items()}
        turns = load_turns(saved)
        opened = selected = gr.skip()
        if params.get("article"):
            opened = h.article(params["article"], parse_span(params.get("hl")), params.get("view"))
            selected = gr.Tabs(selected="article")
        return conversation_html(turns), sources_html(turns), turns, opened, selected, params.get("q", "")

    def ask(question: str, turns):
        if not question:  # a generator that yields nothing would blank its outputs
            yield (gr.skip(),) * 5
            return
        yield from h.chat(question, turns)

    demo.load(restore, [chat["saved"], search],
              [chat["conversation"], chat["sources"], chat["turns"], article, tabs, asked],
              js=LOAD_JS, api_visibility="private", queue=False).then(
        ask, [asked, chat["turns"]],
        [chat["conversation"], chat["sources"], chat["status"], chat["turns"], chat["question"]],
        api_visibility="private", show_progress="hidden", concurrency_limit=CONCURRENCY,
        concurrency_id="answer").then(
        dump_turns, chat["turns"], chat["saved"], api_visibility="private", queue=False).then(
        None, js=READY_JS)


def _chat_tab(gr, h: Handlers, settings) -> dict:
    turns = gr.State([])
    saved = gr.BrowserState([], storage_key=STORAGE_KEY, secret=STORAGE_KEY)
    with gr.Row(equal_height=False):
        with gr.Column(scale=7):
            gr.HTML('<h2 class="sr-only">问答</h2>')
            conv = gr.HTML(conversation_html([]), elem_id="conversation", js_on_load=SCROLL_JS)
            status = gr.HTML("", elem_id="chat-status")
            with gr.Row(equal_height=True, elem_id="ask-row"):
                question = gr.Textbox(label="问题", show_label=False, lines=1, max_lines=6, scale=7, min_width=200,
                                      autofocus=True,
                                      elem_id="question", submit_btn=False,
                                      placeholder=f"输入问题，回车发送（{MAX_QUESTION_CHARS} 字以内），可接着上一问追问")
                send = gr.Button("提问", variant="primary", scale=1, min_width=64, elem_id="ask-button")
                clear = gr.Button("清空对话", variant="secondary", scale=1, min_width=64, elem_id="clear-button")
            examples = gr.HTML(example_chips("试试：", EXAMPLES), elem_id="chat-examples",
                               js_on_load=EXAMPLE_JS)
            with gr.Accordion("筛选：出版日期范围与检索方式", open=False):
                with gr.Row():
                    date_from = gr.Textbox(label="起始日期", placeholder="YYYY-MM-DD，可留空", elem_id="date-from", max_lines=1)
                    date_to = gr.Textbox(label="截止日期", placeholder="YYYY-MM-DD，可留空", elem_id="date-to", max_lines=1)
                mode = gr.Radio([(MODE_LABELS[m], m) for m in RETRIEVAL_MODES],
                                value=settings.retrieval_mode, label="检索方式")
        with gr.Column(scale=5, min_width=300):
            gr.HTML('<h2 class="panel-title">引用来源</h2>')
            sources = gr.HTML(sources_html([]), elem_id="sources", js_on_load=SOURCES_JS)

    inputs = [question, turns, date_from, date_to, mode]
    outputs = [conv, sources, status, turns, question]
    common = dict(outputs=outputs, show_progress="hidden", concurrency_limit=CONCURRENCY,
                  concurrency_id="answer")
    save = dict(fn=dump_turns, inputs=turns, outputs=saved, api_visibility="private", queue=False)
    # One event for the button and Enter. A question sent while another is being answered
    # waits for it ("always_last"), rather than being dropped as Gradio's default would.
    gr.on([send.click, question.submit], h.chat, inputs, api_name="chat", trigger_mode="always_last",
          **common).then(**save)
    examples.click(_ask_example(h), inputs[1:], api_visibility="private", **common).then(**save)
    clear.click(h.clear, None, outputs, api_visibility="private", queue=False).then(**save)
    return {"conversation": conv, "sources": sources, "status": status, "question": question,
            "turns": turns, "saved": saved}


def _ask_example(h: Handlers):
    import gradio as gr

    def ask(evt: gr.EventData, turns, date_from, date_to, mode):
        yield from h.chat(getattr(evt, "text", ""), turns, date_from, date_to, mode)
    return ask


def example_chips(label: str, texts) -> str:
    """Clickable example texts (clicks reach the server through EXAMPLE_JS)."""
    chips = "".join(f'<button type="button" class="example-chip" data-text="{esc(t)}">{esc(t)}</button>'
                    for t in texts)
    return f'<div class="examples"><span class="examples-label">{esc(label)}</span>{chips}</div>'


def _verify_tab(gr, h: Handlers) -> None:
    with gr.Row(equal_height=False):
        with gr.Column(scale=4):
            gr.HTML('<h2 class="panel-title">核查一句说法</h2>')
            # One line that grows: Enter checks, Shift+Enter breaks the line, as in the chat box.
            claim = gr.Textbox(label="要核查的说法", lines=1, max_lines=10, elem_id="claim",
                               placeholder="粘贴稿件中的一句话，回车核查（Shift+回车换行），例如：截至2025年底，"
                                           "全市基本医疗保险参保人数达到353万人。")
            check = gr.Button("核查", variant="primary", elem_id="verify-button")
            examples = gr.HTML(example_chips("示例：", CLAIM_EXAMPLES), elem_id="claim-examples",
                               js_on_load=EXAMPLE_JS)
            gr.HTML('<div class="upload-note">结果分三种：<b>有依据</b>（报道原文支持）、'
                    '<b>与报道不符</b>（报道给出的数字、年份或名称不同）、'
                    '<b>档案中未找到</b>（没有谈及这一事实的报道）。</div>')
        with gr.Column(scale=6):
            out = gr.HTML('<div class="verify-empty">输入一句说法，助手会在档案中找出谈及这一事实的报道句子，'
                          '比对其中的数字、年份和名称。</div>', elem_id="verdict", js_on_load=RESULT_JS)
    # A Chinese line while the claim is checked, instead of Gradio's "processing | 0.3s".
    def waiting(claim_text: str) -> str:
        return message_html("正在档案中核查…", "info") if (claim_text or "").strip() else gr.skip()

    busy = dict(fn=waiting, inputs=claim, outputs=out, api_visibility="private", queue=False)
    run = dict(fn=h.verify, inputs=claim, outputs=out, concurrency_limit=CONCURRENCY, concurrency_id="answer",
               show_progress="hidden")
    check.click(**busy).then(api_name="verify", **run)
    claim.submit(**busy).then(api_visibility="private", **run)

    def pick(evt: gr.EventData) -> str:
        return getattr(evt, "text", "")

    examples.click(pick, None, claim, api_visibility="private",
                   queue=False).then(**busy).then(api_visibility="private", **run)
    return out


def _draft_tab(gr, h: Handlers):
    from .check import EMPTY, DraftDesk

    desk = DraftDesk(h.engine)
    with gr.Row(equal_height=False):
        with gr.Column(scale=5):
            gr.HTML('<h2 class="panel-title">核查整篇稿件</h2>')
            text = gr.Textbox(label="稿件", lines=12, max_lines=30, elem_id="draft",
                              placeholder="粘贴整篇稿件（不超过 10,000 字），点“核查稿件”逐条核对其中的数字、日期、名次、人名、地名和单位")
            upload = gr.File(label="或上传稿件（.txt、.md、.docx）", elem_id="draft-file")
            run = gr.Button("核查稿件", variant="primary", elem_id="check-button")
            status = gr.HTML("", elem_id="draft-status")
            # Hidden until there is a report: an empty File says "Empty value" in English.
            reports = gr.File(label="下载核查报告（Markdown、Word）", file_count="multiple", interactive=False,
                              elem_id="draft-reports", visible=False)
        with gr.Column(scale=7):
            result = gr.HTML(EMPTY, elem_id="draft-result", js_on_load=RESULT_JS)

    def check(draft: str, request: gr.Request):
        host = request.headers.get("host") if request else None
        base = f"{request.headers.get('x-forwarded-proto', 'http')}://{host}/" if host else ""
        for status, result, files in desk.check(draft, base):
            yield status, result, gr.File(value=files, visible=bool(files))

    upload.change(desk.load_file, upload, [text, status], api_visibility="private", queue=False)
    run.click(check, text, [status, result, reports], api_visibility="private", show_progress="hidden",
              concurrency_limit=CONCURRENCY, concurrency_id="answer")
    return result


def _archive_tab(gr, h: Handlers, settings, header):
    with gr.Row(equal_height=False):
        with gr.Column(scale=4):
            gr.HTML('<h2 class="panel-title">上传报纸</h2>')
            limit = f"单个文件不超过 {settings.upload_max_mb} MB"
            if settings.allow_upload:
                gr.HTML(f'<div class="upload-note">支持 {"、".join(ISSUE_SUFFIXES)}（整期报纸）和 {"、".join(JSONL_SUFFIXES)}（档案导出，每行一篇），'
                        f'{"、".join(PAGE_SUFFIXES)}（数字报版面 PDF 或扫描图片，无文字层的页面自动识别），'
                        f'{esc(limit)}。增量导入：已收录的文件不会重复收录。</div>')
                # No file_types: Gradio's own check would refuse in English; check_files says why in Chinese.
                files = gr.File(label="报纸文件", file_count="multiple", elem_id="upload-files")
                date = gr.Textbox(label="出版日期（可选，仅用于未印日期的文件）", placeholder="YYYY-MM-DD",
                                  elem_id="upload-date", max_lines=1)
                run = gr.Button("导入到档案", variant="primary", elem_id="ingest-button")
                report = gr.HTML("", elem_id="ingest-report")
            else:
                gr.HTML(message_html(f"本服务未开放上传（{limit}）。管理员可设置环境变量 "
                                     "RAG_ALLOW_UPLOAD=true 后重启开启。", "info"))
        with gr.Column(scale=6):
            with gr.Row():
                gr.HTML('<h2 class="panel-title">已收录的报纸（按日期，新的在前）</h2>')
                refresh = gr.Button("刷新", size="sm", variant="secondary", scale=0, min_width=70)
            issues = gr.HTML(h.issues(), elem_id="issues")
    refresh.click(h.issues, None, issues, api_name="issues", queue=False)
    if settings.allow_upload:
        def upload(files, date_text):
            return h.upload(files, date_text)

        # Gradio's own progress line is English ("processing | 0.7/0.1s"): a Chinese one instead.
        run.click(lambda: message_html("正在导入，请稍候…", "info"), None, report, api_visibility="private",
                  queue=False).then(upload, [files, date], [report, issues, header], api_name="ingest",
                                    concurrency_limit=1, concurrency_id="ingest", show_progress="hidden")
        files.change(h.check_files, files, report, api_visibility="private", queue=False)
    return issues


def serve(*args, **kwargs) -> None:
    """`rag serve`'s entry point: the API and this app on one server (ui/server.py)."""
    from .server import serve as run

    run(*args, **kwargs)
