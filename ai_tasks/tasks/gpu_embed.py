"""Tasks of the ``gpu-embed`` queue."""

from __future__ import annotations

from typing import Any

from ai_tasks.celery import app
from ai_tasks.jobs.runner import run_task_step
from ai_tasks.task import JobStepTask

__all__ = ["embed"]


@app.task(name="ai.embed", bind=True, base=JobStepTask)
def embed(self: JobStepTask, state: dict[str, Any]) -> dict[str, Any]:
    """Text embeddings (local sentence-transformers / OpenAI / auto)."""
    return run_task_step(self, state)
