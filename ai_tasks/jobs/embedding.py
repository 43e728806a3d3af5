"""Job ``embedding`` (task ``ai.embed``, queue ``gpu-embed``): text embeddings.

Payload: ``texts`` (required: a list of strings, ``null`` items count as
``""``; at most ``AI_WORKER_EMBED_MAX_TEXTS`` texts of at most
``AI_WORKER_EMBED_MAX_CHARS`` characters) and optional ``backend``
(``auto``/``local``/``openai``; default ``EMBEDDING_BACKEND``).
Result: the legacy keys ``backend`` and ``vectors`` plus ``model``,
``dimensions``, ``normalized`` (always true), ``cached`` (vectors served by
the cache) and ``timings_ms``. See ``docs/jobs/embedding.md``.

The model, the OpenAI server and key come from the worker's settings
(``EMBEDDING_LOCAL_MODEL``, ``EMBEDDING_OPENAI_MODEL``, ``OPENAI_BASE_URL``,
``OPENAI_API_KEY``), never from the payload.

Examples:
    >>> from ai_tasks.contracts import AIJob
    >>> ref = JobRef(id="1", type="embedding")
    >>> prepare(AIJob.from_dict({"id": 1, "type": "embedding", "payload": {"texts": [" a ", None]}}), ref).texts
    ('a', '')
    >>> prepare(AIJob.from_dict({"id": 1, "type": "embedding", "payload": {"texts": "a"}}), ref)
    Traceback (most recent call last):
    ...
    ai_tasks.errors.JobPayloadError: texts_invalid: texts must be a list of strings, got str
"""

from __future__ import annotations

import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ai_tasks.contracts import AIJob
from ai_tasks.errors import JobPayloadError
from ai_tasks.jobs.base import (
    JobRef,
    JobSpec,
    Step,
    StepContext,
    payload_choice,
    reject_unknown_fields,
)
from ai_tasks.redact import strip_secrets
from ai_tasks.routing import GPU_EMBED

__all__ = ["PAYLOAD_FIELDS", "SPEC", "EmbeddingState", "openai_embedder", "prepare", "run"]

#: The payload fields this job reads (the legacy worker read only ``texts``).
PAYLOAD_FIELDS = frozenset({"texts", "backend"})


@dataclass(frozen=True)
class EmbeddingState:
    """What crosses the broker for one ``embedding`` job.

    Args:
        job: who the job is.
        texts: the texts, checked and stripped at the door.
        backend: ``auto``/``local``/``openai``, or ``None`` for ``EMBEDDING_BACKEND``.
    """

    job: JobRef
    texts: tuple[str, ...]
    backend: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"job": self.job.to_dict(), "texts": list(self.texts), "backend": self.backend}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> EmbeddingState:
        return cls(
            job=JobRef.from_dict(data["job"]),
            texts=tuple(str(t) for t in data["texts"]),
            backend=None if data.get("backend") is None else str(data["backend"]),
        )


def prepare(job: AIJob, ref: JobRef) -> EmbeddingState:
    """Validate the payload at the door (types, counts, lengths) and build the state."""
    from ai_tasks.settings import get_settings
    from nlp.embed.engine import BACKENDS, prepare_texts
    from nlp.errors import InputError

    s = get_settings()
    payload = strip_secrets(dict(job.payload))
    reject_unknown_fields(payload, PAYLOAD_FIELDS, job_type="embedding")
    backend = payload_choice(payload, "backend", BACKENDS, "") or None
    try:
        texts = prepare_texts(payload.get("texts"), max_texts=s.embed_max_texts, max_chars=s.embed_max_chars)
    except InputError as exc:
        raise JobPayloadError(exc.reason_code, exc.message) from None
    return EmbeddingState(job=ref, texts=tuple(texts), backend=backend)


# One OpenAI embedder per worker process (built lazily, after the pool forks);
# a settings change (tests) builds a new one.
_lock = threading.Lock()
_openai: tuple[tuple[Any, ...], Any] | None = None


def openai_embedder() -> Any:
    """This process's :class:`nlp.embed.OpenAIEmbedder`, or ``None`` without ``OPENAI_API_KEY``."""
    from ai_tasks.settings import get_settings
    from nlp.embed.openai_backend import OpenAIEmbedder

    global _openai
    s = get_settings()
    if s.openai_api_key is None:
        return None
    config = (s.embedding_openai_model, s.openai_api_key, s.openai_base_url, s.llm_timeout_s)
    with _lock:
        if _openai is None or _openai[0] != config:
            _openai = (config, OpenAIEmbedder(config[0], config[1], base_url=config[2], timeout_s=config[3]))
        return _openai[1]


def run(state: EmbeddingState, ctx: StepContext) -> dict[str, Any]:
    """Embed the texts (cache first); library errors (with reason codes) propagate to the task base."""
    from ai_tasks.embed_cache import embed_cache
    from ai_tasks.settings import get_settings
    from nlp.embed.engine import embed_texts

    s = get_settings()
    started = time.perf_counter()
    batch = embed_texts(
        list(state.texts),
        backend=state.backend or s.embedding_backend,
        local_model=s.embedding_local_model,
        openai=openai_embedder(),
        cache=embed_cache(),
        max_texts=s.embed_max_texts,
        max_chars=s.embed_max_chars,
    )
    ctx.progress(len(state.texts), len(state.texts))
    result = batch.to_dict()
    result["timings_ms"] = {"embed": round((time.perf_counter() - started) * 1000, 1)}
    return result


SPEC = JobSpec(type="embedding", queue=GPU_EMBED, state=EmbeddingState, prepare=prepare, steps=(Step("ai.embed", run),))
