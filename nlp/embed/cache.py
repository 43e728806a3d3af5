"""What the embedding engine asks of a cache, and an in-memory one.

A cache maps a key, :func:`cache_key` of (model, text), to one float32
vector. Keys hash the text (SHA-256), so a cache never holds the texts
themselves. The Redis implementation used by workers lives in
``ai_tasks/embed_cache.py``; this package only defines the protocol.

Examples:
    >>> import numpy as np
    >>> cache = MemoryEmbeddingCache(max_items=2)
    >>> k = cache_key("m", "안녕하세요")
    >>> k.startswith("m:") and len(k) == 2 + 64
    True
    >>> cache.set_many({k: np.array([0.6, 0.8], dtype=np.float32)})
    >>> [None if v is None else v.tolist() for v in cache.get_many([k, cache_key("m", "x")])]
    [[0.6000000238418579, 0.800000011920929], None]
"""

from __future__ import annotations

import hashlib
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from typing import Protocol

import numpy as np
import numpy.typing as npt

__all__ = ["EmbeddingCache", "MemoryEmbeddingCache", "Vector", "cache_key"]

#: One embedding: float32, shape ``(dimensions,)``.
Vector = npt.NDArray[np.float32]


def cache_key(model: str, text: str) -> str:
    """The cache key of ``text`` embedded by ``model``: ``"<model>:<sha256 hex>"``.

    ``model`` must name the weights *and* the runtime that made the vector
    (an int8 ONNX model is another model than its float32 original).

    Examples:
        >>> cache_key("a", "x") == cache_key("a", "x") != cache_key("b", "x")
        True
    """
    return f"{model}:{hashlib.sha256(text.encode('utf-8', 'surrogatepass')).hexdigest()}"


class EmbeddingCache(Protocol):
    """A store of vectors by key; misses are ``None``. Never raises for a miss."""

    def get_many(self, keys: Sequence[str]) -> list[Vector | None]:
        """The vectors stored under ``keys``, ``None`` where absent (same order)."""
        ...

    def set_many(self, items: Mapping[str, Vector]) -> None:
        """Store each vector under its key (overwriting)."""
        ...


class MemoryEmbeddingCache:
    """A least-recently-used cache in this process's memory.

    Args:
        max_items: how many vectors it keeps; the least recently used go first.
    """

    def __init__(self, max_items: int = 10_000) -> None:
        if max_items < 1:
            raise ValueError(f"max_items must be >= 1, got {max_items}")
        self.max_items = max_items
        self._items: OrderedDict[str, Vector] = OrderedDict()

    def __len__(self) -> int:
        return len(self._items)

    def get_many(self, keys: Sequence[str]) -> list[Vector | None]:
        out: list[Vector | None] = []
        for key in keys:
            vec = self._items.get(key)
            if vec is not None:
                self._items.move_to_end(key)
            out.append(vec)
        return out

    def set_many(self, items: Mapping[str, Vector]) -> None:
        for key, vec in items.items():
            self._items[key] = np.asarray(vec, dtype=np.float32).copy()
            self._items.move_to_end(key)
        while len(self._items) > self.max_items:
            self._items.popitem(last=False)
