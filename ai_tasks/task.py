"""The base class of every ai-worker task: retries, poison guard, one log line, redaction.

Tasks stay thin: they unpack JSON arguments, call a pure library function,
and return JSON. What is common to all of them lives here.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Mapping
from typing import Any

import kombu.exceptions
import redis.exceptions
from celery import Task
from celery.exceptions import Retry
from celery.worker.request import Request

from ai_tasks.errors import PoisonMessageError, TransientError, reason_code_of
from ai_tasks.redact import redact, redacted_repr
from ai_tasks.settings import get_settings

__all__ = ["AITask", "RedactingRequest", "delivery_counter", "job_fields"]

log = logging.getLogger("ai_tasks.jobs")

#: Errors worth a retry: ours, plus broker/backend hiccups seen from inside a task.
TRANSIENT_ERRORS: tuple[type[BaseException], ...] = (
    TransientError,
    kombu.exceptions.OperationalError,
    redis.exceptions.ConnectionError,
    redis.exceptions.TimeoutError,
)


class RedactingRequest(Request):
    """Worker-side request whose argument reprs (sent to Flower, `inspect`) hide secrets.

    The legacy API may still put cookies or tokens in a payload; whatever the
    client wrote as ``argsrepr``, the worker recomputes it from redacted args.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._argsrepr = redacted_repr(list(self._args or ()))
        self._kwargsrepr = redacted_repr(dict(self._kwargs or {}))


def job_fields(args: tuple[Any, ...]) -> tuple[str | None, str | None]:
    """(job id, job type) from a task's first argument: an AIJob dict or a chain state.

    Examples:
        >>> job_fields(({"id": 7, "type": "ocr"},))
        ('7', 'ocr')
        >>> job_fields(({"job": {"id": "a", "type": "omr_grading"}, "page_key": "k"},))
        ('a', 'omr_grading')
        >>> job_fields(())
        (None, None)
    """
    if not args or not isinstance(args[0], Mapping):
        return None, None
    first: Mapping[str, Any] = args[0]
    nested = first.get("job")
    job: Mapping[str, Any] = nested if isinstance(nested, Mapping) else first
    job_id = job.get("id")
    job_type = job.get("type")
    return (None if job_id is None else str(job_id)), (None if job_type is None else str(job_type))


_counter: Any = None


def delivery_counter() -> Any:
    """The process's DeliveryCounter, or None when no Redis holds counters."""
    global _counter
    if _counter is None:
        from ai_tasks.poison import DeliveryCounter

        s = get_settings()
        url = next(
            (u for u in (s.broker_url, s.resolved_result_backend) if u and u.startswith(("redis://", "rediss://"))),
            None,
        )
        if url is None:
            _counter = False
        else:
            import celeryconfig

            ttl_s = int(celeryconfig.VISIBILITY_TIMEOUT_S) * (s.max_deliveries + 1)
            _counter = DeliveryCounter(url, s.max_deliveries, ttl_s)
    return _counter or None


class AITask(Task):
    """Base task: transient errors retried with backoff+jitter, permanent ones fail at once."""

    Request = "ai_tasks.task:RedactingRequest"
    autoretry_for = TRANSIENT_ERRORS
    retry_backoff = 2
    retry_backoff_max = get_settings().retry_backoff_max_s
    retry_jitter = True
    max_retries = get_settings().max_retries

    def _guard_poison(self) -> None:
        req = self.request
        if req.is_eager or not req.id or not req.delivery_info:
            return
        # A first delivery cannot be poison. Brokers flag every message they
        # hand out again (RabbitMQ natively; kombu's Redis transport on each
        # restore from the unacked set), so only those pay for the counter.
        if not req.delivery_info.get("redelivered"):
            return
        counter = delivery_counter()
        if counter is None:
            return
        deliveries = counter.record_redelivery(req.id, int(req.retries or 0))
        if deliveries > counter.max_deliveries:
            counter.dead_letter(
                task_name=self.name, task_id=req.id, args=req.args, kwargs=req.kwargs, deliveries=deliveries
            )
            raise PoisonMessageError(
                "poison_message",
                f"delivered {deliveries} times (limit {counter.max_deliveries}); "
                "each delivery lost its worker; moved to dead letters",
            )

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        started = time.monotonic()
        outcome, code = "ok", None
        try:
            self._guard_poison()
            return super().__call__(*args, **kwargs)
        except Retry as exc:
            outcome, code = "retry", reason_code_of(exc.exc) if exc.exc else None
            raise
        except BaseException as exc:
            outcome, code = "failed", reason_code_of(exc)
            raise
        finally:
            job_id, job_type = job_fields(args)
            req = self.request
            record = {
                "event": "job",
                "task": self.name,
                "task_id": req.id,
                "job_id": job_id,
                "type": job_type,
                "queue": (req.delivery_info or {}).get("routing_key"),
                "attempt": int(req.retries or 0) + 1,
                "duration_ms": round((time.monotonic() - started) * 1000, 1),
                "outcome": outcome,
                "reason_code": code,
            }
            log.info(json.dumps(redact(record), separators=(",", ":")))
