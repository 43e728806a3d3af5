"""Job ``embedding`` (task ``ai.embed``): text embeddings (local sentence-transformers, OpenAI, auto).

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
from ai_tasks.routing import GPU_EMBED

__all__ = ["SPEC", "EmbeddingState", "prepare", "run"]


@dataclass(frozen=True)
class EmbeddingState:
    """What crosses the broker for one ``embedding`` job."""

    job: JobRef
    payload: Mapping[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"job": self.job.to_dict(), "payload": dict(self.payload)}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> EmbeddingState:
        return cls(job=JobRef.from_dict(data["job"]), payload=dict(data.get("payload") or {}))


def prepare(job: AIJob, ref: JobRef) -> EmbeddingState:
    """Validate the payload at the door and build the first state (secrets stop here)."""
    return EmbeddingState(job=ref, payload=strip_secrets(dict(job.payload)))


def run(state: EmbeddingState, ctx: StepContext) -> dict[str, Any]:
    """The whole job: not implemented in this release yet."""
    raise NotImplementedJobError("not_implemented", "embedding is not implemented in this ai-worker release yet")


SPEC = JobSpec(type="embedding", queue=GPU_EMBED, state=EmbeddingState, prepare=prepare, steps=(Step("ai.embed", run),))
