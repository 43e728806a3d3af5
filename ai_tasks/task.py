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
from celery.exceptions import Ignore, Retry
from celery.utils.time import get_exponential_backoff_interval
from celery.worker.request import Request

from ai_tasks.errors import PoisonMessageError, reason_code_of
from ai_tasks.redact import redact, redacted_repr
from ai_tasks.settings import get_settings

__all__ = ["AITask", "JobStepTask", "RedactingRequest", "delivery_counter", "is_retryable", "job_fields"]

log = logging.getLogger("ai_tasks.jobs")

#: Broker/backend hiccups seen from inside a task: retried like our own transient errors.
INFRA_TRANSIENT_ERRORS: tuple[type[BaseException], ...] = (
    kombu.exceptions.OperationalError,
    redis.exceptions.ConnectionError,
    redis.exceptions.TimeoutError,
)


def is_retryable(exc: BaseException) -> bool:
    """True for any error that says it may pass (``retryable``), from any library.

    Examples:
        >>> from ai_tasks.errors import TransientDownloadError, DownloadError
        >>> is_retryable(TransientDownloadError("download_timeout", "slow")), is_retryable(DownloadError("x", "y"))
        (True, False)
        >>> is_retryable(ValueError("bug"))
        False
    """
    return getattr(exc, "retryable", False) is True or isinstance(exc, INFRA_TRANSIENT_ERRORS)


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
            from ai_tasks.celery import app

            visibility_s = int(app.conf.broker_transport_options.get("visibility_timeout", 3600))
            _counter = DeliveryCounter(url, s.max_deliveries, visibility_s * (s.max_deliveries + 1))
    return _counter or None


class AITask(Task):
    """Base task: retryable errors retried with backoff+jitter, the rest fail at once.

    The retry policy (``max_retries``, ``retry_backoff``, ``retry_backoff_max``,
    ``retry_jitter``) is set for every task in ``celeryconfig.task_annotations``.
    An error may ask for a longer wait with ``retry_after_s`` (an HTTP
    ``Retry-After``).
    """

    Request = "ai_tasks.task:RedactingRequest"

    def retry_countdown(self, exc: BaseException) -> float:
        """Seconds before the next attempt: exponential backoff with jitter, at least ``retry_after_s``."""
        backoff = get_exponential_backoff_interval(
            factor=int(self.retry_backoff or 1),
            retries=int(self.request.retries or 0),
            maximum=int(self.retry_backoff_max or 600),
            full_jitter=bool(self.retry_jitter),
        )
        after = getattr(exc, "retry_after_s", None)
        if isinstance(after, int | float) and after > 0:
            return float(min(max(backoff, after), self.retry_backoff_max or 600))
        return float(backoff)

    def _retry_if_retryable(self, exc: BaseException) -> None:
        req = self.request
        if req.called_directly or not is_retryable(exc):
            return
        if self.max_retries is not None and int(req.retries or 0) >= self.max_retries:
            return  # out of retries: the error stands, with its reason code
        raise self.retry(exc=exc, countdown=self.retry_countdown(exc))

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
        except Ignore:
            outcome = "handed_over"  # the dispatcher started the job's steps; they store its result
            raise
        except Exception as exc:
            try:
                self._retry_if_retryable(exc)
            except Retry:
                outcome, code = "retry", reason_code_of(exc)
                raise
            outcome, code = "failed", reason_code_of(exc)
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


class JobStepTask(AITask):
    """A step of a job (:mod:`ai_tasks.jobs`): the last step releases the job's artifacts.

    The release runs after the step's result is stored, so the caller never
    waits for the clean-up; what a crash leaves behind expires with the
    artifact store's TTL.
    """

    def on_success(self, retval: Any, task_id: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
        from ai_tasks.jobs import spec_for_task

        spec, index = spec_for_task(self.name)
        if spec.release is None or index != len(spec.steps) - 1 or not args or not isinstance(args[0], Mapping):
            return
        try:
            spec.release(spec.state.from_dict(args[0]))
        except Exception:  # clean-up must never fail a finished job
            log.warning("release of %s artifacts failed", spec.type, exc_info=True)
