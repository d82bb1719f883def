"""The answerer is chosen once, when the assistant opens; asking and streaming share it."""

import pytest

from rag.answer import ExtractiveAnswerer, LLMAnswerer
from rag.answer.llm import CannedGenerator
from rag.errors import SettingsError
from rag.pipeline import Assistant
from rag.records import Answer

pytestmark = pytest.mark.unit

Q = "2025年株洲医保参保人数"


def _final(pieces):
    *text, answer = list(pieces)
    assert all(isinstance(p, str) for p in text) and isinstance(answer, Answer)
    return "".join(text), answer


def test_without_a_generator_both_paths_answer_extractively(fake_assistant):
    assert isinstance(fake_assistant.answerer, ExtractiveAnswerer)
    asked = fake_assistant.ask(Q)
    text, streamed = _final(fake_assistant.stream(Q))
    assert text == asked.text == streamed.text
    assert streamed.citations == asked.citations and streamed.timings_ms["total"] > 0


def test_with_a_generator_both_paths_use_it(fake_assistant):
    llm = Assistant(fake_assistant.index, fake_assistant.embedder, fake_assistant.settings,
                    generator=CannedGenerator("参保人数达到353万人[1]。"), reader=fake_assistant.reader)
    assert isinstance(llm.answerer, LLMAnswerer)
    asked = llm.ask(Q)
    text, streamed = _final(llm.stream(Q))
    assert asked.text == streamed.text == text == "参保人数达到353万人[1]。"
    assert asked.timings_ms and streamed.timings_ms


def test_a_failing_generator_falls_back_the_same_way_on_both_paths(fake_assistant):
    llm = Assistant(fake_assistant.index, fake_assistant.embedder, fake_assistant.settings,
                    generator=CannedGenerator("", fail=True), reader=fake_assistant.reader)
    asked = llm.ask(Q)
    _, streamed = _final(llm.stream(Q))
    extractive = fake_assistant.ask(Q)
    assert asked.text == streamed.text == extractive.text
    assert asked.notice and asked.notice == streamed.notice


def test_asking_for_an_llm_that_is_not_configured_is_a_clear_error(fake_index):
    with pytest.raises(SettingsError, match="RAG_LLM_BASE_URL"):
        Assistant.open(fake_index, use_llm=True)
    assert isinstance(Assistant.open(fake_index, use_llm=False).answerer, ExtractiveAnswerer)
    configured = fake_index.with_(llm_base_url="http://127.0.0.1:9/v1", llm_model="m")
    assert isinstance(Assistant.open(configured).answerer, LLMAnswerer)
    assert isinstance(Assistant.open(configured, use_llm=False).answerer, ExtractiveAnswerer)
