"""Run a job in this process, with the same task code a worker runs (the embedded default).

Used by the CLI when no broker is configured, so ``ai-worker submit`` works on
a laptop with nothing running. There is no queue, no retry and no result
backend here: transient errors fail the job at once.
"""

from __future__ import annotations

from typing import Any

from ai_tasks.contracts import AIJob, AIResult
from ai_tasks.errors import AIWorkerError, UnknownJobTypeError
from ai_tasks.routing import JOB_TASKS

__all__ = ["INPROCESS_TASKS", "run_job"]

#: job type -> the task whose body runs the whole job in one process.
INPROCESS_TASKS: dict[str, str] = {**JOB_TASKS, "omr_grading": "ai.omr.grade"}


def run_job(job: dict[str, Any]) -> dict[str, Any]:
    """Run ``job`` (an AIJob dict) here and return its AIResult dict.

    Examples:
        >>> run_job({"id": 1, "type": "teleport"})["error"]["reason_code"]
        'unknown_job_type'
    """
    from ai_tasks.celery import app
    from ai_tasks.tasks.jobs import initial_state

    job_id = str(job.get("id")) if isinstance(job, dict) else "unknown"
    try:
        ai_job = AIJob.from_dict(job)
        if ai_job.type not in INPROCESS_TASKS:
            raise UnknownJobTypeError(
                "unknown_job_type",
                f"unknown job type {ai_job.type!r}; expected one of: {', '.join(sorted(JOB_TASKS))}",
            )
        app.loader.import_default_modules()
        state = initial_state(ai_job)
        if ai_job.type == "omr_grading":
            from ai_tasks.omr_job import prefetch_legacy_meta

            state = prefetch_legacy_meta(ai_job, state)
        result = app.tasks[INPROCESS_TASKS[ai_job.type]].run(state)
        return AIResult.done(ai_job.id, result).to_dict()
    except AIWorkerError as exc:
        return AIResult.from_exception(job_id, exc).to_dict()
    except Exception as exc:  # a bug must still give a result, not a traceback
        return AIResult.from_exception(job_id, exc).to_dict()
