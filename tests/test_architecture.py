"""The layout's rules, checked on the source: data flows one way, private names stay
private, settings alone read the environment, and prompts come from the model's config."""

import ast
import json
from pathlib import Path

import pytest

from rag.embedding.e5onnx import read_prompts
from rag.errors import ModelLoadError

pytestmark = pytest.mark.unit

ROOT = Path(__file__).resolve().parent.parent
STAGES = ("ingest", "embedding", "search", "answer", "check", "evaluation")


def _modules(package: str):
    for path in sorted((ROOT / package).rglob("*.py")):
        yield path, ast.parse(path.read_text(encoding="utf-8"), filename=str(path))


def _imports(path: Path, tree: ast.Module):
    """(imported module, names) for every import in the file, relative ones resolved."""
    package = path.relative_to(ROOT).with_suffix("").parts[:-1]
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, ()
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[:len(package) - node.level + 1]
                module = ".".join([*base, node.module] if node.module else base)
            else:
                module = node.module or ""
            yield module, tuple(a.name for a in node.names)


def test_the_library_never_imports_the_ui():
    offenders = [f"{p.relative_to(ROOT)}: {m}" for p, tree in _modules("rag")
                 for m, _ in _imports(p, tree) if m == "ui" or m.startswith("ui.")]
    assert offenders == []


def test_no_module_imports_another_modules_private_names():
    offenders = [f"{p.relative_to(ROOT)}: {m}.{n}" for package in ("rag", "ui", "tests")
                 for p, tree in _modules(package) for m, names in _imports(p, tree)
                 for n in names if n.startswith("_") and n != "__future__" and not m == "__future__"]
    assert offenders == []


def test_every_stage_is_a_sub_package_naming_its_surface():
    import importlib

    for stage in STAGES:
        package = importlib.import_module(f"rag.{stage}")
        assert package.__all__, stage
        for name in package.__all__:
            assert getattr(package, name) is not None, f"rag.{stage}.{name}"
        with pytest.raises(AttributeError):
            package.no_such_name  # noqa: B018


def test_only_settings_reads_or_writes_the_environment():
    readers = set()
    for package in ("rag", "ui"):
        for path, tree in _modules(package):
            for node in ast.walk(tree):
                if isinstance(node, ast.Attribute) and node.attr in ("environ", "getenv", "putenv") \
                        and isinstance(node.value, ast.Name) and node.value.id == "os":
                    readers.add(str(path.relative_to(ROOT)))
    # The safety bench hands a copy of the environment to the ingests it starts.
    assert readers == {"rag/settings.py", "rag/evaluation/bench_safety.py"}


def test_prompts_come_from_the_model_folders_config(tmp_path):
    (tmp_path / "config_sentence_transformers.json").write_text(
        json.dumps({"prompts": {"query": "q: ", "passage": "p: "}}), encoding="utf-8")
    assert read_prompts(tmp_path) == {"query": "q: ", "document": "p: "}
    (tmp_path / "config_sentence_transformers.json").write_text("{}", encoding="utf-8")
    assert read_prompts(tmp_path) == {"query": "", "document": ""}
    with pytest.raises(ModelLoadError, match="cannot read the model's prompts"):
        read_prompts(tmp_path / "missing")
