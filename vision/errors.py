"""Errors raised by the vision libraries (OCR, segmentation, handwriting, video).

Every error a user can see subclasses :class:`VisionError`, itself a subclass
of the one ai-worker error root :class:`aicore.errors.AIError`: one
constructor shape, ``Error(reason_code, message, *, retryable=None)``, and a
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

from aicore.errors import AIError

__all__ = [
    "EngineError",
    "EngineUnavailableError",
    "ModelError",
    "PageError",
    "VideoError",
    "VisionError",
]


class VisionError(AIError):
    """Base of every user-visible vision error.

    Args:
        reason_code: short snake_case code, stable across releases.
        message: one human sentence saying what was wrong and what was expected.
        retryable: override the class default (``False`` unless the class says so).
    """


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
