"""Errors raised by the vision libraries (OCR, segmentation, handwriting, video).

Every error a user can see subclasses :class:`VisionError`. All ai-worker
errors share one constructor shape, ``Error(reason_code, message)``, and a
``retryable`` attribute: ``ai_tasks`` retries any error whose ``retryable`` is
true (a Google Vision 503) with backoff and fails the rest at once.

Examples:
    >>> err = PageError("page_too_large", "page is 30000x30000 px, limit 60 MP")
    >>> err.reason_code, err.retryable, str(err)
    ('page_too_large', False, 'page_too_large: page is 30000x30000 px, limit 60 MP')
    >>> EngineUnavailableError("ocr_engine_unavailable", "503 from Vision").retryable
    True
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "EngineError",
    "EngineUnavailableError",
    "ModelError",
    "PageError",
    "VideoError",
    "VisionError",
]


class VisionError(Exception):
    """Base of every user-visible vision error.

    Args:
        reason_code: short snake_case code, stable across releases.
        message: one human sentence saying what was wrong and what was expected.
        retryable: override the class default (``False`` unless the class says so).
    """

    retryable: bool = False

    def __init__(self, reason_code: str, message: str = "", *, retryable: bool | None = None) -> None:
        super().__init__(reason_code, message)
        self.reason_code = reason_code
        self.message = message or reason_code
        if retryable is not None:
            self.retryable = retryable

    def __str__(self) -> str:
        return f"{self.reason_code}: {self.message}"

    def __reduce__(self) -> tuple[Any, ...]:
        return (_rebuild, (self.__class__, self.reason_code, self.message, self.retryable))


def _rebuild(cls: type[VisionError], reason_code: str, message: str, retryable: bool) -> VisionError:
    return cls(reason_code, message, retryable=retryable)


class PageError(VisionError):
    """An input page or image is unusable (corrupt, empty, too large, too many pages)."""


class VideoError(VisionError):
    """A video is unusable (not a video, no frames, too long, too large)."""


class ModelError(VisionError):
    """A model file is missing, not loadable, or has the wrong shape."""


class EngineError(VisionError):
    """An engine refused the input for good (bad credentials, 4xx)."""


class EngineUnavailableError(VisionError):
    """An engine failed in a way that may pass (timeout, 429, 5xx): retried."""

    retryable = True
