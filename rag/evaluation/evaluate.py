"""`rag eval`: ask a question set, score the answers, print metrics, write a report.

    questions.jsonl -> EvalQuestion -> Assistant.ask -> EvalRow -> EvalRun (metrics)
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from ..errors import InputError
from .metrics import METRIC_KEYS, answer_correct, citation_correct, hit_rank, summarize
from ..records import Answer

Gold = tuple[str | tuple[str, ...], ...]
_WARM_UP_QUESTIONS = 3


@dataclass(frozen=True)
class EvalQuestion:
    """One line of a question file (docs/interface.md, `rag eval`)."""

    id: Any  # echoed as given; the interface uses strings like "d01"
    question: str
    answers: Gold = ()  # strings (any-of), or RGB-style nested tuples (all-of)
    source_headline: str | None = None
    unanswerable: bool = False


@dataclass(frozen=True)
class EvalConfig:
    """A retrieval configuration to evaluate."""

    name: str
    mode: str | None
    date_aware: bool | None
    label: str


#: The main configuration comes first; --compare adds the rest.
CONFIGS = (
    EvalConfig("hybrid", "hybrid", True, "dense + BM25 fused, date-aware"),
    EvalConfig("keyword", "keyword", True, "BM25 only"),
    EvalConfig("dense", "dense", True, "embeddings only"),
    EvalConfig("hybrid-no-date", "hybrid", False, "hybrid without date awareness"),
)


@dataclass(frozen=True)
class EvalRow:
    """One question asked and scored."""

    id: Any
    question: str
    expected: Gold
    source_headline: str | None
    unanswerable: bool
    got: str
    refused: bool
    cited_headlines: tuple[str, ...]
    hit_headlines: tuple[str, ...]
    hit_rank: int | None
    answer_correct: bool
    lead_correct: bool
    citation_correct: bool | None
    latency_ms: float
    answer: Answer = field(repr=False, compare=False)

    @property
    def has_source(self) -> bool:
        return bool(self.source_headline)

    @property
    def failed(self) -> bool:
        """Wrong in a way a reader would notice: the answer, its citation, or a refusal."""
        if self.unanswerable:
            return not self.refused
        return not self.answer_correct or self.citation_correct is False


@dataclass(frozen=True)
class EvalRun:
    """A question set run under one configuration, with its metrics object."""

    name: str
    rows: tuple[EvalRow, ...]
    metrics: dict[str, Any]
    mode: str | None = None
    date_aware: bool | None = None


def _gold(value: Any, path: Path, line: int) -> Gold:
    if not isinstance(value, list):
        raise InputError(path, f'"answers" must be a list, got {type(value).__name__}', line=line)
    out: list[str | tuple[str, ...]] = []
    for item in value:
        if isinstance(item, str):
            out.append(item)
        elif isinstance(item, list) and all(isinstance(x, str) for x in item):
            out.append(tuple(item))
        else:
            raise InputError(path, f'"answers" items must be strings or lists of strings, got {item!r}',
                             line=line)
    return tuple(out)


def _question(line: str, path: Path, n: int) -> EvalQuestion:
    try:
        row = json.loads(line)
    except ValueError as exc:
        raise InputError(path, f"not JSON ({exc})", line=n) from None
    if not isinstance(row, dict):
        raise InputError(path, "not a question object", line=n)
    question = row.get("question")
    if not isinstance(question, str) or not question.strip():
        raise InputError(path, 'missing "question"', line=n)
    answers = _gold(row.get("answers", []), path, n)
    source = row.get("source_headline")
    if source is not None and not isinstance(source, str):
        raise InputError(path, f'"source_headline" must be a string or null, got {source!r}', line=n)
    unanswerable = row.get("unanswerable", not answers)
    if not isinstance(unanswerable, bool):
        raise InputError(path, f'"unanswerable" must be true or false, got {unanswerable!r}', line=n)
    qid = row.get("id")
    return EvalQuestion(qid if qid is not None else f"L{n}", question, answers,
                        source or None, unanswerable)


def load_questions(path: str | Path) -> list[EvalQuestion]:
    """Read a question file: one JSON object a line; blank lines are skipped.

    Missing ``answers`` means []; missing ``unanswerable`` means ``answers == []``.
    Raises InputError naming the file and line for a broken or duplicate line.
    """
    from ..ingest.textio import open_lines

    path = Path(path)
    questions: list[EvalQuestion] = []
    seen: dict[str, int] = {}
    for n, line in open_lines(path):
        if not line.strip():
            continue
        q = _question(line, path, n)
        key = str(q.id)
        if key in seen:
            raise InputError(path, f"duplicate id {key!r} (first on line {seen[key]})", line=n)
        seen[key] = n
        questions.append(q)
    if not questions:
        raise InputError(path, "no questions")
    return questions


def score(q: EvalQuestion, answer: Answer) -> EvalRow:
    """Score one answer against its question."""
    return EvalRow(
        id=q.id, question=q.question, expected=q.answers, source_headline=q.source_headline,
        unanswerable=q.unanswerable, got=answer.text, refused=answer.refused,
        cited_headlines=tuple(c.headline for c in answer.citations),
        hit_headlines=tuple(h.article.headline for h in answer.hits),
        hit_rank=hit_rank(answer.hits, q.source_headline),
        # A refusal may quote a headline holding the gold string; it is still no answer.
        answer_correct=not answer.refused and answer_correct(answer.text, q.answers),
        lead_correct=not answer.refused and bool(answer.lead) and answer_correct(answer.lead, q.answers),
        citation_correct=citation_correct(answer.citations, q.source_headline),
        latency_ms=float(answer.timings_ms.get("total", 0.0)),
        answer=answer,
    )


def run(assistant, questions: Sequence[EvalQuestion], mode: str | None = None,
        date_aware: bool | None = None, progress: bool = True, name: str = "hybrid") -> EvalRun:
    """Ask every question under one retrieval configuration and score the answers."""
    from tqdm import tqdm

    # The first queries load the model and settle torch's kernels; keep that out of the
    # latencies (untimed, and without an LLM so no paid calls are spent on it).
    assistant.warm_up([q.question for q in questions[:_WARM_UP_QUESTIONS]], mode=mode, date_aware=date_aware)
    rows = []
    for q in tqdm(questions, desc=f"eval {name}", unit="q", disable=not progress, file=sys.stderr):
        rows.append(score(q, assistant.ask(q.question, mode=mode, date_aware=date_aware)))
    return EvalRun(name, tuple(rows), summarize(rows), mode, date_aware)


def run_configs(assistant, questions: Sequence[EvalQuestion], configs: Sequence[EvalConfig] = CONFIGS[:1],
                progress: bool = True) -> list[EvalRun]:
    """One run per configuration, in order."""
    return [run(assistant, questions, mode=c.mode, date_aware=c.date_aware, progress=progress,
                name=c.name) for c in configs]


def metrics_object(runs: Sequence[EvalRun]) -> dict[str, Any]:
    """The last line of `rag eval --json`: the main run's metrics, plus every run's under "configs"."""
    out = dict(runs[0].metrics)
    if len(runs) > 1:
        out["configs"] = {r.name: r.metrics for r in runs}
    return out


def _fmt(key: str, value: Any) -> str:
    if value is None:
        return "n/a"
    if key.startswith("latency"):
        return f"{value:.1f}"
    if isinstance(value, float):
        return f"{value:.3f}" if key == "mrr" else f"{value:.1%}"
    return str(value)


def format_table(runs: Sequence[EvalRun]) -> str:
    """Plain-text per-question results of the main run and a metrics table of every run."""
    main = runs[0]
    lines = [f"{'id':<8} {'ans':<4} {'cite':<5} {'rank':<5} {'ms':>8}  question"]
    for r in main.rows:
        ans = ("ok" if r.refused else "NO") if r.unanswerable else ("ok" if r.answer_correct else "NO")
        cite = "-" if r.citation_correct is None else ("ok" if r.citation_correct else "NO")
        rank = "-" if not r.has_source else (str(r.hit_rank) if r.hit_rank else "miss")
        refused = " (refused)" if r.refused else ""
        lines.append(f"{str(r.id):<8} {ans:<4} {cite:<5} {rank:<5} {r.latency_ms:>8.1f}  "
                     f"{r.question}{refused}")
    lines.append("")
    width = max(16, *(len(r.name) + 2 for r in runs))
    lines.append(f"{'metric':<20}" + "".join(f"{r.name:>{width}}" for r in runs))
    for key in METRIC_KEYS:
        lines.append(f"{key:<20}" + "".join(f"{_fmt(key, r.metrics[key]):>{width}}" for r in runs))
    return "\n".join(lines)


def _print_json(obj: Any) -> None:
    sys.stdout.write(json.dumps(obj, ensure_ascii=False) + "\n")


def default_report_dir(now: datetime | None = None) -> Path:
    """eval/reports/<YYYYmmdd-HHMMSS>/ under the current directory."""
    return Path("eval") / "reports" / (now or datetime.now()).strftime("%Y%m%d-%H%M%S")


def main(args: argparse.Namespace) -> int:
    """`rag eval QUESTIONS.jsonl [--index DIR] [--json] [--report DIR | --no-report] [--compare]`."""
    from ..pipeline import Assistant
    from ..settings import Settings

    started = datetime.now()
    questions = load_questions(args.questions)
    assistant = Assistant.open(Settings.load(index_dir=getattr(args, "index", None)))
    configs = CONFIGS if getattr(args, "compare", False) else CONFIGS[:1]
    runs = run_configs(assistant, questions, configs, progress=sys.stderr.isatty())

    folder = None
    if not getattr(args, "no_report", False):
        from .report import write_report

        folder = Path(args.report) if getattr(args, "report", None) else default_report_dir(started)
        write_report(folder, runs, assistant=assistant, questions_path=args.questions,
                     configs=configs, started=started)

    if getattr(args, "json", False):
        for r in runs[0].rows:
            _print_json(r.answer.to_dict(r.id))
        _print_json(metrics_object(runs))  # the contract: metrics are the last line
        if folder is not None:
            print(f"report written to {folder}", file=sys.stderr)
    else:
        print(format_table(runs))
        if folder is not None:
            print(f"\nreport written to {folder}")
    sys.stdout.flush()
    return 0
