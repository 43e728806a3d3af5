"""The base class of every ai-worker task: retries, poison guard, one log line, redaction.

Tasks stay thin: they unpack JSON arguments, call a pure library function,
and return JSON. What is common to all of them lives here, and so do the
rules that keep a job from being lost (``docs/reliability.md``):

* a chain step hands its result to the next step itself, retrying the
  publish while the broker is away, and if it still cannot, the step's own
  message is requeued (``Reject(requeue=True)``), never acked: no path acks
  a step whose successor was not published;
* a retry whose publish fails is requeued the same way (Celery would drop it);
* a message bigger than ``celeryconfig.MAX_MESSAGE_BYTES`` is refused before
  it is decoded, with a FAILED result, so it never bloats the worker's main
  process;
* expected failures (an error with a reason code) log one WARNING line
  without a traceback; ``internal_error`` logs at ERROR with it.
"""

from __future__ import annotations

import json
import logging
import re
import time
from collections.abc import Mapping
from typing import Any

import kombu.exceptions
import redis.exceptions
from celery import Task
from celery.exceptions import Ignore, Reject, Retry
from celery.utils.time import get_exponential_backoff_interval
from celery.worker.request import Request

from ai_tasks.errors import PoisonMessageError, reason_code_of
from ai_tasks.redact import redact, redacted_repr
from ai_tasks.settings import get_settings
from aicore.errors import AIError

__all__ = [
    "AITask",
    "EXPECTED_ERRORS",
    "HAND_OVER_RETRY_POLICY",
    "hand_over",
    "JobStepTask",
    "RedactingRequest",
    "delivery_counter",
    "delivery_redis_url",
    "is_retryable",
    "job_fields",
    "log_level_for",
]

log = logging.getLogger("ai_tasks.jobs")

#: Errors that say what was wrong with the job (a reason code): Celery logs
#: them as expected, without a traceback (``Task.throws``). One root for
#: ai_tasks and every library, so no queue's worker imports another's library.
EXPECTED_ERRORS: tuple[type[BaseException], ...] = (AIError,)
#: How long a finished step keeps trying to publish its successor while the
#: broker is away (about 25 s: inside every step's soft time limit) before its
#: own message is requeued instead.
HAND_OVER_RETRY_POLICY: dict[str, float | int] = {
    "max_retries": 10, "interval_start": 0.5, "interval_step": 1.0, "interval_max": 3.0,
}
#: The poison counters outlive any redelivery cycle (they are a few bytes each).
DELIVERY_COUNTER_TTL_S = 24 * 3600
#: Where a job id is looked for in a refused (oversized) message: its first bytes.
_OVERSIZED_HEAD_BYTES = 4096
_JOB_ID_RE = re.compile(rb'^\s*\[\s*\[\s*\{[^{]*?"id"\s*:\s*"?([A-Za-z0-9_.:-]{1,128})')


def log_level_for(outcome: str, reason_code: str | None) -> int:
    """The level of a task's log line: failures with a reason code are WARNINGs, bugs ERRORs.

    Examples:
        >>> import logging
        >>> [logging.getLevelName(log_level_for(*x)) for x in
        ...  [("ok", None), ("failed", "image_unreadable"), ("failed", "internal_error"), ("requeued", None)]]
        ['INFO', 'WARNING', 'ERROR', 'WARNING']
    """
    if outcome == "failed":
        return logging.ERROR if reason_code in (None, "internal_error") else logging.WARNING
    if outcome in ("requeued", "refused"):
        return logging.WARNING
    return logging.INFO


def _outcome_of(retval: Any) -> tuple[str, str | None]:
    """A task that returns a FAILED AIResult (the dispatcher at the door) failed, truthfully."""
    if isinstance(retval, Mapping) and retval.get("status") == "FAILED" and isinstance(retval.get("error"), Mapping):
        return "failed", str(retval["error"].get("reason_code") or "internal_error")
    return "ok", None

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


def delivery_redis_url() -> str | None:
    """The Redis every worker shares for counters and markers: the broker's, else the backend's."""
    s = get_settings()
    return next(
        (u for u in (s.broker_url, s.resolved_result_backend) if u and u.startswith(("redis://", "rediss://"))),
        None,
    )


def delivery_counter() -> Any:
    """The process's DeliveryCounter, or None when no Redis holds counters."""
    global _counter
    if _counter is None:
        from ai_tasks.poison import DeliveryCounter

        s = get_settings()
        url = delivery_redis_url()
        if url is None:
            _counter = False
        else:
            _counter = DeliveryCounter(url, s.max_deliveries, DELIVERY_COUNTER_TTL_S)
    return _counter or None


def hand_over(sig: Any, args: tuple[Any, ...] | None = None, **options: Any) -> None:
    """Publish a job's next message (a step, a chain) or requeue the running task's own message.

    The publish is retried for about 25 s (:data:`HAND_OVER_RETRY_POLICY`);
    whatever it still raises then (the broker away, or kombu's own errors
    while its connection is torn down by a broker restart, such as an
    ``AttributeError`` on a closed channel: seen in the issue-18 chaos run)
    becomes ``Reject(requeue=True)``: the task that hands over runs again
    once the broker is back, and the job is never answered FAILED
    ``internal_error`` for the broker's sake. A message whose requeue cannot
    reach the broker either is restored from the unacked set (Redis) or
    redelivered (RabbitMQ), and the ledger's sweep covers the rest.

    Raises:
        Reject: ``requeue=True``, when the message could not be published.
    """
    try:
        sig.apply_async(args, retry=True, retry_policy=HAND_OVER_RETRY_POLICY, **options)
    except Exception as exc:
        name = " -> ".join(t.task for t in getattr(sig, "tasks", ())) or sig.task  # a chain: its steps
        raise Reject(f"could not hand over to {name} ({type(exc).__name__}): requeued", requeue=True) from None


class AITask(Task):
    """Base task: retryable errors retried with backoff+jitter, the rest fail at once.

    The retry policy (``max_retries``, ``retry_backoff``, ``retry_backoff_max``,
    ``retry_jitter``) is set for every task in ``celeryconfig.task_annotations``.
    An error may ask for a longer wait with ``retry_after_s`` (an HTTP
    ``Retry-After``).
    """

    Request = "ai_tasks.task:RedactingRequest"
    throws = EXPECTED_ERRORS

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
        try:
            raise self.retry(exc=exc, countdown=self.retry_countdown(exc))
        except Reject as rej:
            # Celery rejects *without* requeue when it cannot publish the
            # retry (broker away): the job would vanish. Requeue instead.
            raise Reject(rej.reason, requeue=True) from None

    def _hand_over(self, retval: Any) -> None:
        """Publish the chain's next step now, or requeue this step's message.

        Celery would publish it after this method returns and, if the broker
        stays away past its callback retries, mark this step failed (the
        errback cannot store that either) and ack it: the job is lost
        (issue 12, fault 1). Here the publish is retried for about 25 s; if
        the broker is still away, this step's message is requeued, not acked,
        so the step runs again once the broker is back.
        """
        req = self.request
        chain = req.chain
        if not chain or req.is_eager or req.called_directly:
            return
        from celery import signature

        nxt = signature(chain[-1], app=self.app)
        hand_over(nxt, (retval,), chain=chain[:-1], parent_id=req.id, root_id=req.root_id)
        req.chain = None  # published: Celery must not publish it again

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

    def answer_poison(self, exc: PoisonMessageError, args: tuple[Any, ...]) -> Any:
        """What a dead-lettered delivery returns instead of failing; ``None``: it fails with ``exc``.

        A chain step's failure is answered by the chain's errback
        (``ai.job.failed``); a task that is a job's whole answer (``ai.job``)
        answers the job itself here.
        """
        return None

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        started = time.monotonic()
        outcome, code = "ok", None
        try:
            try:
                self._guard_poison()
            except PoisonMessageError as exc:
                answer = self.answer_poison(exc, args)
                if answer is None:
                    raise
                outcome, code = "failed", exc.reason_code
                return answer
            retval = super().__call__(*args, **kwargs)
            self._hand_over(retval)
            outcome, code = _outcome_of(retval)
            return retval
        except Retry as exc:
            outcome, code = "retry", reason_code_of(exc.exc) if exc.exc else None
            raise
        except Ignore:
            outcome = "handed_over"  # the dispatcher started the job's steps; they store its result
            raise
        except Reject as rej:
            if not rej.requeue and isinstance(rej.reason, INFRA_TRANSIENT_ERRORS):
                # Task.retry() could not publish (broker away): requeue, never drop
                outcome = "requeued"
                raise Reject(rej.reason, requeue=True) from None
            outcome = "requeued" if rej.requeue else "rejected"
            raise
        except Exception as exc:
            try:
                self._retry_if_retryable(exc)
            except Retry:
                outcome, code = "retry", reason_code_of(exc)
                raise
            except Reject:
                outcome, code = "requeued", reason_code_of(exc)
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
            log.log(log_level_for(outcome, code), json.dumps(redact(record), separators=(",", ":")))

    def start_strategy(self, app: Any, consumer: Any, **kwargs: Any) -> Any:
        """Celery's message handler for this task, behind a size check done before decoding."""
        handler = super().start_strategy(app, consumer, **kwargs)
        limit = int(app.conf.get("MAX_MESSAGE_BYTES") or 0)
        if limit <= 0:
            return handler
        task = self

        def size_checked(message: Any, body: Any, ack: Any, reject: Any, callbacks: Any, **kw: Any) -> Any:
            raw = message.body
            size = len(raw) if isinstance(raw, bytes | str) else 0
            if size > limit:
                refuse_oversized(task, message, size, limit)
                return None
            return handler(message, body, ack, reject, callbacks, **kw)

        return size_checked


def refuse_oversized(task: Task, message: Any, size: int, limit: int) -> None:
    """Fail a message too big to decode: a FAILED result under its task id, then ack it.

    Runs in the worker's main process, on the raw bytes: the message is never
    decoded, so it costs its size once and nothing stays behind.
    """
    from ai_tasks.contracts import AIResult

    headers = message.headers or {}
    task_id = headers.get("id")
    raw = message.body if isinstance(message.body, bytes) else str(message.body).encode()
    found = _JOB_ID_RE.match(raw[:_OVERSIZED_HEAD_BYTES])
    job_id = found.group(1).decode() if found else str(task_id or "unknown")
    text = f"message is {size} bytes, limit {limit}: refused before decoding"
    record = {"event": "job", "task": task.name, "task_id": task_id, "job_id": job_id,
              "outcome": "refused", "reason_code": "payload_too_large", "size_bytes": size}
    log.warning(json.dumps(record, separators=(",", ":")))
    try:
        if task_id:
            result = AIResult.failed(job_id, "payload_too_large", text).to_dict()
            task.backend.store_result(task_id, result, "SUCCESS")
    finally:
        message.ack()


class JobStepTask(AITask):
    """A step of a job (:mod:`ai_tasks.jobs`): the last step releases the job's artifacts.

    The release runs after the step's result is stored, so the caller never
    waits for the clean-up; what a crash leaves behind expires with the
    artifact store's TTL.
    """

    def on_success(self, retval: Any, task_id: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
        from ai_tasks.jobs import spec_for_task

        spec, index = spec_for_task(self.name)
        last = index is None or index == len(spec.steps) - 1  # None: the job's single task
        if spec.release is None or not last or not args or not isinstance(args[0], Mapping):
            return
        try:
            spec.release(spec.state.from_dict(args[0]))
        except Exception:  # clean-up must never fail a finished job
            log.warning("release of %s artifacts failed", spec.type, exc_info=True)
