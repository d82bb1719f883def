"""Shared fixtures: the bundled sample corpus indexed with the fake embedder, one
sample issue indexed with it (a fresh copy per test), and the planted issue of the
UI tests indexed with the default model.

Indexes are built once per session and never changed: a test that writes to an
index gets its own copy in ``tmp_path``.
"""

import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "corpus"
DEV = ROOT / "eval" / "dev_questions.jsonl"
FAKE_MODEL = "fake:hash-256"

ISSUE = CORPUS / "002_7a2d84cb32ceeabd.txt"  # 2023-07-20, 第23368期, 7 articles
ISSUE_ARTICLES = 7

# An issue with markup in its text, for the UI tests: the page must show it and never run it.
PLANTED_HEADLINE = "网页安全演练检验新闻客户端防护能力"
PLANTED_QUESTION = "网页安全攻防演练有多少技术人员？"
SCRIPT_TEXT = "<script>window.__pwned=1</script>"
PLANTED_ISSUE = f"""# 株洲日报

2024年3月5日 星期二
甲辰年正月廿五 第23999期 今日8版

## {PLANTED_HEADLINE}

株洲日报讯(全媒体记者/测试) 3月4日,市网信办组织开展网页安全攻防演练。

演练中,42名技术人员在测试页面输入了{SCRIPT_TEXT}和<img src=x onerror="window.__pwned=2">等攻击代码,还尝试了${{window.__pwned=3}}与{{{{value}}}}模板注入。

演练结果显示,客户端全部拦截了上述攻击。
"""
# An issue the UI tests upload.
UPLOAD_ISSUE = ("# 株洲日报\n\n2024年5月1日 星期三 第24001期\n\n## 炎陵黄桃节开幕\n\n"
                "株洲日报讯 4月30日,第十届炎陵黄桃节开幕,吸引游客3.2万人次。\n")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    # A browser test that times out says what the server's threads were doing then: a
    # thread stuck on a lock reads differently from threads busy on a loaded machine.
    outcome = yield
    report = outcome.get_result()
    if report.when == "call" and report.failed and item.get_closest_marker("browser"):
        report.sections.append(("server threads at the failure", _thread_stacks()))


def _thread_stacks(depth: int = 6) -> str:
    import sys
    import threading
    import traceback

    frames = sys._current_frames()
    out = []
    for thread in threading.enumerate():
        frame = frames.get(thread.ident)
        if frame is None or thread is threading.current_thread():
            continue
        stack = traceback.format_stack(frame)[-depth:]
        out.append(f"--- {thread.name}\n" + "".join(stack))
    return "\n".join(out)


@pytest.fixture(autouse=True)
def _isolated_env(monkeypatch, tmp_path_factory):
    # No test reads the developer's own index or settings.
    for var in ("RAG_INDEX", "RAG_EMBED_MODEL", "RAG_LLM_BASE_URL", "RAG_LLM_MODEL"):
        monkeypatch.delenv(var, raising=False)


def copy_index(template: Path, folder: Path, **settings):
    """A writable copy of the index folder ``template/index`` (and its lock file) in ``folder``."""
    from rag.settings import Settings

    shutil.copytree(template, folder, dirs_exist_ok=True)
    return Settings.load(index_dir=folder / "index", **settings)


@pytest.fixture(scope="session")
def fake_index(tmp_path_factory):
    """The sample corpus indexed with the fake embedder (built once per session; read-only)."""
    from rag.ingest.indexer import ingest
    from rag.settings import Settings

    settings = Settings.load(index_dir=tmp_path_factory.mktemp("fake") / "index",
                             embed_model=FAKE_MODEL)
    report = ingest([CORPUS], settings, progress=False)
    assert report.ok, report
    return settings


@pytest.fixture(scope="session")
def fake_assistant(fake_index):
    from rag.pipeline import Assistant

    return Assistant.open(fake_index)


@pytest.fixture(scope="session")
def _issue_index_template(tmp_path_factory):
    from rag.ingest.indexer import ingest
    from rag.settings import Settings

    folder = tmp_path_factory.mktemp("issue-template")
    settings = Settings.load(index_dir=folder / "index", embed_model=FAKE_MODEL)
    report = ingest([ISSUE], settings, progress=False)
    assert report.ok and report.articles_added == ISSUE_ARTICLES, report
    return folder


@pytest.fixture
def issue_index(_issue_index_template, tmp_path):
    """``tmp_path/index`` holding ISSUE indexed with the fake embedder, as
    ``ingest([ISSUE], settings)`` leaves it (``index`` and ``index.lock``): the
    test's own copy, free to change. Returns its settings."""
    return copy_index(_issue_index_template, tmp_path, embed_model=FAKE_MODEL)


@pytest.fixture(scope="session")
def planted_issue_file(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("planted") / "planted_issue.txt"
    path.write_text(PLANTED_ISSUE, encoding="utf-8")
    return path


@pytest.fixture(scope="session")
def _ui_index_template(tmp_path_factory, planted_issue_file):
    # The answers behind the page come from the trained reader, which reads the
    # default model's similarities: this index uses the default model.
    from rag.ingest.indexer import ingest
    from rag.settings import DEFAULT_MODEL, Settings

    folder = tmp_path_factory.mktemp("ui-template")
    settings = Settings.load(index_dir=folder / "index", embed_model=DEFAULT_MODEL)
    report = ingest([CORPUS, planted_issue_file], settings, progress=False)
    assert report.ok, report
    return folder


@pytest.fixture(scope="module")
def ui_settings(_ui_index_template, tmp_path_factory):
    """The bundled corpus plus the planted issue, indexed with the default model:
    one copy per test module (the app's upload adds to it)."""
    from rag.settings import DEFAULT_MODEL

    return copy_index(_ui_index_template, tmp_path_factory.mktemp("ui"), embed_model=DEFAULT_MODEL)


@pytest.fixture
def ui_index_copy(_ui_index_template, tmp_path):
    """Like ``ui_settings``, but a copy of the test's own in ``tmp_path``."""
    from rag.settings import DEFAULT_MODEL

    return copy_index(_ui_index_template, tmp_path, embed_model=DEFAULT_MODEL)
