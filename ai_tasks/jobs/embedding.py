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
from dataclasses import dataclass
from typing import Any

from ai_tasks.contracts import AIJob
from ai_tasks.jobs.base import JobRef, JobSpec, Step, StepContext
from ai_tasks.jobs.codec import StateCodec
from ai_tasks.jobs.payload import Checked, Choice, PayloadSpec
from ai_tasks.routing import GPU_EMBED
from nlp.embed.engine import BACKENDS

__all__ = ["PAYLOAD", "SPEC", "EmbeddingState", "openai_embedder", "prepare", "run"]


def _texts(raw: Any) -> tuple[str, ...]:
    """The library's check of ``texts`` (types, count, lengths), within the worker's limits."""
    from ai_tasks.settings import get_settings
    from nlp.embed.engine import prepare_texts

    s = get_settings()
    return tuple(prepare_texts(raw, max_texts=s.embed_max_texts, max_chars=s.embed_max_chars))


#: The payload (the legacy worker read only ``texts``); ``backend`` absent: ``EMBEDDING_BACKEND``.
PAYLOAD = PayloadSpec("embedding", (Choice("backend", BACKENDS), Checked("texts", _texts)))


@dataclass(frozen=True)
class EmbeddingState(StateCodec):
    """What crosses the broker for one ``embedding`` job.

    Args:
        job: who the job is.
        texts: the texts, checked and stripped at the door.
        backend: ``auto``/``local``/``openai``, or ``None`` for ``EMBEDDING_BACKEND``.
    """

    job: JobRef
    texts: tuple[str, ...]
    backend: str | None = None


def prepare(job: AIJob, ref: JobRef) -> EmbeddingState:
    """The door: the payload checked by :data:`PAYLOAD` (secrets dropped), the first state."""
    return EmbeddingState(job=ref, **PAYLOAD.check(job.payload))


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


SPEC = JobSpec(type="embedding", queue=GPU_EMBED, state=EmbeddingState, prepare=prepare, steps=(Step("ai.embed", run, (120, 180)),))
