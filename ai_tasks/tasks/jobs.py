"""``ai.job``: the legacy API's single entry point, and how a job ends.

The API sends ``send_task("ai.job", [job], queue="cpu-vision")``; the
dispatcher validates the AIJob, strips secrets from its payload, and starts
the job's task or chain followed by ``ai.job.finalize``, with ``ai.job.failed``
as error handler on every step. Both write the job's :class:`AIResult` (DONE
or FAILED) under the *dispatcher's* task id, which itself stores nothing
else: the API's ``AsyncResult(id).get()`` sees one contract, never a raw
exception, whichever step ended the job.
"""

from __future__ import annotations

import logging
from typing import Any

from celery import Signature, chain, states
from celery.exceptions import Ignore

from ai_tasks.celery import app
from ai_tasks.contracts import AIJob, AIResult
from ai_tasks.errors import AIWorkerError, TransientError, UnknownJobTypeError
from ai_tasks.routing import JOB_TASKS, job_queue
from ai_tasks.settings import get_settings

__all__ = ["build_job_signature", "deliver", "dispatch", "failed", "finalize", "initial_state"]

log = logging.getLogger(__name__)


def initial_state(job: AIJob) -> dict[str, Any]:
    """The first argument of a job's task or chain: the job minus its secrets."""
    from ai_tasks.redact import strip_secrets

    return {
        "job": {"id": job.id, "type": job.type, "source_id": job.source_id},
        "payload": strip_secrets(dict(job.payload)),
    }


def build_job_signature(job: AIJob, state: dict[str, Any]) -> Signature:
    """The task or chain that runs ``job`` (without finalize/errback)."""
    if job.type not in JOB_TASKS:
        known = ", ".join(sorted(JOB_TASKS))
        raise UnknownJobTypeError("unknown_job_type", f"unknown job type {job.type!r}; expected one of: {known}")
    if job.type == "omr_grading":
        from ai_tasks.tasks.cpu_vision import omr_chain

        return omr_chain(state)
    return app.signature(JOB_TASKS[job.type], args=(state,))


def _enqueue_delivery(result: dict[str, Any], job: dict[str, Any]) -> None:
    s = get_settings()
    if not (s.api_base_url and s.internal_worker_token):
        return
    queue = job_queue(job["type"]) if job.get("type") in JOB_TASKS else "cpu-vision"
    deliver.apply_async((result, job.get("source_id")), queue=queue)


@app.task(name="ai.job", bind=True)
def dispatch(self: Any, job: dict[str, Any]) -> dict[str, Any]:
    """Run a legacy AIJob dict; the result is an AIResult dict."""
    job_id = str(job.get("id")) if isinstance(job, dict) else "unknown"
    try:
        ai_job = AIJob.from_dict(job)
        state = initial_state(ai_job)
        if ai_job.type == "omr_grading":
            from ai_tasks.omr_job import prefetch_legacy_meta

            # The only place legacy credentials are used; they go no further.
            state = prefetch_legacy_meta(ai_job, state)
        sig = build_job_signature(ai_job, state)
    except AIWorkerError as exc:
        if isinstance(exc, TransientError) and self.request.retries < (self.max_retries or 0):
            raise  # autoretry with backoff; the last attempt falls through to a FAILED result
        result = AIResult.from_exception(job_id, exc).to_dict()
        _enqueue_delivery(result, {"id": job_id, "type": job.get("type") if isinstance(job, dict) else None})
        return result
    queue = job_queue(ai_job.type)
    job_info = state["job"]
    result_id = self.request.id
    whole = chain(sig, finalize.s(job=job_info, result_id=result_id).set(queue=queue))
    whole.link_error(failed.s(job=job_info, result_id=result_id))
    whole.apply_async()
    # The dispatcher's own id must only ever hold the final AIResult.
    raise Ignore()


@app.task(name="ai.job.finalize")
def finalize(result: dict[str, Any], job: dict[str, Any], result_id: str | None = None) -> dict[str, Any]:
    """Wrap a job's result into a DONE AIResult, store it under the job's id, deliver it."""
    out = AIResult.done(job["id"], result).to_dict()
    if result_id:
        app.backend.store_result(result_id, out, states.SUCCESS)
    _enqueue_delivery(out, job)
    return out


@app.task(name="ai.job.failed")
def failed(request: Any, exc: BaseException, traceback: Any, job: dict[str, Any], result_id: str) -> None:
    """Chain error handler: any final failure becomes a FAILED AIResult with a reason code.

    Runs inline in the worker whose step failed (Celery calls errbacks that
    take ``request, exc, traceback`` directly), after the step's retries.
    """
    out = AIResult.from_exception(job["id"], exc).to_dict()
    app.backend.store_result(result_id, out, states.SUCCESS)
    log.warning("job %s failed: %s", job.get("id"), out["error"]["reason_code"])
    _enqueue_delivery(out, job)


@app.task(name="ai.job.deliver")
def deliver(result: dict[str, Any], source_id: str | None) -> None:
    """POST an AIResult to the API's internal endpoint; retried with backoff on 5xx/timeouts."""
    from ai_tasks.delivery import deliver_result, result_submission

    s = get_settings()
    if not (s.api_base_url and s.internal_worker_token):
        return
    deliver_result(s.api_base_url, s.internal_worker_token.reveal(), result_submission(result, source_id))
