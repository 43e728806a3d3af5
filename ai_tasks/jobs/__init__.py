"""The one registry: job type -> :class:`~ai_tasks.jobs.base.JobSpec`.

The one source of what runs a job and where: the dispatcher (``ai.job``),
the in-process runner and ``ai-worker submit`` read :data:`JOBS`, and so do
the step tasks (``ai_tasks/tasks/steps.py`` registers one per task name),
the routes (:data:`ai_tasks.routing.TASK_QUEUES`) and the time limits and
annotations in ``celeryconfig.py``. A new job type is a module here with a
``SPEC`` and one line below (``docs/architecture.md``).

Examples:
    >>> job_spec("omr_grading").steps[0].task
    'ai.omr.fetch'
    >>> job_spec("teleport")
    Traceback (most recent call last):
    ...
    ai_tasks.errors.UnknownJobTypeError: unknown_job_type: unknown job type 'teleport'; expected one of: embedding, handwriting_analysis, homework_video_analysis, ocr, omr_grading, problem_generation, question_segmentation, wrong_note
"""

from __future__ import annotations

from ai_tasks.errors import UnknownJobTypeError
from ai_tasks.jobs import embedding, handwriting, ocr, omr, problem, segmentation, video, wrong_note
from ai_tasks.jobs.base import JobSpec

__all__ = ["JOBS", "job_spec", "spec_for_task"]

JOBS: dict[str, JobSpec] = {
    spec.type: spec
    for spec in (
        omr.SPEC,
        ocr.SPEC,
        segmentation.SPEC,
        handwriting.SPEC,
        video.SPEC,
        embedding.SPEC,
        problem.SPEC,
        wrong_note.SPEC,
    )
}


def job_spec(job_type: object) -> JobSpec:
    """The spec of ``job_type``; ``unknown_job_type`` when there is none."""
    spec = JOBS.get(job_type) if isinstance(job_type, str) else None
    if spec is None:
        raise UnknownJobTypeError(
            "unknown_job_type", f"unknown job type {job_type!r}; expected one of: {', '.join(sorted(JOBS))}"
        )
    return spec


_BY_TASK: dict[str, tuple[JobSpec, int | None]] = {}


def spec_for_task(task_name: str) -> tuple[JobSpec, int | None]:
    """(spec, step index) of a task; the index is ``None`` for a job's single task.

    Examples:
        >>> spec, index = spec_for_task("ai.omr.read")
        >>> spec.type, index
        ('omr_grading', 1)
        >>> spec_for_task("ai.omr.grade")[1] is None
        True
    """
    if not _BY_TASK:
        for spec in JOBS.values():
            for i, step in enumerate(spec.steps):
                _BY_TASK[step.task] = (spec, i)
            if spec.single_task:
                _BY_TASK[spec.single_task] = (spec, None)
    return _BY_TASK[task_name]
