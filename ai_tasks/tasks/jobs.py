"""``ai.job``: the legacy API's single entry point, and how a job ends.

The API sends ``send_task("ai.job", [job], queue="cpu-vision")``; the
dispatcher validates the AIJob and prepares its first state through the
registry (:mod:`ai_tasks.jobs`), then starts the job's steps, with
``ai.job.failed`` as error handler on every step (a chain of several steps on
the dispatcher's own queue, OMR's, runs its first step right here and starts
the rest: ``ai.job`` fetches, ``ai.omr.read`` reads); the last step ends the job
itself (:func:`finish`, called by ``ai_tasks/tasks/steps.py``: no
``ai.job.finalize`` hop, which cost a task per job).
A ``single`` pipeline of a job on the dispatcher's own queue (OMR) runs
right here, in the dispatcher: one task per job, nothing to hand over.
Both write the job's :class:`AIResult` (DONE or FAILED) under the
*dispatcher's* task id, which itself stores nothing else: the API's
``AsyncResult(id).get()`` sees one contract, never a raw exception,
whichever step ended the job. Flower is told the dispatcher's part is done
(a ``task-succeeded`` event naming the steps it started), so a dispatched
job does not read ``STARTED`` forever there.

Delivery (``ai.job.deliver``) POSTs the result with an idempotency key (the
job id and the dispatcher's task id) and skips the POST when a delivered
marker says a 2xx was already received for that key
(:mod:`ai_tasks.delivery`); a marker it cannot read delays the POST (retry)
rather than risk a second one.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from celery import states
from celery.exceptions import Ignore

from ai_tasks.celery import app
from ai_tasks.contracts import AIResult
from ai_tasks.errors import PoisonMessageError, reason_code_of
from ai_tasks.jobs import JOBS
from ai_tasks.jobs.base import StepContext
from ai_tasks.jobs.runner import build_signature, run_all, run_step, start_job, task_reporter
from ai_tasks.ledger import progress, settle
from ai_tasks.routing import CPU_VISION, TASK_QUEUES
from ai_tasks.settings import get_settings
from ai_tasks.task import AITask, delivery_redis_url, hand_over, is_retryable

__all__ = ["DispatchTask", "conclude", "deliver", "dispatch", "failed", "finalize", "finish", "redeliver_stored", "stored_result"]

log = logging.getLogger(__name__)


def _delivering() -> bool:
    s = get_settings()
    return bool(s.api_base_url and s.internal_worker_token)


def conclude(result: dict[str, Any], job: dict[str, Any], result_id: str | None) -> None:
    """After a job's final result is stored: deliver it, or settle its ledger entry when nothing delivers.

    With delivery on, ``ai.job.deliver`` settles the entry once the API has
    the result (``ai_tasks/ledger.py``: a lost delivery message is enqueued
    again by the sweep).
    """
    if not _delivering():
        settle(app, result_id)
        return
    _enqueue_delivery(result, job, result_id)


def redeliver_stored(result: Any, job: dict[str, Any], result_id: str) -> bool:
    """For the ledger's sweep: True when a stored result needs no (more) delivery, else enqueue it again.

    A stored bare task failure (an exception, not an AIResult) is first
    answered as a FAILED ``internal_error`` AIResult under ``result_id``, so
    the API gets a callback for every job it submitted.
    """
    from ai_tasks.delivery import idempotency_key

    if not isinstance(result, dict):
        # A bare Celery failure (an exception escaped the task: a bug) is no answer the API can read,
        # and nothing delivered it: answer the job FAILED internal_error, stored and delivered.
        result = AIResult.failed(str(job.get("id")), "internal_error",
                                 f"the job's task failed without an answer ({type(result).__name__})").to_dict()
        app.backend.store_result(result_id, result, states.SUCCESS)
        log.error("job %s had only a bare task failure: answered internal_error", job.get("id"))
        if not _delivering():
            return True
        _enqueue_delivery(result, job, result_id)
        return False
    if not _delivering():
        return True
    marker = _delivered_marker()
    if marker is None:
        return True
    try:
        if marker.delivered(idempotency_key(result, result_id)):
            return True
    except Exception:  # unreadable: the delivery checks again before it posts (it fails closed)
        pass
    _enqueue_delivery(result, job, result_id)
    return False


def stored_result(result_id: str | None) -> dict[str, Any] | None:
    """The final AIResult already stored under ``result_id``, if any.

    A job republished by the ledger (``ai_tasks/ledger.py``) while its first
    copy was merely slow runs twice; the first result stored is the job's
    result, and the later run stores and delivers that one again (the
    delivery's idempotency key then makes it a no-op).
    """
    if not result_id:
        return None
    try:
        meta = app.backend.get_task_meta(result_id)
    except Exception:  # unreadable: store ours (the at-least-once path)
        return None
    stored = meta.get("result")
    if meta.get("status") == states.SUCCESS and isinstance(stored, dict) and stored.get("status") in ("DONE", "FAILED"):
        return stored
    return None


def _enqueue_delivery(result: dict[str, Any], job: dict[str, Any], result_id: str | None) -> None:
    s = get_settings()
    if not (s.api_base_url and s.internal_worker_token):
        return
    spec = JOBS.get(str(job.get("type")))
    queue = spec.queue if spec is not None else CPU_VISION
    deliver.apply_async((result, job.get("source_id")), {"result_id": result_id}, queue=queue)


def _step_names(sig: Any) -> list[str]:
    tasks = getattr(sig, "tasks", None)
    return [t.task for t in tasks] if tasks else [sig.task]


class DispatchTask(AITask):
    """``ai.job``'s task class: a delivery the poison guard dead-letters still answers the job."""

    def answer_poison(self, exc: PoisonMessageError, args: tuple[Any, ...]) -> dict[str, Any]:
        """A FAILED ``poison_message`` AIResult, stored under the job's id and delivered (the ledger settles).

        Each delivery of this message lost its worker, so nothing else will
        answer the job: without this the API would read a bare Celery failure,
        get no callback, and the ledger entry would wait for its sweep.
        """
        raw = args[0] if args and isinstance(args[0], dict) else {}
        job_id = str(raw.get("id", "unknown"))
        out = stored_result(self.request.id) or AIResult.from_exception(job_id, exc).to_dict()
        if self.request.id:
            self.backend.store_result(self.request.id, out, states.SUCCESS)
        conclude(out, {"id": job_id, "type": raw.get("type"), "source_id": raw.get("source_id")}, self.request.id)
        return out


@app.task(name="ai.job", bind=True, base=DispatchTask)
def dispatch(self: Any, job: dict[str, Any]) -> dict[str, Any]:
    """Run a legacy AIJob dict; the result is an AIResult dict."""
    job_id = str(job.get("id")) if isinstance(job, dict) else "unknown"
    started = time.monotonic()
    try:
        spec, state, pipeline = start_job(job, result_id=self.request.id)
        here = spec.queue == TASK_QUEUES["ai.job"]
        if pipeline == "single" and here:
            return _run_here(self, spec, state)
        first = 0
        if pipeline == "chain" and here and len(spec.steps) > 1:
            # A chain on the dispatcher's own queue starts here: its first step (OMR's fetch) runs in
            # this task, which hands its state over to the second. One task fewer per job (issue 18).
            state = run_step(spec, 0, state, StepContext(state.job, reporter=task_reporter(self, state.job)))
            first = 1
        sig = build_signature(spec, state, pipeline, first=first)
    except Exception as exc:
        if is_retryable(exc) and self.request.retries < (self.max_retries or 0):
            raise  # AITask retries with backoff; the last attempt falls through to a FAILED result
        result = AIResult.from_exception(job_id, exc).to_dict()
        raw = job if isinstance(job, dict) else {}
        # the API needs source_id (submission_id) for a job refused at the door too
        result = stored_result(self.request.id) or result
        conclude(result, {"id": job_id, "type": raw.get("type"), "source_id": raw.get("source_id")},
                 self.request.id)
        return result
    job_info = state.job.to_dict()
    result_id = self.request.id
    # The last step stores the job's AIResult under result_id itself (finish): its own return value
    # is not stored, and no STARTED state either.
    tasks = getattr(sig, "tasks", None)
    (tasks[-1] if tasks else sig).set(ignore_result=True)
    sig.link_error(failed.s(job=job_info, result_id=result_id))
    hand_over(sig)  # or requeue this message: a broker restart is never a FAILED job
    # ai.job is acked now: the ledger's deadline runs from this hand-over, and its sweep
    # follows the job in its steps' messages (ai_tasks/ledger.py).
    progress(app, result_id, spec.type)
    # The dispatcher's own id must only ever hold the final AIResult, so its
    # return value is not stored (Ignore); Flower still learns it is done.
    if self.request.id and not self.request.is_eager:
        steps = " -> ".join(_step_names(sig))
        ran = f"ran {spec.steps[0].task}, " if first else ""
        self.send_event(
            "task-succeeded", result=f"{ran}handed over: {steps}",
            runtime=round(time.monotonic() - started, 4),
        )
    raise Ignore()


def _run_here(task: Any, spec: Any, state: Any) -> dict[str, Any]:
    """The single pipeline of a job on the dispatcher's own queue: all steps in this task.

    No hop at all: the dispatcher's return value is the job's AIResult. A
    retryable error retries the whole job (this task, with backoff); a
    permanent one is a FAILED result, as the chain's errback would write.
    """
    job_info = state.job.to_dict()
    try:
        out = AIResult.done(state.job.id, run_all(spec, state, task_reporter(task, state.job))).to_dict()
    except Exception as exc:
        if is_retryable(exc) and task.request.retries < (task.max_retries or 0):
            raise  # the retry needs the job's inputs: nothing is released yet
        out = AIResult.from_exception(state.job.id, exc).to_dict()
        code = reason_code_of(exc)
        level = logging.ERROR if code == "internal_error" else logging.WARNING
        log.log(level, "job %s failed: %s", state.job.id, code, exc_info=level == logging.ERROR)
    if spec.release is not None:
        try:
            spec.release(state)
        except Exception:  # clean-up never fails a finished job; the store's TTL is the backstop
            log.warning("release of %s artifacts failed", spec.type, exc_info=True)
    out = stored_result(task.request.id) or out  # Celery stores the return value: keep the first one
    conclude(out, job_info, task.request.id)
    return out


def finish(result: dict[str, Any], job: dict[str, Any], result_id: str | None) -> dict[str, Any]:
    """End a job from its last task: a DONE AIResult stored under ``result_id``, then delivered.

    The first AIResult stored under ``result_id`` stays the job's result (a
    redelivered last step, or a job republished by the ledger while its first
    run was merely slow, stores and delivers that one again; the delivery's
    idempotency key makes that a no-op).
    """
    out = stored_result(result_id)
    if out is None:
        out = AIResult.done(job["id"], result).to_dict()
        if result_id:
            app.backend.store_result(result_id, out, states.SUCCESS)
    conclude(out, job, result_id)
    return out


@app.task(name="ai.job.finalize")
def finalize(result: dict[str, Any], job: dict[str, Any], result_id: str | None = None) -> dict[str, Any]:
    """Wrap a job's result into a DONE AIResult, store it under the job's id, deliver it.

    Chains no longer end with it (their last step calls :func:`finish`); kept
    for the chains an older dispatcher started before an upgrade.
    """
    return finish(result, job, result_id)


@app.task(name="ai.job.failed")
def failed(request: Any, exc: BaseException, traceback: Any, job: dict[str, Any], result_id: str) -> None:
    """Chain error handler: any final failure becomes a FAILED AIResult with a reason code.

    Runs inline in the worker whose step failed (Celery calls errbacks that
    take ``request, exc, traceback`` directly), after the step's retries.
    """
    out = stored_result(result_id) or AIResult.from_exception(job["id"], exc).to_dict()
    app.backend.store_result(result_id, out, states.SUCCESS)
    code = reason_code_of(exc)
    # a reason code is an expected outcome (a blurry photo); internal_error is a bug
    level = logging.ERROR if code == "internal_error" else logging.WARNING
    log.log(level, "job %s failed: %s", job.get("id"), code, exc_info=level == logging.ERROR)
    conclude(out, job, result_id)


_marker: Any = None


def _delivered_marker() -> Any:
    """The process's DeliveredMarker (strict: a Redis error is raised), or None when no Redis is shared."""
    global _marker
    if _marker is None:
        from ai_tasks.delivery import DeliveredMarker

        url = delivery_redis_url()
        _marker = DeliveredMarker(url, fail_open=False) if url else False
    return _marker or None


@app.task(name="ai.job.deliver", bind=True)
def deliver(self: Any, result: dict[str, Any], source_id: str | None, result_id: str | None = None) -> None:
    """POST an AIResult to the API's internal endpoint once; retried with backoff on 5xx/timeouts.

    A redelivered finalize (or this task run twice) finds the delivered
    marker and does not POST again; the marker is written only after a 2xx.
    The API may be away longer than a step's upstream: delivery has its own,
    longer retry budget (``celeryconfig.DELIVERY_MAX_RETRIES``, about an hour).

    The marker fails closed: when Redis cannot say whether the result was
    delivered (a Redis restart), the delivery is retried later instead of
    posted (issue-18 chaos: a second delivery, queued by the ledger's sweep,
    ran during a Redis restart and POSTed again). Only the last attempt of
    the budget posts without it; the idempotency key still names the result.
    """
    import redis
    from celery.utils.time import get_exponential_backoff_interval

    from ai_tasks.delivery import DELIVERY_CLAIM_S, idempotency_key, post_unless_delivered
    from ai_tasks.errors import DeliveryError

    s = get_settings()
    if not (s.api_base_url and s.internal_worker_token):
        return
    api_base_url, token = s.api_base_url, s.internal_worker_token.reveal()
    marker = _delivered_marker()
    retries = int(self.request.retries or 0)
    max_retries = int(app.conf.get("DELIVERY_MAX_RETRIES") or 0)
    last = self.request.called_directly or retries >= max_retries

    def backoff_s() -> int:
        wait_s = get_exponential_backoff_interval(
            factor=2, retries=retries, maximum=int(app.conf.get("DELIVERY_RETRY_BACKOFF_MAX_S") or 60),
            full_jitter=True,
        )
        return max(1, wait_s)

    def post(with_marker: Any) -> Any:
        return post_unless_delivered(api_base_url, token, result, source_id, result_id, with_marker)

    try:
        try:
            outcome = post(marker)
        except redis.RedisError as exc:  # the marker is unreadable: it may say "delivered", so do not post now
            if not last:
                log.warning("delivered marker of job %s unreadable (%s): delivery retried later, not posted",
                            result.get("job_id"), type(exc).__name__)
                raise self.retry(countdown=backoff_s(), max_retries=max_retries) from None
            log.warning("delivered marker of job %s unreadable (%s) on the last attempt: posted without it",
                        result.get("job_id"), type(exc).__name__)
            outcome = post(None)
    except DeliveryError as exc:  # 5xx, 408, 429, timeouts: the API is away for now
        if last:
            raise
        raise self.retry(exc=exc, countdown=backoff_s(), max_retries=max_retries) from None
    key = idempotency_key(result, result_id)
    if outcome == "delivered_before":
        log.info("result of job %s already delivered (%s): not posted again", result.get("job_id"), key)
    elif outcome == "busy":
        # another run of this delivery is posting right now: wait for its outcome
        if self.request.called_directly or retries >= max_retries:
            return
        raise self.retry(countdown=DELIVERY_CLAIM_S // 2, max_retries=max_retries)
    elif marker is not None:
        try:
            marker.mark(key)
        except Exception as exc:  # posted: only a later redelivery could post again (the key dedupes)
            log.warning("delivered marker of %s not written (%s)", key, type(exc).__name__)
    settle(app, result_id)  # the job is done for the ledger: stored and delivered
