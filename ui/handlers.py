"""What the UI's buttons do: input checks, chat, verification and uploads.

Plain Python (no Gradio), so the behaviour can be tested without a server.
Library errors become Chinese messages here, never tracebacks on the page.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
import shutil
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

from rag.api import MAX_QUESTION_CHARS
from rag.errors import RagError
from rag.ingest import SUFFIXES, file_hash
from rag.settings import RETRIEVAL_MODES

from .article import open_article
from .render import (FileRow, Turn, closest_articles, conversation_html, header_html, ingest_report_html,
                     issue_rows, issues_html, make_sources, message_html, sources_html, verdict_html)

log = logging.getLogger(__name__)

_ISO = re.compile(r"\d{4}-\d{2}-\d{2}")
_HAN = re.compile(r"[\u4e00-\u9fff]")
#: How long a question waits for the model to load before it is answered anyway.
MODEL_WAIT_S = 600
#: Gradio's "leave this output as it is". The question box is emptied once, when a question
#: is taken; later updates leave it alone, so the next question typed meanwhile survives.
KEEP = {"__type__": "update"}
NOT_CHINESE_HINT = "提示：档案是中文报纸，用中文提问更准确，例如“2025年株洲医保参保人数”。下面是按原文检索的结果。"

# Reasons the library gives in English (rag/ingest/textio.py, rag/ingest/parse*.py), as the page says them.
_ZH_REASONS = (
    (re.compile(r"^binary file, not text$"), "是二进制文件，不是文本"),
    (re.compile(r"^empty file$"), "文件是空的"),
    (re.compile(r"^cannot decode as UTF-8 or GB18030$"), "无法按 UTF-8 或 GB18030 编码读取"),
    (re.compile(r"^cannot decode as UTF-16$"), "无法按 UTF-16 编码读取"),
    (re.compile(r"^binary data in line$"), "这一行含有二进制数据"),
    (re.compile(r"^binary data \(control characters\) in line$"), "这一行含有控制字符，已跳过"),
    (re.compile(r"^impossible date_raw (.+) \(no such day\)$"), r"日期 \1 不存在"),
    (re.compile(r"^parsing took longer than (\d+) s, the file was skipped$"), r"解析超过 \1 秒，已跳过此文件"),
    (re.compile(r"^corrupt or unreadable data: (.*)$"), r"数据损坏或无法读取（\1）"),
    (re.compile(r"^no articles found$"), "没有找到任何文章"),
    (re.compile(r"^unknown file type (\S+): expected one of (.*)$"), r"不支持的文件类型 \1，只接受 \2"),
    (re.compile(r"^not a JSON object but (\w+)$"), r"不是 JSON 对象（而是 \1）"),
    (re.compile(r'^missing or empty "text"$'), "缺少 text 字段，或它是空的"),
    (re.compile(r"^bad date (.+) \(expected YYYY-MM-DD\)$"), r"日期 \1 无效，应写成 YYYY-MM-DD"),
    (re.compile(r"^invalid JSON: (.*) at column (\d+)$"), r"不是有效的 JSON（第 \2 列：\1）"),
    (re.compile(r"^duplicate id (.+) \(first on line (\d+)\)$"), r"编号 \1 重复（第 \2 行已出现）"),
    (re.compile(r"^… and (\d+) more broken lines$"), r"……另有 \1 行出错"),
    (re.compile(r"^No such file or directory$"), "文件不存在"),
    (re.compile(r"^Permission denied$"), "没有读取权限"),
    # Drafts to check (rag/check/draft.py).
    (re.compile(r"^the draft is empty$"), "稿件是空的"),
    (re.compile(r"^the draft has ([\d,]+) characters; at most ([\d,]+) are checked at once$"),
     r"稿件有 \1 字，一次最多核查 \2 字，请分段核查"),
    (re.compile(r"^not a readable \.docx file \((.*)\)$"), "不是可以读取的 .docx 文件"),
    # PDFs and page images (rag/ingest/pdfpages.py, parse_pages.py).
    (re.compile(r"^encrypted PDF \(password protected\): cannot be read$"), "PDF 已加密（有密码），无法读取"),
    (re.compile(r"^damaged or truncated PDF \((.*)\)$"), r"PDF 已损坏或不完整（\1）"),
    (re.compile(r"^the PDF has no pages$"), "PDF 没有页面"),
    (re.compile(r"^no articles found on any page$"), "所有页面都没有找到文章"),
    (re.compile(r"^pages (\d+)–(\d+) not read: more than (\d+) pages is not a newspaper issue$"),
     r"第 \1–\2 页未读取：超过 \3 页，不像一期报纸"),
    (re.compile(r"^page (\d+): no text layer .*$"), r"第 \1 页：没有文字层（扫描件需要文字识别）"),
    (re.compile(r"^page (\d+): the text layer is mojibake \(use --ocr auto\)$"), r"第 \1 页：文字层是乱码"),
    (re.compile(r"^page (\d+): (?:the text layer is mojibake and )?OCR found no newspaper text \((\d+) .*$"),
     r"第 \1 页：识别不出报纸文字（只认出 \2 个汉字，可能是照片或空白页）"),
    (re.compile(r"^page (\d+): image too small to read \((\S+) px, .* (\d+) px\)$"),
     r"第 \1 页：图片太小，无法识别（\2 像素，短边至少要 \3 像素）"),
    (re.compile(r"^page (\d+): not a readable image \((.*)\)$"), r"第 \1 页：无法读取图片（\2）"),
    (re.compile(r"^page (\d+): an image can only be read by OCR .*$"), r"第 \1 页：图片只能靠文字识别读取（已关闭识别）"),
    (re.compile(r"^page (\d+): cannot be read \((.*)\)$"), r"第 \1 页：无法读取（\2）"),
)


def zh_file_error(error: str, name: str) -> str:
    """An ingest error about file ``name`` in Chinese: "第3行：不是有效的 JSON（…）"."""
    out = []
    for part in error.split("; "):
        m = re.match(rf"^{re.escape(name)}(?::(\d+))?: (.*)$", part)
        line, reason = (m.group(1), m.group(2)) if m else (None, part)
        for pattern, zh in _ZH_REASONS:
            if pattern.match(reason):
                reason = pattern.sub(zh, reason)
                break
        out.append(f"第 {line} 行：{reason}" if line else reason)
    return "；".join(out)


def unsupported_type(name: str) -> str:
    """Why a file of this type is refused (Gradio's own English check is not used)."""
    return f"不支持的文件类型“{Path(name).suffix or name}”，只接受 {'、'.join(SUFFIXES)}"


class UserInputError(ValueError):
    """Input the UI refuses, with the message to show."""


def check_text(text: str | None, what: str = "问题") -> str:
    """The stripped question/claim, or UserInputError when empty or too long."""
    text = (text or "").strip()
    if not text:
        raise UserInputError(f"请输入{what}。")
    if len(text) > MAX_QUESTION_CHARS:
        raise UserInputError(f"{what}太长（{len(text)} 字），请精简到 {MAX_QUESTION_CHARS} 字以内，一次只问一件事。")
    return text


def check_date(value: str | None, label: str) -> str | None:
    """An ISO date or None; UserInputError naming the field otherwise."""
    value = (value or "").strip()
    if not value:
        return None
    if _ISO.fullmatch(value):
        try:
            return dt.date.fromisoformat(value).isoformat()
        except ValueError:
            raise UserInputError(f"{label}“{value}”不是有效日期。") from None
    raise UserInputError(f"{label}“{value}”格式不对，请写成 YYYY-MM-DD，例如 2023-07-20。")


def check_range(date_from: str | None, date_to: str | None) -> tuple[str | None, str | None]:
    start, end = check_date(date_from, "起始日期"), check_date(date_to, "截止日期")
    if start and end and start > end:
        raise UserInputError(f"起始日期 {start} 晚于截止日期 {end}。")
    return start, end


def check_mode(mode: str | None) -> str | None:
    if mode in (None, ""):
        return None
    if mode not in RETRIEVAL_MODES:
        raise UserInputError(f"未知的检索方式：{mode}。")
    return mode


def _range_note(start: str | None, end: str | None) -> str:
    if start and end:
        return f"只检索了 {start} 至 {end} 的报道。"
    if start:
        return f"只检索了 {start} 及以后的报道。"
    if end:
        return f"只检索了 {end} 及以前的报道。"
    return ""


class Engine:
    """Holds the current Assistant; an upload swaps in a reloaded one."""

    def __init__(self, assistant, settings, warm: bool = True):
        self._assistant = assistant
        self.settings = settings
        self._lock = threading.Lock()
        self.ingest_lock = threading.Lock()  # one upload at a time
        self._reload_lock = threading.Lock()
        self.ready = threading.Event()  # set once the model is loaded
        if warm:
            self.ready.set()

    def warm_up(self) -> None:
        """Load the model now; questions asked meanwhile say they are waiting for it."""
        try:
            self.assistant.warm_up()
        finally:
            self.ready.set()  # a failed load fails the first question with its own message

    @property
    def assistant(self):
        with self._lock:
            return self._assistant

    def reload(self) -> None:
        """Load the index from disk again; questions in flight keep the old one."""
        from rag.search.index import Index
        from rag.search.watch import read_generation, release_memory
        from rag.pipeline import Assistant

        with self._reload_lock:  # an upload's reload and the watcher's never overlap
            old = self.assistant
            if read_generation(self.settings.index_dir) == old.index.manifest.get("generation"):
                return  # already serving what is on disk
            index = Index.load(self.settings.index_dir, model_id=old.embedder.model_id)
            new = Assistant(index, old.embedder, old.settings, old.generator)
            new.warm_up()
            with self._lock:
                self._assistant = new
            # The old index now lives only as long as the answers still using it.
            del old
        release_memory()

    def follow(self):
        """Switch to each new index generation an ingest writes (the CLI's too)."""
        from rag.search.watch import GenerationWatcher

        def changed(_generation: str) -> None:
            t0 = time.perf_counter()
            self.reload()
            index = self.assistant.index
            print(f"index changed: {len(index.articles)} articles, {len(index.chunks)} chunks "
                  f"(switched in {time.perf_counter() - t0:.2f}s)", flush=True)

        return GenerationWatcher(self.settings.index_dir, self.assistant.index.manifest.get("generation"),
                                 changed).start()


ChatOutput = tuple[str, str, str, list, str | dict]  # the box: text, or KEEP


class Handlers:
    """The callbacks the Gradio app wires to its components."""

    def __init__(self, engine: Engine, settings):
        self.engine = engine
        self.settings = settings

    # -- chat -----------------------------------------------------------------

    def chat(self, question: str, turns: Sequence[Turn] | None, date_from: str | None = None,
             date_to: str | None = None, mode: str | None = None) -> Iterator[ChatOutput]:
        """Stream (conversation, sources, status, turns, question box) while answering."""
        t0 = time.perf_counter()  # the time shown counts any wait for the model
        turns = list(turns or [])
        try:
            q = check_text(question)
            start, end = check_range(date_from, date_to)
            mode = check_mode(mode)
        except UserInputError as exc:
            yield conversation_html(turns), sources_html(turns), message_html(str(exc)), turns, question or ""
            return
        notes = [] if _HAN.search(q) else [NOT_CHINESE_HINT]
        if note := _range_note(start, end):
            notes.append(note)
        wait_ms = None
        if not self.engine.ready.is_set():
            yield conversation_html(turns, pending=q, loading=True), sources_html(turns), "", turns, ""
            self.engine.ready.wait(MODEL_WAIT_S)
            wait_ms = (time.perf_counter() - t0) * 1000
        else:
            yield conversation_html(turns, pending=q), sources_html(turns), "", turns, ""
        assistant = self.engine.assistant
        history = [(t.question, t.text) for t in turns]
        partial, answer, last = "", None, t0
        try:
            for piece in assistant.stream(q, history, date_from=start, date_to=end, mode=mode):
                if isinstance(piece, str):
                    partial += piece
                    now = time.perf_counter()
                    if now - last >= 0.05:  # keep the socket quiet under many users
                        last = now
                        yield conversation_html(turns, pending=q, partial=partial), sources_html(turns), "", turns, KEEP
                else:
                    answer = piece
        except RagError as exc:
            yield conversation_html(turns), sources_html(turns), message_html(f"出错了：{exc}", "error"), turns, q
            return
        except Exception as exc:  # the page must say something, whatever broke
            log.exception("answering %r failed", q)
            yield (conversation_html(turns), sources_html(turns),
                   message_html(f"出错了（{type(exc).__name__}）：{exc}", "error"), turns, q)
            return
        if answer is None:
            yield conversation_html(turns), sources_html(turns), message_html("没有得到回答，请重试。", "error"), turns, q
            return
        notice = answer.notice
        if not notice and answer.verified is False:
            notice = "大模型的回答未通过引用核对，请以引用原文为准。"
        closest = closest_articles(answer.hits) if answer.refused else ()
        turn = Turn(q, answer.text, answer.refused, make_sources(answer.citations, assistant.index.articles),
                    notice, answer.resolved_question, (time.perf_counter() - t0) * 1000, closest, wait_ms)
        turns = turns + [turn]
        status = message_html(" ".join(notes), "info") if notes else ""
        yield conversation_html(turns), sources_html(turns), status, turns, KEEP

    def clear(self) -> ChatOutput:
        """An empty conversation; a question being typed stays in its box."""
        return conversation_html([]), sources_html([]), "", [], KEEP

    # -- verification ---------------------------------------------------------

    def verify(self, claim: str) -> str:
        """The verdict on a claim, with its evidence as citation cards."""
        try:
            claim = check_text(claim, "要核查的说法")
        except UserInputError as exc:
            return message_html(str(exc))
        assistant = self.engine.assistant
        try:
            verdict = assistant.verify(claim)
        except RagError as exc:
            return message_html(f"出错了：{exc}", "error")
        except Exception as exc:
            log.exception("verifying %r failed", claim)
            return message_html(f"出错了（{type(exc).__name__}）：{exc}", "error")
        return verdict_html(verdict, make_sources(verdict.evidence, assistant.index.articles))

    # -- article view -----------------------------------------------------------

    def article(self, article_id: str | None, span: tuple[int, int] | None = None, view: str | None = None) -> str:
        """The whole article with ``span`` of its body marked, and the rest of its issue;
        ``view="page"`` opens its 版面 panel."""
        from rag.ingest.indexer import cache_dir

        from .pagepanel import page_panel

        def panel(article, marked):
            return page_panel(article, marked, cache_dir(self.settings), opened=view == "page")

        return open_article(self.engine.assistant.index.articles, (article_id or "").strip(), span, panel)

    # -- archive ----------------------------------------------------------------

    def header(self) -> str:
        articles = self.engine.assistant.index.articles.values()
        return header_html(len(articles), len(issue_rows(articles)))

    def issues(self) -> str:
        index = self.engine.assistant.index
        return issues_html(index.articles.values(), len(index.chunks))

    def check_files(self, files: Sequence[str] | None) -> str:
        """As files are chosen: the ones that will be refused, and why (else nothing)."""
        rows = [FileRow(Path(str(f)).name, "rejected", error=unsupported_type(Path(str(f)).name))
                for f in (files or []) if f and not Path(str(f)).name.lower().endswith(SUFFIXES)]
        return ingest_report_html(rows, "以下文件不会导入：") if rows else ""

    def upload_dir(self) -> Path:
        """Uploaded files are kept beside the index so re-ingesting finds them unchanged."""
        return Path(self.settings.index_dir).resolve().parent / "uploads"

    def upload(self, files: Sequence[str] | None, date_text: str | None = None,
               progress: Callable | None = None) -> tuple[str, str, str]:
        """Ingest uploaded files; (report, issue listing, banner)."""
        def out(report: str) -> tuple[str, str, str]:
            return report, self.issues(), self.header()

        if not self.settings.allow_upload:
            return out(message_html("本服务未开放上传。", "warn"))
        paths = [str(f) for f in (files or []) if f]
        if not paths:
            return out(message_html("请先选择要上传的文件。"))
        try:
            date = check_date(date_text, "出版日期")
        except UserInputError as exc:
            return out(message_html(str(exc)))
        progress = progress or (lambda *a, **k: None)
        try:
            rows, accepted = self._accept(paths)
        except OSError as exc:  # disk full or a read-only upload folder
            return out(message_html(f"无法保存上传的文件：{exc.filename or ''} {exc.strerror or exc}", "error"))
        if not accepted:
            return out(ingest_report_html(rows, "没有可导入的文件。"))
        if not self.engine.ingest_lock.acquire(timeout=600):
            return out(message_html("另一个导入正在进行，请稍后再试。", "warn"))
        try:
            report = self._ingest(accepted, date, progress)
        except RagError as exc:
            return out(ingest_report_html(rows, None) + message_html(f"导入失败：{exc}", "error"))
        except Exception as exc:
            log.exception("ingest failed")
            return out(message_html(f"导入失败（{type(exc).__name__}）：{exc}", "error"))
        finally:
            self.engine.ingest_lock.release()
        names = {str(Path(p).resolve()): name for p, name in accepted}
        for f in report.files:
            name = names.get(str(Path(f.path).resolve()), Path(f.path).name)
            error = f.error
            if error:
                for stored, original in accepted:
                    error = error.replace(str(stored), original)
                error = zh_file_error(error, name)
            rows.append(FileRow(name, f.status, f.date, f.date_inferred, f.issue, len(f.articles), error))
        summary = (f"新增 {report.articles_added} 篇文章，{report.articles_unchanged} 篇已在索引中；"
                   f"索引现有 {report.chunks} 个段落。")
        return out(ingest_report_html(rows, summary))

    def _accept(self, paths: Sequence[str]) -> tuple[list[FileRow], list[tuple[str, str]]]:
        """Check type and size; copy accepted files to the upload folder (named by content)."""
        limit = self.settings.upload_max_mb * 1024 * 1024
        rows: list[FileRow] = []
        accepted: list[tuple[str, str]] = []
        folder = self.upload_dir()
        for p in paths:
            src = Path(p)
            name = src.name
            if not name.lower().endswith(SUFFIXES):
                rows.append(FileRow(name, "rejected", error=unsupported_type(name)))
                continue
            try:
                size = src.stat().st_size
            except OSError as exc:
                rows.append(FileRow(name, "rejected", error=f"无法读取文件：{exc.strerror or exc}"))
                continue
            if size > limit:
                rows.append(FileRow(name, "rejected",
                                    error=f"文件 {size / 1048576:.1f} MB，超过 {self.settings.upload_max_mb} MB 上限"))
                continue
            digest = file_hash(src)
            safe = re.sub(r"[^\w.\-]", "_", name)
            folder.mkdir(parents=True, exist_ok=True)
            dest = folder / f"{digest[:12]}-{safe}"
            if not dest.exists():
                tmp = dest.with_name(dest.name + ".part")
                shutil.copyfile(src, tmp)
                tmp.replace(dest)
            accepted.append((str(dest), name))
        return rows, accepted

    def _ingest(self, accepted: Sequence[tuple[str, str]], date: str | None, progress: Callable):
        from rag.ingest.indexer import ingest
        from rag.ingest.isolated import parse_isolated

        total = len(accepted)
        done = [0]

        def on_file(report) -> None:
            done[0] += 1
            if done[0] < total:
                progress(0.05 + 0.6 * done[0] / total, desc=f"已解析 {done[0]}/{total} 个文件")
            else:
                progress(0.7, desc="生成向量、更新索引…")

        progress(0.02, desc=f"解析 {total} 个文件…")
        # The same writer lock as `rag ingest`: an upload waits for a CLI ingest, never overwrites it.
        report = ingest([p for p, _ in accepted], self.settings, date=date,
                        embedder=self.engine.assistant.embedder, progress=False, on_file=on_file,
                        parse=parse_isolated,  # parsed in a child: other users' questions go on
                        on_wait=lambda _: progress(0.02, desc="另一个导入正在写入索引，等待…"))
        progress(0.9, desc="重新加载索引…")
        self.engine.reload()
        progress(1.0, desc="完成")
        return report
