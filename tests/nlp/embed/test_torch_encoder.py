"""bfloat16 torch in token-length buckets: close to plain float32 encode (on CPUs with native bfloat16)."""

from __future__ import annotations

import numpy as np
import pytest

from nlp.embed.local import load_local_model
from nlp.embed.onnx_encoder import MIN_COSINE
from nlp.embed.torch_encoder import BucketedTorchEmbedder, cpu_has_bf16

TEXTS = [
    "",
    "삼각형의 넓이를 구하는 공식은 무엇인가요?",
    "What is the formula for the area of a triangle?",
    "이번 midterm exam 범위는 chapter 3 부터 5 까지",
    "학원 " * 300,
]


def test_float32_buckets_match_plain_encode() -> None:
    plain = load_local_model("all-MiniLM-L6-v2", runtime="torch")
    bucketed = BucketedTorchEmbedder(plain._st, plain.model, "torch")  # type: ignore[attr-defined]
    assert bucketed.encode([]).shape == (0, 384)
    np.testing.assert_allclose(bucketed.encode(TEXTS), plain.encode(TEXTS), atol=2e-5)


@pytest.mark.skipif(not cpu_has_bf16(), reason="this CPU has no native bfloat16 (it would be emulated, slowly)")
def test_bf16_stays_within_the_cosine_bound() -> None:
    half = load_local_model("all-MiniLM-L6-v2", runtime="torch-bf16")
    plain = load_local_model("all-MiniLM-L6-v2", runtime="torch")
    assert half.cache_id.endswith("+torch-bf16") and half.cache_id != plain.cache_id
    got, ref = half.encode(TEXTS), plain.encode(TEXTS)
    np.testing.assert_allclose(np.linalg.norm(got, axis=1), 1.0, atol=1e-5)
    assert float((got * ref).sum(axis=1).min()) >= MIN_COSINE
