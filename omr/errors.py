"""Errors raised by the OMR library.

Every error a user can see subclasses :class:`OMRError` and carries a stable
``reason_code`` (snake_case) that callers put in API responses, CSV rows and
CLI output.

Examples:
    >>> err = MetaError("question 3 is off the page", reason_code="meta_bubble_off_page")
    >>> err.reason_code, str(err)
    ('meta_bubble_off_page', 'question 3 is off the page')
    >>> isinstance(err, OMRError)
    True
    >>> ImageError("not an image").reason_code
    'image_invalid'
"""

from __future__ import annotations

from typing import Any

__all__ = ["AlignmentError", "ImageError", "KeyFormatError", "MetaError", "OMRError"]


class OMRError(Exception):
    """Base of every user-visible OMR error.

    Attributes:
        reason_code: Stable machine-readable code, e.g. ``"image_truncated"``.
    """

    default_reason_code = "omr_error"

    def __init__(self, message: str, *, reason_code: str | None = None) -> None:
        super().__init__(message)
        self.reason_code: str = reason_code or self.default_reason_code

    def to_dict(self) -> dict[str, Any]:
        """The JSON error body: ``{"reason_code": ..., "message": ...}``."""
        return {"reason_code": self.reason_code, "message": str(self)}


class MetaError(OMRError):
    """The sheet meta is missing fields, inconsistent or physically absurd."""

    default_reason_code = "meta_invalid"


class ImageError(OMRError):
    """The input is not a usable image (invalid, truncated, too small, too large)."""

    default_reason_code = "image_invalid"


class AlignmentError(OMRError):
    """The sheet could not be located in the image reliably enough to grade it."""

    default_reason_code = "alignment_failed"


class KeyFormatError(OMRError):
    """The answer key has an unsupported shape."""

    default_reason_code = "key_invalid"
