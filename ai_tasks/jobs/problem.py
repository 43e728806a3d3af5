"""Job ``problem_generation`` (task ``ai.problem.generate``): exam-problem generation from OCR text by an LLM.

Stub: the engine lands with its issue; until then the job answers a clear
``not_implemented`` failure. Fill in the state fields, :func:`prepare` and
:func:`run` following ``docs/architecture.md``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ai_tasks.contracts import AIJob
from ai_tasks.errors import NotImplementedJobError
from ai_tasks.jobs.base import JobRef, JobSpec, Step, StepContext
from ai_tasks.redact import strip_secrets
from ai_tasks.routing import LLM

__all__ = ["SPEC", "ProblemState", "prepare", "run"]


@dataclass(frozen=True)
class ProblemState:
    """What crosses the broker for one ``problem_generation`` job."""

    job: JobRef
    payload: Mapping[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"job": self.job.to_dict(), "payload": dict(self.payload)}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ProblemState:
        return cls(job=JobRef.from_dict(data["job"]), payload=dict(data.get("payload") or {}))


def prepare(job: AIJob, ref: JobRef) -> ProblemState:
    """Validate the payload at the door and build the first state (secrets stop here)."""
    return ProblemState(job=ref, payload=strip_secrets(dict(job.payload)))


def run(state: ProblemState, ctx: StepContext) -> dict[str, Any]:
    """The whole job: not implemented in this release yet."""
    raise NotImplementedJobError("not_implemented", "problem_generation is not implemented in this ai-worker release yet")


SPEC = JobSpec(type="problem_generation", queue=LLM, state=ProblemState, prepare=prepare, steps=(Step("ai.problem.generate", run),))
