"""Tasks of the ``llm`` queue."""

from __future__ import annotations

from typing import Any

from ai_tasks.celery import app
from ai_tasks.tasks.not_yet import not_implemented

__all__ = ["generate_problem"]


@app.task(name="ai.problem.generate")
def generate_problem(state: dict[str, Any]) -> dict[str, Any]:
    """Exam-problem generation from OCR text by an LLM: a later issue."""
    not_implemented("problem_generation", state)
