"""The conversation as plain JSON, so the browser can keep it across reloads.

What comes back from the browser is untrusted: anything that does not read
as a conversation gives an empty one, and every string is escaped on display.
"""

from __future__ import annotations

from dataclasses import asdict, fields
from typing import Any

from rag.records import Citation

from .render import ArticleRef, Source, Turn

#: The browser keeps this many of the latest turns.
MAX_SAVED_TURNS = 30
#: localStorage key of the saved conversation.
STORAGE_KEY = "zhuzhou-rag-conversation"

_CITATION_FIELDS = {f.name for f in fields(Citation)}


def dump_turns(turns) -> list[dict[str, Any]]:
    """The latest turns as JSON-ready dicts."""
    out = []
    for t in list(turns)[-MAX_SAVED_TURNS:]:
        d = asdict(t)
        d["sources"] = [{"citation": asdict(s.citation), "before": s.before, "after": s.after} for s in t.sources]
        d["closest"] = [asdict(r) for r in t.closest]
        out.append(d)
    return out


def load_turns(data: Any) -> list[Turn]:
    """Turns from what ``dump_turns`` gave (Turn objects pass through); [] for anything else."""
    if not isinstance(data, list):
        return []
    try:
        return [t if isinstance(t, Turn) else _turn(t) for t in data[-MAX_SAVED_TURNS:]]
    except (TypeError, ValueError, KeyError, AttributeError):
        return []


def _turn(d: dict) -> Turn:
    sources = tuple(Source(_citation(s["citation"]), str(s.get("before", "")), str(s.get("after", "")))
                    for s in d.get("sources", ()))
    closest = tuple(ArticleRef(str(r["article_id"]), str(r["headline"]), _text(r.get("date")),
                               _int(r.get("start")), _int(r.get("end"))) for r in d.get("closest", ()))
    return Turn(str(d["question"]), str(d["text"]), bool(d["refused"]), sources, d.get("notice"),
                d.get("resolved"), _number(d.get("total_ms")), closest, _number(d.get("wait_ms")))


def _citation(d: dict) -> Citation:
    # Numbers reach the page unescaped (anchors, data attributes), so they must be numbers.
    ints = {"n", "start", "end"}
    values = {k: (int(v) if k in ints else bool(v) if k == "date_inferred"
                  else _number(v) if k == "confidence" else _text(v))
              for k, v in d.items() if k in _CITATION_FIELDS}
    return Citation(**values)


def _text(value: Any) -> str | None:
    return None if value is None else str(value)


def _int(value: Any) -> int | None:
    return int(value) if isinstance(value, int) and not isinstance(value, bool) else None


def _number(value: Any) -> float | None:
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None
