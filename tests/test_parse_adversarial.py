"""Every parser over hostile text: linear time, never a crash, never an invented body.

The time budget is proportional to the input's size and generous (a slow
shared machine passes it easily); a pattern that backtracks on a long run
misses it by orders of magnitude, since its cost grows with the square or
cube of the run.
"""

import json
import time

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from rag.ingest.dates import infer_issue_date
from rag.ingest.parse import parse_issue_text
from rag.ingest.parse_jsonl import parse_jsonl
from rag.ingest.parse_lines import strip_continuations
from rag.ingest.parse_markdown import parse_markdown
from rag.ingest.parse_raw import parse_raw

pytestmark = pytest.mark.unit

#: Seconds allowed per MB of input (the target is >= 2 MB/s, i.e. 0.5 s/MB) and
#: per line (a line of two characters costs what any line costs in Python), plus
#: a fixed second for start-up noise. A busy shared machine runs 5x slower; a
#: quadratic pattern misses the budget by orders of magnitude either way.
SECONDS_PER_MB = 10.0
SECONDS_PER_LINE = 0.0005

MB = 1_000_000


def _runs(chars: str, size: int) -> str:
    return (chars * (size // len(chars) + 1))[:size]


ADVERSARIAL = {
    "1 MB of spaces in one line": "标题\n\n正文" + " " * MB + "内容。\n",
    "1 MB of tabs": "正文" + "\t" * MB + "下转",
    "1 MB of U+3000": "下转" + "\u3000" * MB + "第",
    "1 MB of mixed whitespace around markers": _runs(" \t\u3000▶下转 ", MB),
    "runs of punctuation": _runs("，。、（）“”《》——…！？", MB),
    "runs of digits": "第" + "1" * MB + "版",
    "runs of #": _runs("#", MB),
    "headings of # runs": _runs("## #\n", MB // 10),
    "one 10 MB line": _runs("株洲日报讯（记者/王明）  全市经济运行▶平稳,下转", 10 * MB),
    "10,000 empty lines": "\n" * 10_000 + "正文。\n",
    # Shapes that once cost time quadratic in their count: 20,000 of each is plenty.
    "many dates": _runs("2023年7月20日,", MB // 5),
    "many short headlines": _runs("标题\n", MB // 10),
    "broken lines in blocks": _runs("一段没有句号的文字\n\n", MB // 5),
    "bylines and captions": _runs("记者/王明 摄\n株洲日报讯(记者/李) 正文\n", MB // 5),
}


def _timed(fn, text: str) -> float:
    t0 = time.perf_counter()
    fn(text)
    return time.perf_counter() - t0


@pytest.mark.parametrize("name", list(ADVERSARIAL))
def test_parsers_take_time_proportional_to_input(name):
    text = ADVERSARIAL[name]
    budget = 1.0 + SECONDS_PER_MB * len(text.encode()) / MB + SECONDS_PER_LINE * text.count("\n")
    # parse_issue_text is one of the two parsers plus the date functions.
    for fn in (parse_raw, parse_markdown, infer_issue_date, strip_continuations):
        took = _timed(fn, text)
        assert took < budget, f"{name}: {took:.1f} s, budget {budget:.1f} s"


def test_jsonl_fields_take_time_proportional_to_input(tmp_path):
    rows = [{"text": "正文" + " " * MB + "内容。", "page": "第" + " " * 100_000 + "x",
             "date_raw": "2023" + " " * 100_000 + "年", "headline": "#" * 100_000}]
    path = tmp_path / "a.jsonl"
    path.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows), encoding="utf-8")
    budget = 1.0 + SECONDS_PER_MB * path.stat().st_size / MB
    t0 = time.perf_counter()
    articles, errors = parse_jsonl(path)
    assert time.perf_counter() - t0 < budget
    assert len(articles) == 1 and not errors


def test_long_whitespace_still_strips_page_jumps():
    text, found = strip_continuations("正文结束。" + " " * 5000 + "▶▶下转 第 02 版")
    assert found == ("下转02版",)
    assert text == "正文结束。"


# -- properties ---------------------------------------------------------------

_ALPHABET = st.sampled_from(list("株洲日报讯记者/王明摄标题正文。，、；：！？“”（）《》——…#▶下转接续第版 \t\u3000\n0123456789年月日ABab"))
_TEXT = st.text(_ALPHABET, max_size=400) | st.text(max_size=200)


def _body_from_input(body: str, source: str) -> bool:
    # Parsing drops and joins lines, never writes words of its own: every
    # piece of the body between whitespace is in the input.
    squeezed = "".join(source.split())
    return all(piece in squeezed for line in body.split("\n") for piece in line.split())


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_TEXT)
def test_issue_parsers_never_raise_and_never_invent(text):
    parsed = parse_issue_text(text, "x.txt")
    for a in parsed.articles:
        assert a.body.strip() or a.captions, "an empty article"
        assert _body_from_input(a.body, text)


@settings(max_examples=100, deadline=None)
@given(_TEXT)
def test_raw_and_markdown_drafts_come_from_the_input(text):
    for draft in parse_raw(text) + parse_markdown(text):
        for p in draft.paragraphs:
            assert p.strip()
            assert _body_from_input(p, text)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.one_of(_TEXT, st.integers(), st.none(),
                          st.dictionaries(st.sampled_from(["text", "date", "date_raw", "page", "id", "headline"]),
                                          st.one_of(_TEXT, st.integers(), st.none()), max_size=5)),
                max_size=6))
def test_jsonl_never_raises_and_keeps_bodies(tmp_path, rows):
    path = tmp_path / "p.jsonl"
    path.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows) + "\n", encoding="utf-8")
    try:
        articles, errors = parse_jsonl(path)
    except Exception as exc:  # only a whole-file InputError (e.g. empty) is allowed
        from rag.errors import InputError

        assert isinstance(exc, InputError)
        return
    for a in articles:
        assert a.body.strip()
        assert _body_from_input(a.body, "\n".join(r["text"] for r in rows if isinstance(r, dict)
                                                 and isinstance(r.get("text"), str)))
    assert all(e.line is not None for e in errors)
