"""The `rag` command line. Library errors become messages here, and only here."""

from __future__ import annotations

import argparse
import json
import os
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
        for f in report.flagged:
            print(f"warning  《{f['headline']}》 reads as an instruction to a language model "
                  f"(“{f['phrase']}”): kept out of LLM prompts", file=sys.stderr)
        print(f"added {report.articles_added} articles, {report.articles_unchanged} unchanged; "
              f"index has {report.chunks} chunks ({report.chunks_embedded} embedded now) "
              f"in {settings.index_dir}")
    return 0 if report.ok else 1


def _ask_kwargs(args: argparse.Namespace) -> dict:
    from .errors import SettingsError
    from .ingest.parse import validate_date

    # Checked as the web form checks them, before the index is opened.
    dates = {}
    for flag, value in (("--from", args.date_from), ("--to", args.date_to)):
        try:
            dates[flag] = validate_date(value)
        except SettingsError as exc:
            raise SettingsError(f"{flag}: {exc}") from None
    if dates["--from"] and dates["--to"] and dates["--from"] > dates["--to"]:
        raise SettingsError(f"--from {dates['--from']} is after --to {dates['--to']}")
    return {"date_from": dates["--from"], "date_to": dates["--to"], "mode": args.mode}


def cmd_ask(args: argparse.Namespace) -> int:
    from .pipeline import Assistant

    search = _ask_kwargs(args)
    if not args.file and not args.question:
        raise RagError("give a question, or --file QUESTIONS.jsonl")
    assistant = Assistant.open(_settings(args), use_llm=True if args.llm else (False if args.no_llm else None))
    if args.file:
        def one(qid, question):
            answer = assistant.ask(question, **search)
            return answer.to_dict(qid), format_answer(answer)
        return _each_line(args, "question", one)
    answer = assistant.ask(args.question, **search)
    if args.json:
        _print_json(answer.to_dict(args.id))
    else:
        print(format_answer(answer))
    return 0


def _each_line(args: argparse.Namespace, field: str, one) -> int:
    """Run ``one(id, text) -> (json object, plain text)`` on every good line of ``args.file``;
    a bad line is an error in its place (the others still run) and makes the exit status 1."""
    failed = 0
    for rid, text, error in _read_questions(Path(args.file), field):
        if error is not None:
            failed += 1
            print(f"rag: {error}", file=sys.stderr)
            if args.json:
                _print_json({"id": rid, field: None, "error": str(error)})
            continue
        obj, plain = one(rid, text)
        if args.json:
            _print_json(obj)
        else:
            print(f"[{rid}] {text}\n{plain}\n")
    return 1 if failed else 0


def _read_questions(path: Path, field: str = "question"):
    """(id, text, None) per good line of a questions (or claims: ``field="claim"``) file,
    (id, None, InputError) per bad one."""
    from .ingest.textio import open_lines

    errors: list[InputError] = []
    for line_no, line in open_lines(path, errors):
        while errors:  # lines that did not decode, in their place
            yield None, None, errors.pop(0)
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except ValueError as exc:
            yield None, None, InputError(path, f"invalid JSON ({exc})", line=line_no)
            continue
        if not isinstance(row, dict):
            yield None, None, InputError(path, f"not a {field} object but {type(row).__name__}", line=line_no)
            continue
        question = row.get(field)
        qid = row.get("id")
        if not isinstance(question, str) or not question.strip():
            what = "missing" if question is None else f"not text but {type(question).__name__}"
            yield qid, None, InputError(path, f'"{field}" is {what}', line=line_no)
            continue
        yield qid, question, None
    yield from ((None, None, e) for e in errors)


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

    if not args.file and not args.claim:
        raise RagError("give a claim, or --file CLAIMS.jsonl")
    assistant = Assistant.open(_settings(args))
    if args.file:
        def one(cid, claim):
            verdict = assistant.verify(claim)
            return {"id": cid, **verdict.to_dict()}, verdict.explain()
        return _each_line(args, "claim", one)
    verdict = assistant.verify(args.claim)
    if args.json:
        _print_json(verdict.to_dict())
    else:
        print(verdict.explain())
    return 0


def cmd_check(args: argparse.Namespace) -> int:
    from .check.draft import check_draft, check_text, decode_draft, read_draft
    from .pipeline import Assistant

    if args.file == "-":
        text = check_text(decode_draft(sys.stdin.buffer.read(), "<stdin>"), "<stdin>")
    else:
        text = read_draft(args.file)
    if args.report and not args.report.lower().endswith((".md", ".docx")):
        raise RagError(f"{args.report}: a report is written as .md or .docx")
    result = check_draft(Assistant.open(_settings(args)), text)
    if args.report:
        from .check.report import to_markdown, write_docx

        if args.report.lower().endswith(".docx"):
            write_docx(result, args.report)
        else:
            Path(args.report).write_text(to_markdown(result), encoding="utf-8")
    if args.json:
        for checked in result.claims:
            _print_json(checked.to_dict())
    else:
        print(format_check(result))
    return 0


def format_check(result) -> str:
    """Plain-text rendering of a draft check: the summary, then each claim and its evidence."""
    from .check.report import summary_line

    lines = [summary_line(result)]
    for n, checked in enumerate(result.claims, start=1):
        lines.append(f"\n{n}. [{checked.claim.start}-{checked.claim.end}] {checked.claim.text}")
        lines.append("   " + checked.verdict.explain().replace("\n", "\n   "))
    return "\n".join(lines)


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
    from .training.feature_reader import run, validate

    data = Path(args.data)
    for name in ("cmrc2018_dev.json", "cmrc2018_trial.json", "DRCD_dev.json", "DRCD_test.json"):
        if not (data / name).is_file():
            raise RagError(f"{data / name}: training file missing (see ../shared/train/README.md)")
    bench = Path(args.noise)
    if not bench.is_file():
        raise RagError(f"{bench}: noise corpus missing")
    if args.reader == "neural":
        from .training.neural import Config, run_neural, validate_neural

        if args.validate or args.calibrate:
            validate_neural(data, bench, Path(args.work), _settings(args), Path(args.models), choose=args.calibrate)
        else:
            if args.near_miss_human and not (args.near_miss or 0) > 0:
                raise RagError("--near-miss-human chooses whose far window a near-miss replaces: "
                               "give --near-miss SHARE (0-1) as well")
            if args.init and not Path(args.init).is_file():
                raise RagError(f"{args.init}: no such tensors file to start from (--init)")
            config = Config(**{k: v for k, v in (("limit", args.limit), ("epochs", args.epochs),
                                                 ("max_windows", args.max_windows), ("frozen", args.frozen),
                                                 ("lr", args.lr), ("near_miss", args.near_miss),
                                                 ("near_miss_human", args.near_miss_human or None),
                                                 ("init", args.init)) if v is not None})
            run_neural(data, bench, Path(args.neural_work), Path(args.work), config, args.resume,
                       _settings(args), Path(args.models))
    elif args.validate:
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
    sp.add_argument("claim", nargs="?")
    sp.add_argument("--file", help="JSONL with one {id, claim} per line")
    sp.add_argument("--json", action="store_true")
    sp.set_defaults(func=cmd_verify)

    sp = with_index(sub.add_parser("check", help="check a draft claim by claim (.txt, .md, .docx or - for stdin)"))
    sp.add_argument("file", help="the draft: a .txt, .md or .docx file, or - to read standard input")
    sp.add_argument("--json", action="store_true", help="one object per checkable claim")
    sp.add_argument("--report", help="also write the report to this .md or .docx file")
    sp.set_defaults(func=cmd_check)

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
    sp.add_argument("--calibrate", action="store_true",
                    help="neural: choose the shipped span reader's settings on the tune splits again, "
                         "without training, then validate")
    sp.add_argument("--reader", choices=("feature", "neural"), default="feature",
                    help="which reader to train: the LightGBM feature reader or the transformer span reader")
    sp.add_argument("--resume", action="store_true", help="neural: continue from the last checkpoint")
    sp.add_argument("--limit", type=int, help="neural: train on the first N questions only (pilots)")
    sp.add_argument("--epochs", type=int, help="neural: passes over the training windows")
    sp.add_argument("--max-windows", type=int, help="neural: train on a seeded sample of this many windows")
    sp.add_argument("--frozen", type=int, help="neural: bottom layers (of 12) kept as converted and cached")
    sp.add_argument("--lr", type=float, help="neural: peak learning rate")
    sp.add_argument("--near-miss", type=float, dest="near_miss",
                    help="neural: share of questions (0-1, default 0: off) whose far no-answer window is "
                         "a retrieved near-miss")
    sp.add_argument("--near-miss-human", action="store_true",
                    help="neural: near-misses for the human-written (CMRC, DRCD) questions only")
    sp.add_argument("--init", help="neural: trained tensors (span-reader.safetensors) to go on training from")
    sp.add_argument("--neural-work", default="embeddings/train-neural",
                    help="neural: windows, the frozen layers' cache and checkpoints")
    sp.set_defaults(func=cmd_train)

    sp = with_index(sub.add_parser("bench", help="measure speed, size and memory"))
    sp.add_argument("--corpus", help="bench corpus (default ../shared/bench/crud-news-11k.jsonl.gz)")
    sp.add_argument("--limit", type=int, help="use only the first N articles")
    sp.add_argument("--queries", type=int, default=300)
    sp.add_argument("--quiet", action="store_true", help=argparse.SUPPRESS)
    sp.add_argument("--what", default="all", help="comma list: parse,sample,scale,query,ann,serve,follow,writers,kill,check,api,pages,all (query: against --index, built; writers, kill, check, api and pages are not in all)")
    sp.set_defaults(func=cmd_bench)
    return p


def undecodable_argument(argv: list[str]) -> str | None:
    """A message for the first argument that is not valid text in the locale's
    encoding (Python keeps such bytes as lone surrogates), else None."""
    for i, arg in enumerate(argv, 1):
        if any("\udc80" <= c <= "\udcff" for c in arg):
            raw = os.fsencode(arg)
            return (f"argument {i} is not valid UTF-8 text ({raw[:30]!r}"
                    f"{'…' if len(raw) > 30 else ''}): give questions and paths as UTF-8")
    return None


def main(argv: list[str] | None = None) -> int:
    problem = undecodable_argument(sys.argv[1:] if argv is None else argv)
    if problem:
        print(f"rag: {problem}", file=sys.stderr)
        return 2
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except RagError as exc:
        print(f"rag: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:  # a disk fault the library did not foresee: still one line
        from .errors import display_path

        where = f"{display_path(str(exc.filename))}: " if exc.filename else ""
        print(f"rag: {where}{exc.strerror or exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("rag: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
