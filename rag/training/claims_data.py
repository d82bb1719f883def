"""Claims made from validation news, to score ``rag verify`` where the answers are known.

From each validation news article (splits ``news_tune`` and ``news``, whose articles are
in the pooled index) one sentence with a number gives three kinds of claim:

- ``true``: the clause that holds its last number, with the clause before it, as printed;
- ``false_contrast``: the same words with that number swapped for another number the
  sentence states in an earlier clause (the hard score for the soft one);
- ``false_altered``: when there is no other number, the number changed (×2 + 3).

``python -m rag.training.claims_data`` verifies them all over the pooled index
(``rag train`` builds it in ``embeddings/train``) and prints the verdicts by kind.
"""

from __future__ import annotations

import argparse
import json
import re
from collections import Counter
from pathlib import Path

from .mrc_data import NOISE_ARTICLES, clause_index, validation_news

_DIGITS = re.compile(r"\d+(?:\.\d+)?")
_EDGES = "，,。；;：: "


def _altered(number: str) -> str:
    if "." in number:
        return f"{float(number) * 2 + 0.3:.{len(number.split('.')[1])}f}"
    return str(int(number) * 2 + 3)


def news_claims(bench_path: Path, n: int = NOISE_ARTICLES) -> list[dict]:
    """``{"id", "kind", "claim"}`` for the validation news articles, two per article: a true
    claim and a false one."""
    out: list[dict] = []
    for key, sentences in validation_news(bench_path, n):
        for sentence, breaks, values in sentences:
            clause_of = lambda c: clause_index(breaks, c)
            numbers = [c for c in values if c.kind == "NUM" and _DIGITS.search(c.text)]
            if not numbers:
                continue
            c = numbers[-1]
            k = clause_of(c)
            end = min([x - 1 for x in breaks if x > c.end] or [len(sentence)])
            if end - ([0] + breaks)[k] < 10:
                continue
            start = ([0] + breaks)[max(0, k - 1)]
            clause = sentence[start:end]
            true = clause.strip(_EDGES)
            at = c.start - start - (len(clause) - len(clause.lstrip(_EDGES)))  # where c stands in ``true``
            earlier = [o for o in numbers if clause_of(o) < k and _DIGITS.findall(o.text) != _DIGITS.findall(c.text)]
            if earlier:
                kind, value = "false_contrast", earlier[-1].text
            else:
                number = _DIGITS.search(c.text).group(0)
                kind, value = "false_altered", c.text.replace(number, _altered(number), 1)
            if true[at:at + len(c.text)] != c.text:  # the clause does not hold it where it stood
                continue
            out.append({"id": f"{key}:true", "kind": "true", "claim": true})
            out.append({"id": f"{key}:{kind}", "kind": kind, "claim": true[:at] + value + true[at + len(c.text):]})
            break
    return out


def score(claims: list[dict], assistant) -> dict:
    """Verdict counts by kind of claim, the share right (true: supported; false:
    contradicted) and the false claims marked supported."""
    from tqdm import tqdm

    counts: Counter = Counter()
    wrongly_supported = []
    for c in tqdm(claims, desc="verify claims", unit="claim", mininterval=10):
        verdict = assistant.verify(c["claim"]).verdict
        counts[(c["kind"], verdict)] += 1
        if c["kind"] != "true" and verdict == "supported":
            wrongly_supported.append(c["id"])
    right = sum(n for (kind, verdict), n in counts.items()
                if verdict == ("supported" if kind == "true" else "contradicted"))
    return {"claims": len(claims), "right": round(right / max(len(claims), 1), 4),
            "verdicts": {f"{kind} {verdict}": n for (kind, verdict), n in sorted(counts.items())},
            "false_supported": wrongly_supported}


def main(argv: list[str] | None = None) -> int:
    from ..pipeline import Assistant
    from ..settings import Settings

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--noise", default="../shared/bench/crud-news-11k.jsonl.gz")
    parser.add_argument("--work", default="embeddings/train", help="where rag train built the pooled index")
    args = parser.parse_args(argv)
    claims = news_claims(Path(args.noise))
    assistant = Assistant.open(Settings.load(index_dir=Path(args.work) / "index"), use_llm=False)
    print(json.dumps(score(claims, assistant), ensure_ascii=False, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
