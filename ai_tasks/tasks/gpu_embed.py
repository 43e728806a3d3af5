"""Tasks of the ``gpu-embed`` queue."""

from __future__ import annotations

from typing import Any

from ai_tasks.celery import app
from ai_tasks.tasks.not_yet import not_implemented

__all__ = ["embed"]


@app.task(name="ai.embed")
def embed(state: dict[str, Any]) -> dict[str, Any]:
    """Text embeddings (local sentence-transformers or OpenAI): a later issue."""
    not_implemented("embedding", state)
