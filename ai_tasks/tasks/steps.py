"""Every job step task, made from the registry: one Celery task per task name in :data:`ai_tasks.jobs.JOBS`.

A step task is the same for every job: rebuild the state, run the step (or
all steps, for a job's single task), return JSON
(:func:`ai_tasks.jobs.runner.run_task_step`). So no job writes one: listing
a job in the registry registers its tasks here, and routes them
(:data:`ai_tasks.routing.TASK_QUEUES`) and limits them (``celeryconfig.py``)
from the same spec.

Examples:
    >>> STEP_TASKS["ai.omr.warp"].name, STEP_TASKS["ai.omr.warp"].__doc__.splitlines()[0]
    ('ai.omr.warp', 'Step 2: decode the photo and warp it to the template frame (a PDF stack skips it).')
"""

from __future__ import annotations

from typing import Any

from ai_tasks.celery import app
from ai_tasks.jobs import JOBS
from ai_tasks.jobs.base import JobSpec
from ai_tasks.jobs.runner import run_task_step
from ai_tasks.task import JobStepTask

__all__ = ["STEP_TASKS"]


def _docs(spec: JobSpec) -> dict[str, str]:
    """Task name -> what Flower and ``celery inspect`` say it does."""
    docs = {step.task: (step.run.__doc__ or f"{spec.type}: {step.task}").strip() for step in spec.steps}
    if spec.single_task:
        docs[spec.single_task] = f"{spec.type}: every step in one process (payload.pipeline \"single\")."
    return docs


def _step_task(name: str, doc: str) -> Any:
    def run(self: JobStepTask, state: dict[str, Any]) -> dict[str, Any]:
        return run_task_step(self, state)

    run.__name__ = run.__qualname__ = name.replace(".", "_")
    run.__doc__ = doc
    return app.task(name=name, bind=True, base=JobStepTask)(run)


#: task name -> the registered Celery task.
STEP_TASKS: dict[str, Any] = {name: _step_task(name, doc) for spec in JOBS.values() for name, doc in _docs(spec).items()}
