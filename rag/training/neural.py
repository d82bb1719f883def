"""`rag train --reader neural`: fine-tune e5-small's top layers as a span reader, on CPU.

1. Items: CMRC 2018 dev and DRCD (simplified) questions with their answer offsets,
   plus cloze questions about bench news articles (``mrc_data.synthetic_news``).
   ``cmrc2018_trial.json`` is never trained on: its tune half scores checkpoints.
2. Windows, built by the assistant's own window code (``rag.answer.windows``): one
   around the answer's sentence (with 0–2 sentences before it, chosen by hash), and
   no-answer windows: another stretch of the same context, and a paragraph of the
   same article (same topic, no answer) that lacks every gold answer.
3. The frozen bottom layers run once over every window; their output is cached
   (float16, a memory-mapped file), resumable by rows.
4. The top layers and the head train with AdamW (linear warm-up and decay, no
   dropout: for a seed, the data order and so the weights are fixed). A checkpoint
   (trained tensors, optimiser, position) is written every ``checkpoint_s`` seconds
   and at each epoch's end; ``--resume`` continues from the last one.
5. ``export`` writes the trained tensors (``rag/answer/models/span-reader.safetensors``)
   and their sha256 into ``span-reader.json``.
"""

from __future__ import annotations

import hashlib
import json
import math
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from ..answer.windows import MAX_TOKENS, PAD, Window, build_window, sentence_at, tokenize
from ..evaluation.metrics import cmrc_em, cmrc_f1
from ..ingest.sentences import split_sentences
from .mrc_data import load, noise_articles, stable_fraction, synthetic_news


@dataclass(frozen=True)
class Config:
    frozen: int = 9  # bottom layers kept as converted (of 12)
    max_tokens: int = MAX_TOKENS
    batch: int = 32
    lr: float = 1.5e-4
    weight_decay: float = 0.01
    warmup: float = 0.05  # share of the steps
    epochs: int = 2
    seed: int = 7
    max_span_tokens: int = 40
    checkpoint_s: float = 600.0
    limit: int = 0  # train on the first N items only (pilots, tests); 0 = all
    news: bool = True  # include the news cloze questions


@dataclass(frozen=True)
class Item:
    id: str
    question: str
    title: str
    context: str
    answers: tuple[str, ...]
    start: int  # the answer's offset in context
    article: str  # contexts of one article share this key
    split: str


def load_items(train_dir: Path, bench: Path, news: bool = True) -> list[Item]:
    """Every question with its context and answer offset, in a fixed order."""
    contexts, questions = load(train_dir)
    by_id = {c.id: c for c in contexts}
    items = []
    for q in questions:
        c = by_id[q.context_id]
        start = q.starts[0] if q.starts else c.text.find(q.answers[0])
        if start < 0:
            continue
        items.append(Item(q.id, q.question, c.title, c.text, q.answers, start,
                          c.id.rsplit("-", 1)[0], q.split))
    if news:
        rows = {f"noise-{i}": row for i, row in enumerate(noise_articles(bench, 3000))}
        for q in synthetic_news(bench):
            row = rows.get(q.context_id)
            text = (row or {}).get("text") or ""
            start = text.find(q.answers[0])
            if start >= 0:
                items.append(Item(q.id, q.question, row.get("headline") or "", text, q.answers, start,
                                  q.context_id, "news_train" if q.split == "train" else q.split))
    return items


def _pick(key: str, n: int) -> int:
    return int(stable_fraction(key) * n) % max(n, 1)


def windows_for(item: Item, tok, cache: dict, siblings: list[Item], max_tokens: int):
    """(window, start_token, end_token) triples for one item: the answer window and up
    to two no-answer windows (start = end = 0)."""
    def prepared(text: str):
        if text not in cache:
            cache[text] = (tokenize(tok, text), split_sentences(text))
        return cache[text]

    q, title = tokenize(tok, item.question), tokenize(tok, item.title)
    text, sents = prepared(item.context)
    if not sents:
        return []
    end = item.start + len(item.answers[0])
    center = sentence_at(sents, item.start)
    out = []
    w = build_window(q, title, text, sents, center, before=_pick("before:" + item.id, 3), focus=item.start,
                     max_tokens=max_tokens)
    a, b = w.token_at(item.start), w.token_at(end, end=True)
    if a is not None and b is not None and a <= b:
        out.append((w, w.body_first + a, w.body_first + b))

    def lacks(w: Window, context: str) -> bool:
        stretch = context[w.start:w.end]
        return bool(w.offsets) and not any(ans in stretch for ans in item.answers)

    far = [i for i in range(len(sents)) if abs(i - center) >= 3]
    if far:
        i = far[_pick("far:" + item.id, len(far))]
        w = build_window(q, title, text, sents, i, before=0, max_tokens=max_tokens)
        if lacks(w, item.context):
            out.append((w, 0, 0))
    others = [s for s in siblings if s.context != item.context]
    if others:
        other = others[_pick("sibling:" + item.id, len(others))]
        otext, osents = prepared(other.context)
        if osents:
            i = _pick("sibling-sentence:" + item.id, len(osents))
            w = build_window(q, tokenize(tok, other.title), otext, osents, i, before=1, max_tokens=max_tokens)
            if lacks(w, other.context):
                out.append((w, 0, 0))
    return out


def build_samples(items: list[Item], tok, max_tokens: int):
    """Padded ids (n, max_tokens) int32, lengths, body starts, start and end labels."""
    from tqdm import tqdm

    by_article: dict[str, list[Item]] = {}
    for it in items:
        by_article.setdefault(it.article, []).append(it)
    # One context per article stands for its paragraphs as siblings (distinct contexts).
    siblings = {k: list({it.context: it for it in v}.values()) for k, v in by_article.items()}
    cache: dict = {}
    rows = []
    for it in tqdm(items, desc="windows", unit="q", mininterval=5):
        for w, s, e in windows_for(it, tok, cache, siblings[it.article], max_tokens):
            rows.append((w.ids, w.body_first, s, e))
    n = len(rows)
    ids = np.full((n, max_tokens), PAD, np.int32)
    lengths = np.zeros(n, np.int32)
    body = np.zeros(n, np.int32)
    labels = np.zeros((n, 2), np.int32)
    for r, (w_ids, first, s, e) in enumerate(rows):
        ids[r, :len(w_ids)] = w_ids
        lengths[r], body[r], labels[r] = len(w_ids), first, (s, e)
    return ids, lengths, body, labels


def span_mask(lengths, body, width: int):
    """Positions a span may start or end at: ``<s>`` (no answer) and body tokens (not the last ``</s>``)."""
    pos = np.arange(width)[None, :]
    ok = (pos >= body[:, None]) & (pos < lengths[:, None] - 1)
    ok[:, 0] = True
    return ok


def best_spans(start, end, ok, max_span: int):
    """Per row: (best span score, first, last) over allowed body positions, and the no-answer score."""
    n, width = start.shape
    neg = -1e9
    s = np.where(ok, start, neg)
    e = np.where(ok, end, neg)
    s[:, 0] = neg
    e[:, 0] = neg
    scores = s[:, :, None] + e[:, None, :]
    i, j = np.triu_indices(width)
    keep = (j - i) < max_span
    flat = np.full((n, width, width), neg, np.float32)
    flat[:, i[keep], j[keep]] = scores[:, i[keep], j[keep]]
    best = flat.reshape(n, -1).argmax(1)
    first, last = np.divmod(best, width)
    return flat.reshape(n, -1)[np.arange(n), best], first, last, start[:, 0] + end[:, 0]


def export_onnx_int8(fn, outputs: list[str], path: Path, cfg: dict) -> None:
    """``fn(input_ids, attention_mask)`` exported to ONNX and quantized to int8 as the embedder is."""
    import tempfile
    import warnings

    import torch

    from ..embedding.e5onnx import quantize_int8

    class Wrapped(torch.nn.Module):
        def forward(self, input_ids, attention_mask):
            return fn(input_ids, attention_mask)

    ids = torch.tensor([[0, 6, 2, 1], [0, 6, 77698, 2]])
    dyn = {0: "batch", 1: "sequence"}
    with tempfile.TemporaryDirectory(dir=path.parent) as tmp:
        fp32 = Path(tmp) / "fp32.onnx"
        with torch.no_grad(), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            torch.onnx.export(Wrapped(), (ids, (ids != PAD).long()), str(fp32),
                              input_names=["input_ids", "attention_mask"], output_names=outputs,
                              dynamic_axes={"input_ids": dyn, "attention_mask": dyn, **{o: dyn for o in outputs}},
                              opset_version=17, dynamo=False, external_data=False)
        quantize_int8(fp32, Path(tmp) / "int8.onnx", cfg["hidden_size"], cfg["intermediate_size"])
        (Path(tmp) / "int8.onnx").replace(path)


class Trainer:
    """Holds the work folder: samples, the frozen layers' cache, checkpoints."""

    def __init__(self, work: Path, train_dir: Path, bench: Path, config: Config):
        self.work, self.train_dir, self.bench, self.config = Path(work), Path(train_dir), Path(bench), config
        self.work.mkdir(parents=True, exist_ok=True)

    # -- data --------------------------------------------------------------------------
    def _key(self) -> str:
        c = self.config
        return hashlib.sha1(json.dumps([c.max_tokens, c.limit, c.news, c.frozen, 2]).encode()).hexdigest()[:10]

    def samples(self, tok):
        path = self.work / f"samples-{self._key()}.npz"
        if path.exists():
            z = np.load(path)
            return z["ids"], z["lengths"], z["body"], z["labels"]
        items = [it for it in load_items(self.train_dir, self.bench, self.config.news)
                 if it.split in ("train", "news_train")]
        if self.config.limit:
            items = items[:self.config.limit]
        ids, lengths, body, labels = build_samples(items, tok, self.config.max_tokens)
        np.savez(path.with_suffix(".tmp.npz"), ids=ids, lengths=lengths, body=body, labels=labels)
        path.with_suffix(".tmp.npz").replace(path)
        return ids, lengths, body, labels

    def lower_runner(self, model):
        """The frozen layers as int8 ONNX (as the assistant runs them): about five times
        faster than float32 torch on two cores, and the top layers learn from what they will see."""
        import onnxruntime as ort

        path = self.work / f"lower-{self._key()}.onnx"
        if not path.exists():
            export_onnx_int8(lambda ids, mask: model.lower(ids, mask), ["hidden"], path, model.cfg)
        opts = ort.SessionOptions()
        opts.intra_op_num_threads, opts.inter_op_num_threads = 2, 1
        session = ort.InferenceSession(str(path), opts, providers=["CPUExecutionProvider"])
        return lambda ids, mask: session.run(None, {"input_ids": ids, "attention_mask": mask})[0]

    def lower_cache(self, model, ids, lengths, batch: int = 32):
        """The frozen layers' output for every window (float16 memmap), computed once, resumably."""
        from tqdm import tqdm

        n, width = ids.shape
        H = model.cfg["hidden_size"]
        path = self.work / f"lower-{self._key()}.f16"
        done_path = self.work / f"lower-{self._key()}.done"
        mode = "r+" if path.exists() else "w+"
        cache = np.memmap(path, np.float16, mode, shape=(n, width, H))
        done = int(done_path.read_text()) if done_path.exists() else 0
        if done < n:
            run = self.lower_runner(model)
            with tqdm(total=n, initial=done, desc="frozen layers", unit="window", mininterval=5) as bar:
                for a in range(done, n, batch):
                    b = min(n, a + batch)
                    L = int(lengths[a:b].max())
                    x = ids[a:b, :L].astype(np.int64)
                    cache[a:b, :L] = run(x, (x != PAD).astype(np.int64)).astype(np.float16)
                    cache.flush()
                    done_path.write_text(str(b))
                    bar.update(b - a)
        return np.memmap(path, np.float16, "r", shape=(n, width, H))

    # -- checkpoints -------------------------------------------------------------------
    def checkpoint_path(self) -> Path:
        return self.work / "checkpoint.pt"

    def save(self, model, opt, sched, epoch: int, step: int, history: list) -> None:
        import torch

        tmp = self.checkpoint_path().with_suffix(".tmp")
        torch.save({"model": model.delta_state(), "opt": opt.state_dict(), "sched": sched.state_dict(),
                    "epoch": epoch, "step": step, "config": asdict(self.config), "history": history}, tmp)
        tmp.replace(self.checkpoint_path())

    # -- training ----------------------------------------------------------------------
    def train(self, st_folder: Path, tok, resume: bool = False, log=print):
        import torch

        c = self.config
        torch.manual_seed(c.seed)
        from .span_model import make_span_model

        model = make_span_model(st_folder, c.frozen, seed=c.seed)
        ids, lengths, body, labels = self.samples(tok)
        n = len(ids)
        log(f"{n} windows ({int((labels[:, 0] > 0).sum())} with an answer)")
        lower = self.lower_cache(model, ids, lengths)
        ok_all = span_mask(lengths, body, ids.shape[1])
        steps_per_epoch = math.ceil(n / c.batch)
        total = steps_per_epoch * c.epochs
        params = [p for p in model.parameters()]
        opt = torch.optim.AdamW(params, lr=c.lr, weight_decay=c.weight_decay)
        warm = max(1, int(total * c.warmup))
        sched = torch.optim.lr_scheduler.LambdaLR(
            opt, lambda s: min((s + 1) / warm, max(0.0, (total - s) / max(1, total - warm))))
        epoch, step, history = 0, 0, []
        if resume and self.checkpoint_path().exists():
            state = torch.load(self.checkpoint_path(), weights_only=False)
            if state["config"] != asdict(c):
                raise SystemExit(f"{self.checkpoint_path()} was trained with other settings; "
                                 "remove it or run with the same ones")
            model.load_delta(state["model"])
            opt.load_state_dict(state["opt"])
            sched.load_state_dict(state["sched"])
            epoch, step, history = state["epoch"], state["step"], state["history"]
            log(f"resumed at epoch {epoch + 1}, step {step}/{steps_per_epoch}")
        last_save = time.monotonic()
        t0 = time.monotonic()
        while epoch < c.epochs:
            order = np.random.RandomState(c.seed + epoch).permutation(n)
            running = []
            while step < steps_per_epoch:
                rows = np.sort(order[step * c.batch:(step + 1) * c.batch])
                L = int(lengths[rows].max())
                x = torch.from_numpy(np.asarray(lower[rows, :L], dtype=np.float32))
                mask = torch.from_numpy((ids[rows, :L] != PAD).astype(np.int64))
                ok = torch.from_numpy(ok_all[rows, :L])
                s, e = model.upper(x, mask)
                s = s.masked_fill(~ok, -1e4)
                e = e.masked_fill(~ok, -1e4)
                y = torch.from_numpy(labels[rows].astype(np.int64))
                loss = (torch.nn.functional.cross_entropy(s, y[:, 0])
                        + torch.nn.functional.cross_entropy(e, y[:, 1])) / 2
                loss.backward()
                torch.nn.utils.clip_grad_norm_(params, 1.0)
                opt.step()
                sched.step()
                opt.zero_grad(set_to_none=True)
                step += 1
                running.append(float(loss.detach()))
                if step % 50 == 0:
                    rate = (time.monotonic() - t0) / 50
                    t0 = time.monotonic()
                    log(f"epoch {epoch + 1} step {step}/{steps_per_epoch} loss {np.mean(running[-50:]):.3f} "
                        f"({rate:.2f} s/step)")
                if time.monotonic() - last_save >= c.checkpoint_s:
                    self.save(model, opt, sched, epoch, step, history)
                    last_save = time.monotonic()
            history.append({"epoch": epoch + 1, "loss": float(np.mean(running)) if running else None})
            epoch, step = epoch + 1, 0
            self.save(model, opt, sched, epoch, step, history)
            torch.save(model.delta_state(), self.work / f"epoch-{epoch}.pt")
            last_save = time.monotonic()
            log(f"epoch {epoch} done: {history[-1]}")
        return model, history


# -- own-context validation (CMRC's EM/F1) ---------------------------------------------

def context_windows(tok, question: str, title: str, context: str, max_tokens: int) -> list[Window]:
    """Windows covering a whole context, each overlapping the previous by a sentence."""
    text, sents = tokenize(tok, context), split_sentences(context)
    q, t = tokenize(tok, question), tokenize(tok, title)
    out: list[Window] = []
    i = 0
    while i < len(sents):
        w = build_window(q, t, text, sents, i, before=1 if out else 0, max_tokens=max_tokens)
        out.append(w)
        covered = sentence_at(sents, max(w.end - 1, w.start))
        i = max(i + 1, covered + 1)
    return out


def read_windows(run, windows: list[Window], batch: int = 16):
    """Start/end logits of each window through ``run(ids, mask) -> (start, end)`` (numpy)."""
    outs = []
    for a in range(0, len(windows), batch):
        chunk = windows[a:a + batch]
        width = max(len(w.ids) for w in chunk)
        ids = np.full((len(chunk), width), PAD, np.int64)
        for r, w in enumerate(chunk):
            ids[r, :len(w.ids)] = w.ids
        s, e = run(ids, (ids != PAD).astype(np.int64))
        for r, w in enumerate(chunk):
            outs.append((w, s[r, :len(w.ids)], e[r, :len(w.ids)]))
    return outs


def answer_in_windows(read: list, max_span: int):
    """The best span over windows: (text start, text end, span score, no-answer score) or None."""
    best = None
    null = -1e9
    for w, s, e in read:
        lengths = np.array([len(w.ids)])
        ok = span_mask(lengths, np.array([w.body_first]), len(w.ids))
        score, first, last, no = best_spans(s[None], e[None], ok, max_span)
        null = max(null, float(no[0]))
        if len(w.offsets) and (best is None or score[0] > best[2]):
            a, b = w.chars(int(first[0]) - w.body_first, int(last[0]) - w.body_first)
            best = (a, b, float(score[0]))
    return (*best, null) if best else None


def torch_runner(model):
    import torch

    def run(ids, mask):
        with torch.no_grad():
            s, e = model(torch.from_numpy(ids), torch.from_numpy(mask))
        return s.numpy(), e.numpy()
    return run


def own_context_scores(run, tok, items: list[Item], max_tokens: int, max_span: int) -> dict:
    """CMRC EM / F1 with each question read against its own context."""
    from tqdm import tqdm

    em = f1 = 0.0
    for it in tqdm(items, desc="own-context EM/F1", unit="q", mininterval=10):
        found = answer_in_windows(read_windows(run, context_windows(tok, it.question, it.title, it.context,
                                                                    max_tokens)), max_span)
        pred = it.context[found[0]:found[1]] if found else ""
        em += cmrc_em(pred, it.answers)
        f1 += cmrc_f1(pred, it.answers)
    n = max(len(items), 1)
    return {"questions": len(items), "em": round(100 * em / n, 2), "f1": round(100 * f1 / n, 2)}


def run_neural(train_dir: Path, bench: Path, work: Path, config: Config, resume: bool, cache_dir: Path) -> None:
    """Train (or continue training) the span reader in ``work``."""
    from tokenizers import Tokenizer

    from ..embedding.e5model import ensure_e5_model

    st_folder = ensure_e5_model(cache_dir)
    tok = Tokenizer.from_file(str(st_folder / "tokenizer.json"))
    trainer = Trainer(work, train_dir, bench, config)
    log_path = Path(work) / "train.log"

    def log(line: str) -> None:
        stamped = f"{time.strftime('%Y-%m-%d %H:%M:%S')} {line}"
        print(stamped, flush=True)
        with log_path.open("a", encoding="utf-8") as fh:
            fh.write(stamped + "\n")

    log(f"config {json.dumps(asdict(config))}")
    trainer.train(st_folder, tok, resume=resume, log=log)
