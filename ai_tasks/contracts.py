"""The job and result contracts the academy's API already speaks.

Kept field-for-field compatible with the legacy worker: an ``AIJob`` is
``{"id", "type", "payload", "source_id"}`` and an ``AIResult`` is
``{"job_id", "status": "DONE"|"FAILED", "result", "error"}``. We extend
``error`` from a bare string to ``{"reason_code", "message"}``; the legacy
string form is still accepted by :meth:`AIResult.from_dict`.

Examples:
    >>> job = AIJob.from_dict({"id": "j1", "type": "ocr", "payload": {"download_url": "https://x/y.png"}})
    >>> AIJob.from_dict(job.to_dict()) == job
    True
    >>> r = AIResult.failed("j1", "image_invalid", "not an image")
    >>> r.to_dict()["error"]
    {'reason_code': 'image_invalid', 'message': 'not an image'}
    >>> AIResult.from_dict(r.to_dict()) == r
    True
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from ai_tasks.errors import JobPayloadError, reason_code_of

__all__ = ["JOB_TYPES", "AIJob", "AIResult", "JobError", "JobStatus"]

JobStatus = Literal["DONE", "FAILED"]

#: Every job type the legacy API can send, in the legacy spelling.
JOB_TYPES: tuple[str, ...] = (
    "ocr",
    "question_segmentation",
    "handwriting_analysis",
    "embedding",
    "problem_generation",
    "homework_video_analysis",
    "omr_grading",
)


@dataclass(frozen=True)
class AIJob:
    """One unit of work, as the API enqueues it.

    Args:
        id: the API's job id (string; numbers are converted).
        type: one of :data:`JOB_TYPES` (validated by the dispatcher, not here,
            so an unknown type can be answered with a FAILED result).
        payload: job-specific fields (``download_url``, ``mode``, ...).
        source_id: the API object this job belongs to (e.g. a submission id).
    """

    id: str
    type: str
    payload: Mapping[str, Any] = field(default_factory=dict)
    source_id: str | None = None

    @classmethod
    def from_dict(cls, data: Any) -> AIJob:
        """Validate and build a job; raises :class:`JobPayloadError` when malformed."""
        if not isinstance(data, Mapping):
            raise JobPayloadError("job_invalid", f"expected a job object, got {type(data).__name__}")
        job_id = data.get("id")
        if job_id is None or str(job_id).strip() == "" or isinstance(job_id, bool):
            raise JobPayloadError("job_invalid", "job has no 'id'")
        job_type = data.get("type")
        if not isinstance(job_type, str) or not job_type:
            raise JobPayloadError("job_invalid", "job has no 'type' string")
        payload = data.get("payload")
        payload = {} if payload is None else payload
        if not isinstance(payload, Mapping):
            raise JobPayloadError(
                "job_invalid", f"job 'payload' must be an object, got {type(payload).__name__}"
            )
        source_id = data.get("source_id")
        return cls(
            id=str(job_id),
            type=job_type,
            payload=dict(payload),
            source_id=None if source_id is None else str(source_id),
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "type": self.type,
            "payload": dict(self.payload),
            "source_id": self.source_id,
        }


@dataclass(frozen=True)
class JobError:
    """Why a job failed: a stable machine code and one human sentence."""

    reason_code: str
    message: str

    @classmethod
    def from_exception(cls, exc: BaseException) -> JobError:
        """Build from any exception; unknown ones become ``internal_error``.

        Examples:
            >>> JobError.from_exception(ValueError("boom"))
            JobError(reason_code='internal_error', message='ValueError: boom')
        """
        code = reason_code_of(exc)
        message = getattr(exc, "message", None)
        if not isinstance(message, str) or not message:
            # library errors (omr.OMRError) carry their sentence as str(exc)
            has_code = code != "internal_error"
            message = str(exc) if has_code and str(exc) else f"{type(exc).__name__}: {exc}"
        return cls(reason_code=code, message=message[:1000])

    def to_dict(self) -> dict[str, str]:
        return {"reason_code": self.reason_code, "message": self.message}


@dataclass(frozen=True)
class AIResult:
    """What a job produced: ``DONE`` with a result, or ``FAILED`` with an error."""

    job_id: str
    status: JobStatus
    result: Mapping[str, Any] | None = None
    error: JobError | None = None

    @classmethod
    def done(cls, job_id: str, result: Mapping[str, Any]) -> AIResult:
        return cls(job_id=str(job_id), status="DONE", result=dict(result))

    @classmethod
    def failed(cls, job_id: str, reason_code: str, message: str) -> AIResult:
        return cls(job_id=str(job_id), status="FAILED", error=JobError(reason_code, message))

    @classmethod
    def from_exception(cls, job_id: str, exc: BaseException) -> AIResult:
        return cls(job_id=str(job_id), status="FAILED", error=JobError.from_exception(exc))

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> AIResult:
        err = data.get("error")
        error: JobError | None
        if err is None:
            error = None
        elif isinstance(err, Mapping):
            error = JobError(str(err.get("reason_code") or "internal_error"), str(err.get("message") or ""))
        else:  # legacy: a bare string
            error = JobError("legacy_error", str(err))
        status = data.get("status")
        if status not in ("DONE", "FAILED"):
            raise JobPayloadError("result_invalid", f"status must be DONE or FAILED, got {status!r}")
        result = data.get("result")
        return cls(
            job_id=str(data.get("job_id")),
            status=status,
            result=dict(result) if isinstance(result, Mapping) else None,
            error=error,
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "job_id": self.job_id,
            "status": self.status,
            "result": None if self.result is None else dict(self.result),
            "error": None if self.error is None else self.error.to_dict(),
        }
