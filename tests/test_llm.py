"""The optional LLM answerer against a small OpenAI-protocol server on 127.0.0.1."""

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from rag.llm import OpenAIChatGenerator, answer_with_llm, check_answer, stream_with_llm
from rag.records import Answer

pytestmark = pytest.mark.unit


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
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

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
    fallback = fake_assistant.ask(question, use_llm=False)
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
    answer, fallback = _ask(fake_assistant, server.url)
    assert not answer.verified
    assert "365" in answer.notice
    assert "【抽取式答案】" in answer.text and "353万" in answer.text


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
    from rag.llm import CannedGenerator

    q = "2025年株洲医保参保人数"
    hits = fake_assistant.retriever.search(q)
    fallback = fake_assistant.ask(q, use_llm=False)
    pieces = list(stream_with_llm(CannedGenerator("参保人数达到353万人[1]。"), q, hits, fallback,
                                  fake_assistant.settings))
    assert all(isinstance(p, str) for p in pieces[:-1]) and isinstance(pieces[-1], Answer)
    assert "".join(pieces[:-1]) == "参保人数达到353万人[1]。"


def test_check_answer_without_citations_is_unverified(fake_assistant):
    fallback = fake_assistant.ask("2025年株洲医保参保人数", use_llm=False)
    checked = check_answer("参保人数是353万。", [], fallback)
    assert not checked.verified
