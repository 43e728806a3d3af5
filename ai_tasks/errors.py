"""The error classes every task raises, split by what a retry can do about them.

Two families, and nothing else crosses a task boundary:

* :class:`TransientError` - the world may change its mind (network down, 5xx,
  429, broker hiccup). Tasks auto-retry these with exponential backoff and jitter.
* :class:`PermanentError` - the input is wrong (bad image, bad meta, 4xx,
  refused URL). Retrying cannot help: the job fails at once.

Both carry a machine-readable ``reason_code`` and a human ``message``; the
result contract (:class:`ai_tasks.contracts.JobError`) is built from them.
They and the libraries' errors (``omr/``, ``vision/``, ``nlp/``) share one
root, :class:`aicore.errors.AIError`: a library error is retried only when its
``retryable`` says so.

Examples:
    >>> err = DownloadError("download_too_large", "body exceeds 20 MB cap")
    >>> err.reason_code, err.retryable
    ('download_too_large', False)
    >>> str(err)
    'download_too_large: body exceeds 20 MB cap'
    >>> TransientDownloadError("download_timeout", "read timed out").retryable
    True
"""

from __future__ import annotations

from aicore.errors import AIError

__all__ = [
    "AIWorkerError",
    "ArtifactMissingError",
    "DeliveryError",
    "DeliveryRejectedError",
    "DownloadError",
    "JobPayloadError",
    "PermanentError",
    "PoisonMessageError",
    "TransientDownloadError",
    "TransientError",
    "UnknownJobTypeError",
    "reason_code_of",
]


class AIWorkerError(AIError):
    """Base of every error of ``ai_tasks`` itself (downloads, payloads, delivery, settings).

    The libraries' bases (``OMRError``, ``VisionError``, ``NLPError``) are its
    siblings under :class:`aicore.errors.AIError`, the root that tasks catch.

    Args:
        reason_code: short snake_case code, stable across releases.
        message: one human sentence saying what was wrong and what was expected.
        retryable: override the class default (:class:`TransientError` is retried).
    """


class TransientError(AIWorkerError):
    """A failure that may pass: retried with backoff."""

    retryable = True


class PermanentError(AIWorkerError):
    """A failure of the input itself: never retried."""

    retryable = False


class JobPayloadError(PermanentError):
    """The AIJob or its payload is malformed (missing field, wrong type)."""


class UnknownJobTypeError(PermanentError):
    """``AIJob.type`` names no job this worker knows."""


class DownloadError(PermanentError):
    """A download refused or failed for good (scheme, address, size, 4xx)."""


class TransientDownloadError(TransientError):
    """A download that may succeed later (timeout, connection reset, 5xx, 429)."""


class DeliveryError(TransientError):
    """The API's result endpoint did not take the result yet."""


class ArtifactMissingError(PermanentError):
    """An artifact key points at nothing (expired or never written)."""


class PoisonMessageError(PermanentError):
    """A message was delivered more times than allowed: moved to dead letters."""


def reason_code_of(exc: BaseException) -> str:
    """Return the reason code of any exception, ``internal_error`` if it has none.

    Examples:
        >>> reason_code_of(JobPayloadError("payload_invalid", "x"))
        'payload_invalid'
        >>> reason_code_of(KeyError("x"))
        'internal_error'
    """
    code = getattr(exc, "reason_code", None)
    return code if isinstance(code, str) and code else "internal_error"


class DeliveryRejectedError(PermanentError):
    """The API's result endpoint refused the result for good (4xx other than 408/429)."""
