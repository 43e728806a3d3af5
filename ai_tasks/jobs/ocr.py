"""Job ``ocr`` (task ``ai.ocr``): OCR of a photo, scan or PDF (Tesseract kor+eng, Google Vision, auto).

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
from ai_tasks.routing import CPU_VISION

__all__ = ["SPEC", "OCRState", "prepare", "run"]


@dataclass(frozen=True)
class OCRState:
    """What crosses the broker for one ``ocr`` job."""

    job: JobRef
    payload: Mapping[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"job": self.job.to_dict(), "payload": dict(self.payload)}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> OCRState:
        return cls(job=JobRef.from_dict(data["job"]), payload=dict(data.get("payload") or {}))


def prepare(job: AIJob, ref: JobRef) -> OCRState:
    """Validate the payload at the door and build the first state (secrets stop here)."""
    return OCRState(job=ref, payload=strip_secrets(dict(job.payload)))


def run(state: OCRState, ctx: StepContext) -> dict[str, Any]:
    """The whole job: not implemented in this release yet."""
    raise NotImplementedJobError("not_implemented", "ocr is not implemented in this ai-worker release yet")


SPEC = JobSpec(type="ocr", queue=CPU_VISION, state=OCRState, prepare=prepare, steps=(Step("ai.ocr", run),))
