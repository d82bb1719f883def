"""`rag eval` end to end on the sample corpus with the fake embedder, checked by an
independent re-scoring of the answer objects it prints."""

import json
import unicodedata
from pathlib import Path

import pytest

from rag.cli import main as cli_main
from rag.errors import InputError
from rag.evaluation.evaluate import load_questions

pytestmark = pytest.mark.unit

ROOT = Path(__file__).resolve().parent.parent
INTERFACE_KEYS = {"n", "answer_accuracy", "citation_accuracy", "hit_at_1", "hit_at_5", "mrr",
                  "refusal_accuracy", "false_refusals", "latency_ms_p50", "latency_ms_p95"}
REPORT_FILES = ("report.md", "metrics.json", "run.trec", "accuracy.png", "latency.png")


def _norm(s):
    return "".join(unicodedata.normalize("NFKC", s).split()).lower()


def _rescore(questions, answers):
    """interface.md's rules, written out plainly, over the printed answer objects."""
    answerable = [q for q in questions if not q["unanswerable"]]
    unanswerable = [q for q in questions if q["unanswerable"]]
    correct = cited = at1 = at5 = 0
    rr = 0.0
    for q in answerable:
        a = answers[q["id"]]
        if not a["refused"] and any(_norm(g) in _norm(a["answer"]) for g in q["answers"]):
            correct += 1
        src = _norm(q["source_headline"])
        if any(src in _norm(c["headline"]) for c in a["citations"]):
            cited += 1
        ranks = [i for i, h in enumerate(a["hits"], 1) if src in _norm(h["headline"])]
        if ranks:
            at1 += ranks[0] <= 1
            at5 += ranks[0] <= 5
            rr += 1 / ranks[0]
    n = len(answerable)
    return {
        "answer_accuracy": correct / n, "citation_accuracy": cited / n,
        "hit_at_1": at1 / n, "hit_at_5": at5 / n, "mrr": rr / n,
        "refusal_accuracy": sum(answers[q["id"]]["refused"] for q in unanswerable) / len(unanswerable),
        "false_refusals": sum(answers[q["id"]]["refused"] for q in answerable),
    }


@pytest.fixture
def built_index(tmp_path, monkeypatch):
    from rag.ingest.indexer import ingest
    from rag.settings import Settings

    monkeypatch.chdir(ROOT)  # paths in the commands are relative to the repository
    monkeypatch.setenv("RAG_EMBED_MODEL", "fake:hash-256")
    settings = Settings.load(index_dir=tmp_path / "idx", embed_model="fake:hash-256")
    report = ingest(["corpus/"], settings, progress=False)
    assert report.ok, report
    return tmp_path / "idx"


def test_eval_json_metrics_match_an_independent_rescoring(built_index, tmp_path, capsys):
    rep = tmp_path / "rep"
    code = cli_main(["eval", "eval/dev_questions.jsonl", "--index", str(built_index),
                     "--json", "--report", str(rep)])
    out = capsys.readouterr().out.strip().splitlines()
    assert code == 0

    metrics = json.loads(out[-1])
    assert INTERFACE_KEYS <= metrics.keys()
    assert metrics["n"] == 15
    answers = {a["id"]: a for a in map(json.loads, out[:-1])}
    questions = [json.loads(line) for line in (ROOT / "eval/dev_questions.jsonl").open(encoding="utf-8")]
    assert list(answers) == [q["id"] for q in questions]
    for a in answers.values():  # the same answer object as `rag ask --json`
        assert set(a) == {"id", "question", "answer", "lead", "refused", "citations", "hits", "verified",
                          "notice", "timings_ms"}

    for key, value in _rescore(questions, answers).items():
        assert metrics[key] == pytest.approx(value), key

    for name in REPORT_FILES:
        assert (rep / name).is_file() and (rep / name).stat().st_size > 0, name
    assert (rep / "accuracy.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    trec = (rep / "run.trec").read_text(encoding="utf-8").splitlines()
    assert trec and all(len(line.split()) == 6 for line in trec)
    assert {line.split()[0] for line in trec} == set(answers)
    first = next(line.split() for line in trec if line.startswith("d01 "))
    assert first[1:4] == ["Q0", answers["d01"]["hits"][0]["chunk_id"], "1"]
    report_md = (rep / "report.md").read_text(encoding="utf-8")
    assert "fake:hash-256" in report_md and str(built_index) in report_md
    saved = json.loads((rep / "metrics.json").read_text(encoding="utf-8"))
    assert saved["configs"]["hybrid"]["mrr"] == pytest.approx(metrics["mrr"])


def test_eval_compare_reports_every_configuration(fake_index, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("RAG_EMBED_MODEL", "fake:hash-256")
    rep = tmp_path / "rep"
    code = cli_main(["eval", str(ROOT / "eval/dev_questions.jsonl"), "--index", str(fake_index.index_dir),
                     "--json", "--compare", "--report", str(rep)])
    out = capsys.readouterr().out.strip().splitlines()
    assert code == 0
    assert len(out) == 16  # answers of the main configuration only, then the metrics
    metrics = json.loads(out[-1])
    assert list(metrics["configs"]) == ["hybrid", "keyword", "dense", "hybrid-no-date"]
    main = {k: v for k, v in metrics.items() if k != "configs"}
    assert metrics["configs"]["hybrid"] == main
    runs = {line.split()[5] for line in (rep / "run.trec").read_text(encoding="utf-8").splitlines()}
    assert runs == set(metrics["configs"])
    assert "`hybrid-no-date`" in (rep / "report.md").read_text(encoding="utf-8")


def test_eval_no_report_writes_nothing(fake_index, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("RAG_EMBED_MODEL", "fake:hash-256")
    monkeypatch.chdir(tmp_path)
    code = cli_main(["eval", str(ROOT / "eval/dev_questions.jsonl"), "--index",
                     str(fake_index.index_dir), "--no-report"])
    assert code == 0
    assert "answer_accuracy" in capsys.readouterr().out  # the readable table
    assert not (tmp_path / "eval").exists()


def test_question_file_defaults_and_rgb_answers(tmp_path):
    path = tmp_path / "q.jsonl"
    path.write_text(
        '{"id": "a", "question": "问一"}\n\n'
        '{"id": "b", "question": "问二", "answers": [["2022年1月", "January 2022"], "北京"]}\n',
        encoding="utf-8")
    a, b = load_questions(path)
    assert (a.answers, a.unanswerable, a.source_headline) == ((), True, None)
    assert b.answers == (("2022年1月", "January 2022"), "北京") and not b.unanswerable


@pytest.mark.parametrize("line,reason", [
    ("{not json", "not JSON"),
    ('{"id": "x"}', 'missing "question"'),
    ('{"id": "x", "question": "问", "answers": "353万"}', '"answers" must be a list'),
    ('{"id": "x", "question": "问", "unanswerable": "no"}', '"unanswerable" must be'),
    ('{"id": "d01", "question": "问"}', "duplicate id"),
])
def test_a_broken_question_line_names_file_and_line(tmp_path, capsys, line, reason):
    path = tmp_path / "q.jsonl"
    path.write_text('{"id": "d01", "question": "好问题", "answers": ["1"]}\n' + line + "\n",
                    encoding="utf-8")
    with pytest.raises(InputError) as err:
        load_questions(path)
    assert err.value.line == 2 and reason in err.value.reason
    assert cli_main(["eval", str(path), "--no-report"]) == 2
    assert f"{path}:2" in capsys.readouterr().err
