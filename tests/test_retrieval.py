"""Embedder selection, the jieba user dictionary, hybrid and date-aware ranking."""

import pytest

from rag.embedding.embed import HashEmbedder, embed_documents, make_embedder
from rag.errors import ModelLoadError, SettingsError
from rag.search.keyword import Tokenizer, corpus_user_words
from rag.settings import Settings

from .conftest import CORPUS


# Loads sentence-transformers, and so torch (about 6 s on 2 cores).
@pytest.mark.integration
def test_a_model_that_cannot_be_loaded_offline_gets_a_clear_error(tmp_path, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    # huggingface_hub reads HF_HUB_OFFLINE once, at import: if an earlier test imported it
    # (the e5 tests, gradio), set its constant too, or the load retries the network for ~70 s.
    import huggingface_hub.constants

    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_OFFLINE", True)
    settings = Settings.load(embed_model="no-such-org/no-such-model", model_cache=tmp_path)
    embedder = make_embedder(settings)
    with pytest.raises(ModelLoadError, match="no-such-org/no-such-model"):
        embedder.embed_query(["株洲"])


@pytest.mark.unit
def test_settings_name_the_bad_value():
    with pytest.raises(SettingsError, match="top_k must be > 0, got 0"):
        Settings.load(top_k=0)
    with pytest.raises(SettingsError, match="embed_backend"):
        Settings.load(embed_backend="gpu")


@pytest.mark.unit
def test_fake_embedder_is_deterministic_and_normalized():
    e = HashEmbedder(64)
    a = embed_documents(e, ["株洲医保参保人数", "早稻收购价"])
    b = embed_documents(e, ["株洲医保参保人数", "早稻收购价"])
    assert (a == b).all()
    assert abs(float((a[0] ** 2).sum()) - 1.0) < 1e-5


@pytest.mark.unit
def test_user_dictionary_keeps_corpus_place_names_whole():
    texts = [p.read_text(encoding="utf-8") for p in CORPUS.glob("*.txt")]
    base = Tokenizer()
    words = corpus_user_words(texts, base.is_word)
    assert {"渌口区", "淦田镇", "醴陵经开区", "官塘村"} <= words
    assert not {w for w in words if w.startswith(("全", "在", "个"))}
    tok = Tokenizer(words)
    assert {"渌口区", "淦田镇", "官塘村"} <= set(tok.tokens("渌口区淦田镇官塘村由村民自筹自办"))
    # jieba's own global dictionary is left alone.
    import jieba

    assert "淦田镇" not in jieba.lcut("渌口区淦田镇官塘村")


@pytest.mark.unit
def test_concurrent_first_questions_load_the_model_and_dictionary_once(tmp_path, monkeypatch):
    # `rag serve` warms up in the background while the first questions may arrive.
    import threading
    import time

    from rag.embedding import e5onnx
    from rag.embedding.embed import DefaultE5Embedder

    loads = []

    def slow_load(cache_dir, threads=2, progress=True):
        loads.append(cache_dir)
        time.sleep(0.2)
        return object()

    monkeypatch.setattr(e5onnx, "load_e5_onnx_int8", slow_load)
    embedder = DefaultE5Embedder(tmp_path)
    tok = Tokenizer(["淦田镇"])
    seen, words = [], []
    threads = [threading.Thread(target=lambda: (seen.append(embedder.onnx),
                                                words.append(tok.tokens("淦田镇官塘村"))))
               for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(loads) == 1 and len({id(x) for x in seen}) == 1
    assert len(words) == 4 and all("淦田镇" in w for w in words)


@pytest.mark.unit
def test_date_awareness_prefers_the_asked_year_without_dropping_passages(fake_assistant):
    r = fake_assistant.retriever
    q = "2023年上半年株洲普通门诊异地直接结算人次"
    aware = r.search(q, k=1000, date_aware=True)
    plain = r.search(q, k=1000, date_aware=False)
    # Re-ranked, never filtered: the same passages come back.
    assert {h.chunk.id for h in aware} == {h.chunk.id for h in plain}
    assert aware[0].article.date.startswith("2023")
    # Passages about 2025 (published 2026) drop below those about 2023.
    first_2026 = next(i for i, h in enumerate(aware) if h.article.date.startswith("2026"))
    first_2026_plain = next(i for i, h in enumerate(plain) if h.article.date.startswith("2026"))
    assert first_2026 >= first_2026_plain


@pytest.mark.unit
def test_retrieval_modes(fake_assistant):
    r = fake_assistant.retriever
    for mode in ("hybrid", "keyword", "dense"):
        hits = r.search("醴陵经开区2025年技工贸收入", mode=mode)
        assert len(hits) >= 5
        assert hits[0].article.headline == "醴陵经开区获全省通报表扬", mode
    with pytest.raises(ValueError, match="mode"):
        r.search("株洲", mode="magic")
