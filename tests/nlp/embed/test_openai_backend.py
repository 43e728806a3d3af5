"""The OpenAI backend against a local server speaking the embeddings wire format (real ``openai`` client)."""

from __future__ import annotations

import numpy as np
import pytest

from nlp.embed.openai_backend import MAX_ATTEMPTS, OpenAIEmbedder, request_batches
from nlp.errors import EngineError, EngineUnavailableError, OutputError
from tests.nlp.embed._embed_server import embed_server, error, fake_vector, raw, vectors

KEY = "sk-test-embeddings-key"


class _Key:
    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        return self._value


def _embedder(base_url: str, sleeps: list[float], key: str | None = KEY) -> OpenAIEmbedder:
    return OpenAIEmbedder("text-embedding-3-small", None if key is None else _Key(key), base_url=base_url,
                          timeout_s=5, sleep=sleeps.append)


def _unit(v: list[float]) -> np.ndarray:
    a = np.asarray(v, dtype=np.float64)
    return a / np.linalg.norm(a)


def test_request_batches_degenerate_and_limits() -> None:
    assert request_batches([]) == []
    assert [len(b) for b in request_batches(["a"] * 2049)] == [2048, 1]
    assert request_batches(["x" * 10, "y" * 10, "z"], max_chars=15) == [["x" * 10], ["y" * 10, "z"]]


def test_vectors_come_back_unit_length_in_input_order_with_the_key_sent() -> None:
    sleeps: list[float] = []
    with embed_server([vectors(reverse=True)]) as srv:
        out = _embedder(srv.base_url, sleeps).encode(["하나", "둘", "three"])
        assert srv.bodies[0]["input"] == ["하나", "둘", "three"]
        assert srv.bodies[0]["model"] == "text-embedding-3-small"
        assert srv.bodies[0]["encoding_format"] == "float"
        assert {k.lower(): v for k, v in srv.headers[0].items()}["authorization"] == f"Bearer {KEY}"
    assert out.shape == (3, 8)
    np.testing.assert_allclose(np.linalg.norm(out, axis=1), 1.0, atol=1e-6)
    np.testing.assert_allclose(out[1], _unit(fake_vector("둘")), atol=1e-6)
    assert sleeps == []


def test_more_inputs_than_one_request_takes_are_split() -> None:
    with embed_server([vectors(), vectors()]) as srv:
        out = _embedder(srv.base_url, []).encode([f"t{i}" for i in range(2050)])
        assert [len(b["input"]) for b in srv.bodies] == [2048, 2]
    np.testing.assert_allclose(out[2049], _unit(fake_vector("t2049")), atol=1e-6)


def test_429_with_a_short_retry_after_is_waited_out() -> None:
    sleeps: list[float] = []
    with embed_server([error(429, "slow down", headers={"Retry-After": "2"}), vectors()]) as srv:
        out = _embedder(srv.base_url, sleeps).encode(["a"])
        assert len(srv.bodies) == 2
    assert sleeps == [2.0] and out.shape == (1, 8)


def test_429_with_a_long_retry_after_goes_back_to_the_task_with_its_wait() -> None:
    sleeps: list[float] = []
    with embed_server([error(429, headers={"Retry-After": "120"})]) as srv:
        with pytest.raises(EngineUnavailableError) as info:
            _embedder(srv.base_url, sleeps).encode(["a"])
        assert len(srv.bodies) == 1
    assert info.value.reason_code == "openai_rate_limited" and info.value.retryable
    assert info.value.retry_after_s == 120.0
    assert sleeps == []


@pytest.mark.parametrize("status", [500, 503])
def test_5xx_is_retried_then_fails_retryable(status: int) -> None:
    sleeps: list[float] = []
    with embed_server([error(status)] * MAX_ATTEMPTS) as srv:
        with pytest.raises(EngineUnavailableError) as info:
            _embedder(srv.base_url, sleeps).encode(["a"])
        assert len(srv.bodies) == MAX_ATTEMPTS
    assert info.value.reason_code == "openai_unavailable" and info.value.retryable
    assert len(sleeps) == MAX_ATTEMPTS - 1


def test_503_then_success() -> None:
    with embed_server([error(503), vectors()]) as srv:
        assert _embedder(srv.base_url, []).encode(["a"]).shape == (1, 8)


@pytest.mark.parametrize("status", [401, 403])
def test_a_rejected_key_fails_at_once_and_never_shows(status: int) -> None:
    with embed_server([error(status, "Incorrect API key provided: sk-test...")]) as srv:
        with pytest.raises(EngineError) as info:
            _embedder(srv.base_url, []).encode(["a"])
        assert len(srv.bodies) == 1
    assert info.value.reason_code == "openai_auth_failed" and not info.value.retryable
    assert KEY not in str(info.value)


def test_a_missing_key_fails_before_any_request() -> None:
    with embed_server([vectors()]) as srv:
        with pytest.raises(EngineError) as info:
            _embedder(srv.base_url, [], key=None).encode(["a"])
        assert srv.bodies == []
    assert info.value.reason_code == "openai_key_missing"


def test_400_is_permanent() -> None:
    with embed_server([error(400, "input is empty")]) as srv:
        with pytest.raises(EngineError) as info:
            _embedder(srv.base_url, []).encode(["a"])
    assert info.value.reason_code == "openai_request_rejected" and not info.value.retryable


@pytest.mark.parametrize(
    "body",
    [
        b"<html>gateway says hi</html>",
        b'{"object": "list", "data": "nope"}',
        b'{"object": "list", "data": []}',
        b'{"data": [{"index": 0, "embedding": ["a", "b"]}]}',
        b'{"data": [{"index": 5, "embedding": [1.0, 2.0]}]}',
        b'{"unexpected": true}',
    ],
    ids=["not-json", "data-not-list", "no-vectors", "strings", "bad-index", "wrong-shape"],
)
def test_a_reply_of_the_wrong_shape_is_a_clear_failure(body: bytes) -> None:
    with embed_server([raw(body)]) as srv:
        with pytest.raises(OutputError) as info:
            _embedder(srv.base_url, []).encode(["a"])
    assert info.value.reason_code == "openai_bad_response"


def test_a_refused_connection_is_retryable() -> None:
    with embed_server([]) as srv:
        base = srv.base_url
    with pytest.raises(EngineUnavailableError) as info:
        _embedder(base, []).encode(["a"])
    assert info.value.reason_code in ("openai_unavailable", "openai_timeout")
