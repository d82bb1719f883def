"""Draft checking measured: claim splitting on annotated drafts, and the time to check a draft.

    rag bench --what check    splitting figures on eval/claim_drafts.jsonl, then a
                              ~1,500-character draft with ~15 claims checked against
                              the bundled corpus indexed with the default model

The annotated drafts were written for this from the bundled sample issues and
the bench corpus (never from the dev questions): each sentence is marked as a
checkable claim or not. A claim counts as found when a claim the splitter
returns overlaps it; a non-claim counts as wrongly checked when one does.
"""

from __future__ import annotations

import json
import random
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
ANNOTATED = ROOT / "eval" / "claim_drafts.jsonl"


@dataclass(frozen=True)
class SplitScore:
    drafts: int
    claims: int
    found: int
    non_claims: int
    wrongly_checked: int

    @property
    def recall(self) -> float:
        return self.found / self.claims if self.claims else float("nan")

    @property
    def false_share(self) -> float:
        return self.wrongly_checked / self.non_claims if self.non_claims else float("nan")


def _spans(text: str, parts: list[str]) -> list[tuple[int, int]]:
    spans, pos = [], 0
    for part in parts:
        at = text.find(part, pos)
        at = text.find(part) if at < 0 else at
        spans.append((at, at + len(part)))
        pos = at + len(part)
    return spans


def score_split(path: Path = ANNOTATED, split: str | None = None) -> SplitScore:
    """Recall of the annotated claims and the share of non-claims checked, over the drafts
    of ``split`` (``tune``, ``test``, or None for all)."""
    from ..check.claims import split_claims

    totals = [0, 0, 0, 0, 0]
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        draft = json.loads(line)
        if split and draft["split"] != split:
            continue
        got = [(c.start, c.end) for c in split_claims(draft["text"])]

        def hit(span):
            return any(a < span[1] and span[0] < b for a, b in got)

        claims = _spans(draft["text"], draft["claims"])
        others = _spans(draft["text"], draft["non_claims"])
        for i, n in enumerate((1, len(claims), sum(map(hit, claims)), len(others), sum(map(hit, others)))):
            totals[i] += n
    return SplitScore(*totals)


def bench_draft(articles, chars: int = 1500, claims: int = 15, seed: int = 11) -> str:
    """A draft of about ``chars`` characters with about ``claims`` claims, made of the
    archive's own sentences: claims drawn from its articles (every third with its first
    figure changed, as a slip would), the rest sentences that state nothing checkable."""
    from ..check.claims import split_claims
    from ..ingest.sentences import sentences

    rng = random.Random(seed)
    stating, plain = [], []
    for a in sorted(articles, key=lambda a: a.id):
        for s in sentences(a.body):
            if not 15 <= len(s) <= 90 or not s.endswith("。"):
                continue
            (stating if split_claims(s) else plain).append(s)
    rng.shuffle(stating)
    rng.shuffle(plain)
    picked = []
    for i, s in enumerate(stating[:claims]):
        if i % 3 == 2:
            s = next((s.replace(d, str((int(d) + 3) % 10), 1) for d in s if d.isdigit()), s)
        picked.append(s)
    filler = iter(plain)
    out: list[str] = []
    for n, s in enumerate(picked, start=1):
        out.append(s)
        while sum(map(len, out)) < chars * n / len(picked) and (nxt := next(filler, None)):
            out.append(nxt)
    paragraphs = ["".join(out[i:i + 4]) for i in range(0, len(out), 4)]
    return "\n\n".join(paragraphs)


def bench_check(settings, row: Callable[[str, str], None], section: Callable[[str], None],
                runs: int = 3) -> None:
    """Splitting figures, then the time to check a ~1,500-character draft."""
    import time

    from ..check.draft import check_draft
    from ..ingest.indexer import ingest
    from ..pipeline import Assistant
    from ..search.index import Index

    section("draft check: claim splitting on eval/claim_drafts.jsonl")
    for split in ("tune", "test", None):
        s = score_split(split=split)
        row(f"{split or 'all'} ({s.drafts} drafts)",
            f"claims found {s.found}/{s.claims} ({s.recall:.0%}); "
            f"non-claims checked {s.wrongly_checked}/{s.non_claims} ({s.false_share:.0%})")
    section(f"draft check speed: bundled corpus, model {settings.embed_model}")
    with tempfile.TemporaryDirectory() as tmp:
        s = settings.with_(index_dir=Path(tmp) / "index")
        ingest([ROOT / "corpus"], s, progress=False)
        assistant = Assistant(Index.load(s.index_dir), _embedder(s), s)
        assistant.warm_up()
        draft = bench_draft(assistant.index.articles.values())
        times = []  # the first run tags the draft's sentences; later ones find them cached
        for _ in range(runs):
            t0 = time.perf_counter()
            result = check_draft(assistant, draft)
            times.append(time.perf_counter() - t0)
        row("draft", f"{len(draft):,} characters, {len(result.claims)} claims "
            f"({', '.join(f'{k} {v}' for k, v in result.counts().items())})")
        row(f"check (split + verify), {runs} runs", f"first {times[0]:.2f} s, then "
            f"{', '.join(f'{t:.2f}' for t in times[1:])} s; split {result.timings_ms['split']:.0f} ms of the last")
        t0 = time.perf_counter()
        check_draft(assistant, draft, workers=1)
        row("check on one thread instead of two", f"{time.perf_counter() - t0:.2f} s")


def _embedder(settings):
    from ..embedding.embed import make_embedder

    return make_embedder(settings)
