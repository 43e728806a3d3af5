"""A sentence-transformers model run by ONNX Runtime on CPU: exported, fused, int8 where safe.

What it does to a ``SentenceTransformer`` made of ``Transformer -> Pooling
(mean or cls) -> [Normalize]``:

1. exports the transformer with ``torch.onnx.export`` (eager attention, so
   ONNX Runtime's BERT optimizer can fuse attention, layer norms and GELU);
2. quantises the weights (int8 ``quantize_dynamic`` and/or 8-bit block-wise
   ``MatMulNBits``) following the first recipe of :data:`RECIPES` whose vectors
   stay within :data:`MIN_COSINE` (+ :data:`CALIBRATION_MARGIN`) of plain
   ``SentenceTransformer.encode`` on :data:`CALIBRATION_TEXTS`; the float32
   graph when none does;
3. runs length-bucketed batches: texts sorted by token count, batches capped
   by padded tokens, so short texts are not padded to the longest.

The files land in ``cache_dir/<fingerprint>/`` (the fingerprint covers the
weights, the library versions and this recipe list); pool processes that
start together take a file lock, so one exports and the others read.

No ``optimum``: its ONNX exporter pins ``transformers`` below what
sentence-transformers 6 needs (pip would silently downgrade it).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import tempfile
import warnings
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from nlp.embed.local import Matrix, embedding_dimension, normalize_rows
from nlp.errors import ModelError

__all__ = ["CALIBRATION_TEXTS", "MIN_COSINE", "RECIPES", "OnnxEmbedder", "build_onnx_embedder", "length_buckets"]

log = logging.getLogger(__name__)

#: Every vector must stay this close (cosine) to plain ``SentenceTransformer.encode``'s.
MIN_COSINE = 0.995

#: Head room over :data:`MIN_COSINE` on the calibration texts, for texts it has not seen.
CALIBRATION_MARGIN = 0.001

#: Padded tokens per forward pass: enough to keep the matrix kernels busy; on MiniLM (bf16, one core)
#: 2,048 beat 4,096 by ~7 % and 8,192 by ~20 % (bigger batches leave the L2 cache).
TOKENS_PER_BATCH = 2048

#: Texts per forward pass at most (short texts).
MAX_BATCH = 32

#: Bumped when the export or the recipes change (invalidates cached files).
EXPORT_VERSION = "2"

#: ONNX opset: supported by the torch exporter and ONNX Runtime's fusions.
OPSET = 17


@dataclass(frozen=True)
class Recipe:
    """One way to quantise the float32 graph.

    Args:
        name: shown as the runtime (``onnx-<name>``) and in cache ids.
        dynamic_ops: op types quantised by ``quantize_dynamic`` (int8 weights,
            activations quantised per tensor at run time: fast, coarse).
        block_size: when set, the remaining ``MatMul`` weights become 8-bit
            ``MatMulNBits`` with one scale per ``block_size`` weights and
            activations quantised per block (accuracy level 4): close to
            float32, faster than it.
    """

    name: str
    dynamic_ops: tuple[str, ...] = ()
    block_size: int | None = None


#: Quantisation recipes, fastest first; the first within the cosine bound wins.
#: All-dynamic int8 is ~2.5x plain encode but per-tensor activation scales flatten the
#: post-GELU outliers (min cosine ~0.984 on MiniLM); block-wise 8-bit keeps them.
RECIPES: tuple[Recipe, ...] = (
    Recipe("int8", dynamic_ops=("MatMul", "Attention")),
    Recipe("int8attn-w8b256", dynamic_ops=("Attention",), block_size=256),
    Recipe("w8b256", block_size=256),
    Recipe("w8b32", block_size=32),
)

#: Korean, English and mixed sentences of 5-40 words, like the academy's texts.
CALIBRATION_TEXTS: tuple[str, ...] = (
    "삼각형의 넓이를 구하는 공식은 무엇인가요?",
    "이차방정식 x^2 - 5x + 6 = 0 의 두 근을 구하시오.",
    "다음 글을 읽고 글쓴이의 주장으로 가장 알맞은 것을 고르시오.",
    "함수 f(x) = 2x + 3 의 그래프가 지나는 점을 모두 고르면?",
    "학생들은 시험 전날 밤에 오답 노트를 다시 보면서 틀린 문제를 복습했다.",
    "영어 단어 시험에서 철자를 틀리지 않으려면 매일 소리 내어 읽는 것이 좋다.",
    "수열의 일반항을 구하고 첫째항부터 제10항까지의 합을 계산하시오.",
    "빛의 굴절과 반사의 차이를 예를 들어 설명하시오.",
    "조선 후기 실학자들이 주장한 개혁안의 공통점은 무엇인가?",
    "원의 반지름이 3cm일 때 둘레와 넓이를 각각 구하여라.",
    "What is the formula for the area of a triangle?",
    "Find both roots of the quadratic equation x squared minus five x plus six equals zero.",
    "Read the passage and choose the sentence that best states the author's main claim.",
    "Students reviewed their wrong-answer notes the night before the final exam.",
    "Explain the difference between refraction and reflection of light with an example.",
    "The teacher asked everyone to submit the homework before Friday afternoon.",
    "Which of the following numbers is a prime number greater than twenty?",
    "Photosynthesis converts light energy into chemical energy stored in glucose.",
    "다음 중 photosynthesis 과정에서 만들어지는 물질은 무엇인가요?",
    "vocabulary test 에서 가장 많이 틀린 단어는 necessary 와 separate 였다.",
    "이번 midterm exam 범위는 chapter 3 부터 chapter 5 까지입니다.",
    "quadratic equation 의 판별식 D 가 0보다 작으면 실근이 없다.",
    "오늘 math class 에서는 probability 와 경우의 수를 배웠다.",
    "reading comprehension 문제에서 main idea 를 찾는 연습을 하자.",
    "짧은 문장",
    "short one",
    "학원 수업은 월요일과 수요일 오후 네 시에 시작하며 결석할 경우 미리 선생님께 알려야 하고 보강 수업은 "
    "토요일 오전에 열리며 숙제는 매주 금요일까지 온라인으로 제출해야 합니다.",
    "The academy runs classes on Monday and Wednesday afternoons, and students who miss a class must tell the "
    "teacher in advance, attend the make-up session on Saturday morning, and hand in homework online by Friday.",
)


def length_buckets(lengths: Sequence[int], *, tokens_per_batch: int = TOKENS_PER_BATCH,
                   max_batch: int = MAX_BATCH) -> list[list[int]]:
    """Indices grouped into batches of similar length (padded size capped).

    Examples:
        >>> length_buckets([5, 100, 6, 99], tokens_per_batch=200)
        [[0, 2], [3, 1]]
        >>> length_buckets([])
        []
    """
    order = sorted(range(len(lengths)), key=lambda i: lengths[i])
    batches: list[list[int]] = []
    current: list[int] = []
    for i in order:
        longest = max(lengths[i], 1)  # sorted ascending: the newcomer is the longest
        if current and ((len(current) + 1) * longest > tokens_per_batch or len(current) >= max_batch):
            batches.append(current)
            current = []
        current.append(i)
    if current:
        batches.append(current)
    return batches


class OnnxEmbedder:
    """Encodes with an ONNX Runtime session and the model's own tokenizer.

    Args:
        path: the ``.onnx`` file (outputs ``last_hidden_state``).
        tokenizer: the Hugging Face fast tokenizer of the model.
        pooling: ``"mean"`` or ``"cls"``.
        max_seq_length: tokens kept per text (longer texts are truncated, as
            sentence-transformers does).
        threads: ONNX Runtime intra-op threads (``None``: all cores).
        model: the model's name; ``runtime``: e.g. ``"onnx-int8"``.
    """

    device = "cpu"

    def __init__(self, path: Path, tokenizer: Any, *, pooling: str, max_seq_length: int, dimensions: int,
                 threads: int | None, model: str, runtime: str) -> None:
        import onnxruntime as ort

        options = ort.SessionOptions()
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        options.inter_op_num_threads = 1
        if threads:
            options.intra_op_num_threads = threads
        self._session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
        self._inputs = [i.name for i in self._session.get_inputs()]
        self._tokenizer = tokenizer
        self._pooling = pooling
        self._max_len = int(max_seq_length)
        self.dimensions = int(dimensions)
        self.model = model
        self.runtime = runtime
        self.cache_id = f"{model}+{runtime}"

    def encode(self, texts: Sequence[str]) -> Matrix:
        out = np.zeros((len(texts), self.dimensions), dtype=np.float32)
        if not texts:
            return out
        enc = self._tokenizer(list(texts), truncation=True, max_length=self._max_len, padding=False)
        ids: list[list[int]] = enc["input_ids"]
        for batch in length_buckets([len(x) for x in ids]):
            width = max(len(ids[i]) for i in batch)
            feed: dict[str, Any] = {}
            for name in self._inputs:
                rows = np.zeros((len(batch), width), dtype=np.int64)
                for r, i in enumerate(batch):
                    seq = enc[name][i] if name != "attention_mask" else [1] * len(ids[i])
                    rows[r, : len(seq)] = seq
                if name == "input_ids" and self._tokenizer.pad_token_id:
                    mask = np.arange(width)[None, :] >= np.array([len(ids[i]) for i in batch])[:, None]
                    rows[mask] = self._tokenizer.pad_token_id
                feed[name] = rows
            hidden = self._session.run(None, feed)[0]
            if self._pooling == "cls":
                pooled = hidden[:, 0, :]
            else:
                mask_f = (np.arange(width)[None, :] < np.array([len(ids[i]) for i in batch])[:, None])
                weights = mask_f[..., None].astype(np.float32)
                pooled = (hidden * weights).sum(axis=1) / np.maximum(weights.sum(axis=1), 1e-9)
            out[batch] = pooled
        return normalize_rows(out)


# --- building ------------------------------------------------------------------------


def _pooling_of(st: Any) -> tuple[str, bool]:
    """(``"mean"``/``"cls"``, has Normalize) of a supported model; ModelError otherwise."""
    names = [type(m).__name__ for m in st]
    if len(names) < 2 or names[0] != "Transformer" or names[1] != "Pooling" or names[2:] not in ([], ["Normalize"]):
        raise ModelError("onnx_unsupported", f"modules {names} (ONNX path takes Transformer, Pooling[, Normalize])")
    cfg = st[1].get_config_dict()
    mode = cfg.get("pooling_mode")
    if mode is None:  # older configs: one flag per mode
        mode = "mean" if cfg.get("pooling_mode_mean_tokens") else "cls" if cfg.get("pooling_mode_cls_token") else None
    if mode not in ("mean", "cls"):
        raise ModelError("onnx_unsupported", f"pooling mode {mode!r} (ONNX path takes mean or cls)")
    return str(mode), len(names) == 3


def _fingerprint(st: Any, source: str) -> str:
    import onnxruntime
    import torch
    import transformers

    h = hashlib.sha256()
    h.update(json.dumps([EXPORT_VERSION, [asdict(r) for r in RECIPES], MIN_COSINE, CALIBRATION_MARGIN, source, torch.__version__,
                         transformers.__version__, onnxruntime.__version__]).encode())
    folder = Path(source)
    if folder.is_dir():  # a model folder updated in place gets new files: size and mtime of each
        for f in sorted(folder.rglob("*")):
            if f.is_file():
                stat = f.stat()
                h.update(f"{f.relative_to(folder)}:{stat.st_size}:{stat.st_mtime_ns}".encode())
    for name, tensor in sorted(st[0].auto_model.state_dict().items())[:4]:  # and a sample of the weights
        h.update(name.encode())
        h.update(np.ascontiguousarray(tensor.detach().cpu().float().numpy()).tobytes()[:65536])
    return h.hexdigest()[:20]


@contextlib.contextmanager
def _quiet() -> Iterator[None]:
    """Silence the exporter's and quantiser's warnings and root-logger chatter."""
    loggers = [logging.getLogger(), logging.getLogger("onnxruntime.quantization.matmul_nbits_quantizer")]
    levels = [lg.level for lg in loggers]
    for lg in loggers:
        lg.setLevel(logging.ERROR)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            yield
    finally:
        for lg, level in zip(loggers, levels, strict=True):
            lg.setLevel(level)


def _export(st: Any, path: Path) -> None:
    import torch

    hf = st[0].auto_model
    tok = st.tokenizer
    names = [n for n in ("input_ids", "attention_mask", "token_type_ids") if n in tok.model_input_names]
    with contextlib.suppress(Exception):  # eager attention lets ONNX Runtime fuse it; SDPA exports unfused
        hf.set_attn_implementation("eager")

    class _Wrapper(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.hf = hf

        def forward(self, *args: Any) -> Any:
            return self.hf(**dict(zip(names, args, strict=True))).last_hidden_state

    dummy = tok(["hello world", "안녕하세요 반갑습니다"], padding=True, return_tensors="pt")
    axes = {n: {0: "batch", 1: "tokens"} for n in [*names, "last_hidden_state"]}
    with _quiet(), torch.no_grad():
        torch.onnx.export(_Wrapper().eval(), tuple(dummy[n] for n in names), str(path), input_names=names,
                          output_names=["last_hidden_state"], dynamic_axes=axes, opset_version=OPSET, dynamo=False)
    cfg = hf.config
    try:
        from onnxruntime.transformers import optimizer

        with _quiet():
            opt = optimizer.optimize_model(str(path), model_type="bert", num_heads=int(cfg.num_attention_heads),
                                           hidden_size=int(cfg.hidden_size))
            opt.save_model_to_file(str(path))
    except Exception:  # not BERT-shaped: ONNX Runtime's own graph optimisations still apply
        log.info("ONNX Runtime's BERT fusion does not apply to %s; kept the plain export", type(hf).__name__)


def _quantize(src: Path, dst: Path, recipe: Recipe) -> bool:
    """Write ``src`` quantised by ``recipe`` to ``dst``; ``False`` when the recipe cannot run here."""
    import onnx
    from onnxruntime.quantization import QuantType, quantize_dynamic

    current = src
    with _quiet():
        if recipe.dynamic_ops:
            quantize_dynamic(str(src), str(dst), weight_type=QuantType.QInt8, per_channel=True,
                             op_types_to_quantize=list(recipe.dynamic_ops),
                             extra_options={"DefaultTensorType": 1})  # 1 = FLOAT: fused ops defeat shape inference
            current = dst
        if recipe.block_size:
            try:
                from onnxruntime.quantization.matmul_nbits_quantizer import MatMulNBitsQuantizer
            except ImportError:  # needs onnx-ir
                return False
            quantizer = MatMulNBitsQuantizer(onnx.load(str(current)), bits=8, block_size=recipe.block_size,
                                             is_symmetric=True, accuracy_level=4)
            quantizer.process()
            quantizer.model.save_model_to_file(str(dst), False)
    return True


def build_onnx_embedder(st: Any, model: str, *, source: str = "", threads: int | None = None,
                        allow_int8: bool = True, cache_dir: Path | None = None) -> OnnxEmbedder:
    """Export (once per fingerprint), calibrate and load ``st`` for ONNX Runtime.

    Args:
        st: a loaded ``SentenceTransformer`` (CPU).
        model: its name for results.
        source: where it was loaded from (part of the fingerprint).
        threads: intra-op threads (``None``: all cores).
        allow_int8: ``False`` keeps float32.
        cache_dir: where exports live; ``None``: ``<tmp>/ai-worker-onnx``.

    Raises:
        ModelError: ``onnx_unsupported`` / ``onnx_export_failed``.
    """
    pooling, _ = _pooling_of(st)
    root = (cache_dir or Path(tempfile.gettempdir()) / "ai-worker-onnx") / _fingerprint(st, source or model)
    root.mkdir(parents=True, exist_ok=True)
    meta_path = root / ("meta.json" if allow_int8 else "meta-fp32.json")
    common = dict(pooling=pooling, max_seq_length=st.max_seq_length,
                  dimensions=embedding_dimension(st), threads=threads, model=model)
    try:
        with _locked(root / ".lock"):
            if not meta_path.exists():
                _build(st, root, meta_path, allow_int8, common)
        meta = json.loads(meta_path.read_text())
    except ModelError:
        raise
    except Exception as exc:
        raise ModelError("onnx_export_failed", f"{type(exc).__name__}: {exc}"[:500]) from exc
    log.info("ONNX %s: %s (calibration min cosine %.4f)", model, meta["runtime"], meta["min_cosine"])
    return OnnxEmbedder(root / meta["file"], st.tokenizer, runtime=meta["runtime"], **common)


def _build(st: Any, root: Path, meta_path: Path, allow_int8: bool, common: dict[str, Any]) -> None:
    fp32 = root / "model.onnx"
    if not fp32.exists():
        tmp = root / "model.onnx.tmp"
        _export(st, tmp)
        os.replace(tmp, fp32)
    reference = st.encode(list(CALIBRATION_TEXTS), convert_to_numpy=True, normalize_embeddings=True,
                          show_progress_bar=False)
    chosen = {"file": fp32.name, "runtime": "onnx-fp32", "min_cosine": _min_cos(fp32, st, reference, common)}
    if allow_int8:
        for recipe in RECIPES:
            path = root / f"model.{recipe.name}.onnx"
            if not _quantize(fp32, path, recipe):
                continue
            cos = _min_cos(path, st, reference, common)
            log.info("recipe %s: calibration min cosine %.4f", recipe.name, cos)
            if cos >= MIN_COSINE + CALIBRATION_MARGIN:
                chosen = {"file": path.name, "runtime": f"onnx-{recipe.name}", "min_cosine": cos}
                break
            path.unlink()
    tmp_meta = meta_path.with_suffix(".tmp")
    tmp_meta.write_text(json.dumps(chosen))
    os.replace(tmp_meta, meta_path)


def _min_cos(path: Path, st: Any, reference: Matrix, common: dict[str, Any]) -> float:
    emb = OnnxEmbedder(path, st.tokenizer, runtime="calibration", **common)
    return float((emb.encode(CALIBRATION_TEXTS) * reference).sum(axis=1).min())


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    import fcntl

    with open(path, "a+") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
