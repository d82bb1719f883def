"""The optional LLM answerer against a small OpenAI-protocol server on 127.0.0.1."""

import json
import re
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from rag.answer.llm import OpenAIChatGenerator, answer_with_llm, check_answer, stream_with_llm
from rag.records import Answer

pytestmark = pytest.mark.unit

# How often serve_forever looks for shutdown(): its default, 0.5 s, is the wait of every close().
POLL_S = 0.02


class _Server:
    """Answers /v1/chat/completions with a scripted reply, streamed as SSE."""

    def __init__(self, reply: str, status: int = 200, delay: float = 0.0):
        self.reply, self.status, self.delay = reply, status, delay
        self.requests: list[dict] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *a):
                pass

            def do_POST(self):
                import time

                length = int(self.headers["Content-Length"])
                outer.requests.append(json.loads(self.rfile.read(length)))
                time.sleep(outer.delay)
                if outer.status != 200:
                    self.send_response(outer.status)
                    self.end_headers()
                    self.wfile.write(b'{"error": "boom"}')
                    return
                self.send_response(200)
                self.send_header("Content-Type", "text/event-stream")
                self.end_headers()
                for i in range(0, len(outer.reply), 5):
                    chunk = {"choices": [{"delta": {"content": outer.reply[i:i + 5]}}]}
                    self.wfile.write(f"data: {json.dumps(chunk, ensure_ascii=False)}\n\n".encode())
                self.wfile.write(b"data: [DONE]\n\n")

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_port}/v1"
        threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": POLL_S},
                         daemon=True).start()

    def close(self):
        self.httpd.shutdown()


@pytest.fixture
def server(request):
    s = _Server(*request.param) if hasattr(request, "param") else None
    yield s
    if s:
        s.close()


def _ask(fake_assistant, url, question="2025年株洲医保参保人数", timeout=5.0):
    hits = fake_assistant.retriever.search(question)
    fallback = fake_assistant.ask(question)
    gen = OpenAIChatGenerator(url, "test-model", api_key="k", timeout=timeout)
    settings = fake_assistant.settings.with_(llm_context_tokens=1500)
    return answer_with_llm(gen, question, hits, fallback, settings), fallback


@pytest.mark.parametrize("server", [("截至2025年底，株洲参保人数达到353万人[1][9]。",)], indirect=True)
def test_llm_answer_is_streamed_and_its_citations_checked(fake_assistant, server):
    answer, _ = _ask(fake_assistant, server.url)
    assert answer.verified and not answer.refused
    assert answer.text == "截至2025年底，株洲参保人数达到353万人[1]。"  # [9] pointed nowhere
    assert "353万人" in answer.citations[0].quote
    body = server.requests[0]
    assert body["stream"] is True and body["model"] == "test-model"
    assert "[1]" in body["messages"][1]["content"]


@pytest.mark.parametrize("server", [("株洲参保人数达到365万人[1]。",)], indirect=True)
def test_llm_number_not_in_the_passage_is_flagged(fake_assistant, server):
    # A question in the sentence's own words, which the extractive reader answers with a
    # citation even over the fake embedder's retrieval (the shorter question's passages
    # fall under the span reader's refusal threshold there).
    answer, fallback = _ask(fake_assistant, server.url, "全市基本医疗保险参保人数达到多少万人？")
    assert not fallback.refused, fallback.text
    assert not answer.verified
    assert "365" in answer.notice
    # The extractive answer follows, its citations numbered after the LLM's.
    shift = len(answer.citations) - len(fallback.citations)
    shifted = re.sub(r"\[(\d+)\]", lambda m: f"[{int(m.group(1)) + shift}]", fallback.text)
    assert "\n\n【抽取式答案】" + shifted in answer.text and "[" in fallback.text


@pytest.mark.parametrize("server", [("", 500)], indirect=True)
def test_llm_errors_fall_back_to_the_extractive_answer(fake_assistant, server):
    answer, fallback = _ask(fake_assistant, server.url)
    assert answer.text == fallback.text
    assert "大模型暂不可用" in answer.notice


@pytest.mark.parametrize("server", [("迟到的回答[1]。", 200, 3.0)], indirect=True)
def test_llm_timeout_falls_back(fake_assistant, server):
    answer, fallback = _ask(fake_assistant, server.url, timeout=0.5)
    assert answer.text == fallback.text and answer.notice


@pytest.mark.parametrize("server", [("档案中没有找到答案。",)], indirect=True)
def test_llm_refusal_is_a_refusal(fake_assistant, server):
    answer, _ = _ask(fake_assistant, server.url, question="2025年株洲全市GDP总量是多少亿元？")
    assert answer.refused and answer.citations == ()


def test_stream_yields_pieces_then_the_checked_answer(fake_assistant):
    from rag.answer.llm import CannedGenerator

    q = "2025年株洲医保参保人数"
    hits = fake_assistant.retriever.search(q)
    fallback = fake_assistant.ask(q)
    pieces = list(stream_with_llm(CannedGenerator("参保人数达到353万人[1]。"), q, hits, fallback,
                                  fake_assistant.settings))
    assert all(isinstance(p, str) for p in pieces[:-1]) and isinstance(pieces[-1], Answer)
    assert "".join(pieces[:-1]) == "参保人数达到353万人[1]。"


def test_check_answer_without_citations_is_unverified(fake_assistant):
    fallback = fake_assistant.ask("2025年株洲医保参保人数")
    checked = check_answer("参保人数是353万。", [], fallback)
    assert not checked.verified


class _RawServer:
    """Streams the given SSE ``data:`` payloads as they are (then, if ``forever``, never stops)."""

    def __init__(self, payloads: list[str], forever: bool = False,
                 content_type: str = "text/event-stream"):
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *a):
                pass

            def do_POST(self):
                import time

                self.rfile.read(int(self.headers["Content-Length"]))
                self.send_response(200)
                self.send_header("Content-Type", content_type)
                self.end_headers()
                try:
                    for p in payloads:
                        self.wfile.write(p.encode() if content_type == "application/json"
                                         else f"data: {p}\n\n".encode())
                    while forever:  # a little text every 20 ms, never [DONE]
                        chunk = {"choices": [{"delta": {"content": "株洲"}}]}
                        self.wfile.write(f"data: {json.dumps(chunk)}\n\n".encode())
                        self.wfile.flush()
                        time.sleep(0.02)
                except OSError:
                    pass  # the client gave up

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_port}/v1"
        threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": POLL_S},
                         daemon=True).start()

    def close(self):
        self.httpd.shutdown()


def _ask_with_timeout(fake_assistant, url, timeout_s):
    q = "2025年株洲医保参保人数"
    hits = fake_assistant.retriever.search(q)
    fallback = fake_assistant.ask(q)
    gen = OpenAIChatGenerator(url, "m", timeout=timeout_s)
    settings = fake_assistant.settings.with_(llm_timeout_s=timeout_s)
    return answer_with_llm(gen, q, hits, fallback, settings), fallback


def test_a_never_ending_stream_times_out_within_the_setting(fake_assistant):
    import time

    server = _RawServer([], forever=True)
    try:
        t0 = time.monotonic()
        answer, fallback = _ask_with_timeout(fake_assistant, server.url, 1.0)
        took = time.monotonic() - t0
    finally:
        server.close()
    assert answer.text == fallback.text and answer.verified is None
    assert "大模型暂不可用" in answer.notice and "RAG_LLM_TIMEOUT_S" in answer.notice
    assert took < 10  # bounded; without the deadline this never returns


@pytest.mark.parametrize("payloads", [
    ['[1, 2, 3]'],                                             # a list, not an object
    ['{"choices": [{"delta": {"content": 353}}]}'],            # an integer content
    ['{"choices": [null]}'],                                   # a null choice
    ['{"choices": "353万人"}'],                                # choices not a list
    ['{"choices": [{"delta": "353万人"}]}'],                   # delta not an object
    ['not json at all'],
], ids=["list", "int-content", "null-choice", "str-choices", "str-delta", "not-json"])
def test_malformed_replies_fall_back_with_a_notice(fake_assistant, payloads):
    server = _RawServer(payloads + ["[DONE]"])
    try:
        answer, fallback = _ask_with_timeout(fake_assistant, server.url, 5.0)
    finally:
        server.close()
    assert answer.text == fallback.text and answer.citations == fallback.citations
    assert answer.notice and "大模型暂不可用" in answer.notice


def test_a_non_streamed_completion_is_read_whole(fake_assistant):
    reply = {"choices": [{"message": {"content": "截至2025年底，株洲参保人数达到353万人[1]。"}}]}
    server = _RawServer([json.dumps(reply, ensure_ascii=False)], content_type="application/json")
    try:
        answer, _ = _ask_with_timeout(fake_assistant, server.url, 5.0)
    finally:
        server.close()
    assert answer.verified is True and "353万人[1]" in answer.text


def test_answer_json_says_whether_it_was_verified(fake_index, monkeypatch, capsys):
    from rag.cli import main

    monkeypatch.setenv("RAG_EMBED_MODEL", "fake:hash-256")
    q = "2025年株洲医保参保人数"
    assert main(["ask", q, "--index", str(fake_index.index_dir), "--json"]) == 0
    extractive = json.loads(capsys.readouterr().out)
    assert extractive["verified"] is None and extractive["notice"] is None

    wrong = {"choices": [{"delta": {"content": "株洲参保人数达到365万人[1]。"}}]}
    server = _RawServer([json.dumps(wrong, ensure_ascii=False), "[DONE]"])
    monkeypatch.setenv("RAG_LLM_BASE_URL", server.url)
    monkeypatch.setenv("RAG_LLM_MODEL", "m")
    try:
        assert main(["ask", q, "--index", str(fake_index.index_dir), "--json"]) == 0
        checked = json.loads(capsys.readouterr().out)
        assert main(["ask", q, "--index", str(fake_index.index_dir)]) == 0
        plain = capsys.readouterr().out
    finally:
        server.close()
    assert checked["verified"] is False and "365" in checked["notice"]
    assert "注意：" in plain and "365" in plain.split("注意：")[1].splitlines()[0]
