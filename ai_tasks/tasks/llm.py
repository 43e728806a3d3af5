"""Tasks of the ``llm`` queue."""

from __future__ import annotations

from typing import Any

from ai_tasks.celery import app
from ai_tasks.jobs.runner import run_task_step
from ai_tasks.task import JobStepTask

__all__ = ["generate_problem"]


@app.task(name="ai.problem.generate", bind=True, base=JobStepTask)
def generate_problem(self: JobStepTask, state: dict[str, Any]) -> dict[str, Any]:
    """Exam-problem generation from OCR text by an LLM."""
    return run_task_step(self, state)
