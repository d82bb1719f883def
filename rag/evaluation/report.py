"""The evaluation report folder: report.md, metrics.json, TREC run and qrels, plots.

    report.md          metrics per configuration side by side, then the failures
    metrics.json       every configuration's metrics object
    run.trec           retrieval runs, `qid Q0 docid rank score run_name` (docid = chunk id)
    qrels.trec         `qid 0 docid 1` for every chunk of each question's source article
    answers-<config>.jsonl  the answer objects, as `rag ask --json` prints them
    accuracy.png, latency.png
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from .metrics import normalize_text

#: (metric key, plot label, denominator key); None denominator: not a share.
ACCURACY_METRICS = (
    ("answer_accuracy", "answer acc.", "n_answerable"),
    ("lead_accuracy", "lead acc.", "n_answerable"),
    ("citation_accuracy", "citation acc.", "n_with_source"),
    ("hit_at_1", "hit@1", "n_with_source"),
    ("hit_at_5", "hit@5", "n_with_source"),
    ("mrr", "MRR", None),
    ("refusal_accuracy", "refusal acc.", "n_unanswerable"),
)
_TABLE_ROWS = ACCURACY_METRICS + (("false_refusals", "false refusals", None),
                                  ("latency_ms_p50", "latency p50 (ms)", None),
                                  ("latency_ms_p95", "latency p95 (ms)", None))
_MAX_GOT = 160  # characters of an answer shown in the failures list


def trec_qid(qid: Any) -> str:
    """A question id as one TREC token (no whitespace)."""
    return re.sub(r"\s+", "_", str(qid)) or "_"


def trec_run_lines(runs: Sequence) -> list[str]:
    """TREC run format (trec_eval): `qid Q0 docid rank score run_name`, one line per hit."""
    lines = []
    for run in runs:
        for row in run.rows:
            for rank, hit in enumerate(row.answer.hits, start=1):
                lines.append(f"{trec_qid(row.id)} Q0 {hit.chunk.id} {rank} {hit.score:.6f} {run.name}")
    return lines


def qrels_lines(index, rows: Sequence) -> list[str]:
    """TREC qrels: every chunk of an article whose headline contains the question's source_headline."""
    chunks_of: dict[str, list[str]] = {}
    for chunk in index.chunks:
        chunks_of.setdefault(chunk.article_id, []).append(chunk.id)
    # Normalise each headline once: an archive has far more articles than questions.
    headlines = {aid: normalize_text(a.headline) for aid, a in index.articles.items()}
    lines = []
    for row in rows:
        source = normalize_text(row.source_headline or "")
        if not source:
            continue
        for aid, headline in headlines.items():
            if source in headline:
                lines.extend(f"{trec_qid(row.id)} 0 {cid} 1" for cid in chunks_of.get(aid, ()))
    return lines


def _cell(metrics: dict[str, Any], key: str, den_key: str | None) -> str:
    value = metrics.get(key)
    if value is None:
        return "n/a"
    if key.startswith("latency"):
        return f"{value:.1f}"
    if key == "mrr":
        return f"{value:.3f}"
    if den_key is None:
        return str(value)
    den = metrics[den_key]
    return f"{value:.1%} ({round(value * den)}/{den})"


def _gold_text(expected) -> str:
    parts = [" / ".join(e) if isinstance(e, tuple) else e for e in expected]
    joiner = " + " if any(isinstance(e, tuple) for e in expected) else " | "
    return joiner.join(f"`{p}`" for p in parts) or "(none)"


def _mark(row) -> str:
    if row.unanswerable:
        return "R✓" if row.refused else "R✗"
    a = "A✓" if row.answer_correct else ("A–" if row.refused else "A✗")
    c = "" if row.citation_correct is None else (" C✓" if row.citation_correct else " C✗")
    h = "" if not row.has_source else (f" @{row.hit_rank}" if row.hit_rank else " @–")
    return a + c + h


def _failure(row) -> list[str]:
    got = row.got if len(row.got) <= _MAX_GOT else row.got[:_MAX_GOT] + "…"
    what = []
    if row.unanswerable:
        what.append("answered an unanswerable question")
    else:
        if row.refused:
            what.append("refused")
        elif not row.answer_correct:
            what.append("wrong answer")
        if row.citation_correct is False:
            what.append("no citation of the source")
    source = f" (source: 《{row.source_headline}》)" if row.source_headline else ""
    rank = "—" if not row.has_source else (str(row.hit_rank) if row.hit_rank else "not in hits")
    cited = "、".join(f"《{h}》" for h in dict.fromkeys(row.cited_headlines)) or "—"
    return [
        f"### {row.id}: {row.question}",
        "",
        f"- failure: {', '.join(what)}",
        f"- expected: {'refusal' if row.unanswerable else _gold_text(row.expected)}{source}",
        f"- got{' (refused)' if row.refused else ''}: {got}",
        f"- cited: {cited}",
        f"- source hit rank: {rank}",
        "",
    ]


def render_markdown(runs: Sequence, info: dict[str, Any]) -> str:
    """report.md: header facts, metrics side by side, per-question marks, failures of the main run."""
    main = runs[0]
    m = main.metrics
    out = [
        f"# Evaluation: {Path(info['questions']).name}",
        "",
        f"- date: {info['date']}",
        f"- questions: `{info['questions']}` — {m['n']} questions, {m['n_answerable']} answerable "
        f"({m['n_with_source']} with a source headline), {m['n_unanswerable']} unanswerable",
        f"- index: `{info['index']}` — model `{info['model']}`, "
        f"{info.get('n_articles', '?')} articles, {info.get('n_chunks', '?')} chunks",
        f"- answerer: {info['answerer']}",
        f"- main configuration: `{main.name}`",
        "",
        "## Metrics",
        "",
        "| metric | " + " | ".join(f"`{r.name}`" for r in runs) + " |",
        "|---|" + "---:|" * len(runs),
    ]
    for key, label, den in _TABLE_ROWS:
        out.append(f"| {label} | " + " | ".join(_cell(r.metrics, key, den) for r in runs) + " |")
    if info.get("configs"):
        out += ["", "Configurations: " + "; ".join(f"`{c.name}` = {c.label}" for c in info["configs"]) + "."]
    out += [
        "",
        "Answer accuracy counts answerable questions (a refusal is never correct); citation "
        "accuracy, hit@k and MRR count answerable questions with a source headline; refusal "
        "accuracy counts unanswerable ones. See `eval/README.md`.",
        "",
        "![accuracy](accuracy.png)",
        "",
        "![latency](latency.png)",
        "",
        "## Per question",
        "",
        "A = answer contains a gold string (A– refused), C = a citation names the source, "
        "@n = rank of the first hit from the source article, R = refusal of an unanswerable question.",
        "",
        "| id | " + " | ".join(f"`{r.name}`" for r in runs) + " | question |",
        "|---|" + "---|" * len(runs) + "---|",
    ]
    for i, row in enumerate(main.rows):
        marks = " | ".join(_mark(r.rows[i]) for r in runs)
        out.append(f"| {row.id} | {marks} | {row.question.replace('|', '｜')} |")
    failures = [row for row in main.rows if row.failed]
    out += ["", f"## Failures of `{main.name}` ({len(failures)} of {len(main.rows)})", ""]
    for row in failures:
        out += _failure(row)
    if not failures:
        out.append("None.")
    return "\n".join(out).rstrip() + "\n"


def _colors(n: int) -> list:
    import matplotlib.pyplot as plt

    return [plt.get_cmap("tab10")(i % 10) for i in range(n)]


def plot_accuracy(runs: Sequence, path: Path) -> None:
    """Grouped bar chart: the share metrics of every configuration side by side."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    n_groups, n_runs = len(ACCURACY_METRICS), len(runs)
    width = 0.8 / n_runs
    fig, ax = plt.subplots(figsize=(9.0 if n_runs <= 2 else 12.0, 5.0), dpi=120)
    for j, (run, color) in enumerate(zip(runs, _colors(n_runs))):
        for i, (key, _, _) in enumerate(ACCURACY_METRICS):
            x = i + (j - (n_runs - 1) / 2) * width
            value = run.metrics.get(key)
            ax.bar(x, value or 0.0, width * 0.92, color=color, label=run.name if i == 0 else None)
            ax.text(x, (value or 0.0) + 0.015, "n/a" if value is None else f"{value:.2f}",
                    ha="center", va="bottom", fontsize=8 if n_runs < 4 else 7)
    labels = []
    for key, label, den in ACCURACY_METRICS:
        n = runs[0].metrics.get(den) if den else runs[0].metrics.get("n_with_source")
        labels.append(f"{label}\n(n={n})")
    ax.set_xticks(range(n_groups), labels)
    ax.set_ylim(0, 1.12)
    ax.set_ylabel("share of questions (MRR: mean 1/rank)")
    ax.set_title(f"Accuracy by configuration ({runs[0].metrics['n']} questions)")
    ax.grid(axis="y", alpha=0.3)
    ax.set_axisbelow(True)
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.16), ncol=n_runs, frameon=False)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def plot_latency(runs: Sequence, path: Path) -> None:
    """Box plot of per-question latency (ms) per configuration, every question as a dot."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    data = [[row.latency_ms for row in run.rows] for run in runs]
    fig, ax = plt.subplots(figsize=(max(6.0, 1.8 * len(runs) + 2), 4.5), dpi=120)
    ax.boxplot(data, showfliers=False, widths=0.5, medianprops={"color": "black"})
    rng = np.random.default_rng(0)  # fixed jitter: the same run draws the same plot
    for i, (values, color) in enumerate(zip(data, _colors(len(runs))), start=1):
        xs = i + rng.uniform(-0.15, 0.15, len(values))
        ax.scatter(xs, values, s=16, color=color, alpha=0.75, zorder=3)
        p95 = runs[i - 1].metrics.get("latency_ms_p95")
        if p95 is not None:
            ax.hlines(p95, i - 0.3, i + 0.3, colors="gray", linestyles="dashed", zorder=2)
    flat = [v for values in data for v in values if v > 0]
    if flat and max(flat) / min(flat) > 50:  # one slow outlier would flatten the rest
        from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

        ax.set_yscale("log")
        ax.yaxis.set_major_locator(LogLocator(subs=(1.0, 2.0, 5.0)))
        ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
        ax.yaxis.set_minor_formatter(NullFormatter())
    ax.set_xticks(range(1, len(runs) + 1), [r.name for r in runs])
    ax.set_ylabel("latency per question (ms" + (", log scale)" if ax.get_yscale() == "log" else ")"))
    ax.set_title("Answer latency (box: quartiles, dashed: p95)")
    ax.grid(axis="y", alpha=0.3)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def _answerer(assistant) -> str:
    settings = assistant.settings
    if getattr(assistant, "generator", None) is not None:
        return f"LLM `{settings.llm_model}` at {settings.llm_base_url} (extractive fallback)"
    return "extractive"


def write_report(folder: str | Path, runs: Sequence, *, assistant, questions_path: str | Path,
                 configs: Sequence = (), started: datetime | None = None) -> Path:
    """Write the whole report folder for ``runs`` (main configuration first); returns the folder."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    index = assistant.index
    manifest = index.manifest
    info = {
        "questions": str(questions_path),
        "date": (started or datetime.now()).strftime("%Y-%m-%d %H:%M:%S"),
        "index": str(index.path),
        "model": manifest.get("model"),
        "n_articles": manifest.get("n_articles", len(index.articles)),
        "n_chunks": manifest.get("n_chunks", len(index.chunks)),
        "answerer": _answerer(assistant),
        "configs": list(configs),
    }
    metrics = {
        "questions": info["questions"], "date": info["date"], "index": info["index"],
        "model": info["model"], "answerer": info["answerer"], "main": runs[0].name,
        "configs": {r.name: {"mode": r.mode, "date_aware": r.date_aware, **r.metrics} for r in runs},
    }
    (folder / "metrics.json").write_text(json.dumps(metrics, ensure_ascii=False, indent=2) + "\n",
                                         encoding="utf-8")
    (folder / "run.trec").write_text("".join(f"{line}\n" for line in trec_run_lines(runs)),
                                     encoding="utf-8")
    (folder / "qrels.trec").write_text("".join(f"{line}\n" for line in qrels_lines(index, runs[0].rows)),
                                       encoding="utf-8")
    for run in runs:
        (folder / f"answers-{run.name}.jsonl").write_text(
            "".join(json.dumps(r.answer.to_dict(r.id), ensure_ascii=False) + "\n" for r in run.rows),
            encoding="utf-8")
    plot_accuracy(runs, folder / "accuracy.png")
    plot_latency(runs, folder / "latency.png")
    (folder / "report.md").write_text(render_markdown(runs, info), encoding="utf-8")
    return folder
