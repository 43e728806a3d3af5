"""No-op chain steps on the project's app, for ``bench/_celery_latency.py``.

They run under every setting the OMR steps run under (base task, acks_late,
prefetch 1, events, time limits, redaction), so a chain of four of them
against one of them measures what Celery itself costs per hop: the floor
under the OMR chain's added latency. The ``busy`` pair burns the CPU for as
long as each OMR step computes, so that floor also includes what a host
charges to wake processes that sat idle while a step ran.
"""

from __future__ import annotations

import time
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


def _busy(ms: float) -> None:
    # burn CPU like an engine step does (a sleep would let the core idle)
    end = time.perf_counter() + ms / 1000
    while time.perf_counter() < end:
        pass


@app.task(name="bench.busy_step", ignore_result=True, track_started=False)
def busy_step(state: dict[str, Any], ms: float) -> dict[str, Any]:
    """An intermediate step that keeps the CPU busy for ``ms``, then does nothing."""
    _busy(ms)
    return state


@app.task(name="bench.busy_last")
def busy_last(state: dict[str, Any], ms: float) -> dict[str, Any]:
    """A final step that keeps the CPU busy for ``ms``."""
    _busy(ms)
    return state
