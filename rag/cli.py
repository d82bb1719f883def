"""The `rag` command line. Library errors become messages here, and only here."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from .errors import InputError, RagError

#: The entry-point group through which `rag serve` finds the chat app.
APP_ENTRY_POINTS = "zhuzhou_rag.apps"


def _settings(args: argparse.Namespace, **extra):
    from .settings import Settings

    return Settings.load(index_dir=getattr(args, "index", None), **extra)


def _print_json(obj) -> None:
    sys.stdout.write(json.dumps(obj, ensure_ascii=False) + "\n")
    sys.stdout.flush()


def cmd_ingest(args: argparse.Namespace) -> int:
    from .ingest.indexer import ingest
    from .ingest.parse import validate_date

    from .errors import IndexError_
    from .ingest.indexer import IngestReport

    date = validate_date(args.date) if args.date else None
    settings = _settings(args, ocr_mode=args.ocr)
    try:
        report = ingest(args.paths, settings, date=date, progress=not args.json and sys.stderr.isatty(),
                        on_wait=lambda message: print(f"rag: {message}", file=sys.stderr, flush=True))
    except IndexError_ as exc:
        # Busy, disk full, read-only: one line, and the index on disk is as it was.
        print(f"rag: {exc}", file=sys.stderr)
        if args.json:
            _print_json(IngestReport.failed(str(exc)).to_dict())
        return 1
    if args.json:
        _print_json(report.to_dict())
    else:
        for f in report.files:
            if f.status == "error":
                print(f"error    {f.error}", file=sys.stderr)
            else:
                when = f"{f.date}{'（推断）' if f.date_inferred else ''}" if f.date else "无日期"
                print(f"{f.status:8} {f.path}  {when}  第{f.issue or '?'}期  {len(f.articles)} 篇")
        print(f"added {report.articles_added} articles, {report.articles_unchanged} unchanged; "
              f"index has {report.chunks} chunks ({report.chunks_embedded} embedded now) "
              f"in {settings.index_dir}")
    return 0 if report.ok else 1


def _ask_kwargs(args: argparse.Namespace) -> dict:
    return {"date_from": args.date_from, "date_to": args.date_to, "mode": args.mode}


def cmd_ask(args: argparse.Namespace) -> int:
    from .pipeline import Assistant

    assistant = Assistant.open(_settings(args), use_llm=True if args.llm else (False if args.no_llm else None))
    if args.file:
        for n, (qid, question) in enumerate(_read_questions(Path(args.file)), start=1):
            answer = assistant.ask(question, **_ask_kwargs(args))
            if args.json:
                _print_json(answer.to_dict(qid))
            else:
                print(f"[{qid}] {question}\n{format_answer(answer)}\n")
        return 0
    if not args.question:
        raise RagError("give a question, or --file QUESTIONS.jsonl")
    answer = assistant.ask(args.question, **_ask_kwargs(args))
    if args.json:
        _print_json(answer.to_dict(args.id))
    else:
        print(format_answer(answer))
    return 0


def _read_questions(path: Path):
    from .ingest.textio import open_lines

    for line_no, line in open_lines(path):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
            question = row["question"]
        except (ValueError, KeyError, TypeError) as exc:
            raise InputError(path, f"not a question object ({exc})", line=line_no) from None
        yield row.get("id"), question


def format_answer(answer) -> str:
    """Plain-text rendering of an answer with its citations: reference line, then the quote."""
    from .answer.cite import format_reference

    lines = [answer.text]
    if answer.notice:
        lines.append(f"注意：{answer.notice}")
    from .ingest.regions import DOUBT_BELOW

    for c in answer.citations:
        doubt = f"（识别存疑，置信度 {c.confidence:.2f}）" if c.confidence is not None and c.confidence < DOUBT_BELOW else ""
        lines.append(f"[{c.n}] {format_reference(c)}\n    “{c.quote}”{doubt}")
    return "\n".join(lines)


def cmd_verify(args: argparse.Namespace) -> int:
    from .pipeline import Assistant

    verdict = Assistant.open(_settings(args)).verify(args.claim)
    if args.json:
        _print_json(verdict.to_dict())
    else:
        print(verdict.explain())
    return 0


def cmd_eval(args: argparse.Namespace) -> int:
    from .evaluation.evaluate import main as eval_main

    return eval_main(args)


def cmd_serve(args: argparse.Namespace) -> int:
    # The app is found through its entry point: the library never imports the UI.
    from importlib.metadata import entry_points

    apps = entry_points(group=APP_ENTRY_POINTS, name="chat")
    if not apps:
        raise RagError(f"no chat app is installed (entry point {APP_ENTRY_POINTS}:chat); run `make install`")
    serve = next(iter(apps)).load()
    serve(_settings(args), host=args.host, port=args.port)
    return 0


def cmd_train(args: argparse.Namespace) -> int:
    from .answer.train import run, validate

    data = Path(args.data)
    for name in ("cmrc2018_dev.json", "cmrc2018_trial.json", "DRCD_dev.json", "DRCD_test.json"):
        if not (data / name).is_file():
            raise RagError(f"{data / name}: training file missing (see ../shared/train/README.md)")
    bench = Path(args.noise)
    if not bench.is_file():
        raise RagError(f"{bench}: noise corpus missing")
    if args.validate:
        validate(data, bench, Path(args.work), _settings(args), Path(args.models))
    else:
        run(data, bench, Path(args.work), _settings(args), Path(args.models), synthetic=not args.no_synthetic)
    return 0


def cmd_bench(args: argparse.Namespace) -> int:
    from .evaluation.bench import main as bench_main

    return bench_main(args)


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="rag", description="株洲日报 archive question answering")
    sub = p.add_subparsers(dest="command", required=True)

    def with_index(sp):
        sp.add_argument("--index", help="index folder (default embeddings/index, or $RAG_INDEX)")
        return sp

    sp = with_index(sub.add_parser("ingest", help="add issue files, folders or JSONL to the index"))
    sp.add_argument("paths", nargs="+")
    sp.add_argument("--date", help="publication date YYYY-MM-DD for issues that print none")
    sp.add_argument("--ocr", choices=["auto", "always", "never"],
                    help="PDF pages and images: OCR pages without a sound text layer (auto, the default), "
                         "every page, or none (or $RAG_OCR_MODE)")
    sp.add_argument("--json", action="store_true")
    sp.set_defaults(func=cmd_ingest)

    sp = with_index(sub.add_parser("ask", help="answer a question with citations"))
    sp.add_argument("question", nargs="?")
    sp.add_argument("--file", help="JSONL with one {id, question} per line")
    sp.add_argument("--id", help="id to echo in the JSON answer")
    sp.add_argument("--json", action="store_true")
    sp.add_argument("--from", dest="date_from", help="only issues on or after YYYY-MM-DD")
    sp.add_argument("--to", dest="date_to", help="only issues on or before YYYY-MM-DD")
    sp.add_argument("--mode", choices=["hybrid", "keyword", "dense"])
    llm = sp.add_mutually_exclusive_group()
    llm.add_argument("--llm", action="store_true", help="answer with the configured LLM endpoint")
    llm.add_argument("--no-llm", action="store_true", help="always use the extractive answerer")
    sp.set_defaults(func=cmd_ask)

    sp = with_index(sub.add_parser("verify", help="check a claim: supported, contradicted, not found"))
    sp.add_argument("claim")
    sp.add_argument("--json", action="store_true")
    sp.set_defaults(func=cmd_verify)

    sp = with_index(sub.add_parser("eval", help="score the assistant on a question set"))
    sp.add_argument("questions")
    sp.add_argument("--json", action="store_true")
    sp.add_argument("--report", help="report folder (default eval/reports/<timestamp>/)")
    sp.add_argument("--no-report", action="store_true", help="write no report")
    sp.add_argument("--compare", action="store_true",
                    help="also run keyword-only, dense-only and no-date-awareness configurations")
    sp.set_defaults(func=cmd_eval)

    sp = with_index(sub.add_parser("serve", help="the Gradio chat UI"))
    sp.add_argument("--host", default="127.0.0.1")
    sp.add_argument("--port", type=int, default=7860)
    sp.set_defaults(func=cmd_serve)

    sp = sub.add_parser("train", help="retrain the reader from open reading-comprehension data")
    sp.add_argument("--data", default="../shared/train", help="folder of CMRC 2018 / DRCD files")
    sp.add_argument("--noise", default="../shared/bench/crud-news-11k.jsonl.gz",
                    help="news articles pooled in as noise")
    sp.add_argument("--work", default="embeddings/train", help="pooled index and retrieval cache")
    sp.add_argument("--models", default="rag/answer/models", help="where the trained models are written")
    sp.add_argument("--no-synthetic", action="store_true",
                    help="train without the synthetic news questions (they still report)")
    sp.add_argument("--validate", action="store_true",
                    help="only score the shipped models on the validation splits, retrieving afresh")
    sp.set_defaults(func=cmd_train)

    sp = with_index(sub.add_parser("bench", help="measure speed, size and memory"))
    sp.add_argument("--corpus", help="bench corpus (default ../shared/bench/crud-news-11k.jsonl.gz)")
    sp.add_argument("--limit", type=int, help="use only the first N articles")
    sp.add_argument("--queries", type=int, default=300)
    sp.add_argument("--quiet", action="store_true", help=argparse.SUPPRESS)
    sp.add_argument("--what", default="all", help="comma list: parse,sample,scale,query,ann,writers,kill,pages,all (query: against --index, built; writers, kill and pages are not in all)")
    sp.set_defaults(func=cmd_bench)
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except RagError as exc:
        print(f"rag: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:  # a disk fault the library did not foresee: still one line
        print(f"rag: {exc.filename or ''}{': ' if exc.filename else ''}{exc.strerror or exc}",
              file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("rag: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
