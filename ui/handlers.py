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

from rag.errors import RagError
from rag.ingest import file_hash

from .render import (FileRow, Turn, conversation_html, header_html, ingest_report_html, issue_rows,
                     issues_html, make_sources, message_html, sources_html, verdict_html)

log = logging.getLogger(__name__)

MAX_QUESTION_CHARS = 500
MODES = ("hybrid", "keyword", "dense")
UPLOAD_SUFFIXES = (".txt", ".md", ".jsonl", ".jsonl.gz")
_ISO = re.compile(r"\d{4}-\d{2}-\d{2}")


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
    if mode not in MODES:
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

    def __init__(self, assistant, settings):
        self._assistant = assistant
        self.settings = settings
        self._lock = threading.Lock()
        self.ingest_lock = threading.Lock()  # one upload at a time

    @property
    def assistant(self):
        with self._lock:
            return self._assistant

    def reload(self) -> None:
        """Load the index from disk again; questions in flight keep the old one."""
        from rag.index import Index
        from rag.pipeline import Assistant

        old = self.assistant
        index = Index.load(self.settings.index_dir, model_id=old.embedder.model_id)
        new = Assistant(index, old.embedder, old.settings, old.generator)
        new.warm_up()
        with self._lock:
            self._assistant = new


ChatOutput = tuple[str, str, str, list, str]


class Handlers:
    """The callbacks the Gradio app wires to its components."""

    def __init__(self, engine: Engine, settings):
        self.engine = engine
        self.settings = settings

    # -- chat -----------------------------------------------------------------

    def chat(self, question: str, turns: Sequence[Turn] | None, date_from: str | None = None,
             date_to: str | None = None, mode: str | None = None) -> Iterator[ChatOutput]:
        """Stream (conversation, sources, status, turns, question box) while answering."""
        turns = list(turns or [])
        try:
            q = check_text(question)
            start, end = check_range(date_from, date_to)
            mode = check_mode(mode)
        except UserInputError as exc:
            yield conversation_html(turns), sources_html(turns), message_html(str(exc)), turns, question or ""
            return
        assistant = self.engine.assistant
        history = [(t.question, t.text) for t in turns]
        note = _range_note(start, end)
        yield conversation_html(turns, pending=q), sources_html(turns), "", turns, ""
        t0 = time.perf_counter()
        partial, answer, last = "", None, t0
        try:
            for piece in assistant.stream(q, history, date_from=start, date_to=end, mode=mode):
                if isinstance(piece, str):
                    partial += piece
                    now = time.perf_counter()
                    if now - last >= 0.05:  # keep the socket quiet under many users
                        last = now
                        yield conversation_html(turns, pending=q, partial=partial), sources_html(turns), "", turns, ""
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
        turn = Turn(q, answer.text, answer.refused, make_sources(answer.citations, assistant.index.articles),
                    notice, answer.resolved_question, (time.perf_counter() - t0) * 1000)
        turns = turns + [turn]
        status = message_html(note, "info") if note else ""
        yield conversation_html(turns), sources_html(turns), status, turns, ""

    def clear(self) -> ChatOutput:
        return conversation_html([]), sources_html([]), "", [], ""

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

    # -- archive ----------------------------------------------------------------

    def header(self) -> str:
        articles = self.engine.assistant.index.articles.values()
        return header_html(len(articles), len(issue_rows(articles)))

    def issues(self) -> str:
        index = self.engine.assistant.index
        return issues_html(index.articles.values(), len(index.chunks))

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
            if not name.lower().endswith(UPLOAD_SUFFIXES):
                rows.append(FileRow(name, "rejected", error=f"不支持的文件类型，只接受 {' '.join(UPLOAD_SUFFIXES)}"))
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
        from rag.ingest import ingest

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
                        on_wait=lambda _: progress(0.02, desc="另一个导入正在写入索引，等待…"))
        progress(0.9, desc="重新加载索引…")
        self.engine.reload()
        progress(1.0, desc="完成")
        return report
