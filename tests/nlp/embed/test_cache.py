"""The in-memory cache: least recently used goes first."""

from __future__ import annotations

import numpy as np
import pytest

from nlp.embed.cache import MemoryEmbeddingCache, cache_key


def _v(x: float) -> np.ndarray:
    return np.array([x, 0.0], dtype=np.float32)


def test_empty_and_bounds() -> None:
    cache = MemoryEmbeddingCache(max_items=2)
    assert cache.get_many([]) == []
    cache.set_many({})
    with pytest.raises(ValueError):
        MemoryEmbeddingCache(max_items=0)


def test_least_recently_used_is_evicted() -> None:
    cache = MemoryEmbeddingCache(max_items=2)
    cache.set_many({"a": _v(1), "b": _v(2)})
    cache.get_many(["a"])  # a is now the most recent
    cache.set_many({"c": _v(3)})
    got = cache.get_many(["a", "b", "c"])
    assert got[1] is None and got[0] is not None and got[2] is not None


def test_keys_separate_models_and_hide_the_text() -> None:
    assert cache_key("m1", "비밀") != cache_key("m2", "비밀")
    assert "비밀" not in cache_key("m1", "비밀")
