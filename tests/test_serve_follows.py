"""A running `rag serve` follows its index: a CLI ingest is answered over HTTP without a restart."""

import os
import queue
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from rag.search.watch import GenerationWatcher, read_generation

from .conftest import FAKE_MODEL, ROOT, copy_index

pytestmark = pytest.mark.integration  # a served app with the reader's models

NEW_HEADLINE = "醴陵窑瓷器博物馆新馆开放"
NEW_ISSUE = f"""# 株洲日报

2026年3月6日 星期五 第24321期

## {NEW_HEADLINE}

株洲日报讯(全媒体记者/测试) 3月5日,醴陵窑瓷器博物馆新馆开放,首日接待游客4860人次。

新馆展出釉下五彩瓷器共计1270件。
"""


def test_watcher_hands_on_each_new_generation(tmp_path):
    index = tmp_path / "index"
    index.mkdir()
    (index / "manifest.json").write_text('{"generation": "g1"}', encoding="utf-8")
    seen = []
    w = GenerationWatcher(index, "g1", seen.append)
    assert not w.check()
    tmp = tmp_path / "index.tmp"
    tmp.mkdir()
    (tmp / "manifest.json").write_text('{"generation": "g2"}', encoding="utf-8")
    os.rename(index, tmp_path / "index.old")
    os.rename(tmp, index)
    assert w.check() and seen == ["g2"] and read_generation(index) == "g2"
    assert not w.check()


def _lines(proc, out: "queue.Queue[str]") -> None:
    for line in proc.stdout:
        out.put(line)


def _wait_for(out: "queue.Queue[str]", prefix: str, timeout: float) -> str:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        try:
            line = out.get(timeout=0.5)
        except queue.Empty:
            continue
        if line.startswith(prefix):
            return line
    raise AssertionError(f"no {prefix!r} line within {timeout} s")


def test_served_index_follows_a_cli_ingest(fake_index, tmp_path):
    from gradio_client import Client

    from rag.pipeline import WARM_MESSAGE

    from .test_ui import free_port

    settings = copy_index(fake_index.index_dir.parent, tmp_path / "served", embed_model=FAKE_MODEL)
    env = {**os.environ, "RAG_EMBED_MODEL": FAKE_MODEL, "RAG_ALLOW_UPLOAD": "false"}
    rag = str(Path(sys.executable).parent / "rag")
    port = free_port()
    proc = subprocess.Popen([rag, "serve", "--index", str(settings.index_dir), "--port", str(port)],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env, cwd=ROOT)
    out: "queue.Queue[str]" = queue.Queue()
    threading.Thread(target=_lines, args=(proc, out), daemon=True).start()
    try:
        serving = _wait_for(out, "serving in", 120)
        _wait_for(out, WARM_MESSAGE, 120)
        client = Client(f"http://127.0.0.1:{port}/", verbose=False, download_files=False)
        question = "醴陵窑瓷器博物馆新馆首日接待游客多少人次？"
        before = client.submit(question, "", "", "keyword", api_name="/chat").result(timeout=60)
        # The reply names the article it found (as its citation, or as the closest report).
        assert NEW_HEADLINE not in before[0]

        # Questions keep coming while the CLI ingests: none may fail.
        answered, failures, stop = [], [], threading.Event()

        def keep_asking() -> None:
            c = Client(f"http://127.0.0.1:{port}/", verbose=False, download_files=False)
            while not stop.is_set():
                try:
                    answered.append(c.submit("株洲医保参保人数", "", "", "hybrid", api_name="/chat").result(timeout=60))
                except Exception as exc:  # noqa: BLE001 - counted, asserted below
                    failures.append(exc)

        asker = threading.Thread(target=keep_asking, daemon=True)
        asker.start()
        issue = tmp_path / "new.md"
        issue.write_text(NEW_ISSUE, encoding="utf-8")
        ingest = subprocess.run([rag, "ingest", str(issue), "--index", str(settings.index_dir)],
                                capture_output=True, text=True, env=env, timeout=300)
        assert ingest.returncode == 0, ingest.stderr
        t_ingested = time.monotonic()
        changed = _wait_for(out, "index changed:", 30)
        t_switched = time.monotonic()
        reply = ""
        while time.monotonic() - t_ingested < 30 and NEW_HEADLINE not in reply:
            reply = client.submit(question, "", "", "keyword", api_name="/chat").result(timeout=60)[0]
        t_answered = time.monotonic()
        stop.set()
        asker.join(90)
        assert NEW_HEADLINE in reply
        n_before = int(serving.split(": ", 1)[1].split(" articles")[0])
        assert changed.startswith(f"index changed: {n_before + 1} articles")
        assert not failures and answered
        print(f"\nswitch noticed {t_switched - t_ingested:.2f} s after the ingest ended "
              f"({changed.strip()}); new article answered after {t_answered - t_ingested:.2f} s; "
              f"{len(answered)} other questions answered meanwhile")
    finally:
        proc.terminate()
        proc.wait(timeout=20)
