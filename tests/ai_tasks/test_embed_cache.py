"""The Redis embedding cache against the real Redis at 127.0.0.1:6379, database 13 (flushed, nothing else)."""

from __future__ import annotations

import time
from collections.abc import Iterator

import numpy as np
import pytest
import redis

from ai_tasks.embed_cache import RedisEmbeddingCache
from nlp.embed.cache import cache_key
from nlp.embed.engine import embed_texts
from tests._redis import require_redis

URL = "redis://127.0.0.1:6379/13"


@pytest.fixture
def db() -> Iterator[redis.Redis]:
    client = require_redis(URL, flush=True)
    yield client
    client.flushdb()


def _v(*xs: float) -> np.ndarray:
    return np.array(xs, dtype=np.float32)


def test_round_trip_is_exact_float32_with_a_ttl(db: redis.Redis) -> None:
    cache = RedisEmbeddingCache(URL, ttl_s=60, max_items=100)
    assert cache.get_many([]) == []
    vec = np.random.default_rng(0).standard_normal(384).astype(np.float32)
    key = cache_key("m", "삼각형")
    cache.set_many({key: vec})
    got = cache.get_many([key, cache_key("m", "other")])
    assert got[1] is None and got[0] is not None
    assert got[0].dtype == np.float32 and np.array_equal(got[0], vec)
    name = f"ai:emb:v:{key}"
    assert 0 < db.ttl(name) <= 60
    assert all("삼각형".encode() not in k for k in db.keys("*") if isinstance(k, bytes))  # texts never stored, only their hashes


def test_size_bound_evicts_least_recently_used(db: redis.Redis) -> None:
    cache = RedisEmbeddingCache(URL, ttl_s=60, max_items=3)
    cache.set_many({"a": _v(1), "b": _v(2), "c": _v(3)})
    time.sleep(0.01)
    cache.get_many(["a"])  # a becomes the most recent
    time.sleep(0.01)
    cache.set_many({"d": _v(4), "e": _v(5)})
    assert cache.size() == 3
    a, b, c, d, e = cache.get_many(["a", "b", "c", "d", "e"])
    assert b is None and c is None and a is not None and d is not None and e is not None
    assert db.exists("ai:emb:v:b") == 0  # evicted keys are deleted, not only unindexed


def test_unreachable_redis_means_misses_not_failures() -> None:
    cache = RedisEmbeddingCache("redis://127.0.0.1:1/13", ttl_s=60, max_items=3)
    cache.set_many({"a": _v(1)})
    assert cache.get_many(["a", "b"]) == [None, None]


def test_foreign_bytes_are_a_miss(db: redis.Redis) -> None:
    db.set("ai:emb:v:odd", b"abc")
    assert RedisEmbeddingCache(URL, ttl_s=60, max_items=3).get_many(["odd"]) == [None]


def test_a_repeated_batch_comes_from_redis(db: redis.Redis) -> None:
    cache = RedisEmbeddingCache(URL, ttl_s=60, max_items=1000)
    texts = ["오답 노트", "wrong-answer note", "오답 노트"]
    first = embed_texts(texts, backend="local", cache=cache)
    again = embed_texts(texts, backend="local", cache=RedisEmbeddingCache(URL, ttl_s=60, max_items=1000))
    assert (first.cached, again.cached) == (0, 3)
    np.testing.assert_allclose(np.asarray(again.vectors), np.asarray(first.vectors), atol=1e-7)
