"""Checking a draft: claims split with their offsets, verified as `rag verify` does, reported."""

import json
import subprocess
import sys
import zipfile

import pytest

from rag.check.claims import MAX_CLAIM_CHARS, MAX_DRAFT_CHARS, split_claims
from rag.check.draft import check_draft, read_draft
from rag.errors import InputError

pytestmark = pytest.mark.unit

DRAFT = ("# 醴陵经开区去年成绩亮眼\n\n"
         "去年，醴陵经开区完成新签约项目29个，总投资53.65亿元。我们认为，园区的明天一定会更加美好。\r\n"
         "截至2025年底，全市基本医疗保险参保人数达到360万人。这真是令人振奋的消息！株洲未来可期吗？\n")


def test_claims_state_facts_and_carry_their_offsets():
    claims = split_claims(DRAFT)
    texts = [c.text for c in claims]
    assert texts == ["醴陵经开区去年成绩亮眼", "去年，醴陵经开区完成新签约项目29个，总投资53.65亿元。",
                     "截至2025年底，全市基本医疗保险参保人数达到360万人。"]
    for c in claims:
        assert DRAFT[c.start:c.end] == c.text
    assert "NUM" in claims[1].kinds and "LOC" in claims[0].kinds


def test_opinion_and_questions_are_not_claims_but_a_figure_in_an_opinion_is():
    assert split_claims("我们相信，株洲的明天一定会更好。株洲还能走多远？") == []
    assert [c.text for c in split_claims("我们认为，2025年的353万人参保是了不起的成绩。")] != []
    assert split_claims("这是一场不容错过的文化盛宴。") == []  # 一场 is "a", not a figure


def test_an_overlong_sentence_is_checked_clause_by_clause():
    sentence = "，".join(f"第{i}个园区新签约项目{i + 20}个，总投资{i}.5亿元" for i in range(1, 9)) + "。"
    assert len(sentence) > MAX_CLAIM_CHARS
    claims = split_claims(sentence)
    assert len(claims) > 1 and all(len(c.text) <= MAX_CLAIM_CHARS for c in claims)
    assert "".join(c.text for c in claims) == sentence  # nothing lost between the clauses


def test_draft_files_txt_md_docx_and_their_errors(tmp_path):
    from docx import Document

    (tmp_path / "a.txt").write_bytes(DRAFT.encode("gb18030"))
    assert read_draft(tmp_path / "a.txt") == DRAFT.replace("\r\n", "\n")  # decoded as issues are
    doc = Document()
    for para in ("醴陵经开区去年完成新签约项目29个。", "我们认为前景光明。"):
        doc.add_paragraph(para)
    doc.save(tmp_path / "b.docx")
    assert read_draft(tmp_path / "b.docx") == "醴陵经开区去年完成新签约项目29个。\n我们认为前景光明。"
    (tmp_path / "broken.docx").write_bytes(b"PK\x03\x04 not really")
    with pytest.raises(InputError, match=r"broken\.docx: not a readable \.docx"):
        read_draft(tmp_path / "broken.docx")
    with pytest.raises(InputError, match=r"c\.pdf: unknown draft type \.pdf"):
        read_draft(tmp_path / "c.pdf")
    (tmp_path / "long.md").write_text("株" * (MAX_DRAFT_CHARS + 1), encoding="utf-8")
    with pytest.raises(InputError, match="long.md: the draft has 10,001 characters"):
        read_draft(tmp_path / "long.md")
    (tmp_path / "empty.txt").write_text("  \n", encoding="utf-8")
    with pytest.raises(InputError, match="empty"):
        read_draft(tmp_path / "empty.txt")


def test_each_claim_gets_the_verdict_rag_verify_gives_it(fake_assistant):
    seen = []
    result = check_draft(fake_assistant, DRAFT, batch_size=2, progress=lambda done, total: seen.append((done, total)))
    assert seen == [(2, 3), (3, 3)]
    for checked in result.claims:
        alone = fake_assistant.verify(checked.claim.text)
        assert checked.verdict.to_dict() == alone.to_dict()
        d = checked.to_dict()
        assert DRAFT[d["start"]:d["end"]] == d["claim"]
        assert {"claim", "start", "end", "verdict", "claimed", "found", "evidence"} <= d.keys()
    assert sum(result.counts().values()) == len(result.claims) == 3


def test_reports_hold_the_marked_draft_the_evidence_and_the_references(fake_assistant, tmp_path):
    from docx import Document

    from rag.answer.verify import VERDICT_LABELS
    from rag.check.report import references, to_markdown, write_docx

    result = check_draft(fake_assistant, DRAFT)
    md = to_markdown(result, link=lambda c: f"http://desk/?article={c.article_id}")
    for n, checked in enumerate(result.claims, start=1):
        assert f"〔{n}·{VERDICT_LABELS[checked.verdict.verdict]}〕" in md
    refs = references(result)
    assert refs and all(r in md.replace("\\", "") for r in refs)
    assert "http://desk/?article=" in md and "我们认为" in md  # the whole draft, opinions too
    write_docx(result, tmp_path / "r.docx")
    text = "\n".join(p.text for p in Document(tmp_path / "r.docx").paragraphs)
    assert "共 3 条可核查的说法" in text and refs[0] in text and "参保人数达到360万人" in text
    assert zipfile.is_zipfile(tmp_path / "r.docx")


def test_rag_check_cli_json_and_stdin(fake_index, tmp_path):
    rag = [sys.executable, "-m", "rag.cli"]
    draft = tmp_path / "draft.md"
    draft.write_text(DRAFT, encoding="utf-8")
    out = subprocess.run(rag + ["check", str(draft), "--index", str(fake_index.index_dir), "--json",
                                "--report", str(tmp_path / "r.md")],
                         capture_output=True, text=True, env=_env(fake_index))
    assert out.returncode == 0, out.stderr
    rows = [json.loads(line) for line in out.stdout.splitlines()]
    decoded = DRAFT.replace("\r\n", "\n")  # offsets count in the text as decoded
    assert [decoded[r["start"]:r["end"]] for r in rows] == [r["claim"] for r in rows] and len(rows) == 3
    assert (tmp_path / "r.md").read_text(encoding="utf-8").startswith("# 稿件核查报告")
    piped = subprocess.run(rag + ["check", "-", "--index", str(fake_index.index_dir)], input=" \n",
                           capture_output=True, text=True, env=_env(fake_index))
    assert piped.returncode == 2 and piped.stderr.strip() == "rag: <stdin>: the draft is empty"


def _env(settings):
    import os

    return {**os.environ, "RAG_EMBED_MODEL": settings.embed_model}
