"""Every job step task, made from the registry: one Celery task per task name in :data:`ai_tasks.jobs.JOBS`.

A step task is the same for every job: rebuild the state, run the step (or
all steps, for a job's single task), return JSON
(:func:`ai_tasks.jobs.runner.run_task_step`). The last step of a job (or its
single task) that the dispatcher started (its state names a ``result_id``)
also ends the job: it stores the AIResult and delivers it
(:func:`ai_tasks.tasks.jobs.finish`), so no ``ai.job.finalize`` task
follows it. So no job writes one: listing
a job in the registry registers its tasks here, and routes them
(:data:`ai_tasks.routing.TASK_QUEUES`) and limits them (``celeryconfig.py``)
from the same spec.

Examples:
    >>> STEP_TASKS["ai.omr.read"].name, STEP_TASKS["ai.omr.read"].__doc__.splitlines()[0]
    ('ai.omr.read', 'Step 2: decode and warp the photo, read the student id and the answers, score; returns the OMR result.')
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ai_tasks.celery import app
from ai_tasks.jobs import JOBS
from ai_tasks.jobs.base import JobSpec
from ai_tasks.jobs.runner import run_task_step
from ai_tasks.ledger import progress
from ai_tasks.task import JobStepTask
from ai_tasks.tasks.jobs import conclude, finish, stored_result

__all__ = ["STEP_TASKS"]


def _docs(spec: JobSpec) -> dict[str, str]:
    """Task name -> what Flower and ``celery inspect`` say it does."""
    docs = {step.task: (step.run.__doc__ or f"{spec.type}: {step.task}").strip() for step in spec.steps}
    if spec.single_task:
        docs[spec.single_task] = f"{spec.type}: every step in one process (payload.pipeline \"single\")."
    return docs


def _last_tasks(spec: JobSpec) -> set[str]:
    """The tasks that end a job: its last step and its single task."""
    return {spec.steps[-1].task} | ({spec.single_task} if spec.single_task else set())


def _step_task(name: str, doc: str, last: bool) -> Any:
    def run(self: JobStepTask, state: dict[str, Any]) -> dict[str, Any]:
        raw = state.get("job") if isinstance(state, Mapping) else None
        job: dict[str, Any] = dict(raw) if isinstance(raw, Mapping) else {}
        result_id = job.get("result_id")
        # a step started: the job made progress, its ledger deadline moves on (ai_tasks/ledger.py)
        progress(app, result_id, job.get("type"))
        if not last or not result_id:  # not the end of a dispatched job: the step's own return value
            return run_task_step(self, state)
        if (self.request.delivery_info or {}).get("redelivered"):
            # a worker died after this job was answered (the photo may be released): answer it again
            stored = stored_result(result_id)
            if stored is not None:
                conclude(stored, job, result_id)
                return stored
        return finish(run_task_step(self, state), job, result_id)

    run.__name__ = run.__qualname__ = name.replace(".", "_")
    run.__doc__ = doc
    return app.task(name=name, bind=True, base=JobStepTask)(run)


#: task name -> the registered Celery task.
STEP_TASKS: dict[str, Any] = {
    name: _step_task(name, doc, name in _last_tasks(spec)) for spec in JOBS.values() for name, doc in _docs(spec).items()
}
