"""Running a job: from an AIJob dict to its first state, its signature, its steps.

Shared by the dispatcher (``ai.job``), every step task and the in-process
runner, so the three cannot disagree about what a job is.

Examples:
    >>> spec, state, pipeline = start_job({"id": 5, "type": "omr_grading", "payload": {
    ...     "download_url": "https://b/x.jpg", "template_fetch": {"base_url": "https://api"},
    ...     "question_count": 20,
    ...     "pipeline": "single"}}, result_id="r1")
    >>> spec.single_task, pipeline, state.job.result_id, state.template_fetch.question_count
    ('ai.omr.grade', 'single', 'r1', 20)
    >>> start_job({"id": 5, "type": "ocr", "payload": {"pipeline": "fast"}})
    Traceback (most recent call last):
    ...
    ai_tasks.errors.JobPayloadError: payload_invalid: pipeline must be one of chain, single, got 'fast'
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

from ai_tasks.contracts import AIJob
from ai_tasks.errors import JobPayloadError
from ai_tasks.jobs import job_spec, spec_for_task
from ai_tasks.jobs.base import JobRef, JobSpec, ProgressReporter, StepContext

__all__ = ["PIPELINES", "build_signature", "run_all", "run_step", "run_task_step", "start_job", "task_reporter"]

#: ``payload.pipeline``: the chain of step tasks, or all steps in one task.
PIPELINES = ("chain", "single")
#: A progress update costs a backend write; long jobs report at most this often.
PROGRESS_INTERVAL_S = 0.5


def start_job(job: Any, result_id: str | None = None) -> tuple[JobSpec, Any, str]:
    """Validate an AIJob dict and prepare its first state.

    Returns ``(spec, state, pipeline)``. Raises an ``AIWorkerError`` (or a
    library error with a reason code) for anything wrong with the job.
    """
    ai_job = AIJob.from_dict(job)
    spec = job_spec(ai_job.type)
    payload = dict(ai_job.payload)
    raw_pipeline = payload.pop("pipeline", None)
    pipeline = "chain" if raw_pipeline in (None, "") else str(raw_pipeline).strip().lower()
    if pipeline not in PIPELINES:
        raise JobPayloadError("payload_invalid", f"pipeline must be one of chain, single, got {raw_pipeline!r}")
    if pipeline == "single" and spec.single_task is None and len(spec.steps) > 1:
        raise JobPayloadError("payload_invalid", f"{spec.type} has no single-task pipeline")
    ref = JobRef(id=ai_job.id, type=ai_job.type, source_id=ai_job.source_id, result_id=result_id)
    state = spec.prepare(AIJob(ai_job.id, ai_job.type, payload, ai_job.source_id), ref)
    return spec, state, pipeline


def build_signature(spec: JobSpec, state: Any, pipeline: str = "chain", first: int = 0) -> Any:
    """The Celery signature that runs the job's steps from step ``first`` on ``state`` (without errback)."""
    from celery import chain

    from ai_tasks.celery import app

    data = state.to_dict()
    if pipeline == "single" and spec.single_task:
        return app.signature(spec.single_task, args=(data,), queue=spec.queue)
    sigs = [app.signature(spec.steps[first].task, args=(data,), queue=spec.queue)]
    sigs += [app.signature(step.task, queue=spec.queue) for step in spec.steps[first + 1:]]
    return sigs[0] if len(sigs) == 1 else chain(*sigs)


def run_step(spec: JobSpec, index: int, state: Any, ctx: StepContext) -> Any:
    """Run step ``index`` of a job on ``state``: its next state, or the result dict."""
    return spec.steps[index].run(state, ctx)


def run_all(spec: JobSpec, state: Any, reporter: ProgressReporter | None = None) -> dict[str, Any]:
    """Run every step of a job in this process; objects are handed over in memory."""
    ctx = StepContext(state.job, reporter=reporter, hop=False)
    out: Any = state
    for index in range(len(spec.steps)):
        out = run_step(spec, index, out, ctx)
    if not isinstance(out, dict):
        raise TypeError(f"the last step of {spec.type} returned {type(out).__name__}, not a result dict")
    return out


def task_reporter(task: Any, job: JobRef) -> ProgressReporter:
    """Progress as a ``PROGRESS`` task state, on the step's id and on the job's result id."""
    last = [0.0]

    def report(done: int, total: int, info: Mapping[str, Any]) -> None:
        now = time.monotonic()
        if done < total and now - last[0] < PROGRESS_INTERVAL_S:
            return
        last[0] = now
        meta = {"job_id": job.id, "done": done, "total": total, **dict(info)}
        if task.request.id and not task.request.is_eager:
            task.update_state(state="PROGRESS", meta=meta)
        if job.result_id:
            task.backend.store_result(job.result_id, meta, "PROGRESS")

    return report


def run_task_step(task: Any, state_dict: Mapping[str, Any]) -> dict[str, Any]:
    """The body of every job step task: rebuild the state, run the step, return JSON."""
    spec, index = spec_for_task(task.name)
    state = spec.state.from_dict(state_dict)
    reporter = task_reporter(task, state.job)
    if index is None:
        return run_all(spec, state, reporter)
    out = run_step(spec, index, state, StepContext(state.job, reporter=reporter, hop=True))
    return out if isinstance(out, dict) else out.to_dict()
