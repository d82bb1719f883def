"""cl100k_base built offline from the bundled file gives tiktoken's own token ids."""

import pytest

from rag.embedding.tokens import count_tiktokens, count_tiktokens_batch, encoding

pytestmark = pytest.mark.unit


def test_known_ids_and_a_chinese_round_trip():
    enc = encoding()
    # tiktoken's README: cl100k_base encodes "hello world" as [15339, 1917].
    assert enc.encode("hello world") == [15339, 1917]
    text = "截至2025年底,全市基本医疗保险参保人数达到353万人。"
    assert enc.decode(enc.encode(text)) == text
    assert count_tiktokens(text) == len(enc.encode(text)) > 10


def test_special_token_text_is_counted_as_plain_text():
    assert count_tiktokens("<|endoftext|>") > 1
    assert count_tiktokens_batch(["hello world", "", "株洲"]) == [2, 0, count_tiktokens("株洲")]
