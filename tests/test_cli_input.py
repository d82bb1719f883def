"""The command line checks its input as the web form does."""

import json
import os
import subprocess
import sys

import pytest

from rag.cli import main

from .conftest import FAKE_MODEL, ROOT

pytestmark = pytest.mark.unit


@pytest.fixture
def fake_env(monkeypatch, fake_index):
    monkeypatch.setenv("RAG_EMBED_MODEL", FAKE_MODEL)
    return fake_index


@pytest.mark.parametrize("flags, message", [
    (["--from", "abc"], "--from: invalid date 'abc'"),
    (["--from", "2024-13-01"], "--from: invalid date '2024-13-01'"),
    (["--to", "2024-02-30"], "--to: invalid date '2024-02-30'"),
    (["--from", "2024-03-01", "--to", "2024-01-01"], "--from 2024-03-01 is after --to 2024-01-01"),
])
def test_bad_or_reversed_dates_exit_2(fake_env, capsys, flags, message):
    code = main(["ask", "株洲医保参保人数", "--index", str(fake_env.index_dir), *flags])
    err = capsys.readouterr().err
    assert code == 2
    assert message in err and len(err.strip().splitlines()) == 1


def test_non_text_questions_are_line_errors_and_the_rest_answered(fake_env, tmp_path, capsys):
    lines = [{"id": "ok1", "question": "2025年株洲医保参保人数"}, {"id": "n", "question": 12},
             {"id": "z", "question": None}, {"id": "l", "question": ["a"]}, [1, 2], "text",
             {"id": "ok2", "question": "株洲在哪里"}]
    path = tmp_path / "q.jsonl"
    path.write_bytes(("\n".join(json.dumps(x, ensure_ascii=False) for x in lines) + "\n{broken\n"
                      ).encode() + b'{"id": "bad", "question": "\xff\xfe"}\n')
    code = main(["ask", "--file", str(path), "--index", str(fake_env.index_dir), "--json"])
    out, err = capsys.readouterr()
    rows = [json.loads(line) for line in out.splitlines()]
    assert code == 1
    assert [r.get("id") for r in rows] == ["ok1", "n", "z", "l", None, None, "ok2", None, None]
    answered = [r for r in rows if "answer" in r]
    assert [r["id"] for r in answered] == ["ok1", "ok2"]
    errors = [r["error"] for r in rows if "error" in r]
    assert len(errors) == 7 and all(str(path) in e for e in errors)
    assert f"{path}:2: \"question\" is not text but int" in errors[0]
    assert len(err.strip().splitlines()) == 7


def test_undecodable_argument_gets_a_clear_message(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "rag.cli", "ask", b"\xff\xfe\xe6\xa0".decode("utf-8", "surrogateescape"),
                           "--index", str(tmp_path / "none")], capture_output=True, cwd=ROOT,
                          env={**os.environ, "RAG_EMBED_MODEL": FAKE_MODEL, "LC_ALL": "C.UTF-8"}, timeout=120)
    err = proc.stderr.decode()
    assert proc.returncode == 2
    assert "argument 2 is not valid UTF-8" in err and "Traceback" not in err
    assert len(err.strip().splitlines()) == 1


def test_refusal_quotes_at_most_50_characters(fake_assistant):
    from rag.answer.compose import refusal_text

    question = "月球背面的天文台" * 125_000  # 1,000,000 characters
    hits = fake_assistant.retrieve("月球背面的天文台")[2]
    text = refusal_text(question, hits)
    assert text.startswith(f"报纸档案中没有找到能回答“{question[:50]}…”的内容。")
    assert len(text) < 300
    assert refusal_text("  短问题  ", []) == "报纸档案中没有找到能回答“短问题”的内容。"


def test_verify_file_gives_one_verdict_per_claim_line_with_its_id(fake_env, tmp_path, capsys):
    lines = [{"id": "c1", "claim": "2025年株洲医保参保人数为353万人"}, {"id": "c2", "claim": 7},
             {"id": "c3", "claim": "株洲日报创刊于火星"}]
    path = tmp_path / "claims.jsonl"
    path.write_text("\n".join(json.dumps(x, ensure_ascii=False) for x in lines) + "\n", encoding="utf-8")
    code = main(["verify", "--file", str(path), "--index", str(fake_env.index_dir), "--json"])
    out, err = capsys.readouterr()
    rows = [json.loads(line) for line in out.splitlines()]
    assert code == 1  # the bad line
    assert [r["id"] for r in rows] == ["c1", "c2", "c3"]
    for r in (rows[0], rows[2]):
        assert r["verdict"] in ("supported", "contradicted", "not_found") and r["claim"] == lines[rows.index(r)]["claim"]
        assert {"label", "explanation", "claimed", "found", "evidence"} <= set(r)
    assert f'{path}:2: "claim" is not text but int' in rows[1]["error"]
    assert len(err.strip().splitlines()) == 1


SHARED = ROOT.parent / "shared"


@pytest.mark.skipif(not (SHARED / "train" / "cmrc2018_dev.json").is_file(), reason="../shared/train is missing")
def test_near_misses_for_the_human_written_questions_need_a_share(capsys):
    code = main(["train", "--reader", "neural", "--near-miss-human", "--data", str(SHARED / "train"),
                 "--noise", str(SHARED / "bench" / "crud-news-11k.jsonl.gz")])
    err = capsys.readouterr().err
    assert code != 0 and "give --near-miss SHARE" in err and len(err.strip().splitlines()) == 1


@pytest.mark.skipif(not (SHARED / "train" / "cmrc2018_dev.json").is_file(), reason="../shared/train is missing")
def test_a_missing_file_to_start_training_from_is_a_one_line_error(capsys, tmp_path):
    missing = tmp_path / "nope.safetensors"
    code = main(["train", "--reader", "neural", "--init", str(missing), "--data", str(SHARED / "train"),
                 "--noise", str(SHARED / "bench" / "crud-news-11k.jsonl.gz")])
    err = capsys.readouterr().err
    assert code != 0 and f"{missing}: no such tensors file" in err and len(err.strip().splitlines()) == 1
