"""Reliability runs for the index writer: nothing lost under concurrency or kill -9.

    rag bench --what writers   N ingests of different files into one index at once
    rag bench --what kill      kill -9 an ingest at random moments; the old index stays whole

Both use slices of the bench corpus (archive JSONL) and, unless
RAG_EMBED_MODEL says otherwise, the fake embedder, so they measure the
file handling rather than the model.
"""

from __future__ import annotations

import gzip
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from ..settings import FAKE_MODEL


def _slices(corpus: Path, folder: Path, sizes: list[int]) -> list[Path]:
    """Consecutive, disjoint slices of the corpus, one JSONL file each."""
    opener = gzip.open if corpus.name.endswith(".gz") else open
    paths = []
    with opener(corpus, "rt", encoding="utf-8") as fh:
        for n, size in enumerate(sizes):
            path = folder / f"slice-{n:02d}.jsonl"
            with open(path, "w", encoding="utf-8") as out:
                for _ in range(size):
                    line = fh.readline()
                    if not line:
                        raise SystemExit(f"{corpus} has too few articles for these slices")
                    out.write(line)
            paths.append(path)
    return paths


def _env() -> dict[str, str]:
    """The writers' environment: this one, with the fake embedder (the bench measures
    locking and atomic swaps, not embedding) and this checkout on the path."""
    return {**os.environ, "RAG_EMBED_MODEL": FAKE_MODEL, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}


def _ingest_cmd(path: Path | list[Path], index: Path) -> list[str]:
    paths = path if isinstance(path, list) else [path]
    return [sys.executable, "-m", "rag.cli", "ingest", *map(str, paths), "--index", str(index), "--json"]


def _ids(index: Path) -> set[str]:
    from ..embedding.embed import make_embedder
    from ..search.index import Index
    from ..settings import Settings

    model = make_embedder(Settings.load(embed_model=FAKE_MODEL)).model_id
    return set(Index.load(index, model_id=model).articles)


def _leftovers(index: Path) -> list[str]:
    return sorted(p.name for p in index.parent.iterdir() if p.name.startswith(index.name + ".")
                  and not p.name.endswith(".lock"))


def bench_writers(corpus: Path, n: int = 5, per_file: int = 40, seed_articles: int = 40) -> dict:
    """Seed an index, then run ``n`` ingests of different files into it at once."""
    with tempfile.TemporaryDirectory(prefix="rag-writers-") as tmp:
        tmp = Path(tmp)
        seed, *files = _slices(corpus, tmp, [seed_articles] + [per_file] * n)
        index = tmp / "index"
        subprocess.run(_ingest_cmd(seed, index), env=_env(), check=True, capture_output=True)
        before = len(_ids(index))
        t0 = time.perf_counter()
        runs = [subprocess.Popen(_ingest_cmd(f, index), env=_env(), text=True,
                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE) for f in files]
        outs = [r.communicate() for r in runs]
        wall = time.perf_counter() - t0
        added = [json.loads(out)["articles_added"] if out.strip() else None for out, _ in outs]
        after = len(_ids(index))
        result = {"before": before, "processes": n, "exit_codes": [r.returncode for r in runs],
                  "added": added, "waited": sum("index busy" in err for _, err in outs),
                  "after": after, "expected": before + n * per_file,
                  "lost": before + n * per_file - after, "wall_s": round(wall, 1)}
    return result


def bench_kill(corpus: Path, trials: int = 10, base: int = 200, per_trial: int = 300, seed: int = 12) -> dict:
    """kill -9 an ingest at ``trials`` random moments; check the index after each.

    Each trial's row goes to stderr as it ends; the summary is returned.
    """
    rng = random.Random(seed)
    rows = []
    with tempfile.TemporaryDirectory(prefix="rag-kill-") as tmp:
        tmp = Path(tmp)
        base_file, *files = _slices(corpus, tmp, [base] + [per_trial] * trials)
        index = tmp / "index"
        subprocess.run(_ingest_cmd(base_file, index), env=_env(), check=True, capture_output=True)
        # One uninterrupted ingest of a slice, to know how long one takes.
        probe = tmp / "probe"
        shutil.copytree(index, probe)
        t0 = time.perf_counter()
        subprocess.run(_ingest_cmd(files[0], probe), env=_env(), check=True, capture_output=True)
        full = time.perf_counter() - t0
        shutil.rmtree(probe)
        for n, path in enumerate(files):
            before = _ids(index)
            # Half the trials at a random moment of the whole run; half while the
            # new folder is being written or swapped in, the narrow risky window.
            in_write = n % 2 == 1
            at = rng.uniform(0.0, 0.3 if in_write else full)
            proc = subprocess.Popen(_ingest_cmd(path, index), env=_env(),
                                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            t_start = time.perf_counter()
            while in_write and proc.poll() is None and not _leftovers(index):
                time.sleep(0.002)
            time.sleep(at)
            at = time.perf_counter() - t_start
            finished = proc.poll() is not None
            if not finished:
                proc.send_signal(signal.SIGKILL)
            proc.wait()
            left = _leftovers(index)
            after = _ids(index)  # loads (and cleans) the index as `rag ask` would
            rows.append({"trial": n + 1, "kill_at_s": round(at, 2), "during_write": in_write,
                         "finished_first": finished,
                         "before": len(before), "after": len(after),
                         "old_kept": before <= after,
                         "all_or_nothing": len(after) in (len(before), len(before) + per_trial),
                         "leftovers_seen": left, "leftovers_after_load": _leftovers(index)})
            print(json.dumps(rows[-1]), file=sys.stderr, flush=True)
        # Every slice again, uninterrupted: each killed one is added whole.
        again = subprocess.run(_ingest_cmd(files, index), env=_env(), capture_output=True)
        final = len(_ids(index))
    return {"full_ingest_s": round(full, 2), "trials": len(rows),
            "killed": sum(not r["finished_first"] for r in rows),
            "old_kept": sum(r["old_kept"] for r in rows),
            "all_or_nothing": sum(r["all_or_nothing"] for r in rows),
            "leftovers_seen": sum(bool(r["leftovers_seen"]) for r in rows),
            "leftovers_after_load": sum(bool(r["leftovers_after_load"]) for r in rows),
            "final_exit_code": again.returncode, "final": final,
            "expected_final": base + per_trial * trials}


def main(what: set[str], corpus: Path, limit: int | None = None) -> None:
    """Print the writer and kill runs as JSON lines."""
    if "writers" in what:
        print(json.dumps({"writers": bench_writers(corpus, per_file=limit or 40)}, ensure_ascii=False),
              flush=True)
    if "kill" in what:
        print(json.dumps({"kill": bench_kill(corpus, per_trial=limit or 300)}, ensure_ascii=False),
              flush=True)
