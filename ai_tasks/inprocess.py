"""Run a job in this process, with the same step code a worker runs (the embedded default).

Used by the CLI when no broker is configured, so ``ai-worker submit`` works on
a laptop with nothing running. Every job runs all its steps in this process
(:func:`ai_tasks.jobs.runner.run_all`), handing objects over in memory. There
is no queue, no retry and no result backend here: transient errors fail the
job at once.
"""

from __future__ import annotations

from typing import Any

from ai_tasks.contracts import AIResult
from ai_tasks.jobs.base import ProgressReporter
from ai_tasks.jobs.runner import run_all, start_job

__all__ = ["run_job"]


def run_job(job: dict[str, Any], reporter: ProgressReporter | None = None) -> dict[str, Any]:
    """Run ``job`` (an AIJob dict) here and return its AIResult dict.

    Examples:
        >>> run_job({"id": 1, "type": "teleport"})["error"]["reason_code"]
        'unknown_job_type'
    """
    job_id = str(job.get("id")) if isinstance(job, dict) else "unknown"
    try:
        spec, state, _pipeline = start_job(job)
        return AIResult.done(state.job.id, run_all(spec, state, reporter)).to_dict()
    except Exception as exc:  # a bug must still give a result, not a traceback
        return AIResult.from_exception(job_id, exc).to_dict()
