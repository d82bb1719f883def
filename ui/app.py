"""The Gradio app behind `rag serve`: chat with citations, claim checks, the archive.

Gradio is imported inside ``build_app``/``serve`` so that importing this
module stays cheap. Nothing on the page is fetched from outside the machine:
analytics are off and the theme uses system fonts only.
"""

import os

# Must be set before gradio is first imported anywhere in the process.
os.environ["GRADIO_ANALYTICS_ENABLED"] = "False"

import sys  # noqa: E402
import threading  # noqa: E402
import time  # noqa: E402
import warnings  # noqa: E402
from pathlib import Path  # noqa: E402

from .handlers import MAX_QUESTION_CHARS, Engine, Handlers  # noqa: E402
from .render import conversation_html, esc, message_html, sources_html  # noqa: E402

CSS_FILE = Path(__file__).parent / "static" / "app.css"

#: Events answered at once; the queue holds the rest, so a crowd waits rather than fails.
CONCURRENCY = 8
WARM_MESSAGE = "model ready"  # printed once the first question needs no loading

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

# Runs once per HTML component: [n] links scroll to their card, copy buttons copy.
# Delegated listeners, so they keep working as the component's content is replaced.
CLICK_JS = """
if (!element.dataset.zzBound) {
  element.dataset.zzBound = "1";
  element.addEventListener("click", (ev) => {
    const link = ev.target.closest("a.cite-link");
    if (link) {
      ev.preventDefault();
      const card = document.getElementById(link.dataset.target);
      if (!card) return;
      const group = card.closest("details");
      if (group) group.open = true;
      card.scrollIntoView({behavior: "smooth", block: "nearest"});
      card.classList.remove("flash"); void card.offsetWidth; card.classList.add("flash");
      return;
    }
    const btn = ev.target.closest("button.copy-ref");
    if (!btn) return;
    const text = btn.dataset.copy || "";
    const done = () => {
      btn.textContent = "已复制"; btn.classList.add("copied");
      setTimeout(() => { btn.textContent = "复制引用"; btn.classList.remove("copied"); }, 1500);
    };
    const fallback = () => {
      const ta = document.createElement("textarea");
      ta.value = text; ta.style.position = "fixed"; ta.style.opacity = "0";
      document.body.appendChild(ta); ta.select();
      try { document.execCommand("copy"); } catch (e) {}
      ta.remove(); done();
    };
    if (navigator.clipboard && window.isSecureContext) navigator.clipboard.writeText(text).then(done, fallback);
    else fallback();
  });
}
"""

# Example chips: send the clicked text to the server as a click event.
EXAMPLE_JS = """
element.addEventListener("click", (ev) => {
  const chip = ev.target.closest("button.example-chip");
  if (chip) trigger("click", {text: chip.dataset.text});
});
"""

# The conversation keeps its newest turn in view while an answer streams in.
SCROLL_JS = CLICK_JS + """
const box = element.closest("#conversation") || element;
new MutationObserver(() => { box.scrollTop = box.scrollHeight; })
  .observe(element, {childList: true, subtree: true, characterData: true});
"""

# New answers put their cards on top of the sources panel: show them.
SOURCES_JS = CLICK_JS + """
const panel = element.closest("#sources") || element;
new MutationObserver(() => { panel.scrollTop = 0; }).observe(element, {childList: true});
"""


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
    return {"theme": make_theme(), "css": CSS_FILE.read_text(encoding="utf-8"),
            "max_file_size": f"{settings.upload_max_mb}mb", "footer_links": ["api", "settings"]}


def build_app(assistant, settings=None):
    """The Blocks app around an open Assistant (not launched)."""
    import gradio as gr

    settings = settings or assistant.settings
    h = Handlers(Engine(assistant, settings), settings)
    with warnings.catch_warnings():
        # Gradio 6 moved theme/css to launch(); passing them here too keeps a bare
        # `build_app(...).launch()` styled and free of web fonts.
        warnings.simplefilter("ignore")
        demo = gr.Blocks(analytics_enabled=False, title="株洲日报档案问答", theme=make_theme(),
                         css=CSS_FILE.read_text(encoding="utf-8"))
    with demo:
        header = gr.HTML(h.header(), elem_id="banner")
        with gr.Tabs():
            with gr.Tab("问答", id="chat"):
                _chat_tab(gr, h, settings)
            with gr.Tab("核查说法", id="verify"):
                _verify_tab(gr, h)
            with gr.Tab("档案", id="archive"):
                issues = _archive_tab(gr, h, settings, header)
        demo.load(lambda: (h.header(), h.issues()), None, [header, issues],
                  api_visibility="private", queue=False)
    return demo


def _chat_tab(gr, h: Handlers, settings) -> dict:
    turns = gr.State([])
    with gr.Row(equal_height=False):
        with gr.Column(scale=7):
            conv = gr.HTML(conversation_html([]), elem_id="conversation", js_on_load=SCROLL_JS)
            status = gr.HTML("", elem_id="chat-status")
            with gr.Row(equal_height=True):
                question = gr.Textbox(show_label=False, lines=1, max_lines=6, scale=7, min_width=240, autofocus=True,
                                      elem_id="question", submit_btn=False,
                                      placeholder=f"输入问题，回车发送（{MAX_QUESTION_CHARS} 字以内），可接着上一问追问")
                send = gr.Button("提问", variant="primary", scale=1, min_width=80, elem_id="ask-button")
                clear = gr.Button("清空对话", variant="secondary", scale=1, min_width=80, elem_id="clear-button")
            examples = gr.HTML(example_chips("试试：", EXAMPLES), elem_id="chat-examples",
                               js_on_load=EXAMPLE_JS)
            with gr.Accordion("筛选：出版日期范围与检索方式", open=False):
                with gr.Row():
                    date_from = gr.Textbox(label="起始日期", placeholder="YYYY-MM-DD，可留空", elem_id="date-from")
                    date_to = gr.Textbox(label="截止日期", placeholder="YYYY-MM-DD，可留空", elem_id="date-to")
                mode = gr.Radio([("混合检索", "hybrid"), ("关键词", "keyword"), ("语义", "dense")],
                                value=settings.retrieval_mode, label="检索方式")
        with gr.Column(scale=5):
            gr.HTML('<div class="panel-title">引用来源</div>')
            sources = gr.HTML(sources_html([]), elem_id="sources", js_on_load=SOURCES_JS)

    inputs = [question, turns, date_from, date_to, mode]
    outputs = [conv, sources, status, turns, question]
    common = dict(outputs=outputs, show_progress="hidden", concurrency_limit=CONCURRENCY,
                  concurrency_id="answer")
    send.click(h.chat, inputs, api_name="chat", **common)
    question.submit(h.chat, inputs, api_visibility="private", **common)
    examples.click(_ask_example(h), inputs[1:], api_visibility="private", **common)
    clear.click(h.clear, None, outputs, api_visibility="private", queue=False)
    return {"conversation": conv, "sources": sources, "status": status, "question": question}


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
            claim = gr.Textbox(label="要核查的说法", lines=4, max_lines=10, elem_id="claim",
                               placeholder="粘贴稿件中的一句话，例如：截至2025年底，全市基本医疗保险参保人数达到353万人。")
            check = gr.Button("核查", variant="primary", elem_id="verify-button")
            examples = gr.HTML(example_chips("示例：", CLAIM_EXAMPLES), elem_id="claim-examples",
                               js_on_load=EXAMPLE_JS)
            gr.HTML('<div class="upload-note">结果分三种：<b>有依据</b>（报道原文支持）、'
                    '<b>与报道不符</b>（报道给出的数字、年份或名称不同）、'
                    '<b>档案中未找到</b>（没有谈及这一事实的报道）。</div>')
        with gr.Column(scale=6):
            out = gr.HTML('<div class="verify-empty">输入一句说法，助手会在档案中找出谈及这一事实的报道句子，'
                          '比对其中的数字、年份和名称。</div>', elem_id="verdict", js_on_load=CLICK_JS)
    check.click(h.verify, claim, out, api_name="verify", concurrency_limit=CONCURRENCY,
                concurrency_id="answer")
    def pick(evt: gr.EventData) -> str:
        return getattr(evt, "text", "")

    examples.click(pick, None, claim, api_visibility="private",
                   queue=False).then(h.verify, claim, out, api_visibility="private",
                                     concurrency_limit=CONCURRENCY, concurrency_id="answer")


def _archive_tab(gr, h: Handlers, settings, header):
    with gr.Row(equal_height=False):
        with gr.Column(scale=4):
            gr.HTML('<div class="panel-title">上传报纸</div>')
            limit = f"单个文件不超过 {settings.upload_max_mb} MB"
            if settings.allow_upload:
                gr.HTML(f'<div class="upload-note">支持 .txt、.md（整期报纸）和 .jsonl、.jsonl.gz（档案导出，每行一篇），'
                        f'{esc(limit)}。增量导入：已收录的文件不会重复收录。</div>')
                files = gr.File(label="报纸文件", file_count="multiple", elem_id="upload-files",
                                file_types=[".txt", ".md", ".jsonl", ".gz"])
                date = gr.Textbox(label="出版日期（可选，仅用于未印日期的文件）", placeholder="YYYY-MM-DD")
                run = gr.Button("导入到档案", variant="primary", elem_id="ingest-button")
                report = gr.HTML("", elem_id="ingest-report")
            else:
                gr.HTML(message_html(f"本服务未开放上传（{limit}）。管理员可设置环境变量 "
                                     "RAG_ALLOW_UPLOAD=true 后重启开启。", "info"))
        with gr.Column(scale=6):
            with gr.Row():
                gr.HTML('<div class="panel-title">已收录的报纸（按日期，新的在前）</div>')
                refresh = gr.Button("刷新", size="sm", variant="secondary", scale=0, min_width=70)
            issues = gr.HTML(h.issues(), elem_id="issues")
    refresh.click(h.issues, None, issues, api_name="issues", queue=False)
    if settings.allow_upload:
        def upload(files, date_text, progress=gr.Progress()):
            return h.upload(files, date_text, progress)

        run.click(upload, [files, date], [report, issues, header], api_name="ingest",
                  concurrency_limit=1, concurrency_id="ingest")
    return issues


def auth_from_env() -> tuple[str, str] | None:
    """(user, password) from RAG_UI_USER / RAG_UI_PASSWORD (read by Settings), or None."""
    from rag.settings import Settings

    return Settings.load().ui_auth


def is_loopback(host: str) -> bool:
    """True when ``host`` is reachable from this machine only (127.0.0.0/8, ::1, localhost)."""
    import ipaddress

    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False  # a host name: assume others can reach it


def _warm_up(assistant, t0: float) -> None:
    try:
        assistant.warm_up()
    except Exception as exc:  # the first question will raise it again, with the UI's error message
        print(f"warm-up failed: {exc}", file=sys.stderr, flush=True)
        return
    print(f"{WARM_MESSAGE} in {time.perf_counter() - t0:.1f}s", flush=True)


def serve(settings=None, host: str = "127.0.0.1", port: int = 7860, auth=None) -> None:
    """Open the assistant, warm it up, and serve the UI until interrupted."""
    from rag.errors import RagError
    from rag.pipeline import Assistant
    from rag.settings import Settings

    settings = settings or Settings.load()
    auth = auth if auth is not None else settings.ui_auth
    print(f"loading index {settings.index_dir} and model {settings.embed_model} …", flush=True)
    t0 = time.perf_counter()
    assistant = Assistant.open(settings)
    if not is_loopback(host) and auth is None:
        print(f"warning: serving on {host}, beyond this machine, without a login: anyone who can "
              f"reach it can read and upload (set RAG_UI_USER and RAG_UI_PASSWORD)",
              file=sys.stderr, flush=True)
    demo = build_app(assistant, settings)
    demo.queue(default_concurrency_limit=CONCURRENCY, max_size=None)
    try:
        demo.launch(server_name=host, server_port=port, auth=auth, auth_message="株洲日报档案问答 · 请登录",
                    show_error=False, quiet=True, prevent_thread_lock=True, **launch_options(settings))
    except OSError as exc:
        raise RagError(f"cannot serve on {host}:{port}: {exc}") from None
    index = assistant.index
    print(f"serving in {time.perf_counter() - t0:.1f}s: {len(index.articles)} articles, "
          f"{len(index.chunks)} chunks; open http://{host}:{port}", flush=True)
    # The model and word segmenter load while the page opens; a question asked
    # before they are ready waits for them (the loads are locked, never doubled).
    threading.Thread(target=_warm_up, args=(assistant, t0), daemon=True).start()
    try:
        demo.block_thread()
    finally:
        demo.close()
