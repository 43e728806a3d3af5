"""The embedding cache in Redis: vectors by (model, SHA-256 of the text), with a TTL and a size bound.

Each vector is a Redis string of float32 bytes under ``<prefix>v:<model>:<sha256>``
with ``SET ... EX ttl_s``. A sorted set ``<prefix>index`` scores each key by
its last use (seconds since the epoch); after each write, keys past their TTL
leave the index and, while it holds more than ``max_items`` keys, the least
recently used are deleted (``ZPOPMIN``). Several processes share the bound;
it is approximate by at most one batch per writer.

A cache must never fail a job: when Redis is away, ``get_many`` answers all
misses and ``set_many`` drops the write (one warning per failure).

Examples:
    >>> cache = RedisEmbeddingCache("redis://127.0.0.1:1/0", ttl_s=60, max_items=10)
    >>> cache
    RedisEmbeddingCache(url='redis://127.0.0.1:1/0', ttl_s=60, max_items=10)
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from ai_tasks.redact import redact_url
from nlp.embed.cache import EmbeddingCache, MemoryEmbeddingCache, Vector

__all__ = ["RedisEmbeddingCache", "embed_cache"]

log = logging.getLogger(__name__)

#: Redis socket timeouts: a slow cache must cost less than recomputing a batch.
_REDIS_TIMEOUT_S = 2.0

#: Vectors kept per process when there is no Redis (the in-memory fallback).
_MEMORY_ITEMS = 20_000


class RedisEmbeddingCache:
    """An :class:`nlp.embed.cache.EmbeddingCache` in Redis.

    Args:
        url: ``redis://[:password@]host:port/db``; the password never shows in ``repr``.
        ttl_s: lifetime of a vector after its last write.
        max_items: how many vectors the cache holds at most.
        prefix: key prefix.
    """

    def __init__(self, url: str, *, ttl_s: int, max_items: int, prefix: str = "ai:emb:") -> None:
        import redis

        if ttl_s < 1 or max_items < 1:
            raise ValueError(f"ttl_s and max_items must be >= 1, got {ttl_s}, {max_items}")
        self.ttl_s = ttl_s
        self.max_items = max_items
        self.prefix = prefix
        self._index = prefix + "index"
        self._where = redact_url(url)
        self._client = redis.Redis.from_url(url, socket_timeout=_REDIS_TIMEOUT_S,
                                            socket_connect_timeout=_REDIS_TIMEOUT_S)
        self._errors: tuple[type[Exception], ...] = (redis.RedisError, OSError)

    def __repr__(self) -> str:
        return f"RedisEmbeddingCache(url={self._where!r}, ttl_s={self.ttl_s}, max_items={self.max_items})"

    def _name(self, key: str) -> str:
        return f"{self.prefix}v:{key}"

    def get_many(self, keys: Sequence[str]) -> list[Vector | None]:
        """``MGET`` the keys; hits are marked used (their index score becomes now)."""
        if not keys:
            return []
        try:
            raw = self._client.mget([self._name(k) for k in keys])
            hits = {self._name(k): time.time() for k, data in zip(keys, raw, strict=True) if data}
            if hits:
                self._client.zadd(self._index, hits, xx=True)
        except self._errors as exc:
            log.warning("embedding cache at %s unavailable (%s): all misses", self._where, type(exc).__name__)
            return [None] * len(keys)
        return [_vector(data) for data in raw]

    def set_many(self, items: Mapping[str, Vector]) -> None:
        """``SET ... EX`` each vector, index it, then trim the index to the TTL and the size bound."""
        if not items:
            return
        now = time.time()
        try:
            pipe = self._client.pipeline(transaction=False)
            for key, vec in items.items():
                pipe.set(self._name(key), np.asarray(vec, dtype="<f4").tobytes(), ex=self.ttl_s)
            pipe.zadd(self._index, {self._name(k): now for k in items})
            pipe.zremrangebyscore(self._index, "-inf", now - self.ttl_s)
            pipe.zcard(self._index)
            size = int(pipe.execute()[-1])
            if size > self.max_items:
                popped: Any = self._client.zpopmin(self._index, size - self.max_items)
                evicted = [pair[0] for pair in popped]
                if evicted:
                    self._client.delete(*evicted)
        except self._errors as exc:
            log.warning("embedding cache at %s unavailable (%s): write dropped", self._where, type(exc).__name__)

    def size(self) -> int:
        """Keys in the index (what the size bound counts)."""
        return int(self._client.zcard(self._index))


def _vector(data: Any) -> Vector | None:
    if not isinstance(data, bytes) or not data or len(data) % 4:
        return None  # absent, or not ours: a miss, recomputed and overwritten
    return np.frombuffer(data, dtype="<f4").astype(np.float32)


_cache: tuple[tuple[str, int, int], EmbeddingCache] | None = None


def embed_cache() -> EmbeddingCache:
    """This process's embedding cache: Redis at the result backend's URL, else in memory.

    The cache lives beside the results (``CELERY_RESULT_BACKEND``, by default the
    local Redis), bounded by ``AI_WORKER_EMBED_CACHE_TTL_S`` and
    ``AI_WORKER_EMBED_CACHE_MAX_ITEMS``. A settings change (tests) opens a new one.
    """
    global _cache
    from ai_tasks.settings import get_settings

    s = get_settings()
    config = (s.resolved_result_backend, s.embed_cache_ttl_s, s.embed_cache_max_items)
    if _cache is None or _cache[0] != config:
        url, ttl_s, max_items = config
        cache: EmbeddingCache
        if url.startswith(("redis://", "rediss://", "unix://")):
            cache = RedisEmbeddingCache(url, ttl_s=ttl_s, max_items=max_items)
        else:
            cache = MemoryEmbeddingCache(min(max_items, _MEMORY_ITEMS))
        _cache = (config, cache)
    return _cache[1]
