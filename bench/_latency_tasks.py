"""No-op chain steps on the project's app, for ``bench/_celery_latency.py``.

They run under every setting the OMR steps run under (base task, acks_late,
prefetch 1, events, time limits, redaction), so a chain of four of them
against one of them measures what Celery itself costs per hop: the floor
under the OMR chain's added latency.
"""

from __future__ import annotations

from typing import Any

from ai_tasks.celery import app


@app.task(name="bench.step", ignore_result=True, track_started=False)
def step(state: dict[str, Any]) -> dict[str, Any]:
    """An intermediate step that does nothing (stores no result, like the OMR steps)."""
    return state


@app.task(name="bench.last")
def last(state: dict[str, Any]) -> dict[str, Any]:
    """A final step that does nothing (its result is stored, like ``ai.omr.answers``)."""
    return state
