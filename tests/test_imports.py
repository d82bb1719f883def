"""Importing the command line and the pipeline stays light: no torch, gradio or faiss
until a command needs them (`rag --help` and `rag ask` with the default model never do)."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.unit

ROOT = Path(__file__).resolve().parent.parent

PROBE = """
import importlib, json, sys
module, heavy = sys.argv[1], sys.argv[2:]
importlib.import_module(module)
print(json.dumps({"imported": module in sys.modules,
                  "heavy": sorted(m for m in heavy if m in sys.modules)}))
"""


def loaded_after_import(module: str, heavy: list[str]) -> dict:
    """Which of ``heavy`` a fresh interpreter holds after ``import module``."""
    out = subprocess.run([sys.executable, "-c", PROBE, module, *heavy], cwd=ROOT,
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout)


@pytest.mark.parametrize("module,heavy", [
    ("rag.cli", ["torch", "gradio", "faiss"]),
    ("rag.pipeline", ["torch", "gradio"]),
])
def test_import_does_not_load_heavy_libraries(module, heavy):
    assert loaded_after_import(module, heavy) == {"imported": True, "heavy": []}


def test_the_probe_sees_a_heavy_import():
    # numpy stands in for the heavy libraries: rag.pipeline needs it at import.
    assert loaded_after_import("rag.pipeline", ["numpy"]) == {"imported": True, "heavy": ["numpy"]}
