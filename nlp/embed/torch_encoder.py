"""A sentence-transformers model on CPU in bfloat16, in length-bucketed batches.

On CPUs with native bfloat16 arithmetic (AVX-512 BF16, AMX) torch's oneDNN
kernels run bfloat16 matrix products about twice as fast as float32, and the
vectors stay within cosine ~0.9999 of float32 (bfloat16 keeps float32's
exponent range, so BERT's activation outliers survive; int8 does not).
Without native support bfloat16 is emulated and slow: :func:`cpu_has_bf16`
gates it.

Texts are grouped by token count (:func:`nlp.embed.onnx_encoder.length_buckets`)
so short texts are not padded to the longest; ``SentenceTransformer.encode``
sorts by *characters*, which for Korean next to English is a poor proxy.

Examples:
    >>> isinstance(cpu_has_bf16(), bool)
    True
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from nlp.embed.local import Matrix, embedding_dimension, normalize_rows

__all__ = ["BucketedTorchEmbedder", "cpu_has_bf16"]

#: CPU flags (``/proc/cpuinfo``) that mean native bfloat16 matrix arithmetic.
_BF16_FLAGS = frozenset({"avx512_bf16", "amx_bf16"})


@functools.lru_cache(maxsize=1)
def cpu_has_bf16() -> bool:
    """True when this CPU computes bfloat16 natively (Linux ``/proc/cpuinfo`` flags)."""
    try:
        text = Path("/proc/cpuinfo").read_text(encoding="ascii", errors="replace")
    except OSError:
        return False
    for line in text.splitlines():
        if line.startswith("flags"):
            return bool(_BF16_FLAGS & set(line.split(":", 1)[-1].split()))
    return False


class BucketedTorchEmbedder:
    """``SentenceTransformer.encode`` one token-length bucket at a time.

    Args:
        st: the loaded model (its weights in the dtype to run).
        model: the model's name for results.
        runtime: ``"torch-bf16"`` or ``"torch"`` (part of :attr:`cache_id`).
    """

    device = "cpu"

    def __init__(self, st: Any, model: str, runtime: str) -> None:
        self._st = st
        self.model = model
        self.runtime = runtime
        self.cache_id = f"{model}+{runtime}"
        self.dimensions = embedding_dimension(st)

    def encode(self, texts: Sequence[str]) -> Matrix:
        from nlp.embed.onnx_encoder import length_buckets

        out = np.zeros((len(texts), self.dimensions), dtype=np.float32)
        if not texts:
            return out
        ids = self._st.tokenizer(list(texts), truncation=True, max_length=self._st.max_seq_length)["input_ids"]
        for batch in length_buckets([len(x) for x in ids]):
            vecs = self._st.encode([texts[i] for i in batch], batch_size=len(batch), convert_to_numpy=False,
                                   convert_to_tensor=True, show_progress_bar=False)
            out[batch] = vecs.float().cpu().numpy()
        return normalize_rows(out)
