"""How the bridge hands a job to the workers and reads its result back: Celery, by task id.

Both are plain callables (:data:`Publish`, :data:`ReadResults`) so the loop
never sees Celery, and the publish can be swapped for another submit helper.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from redis.exceptions import RedisError

from ai_tasks.contracts import AIResult
from ai_tasks.errors import JobPayloadError
from ai_tasks.routing import TASK_QUEUES

__all__ = ["Publish", "ReadResults", "broker_errors", "celery_publisher", "celery_results", "finished_result"]

#: Task ids read from the result backend in one MGET.
_RESULT_BATCH = 500

#: ``publish(job, task_id)``: send one AIJob dict as ``ai.job`` under ``task_id``.
Publish = Callable[[dict[str, Any], str], None]
#: ``read(task_ids) -> {task_id: (state, value)}`` for the ids the result backend knows.
ReadResults = Callable[[list[str]], dict[str, tuple[str, Any]]]


def broker_errors() -> tuple[type[BaseException], ...]:
    """What a publish raises while the broker is away (kombu wraps the transport's errors)."""
    from kombu.exceptions import OperationalError

    return (OSError, RedisError, OperationalError)


def finished_result(job_id: str, state: str, value: Any) -> dict[str, Any] | None:
    """The AIResult dict of a finished ``ai.job`` task, or None while it is not finished.

    ``ai.job`` stores an AIResult dict; a task that failed outright (a poison
    message) stores an exception, which becomes a FAILED result with its
    reason code.

    Examples:
        >>> finished_result("7", "STARTED", None) is None
        True
        >>> finished_result("7", "SUCCESS", {"job_id": "7", "status": "DONE", "result": {"n": 1}})["result"]
        {'n': 1}
        >>> finished_result("7", "FAILURE", KeyError("x"))["error"]["reason_code"]
        'internal_error'
        >>> finished_result("7", "SUCCESS", "odd")["error"]["reason_code"]
        'result_invalid'
    """
    if state == "SUCCESS":
        if not isinstance(value, dict):
            return AIResult.failed(job_id, "result_invalid",
                                   f"ai.job returned {type(value).__name__}, not an AIResult").to_dict()
        try:
            return AIResult.from_dict(value).to_dict()
        except JobPayloadError as invalid:
            return AIResult.from_exception(job_id, invalid).to_dict()
    if state == "FAILURE":
        error = value if isinstance(value, BaseException) else RuntimeError(str(value))
        return AIResult.from_exception(job_id, error).to_dict()
    if state == "REVOKED":
        return AIResult.failed(job_id, "job_revoked", "the ai.job task was revoked").to_dict()
    return None


def celery_publisher(app: Any, deadline_s: float | None = None) -> Publish:
    """Publish through ``app`` with the job ledger's submit (:func:`ai_tasks.ledger.submit_job`).

    On a Redis broker one Lua script pushes the ``ai.job`` message and
    writes its ledger entry, and the workers' sweeper republishes it if it
    has no result ``deadline_s`` after the publish (the bridge passes its
    ``--republish-after``; None: the ledger's per-type default) and its
    message is nowhere (``docs/reliability.md``). A second publish of a task
    id the ledger holds or has settled publishes nothing: the bridge's own
    ``result_overdue`` republish is left to the sweeper there. On RabbitMQ
    the message is published with publisher confirms. The one place the
    bridge enqueues a job; swap it for another submit helper without
    touching the loop.
    """
    from ai_tasks.ledger import submit_job

    def publish(job: dict[str, Any], task_id: str) -> None:
        submit_job(app, job, task_id=task_id, queue=TASK_QUEUES["ai.job"], deadline_s=deadline_s)

    return publish


def celery_results(app: Any) -> ReadResults:
    """Read finished ``ai.job`` results from ``app``'s result backend (one MGET per batch on Redis)."""
    backend = app.backend

    def read(task_ids: list[str]) -> dict[str, tuple[str, Any]]:
        out: dict[str, tuple[str, Any]] = {}
        for start in range(0, len(task_ids), _RESULT_BATCH):
            batch = task_ids[start:start + _RESULT_BATCH]
            if hasattr(backend, "mget") and hasattr(backend, "get_key_for_task"):
                raws = backend.mget([backend.get_key_for_task(t) for t in batch])
                metas = [backend.decode_result(r) if r else None for r in raws]
            else:  # pragma: no cover - the result backend is Redis (docs/configuration.md)
                metas = [backend.get_task_meta(t) for t in batch]
            for task_id, meta in zip(batch, metas, strict=True):
                if meta and meta.get("status"):
                    out[task_id] = (str(meta["status"]), meta.get("result"))
        return out

    return read
