"""Errors raised by the OMR library.

Every error a user can see subclasses :class:`OMRError`, itself a subclass of
the one ai-worker error root :class:`aicore.errors.AIError`: one constructor
shape, ``Error(reason_code, message, *, retryable=None)``, a stable snake_case
``reason_code`` that callers put in API responses, CSV rows and CLI output, a
human ``message``, and a class-level ``retryable`` (``False`` for every OMR
error: a bad image or meta does not get better on a second try).
``str(err)`` is ``"reason_code: message"``; user-facing output (CLI JSON, CSV
rows) uses :meth:`OMRError.to_dict` or ``.message``.

Examples:
    >>> err = MetaError("meta_bubble_off_page", "question 3 is off the page")
    >>> err.reason_code, err.message, err.retryable
    ('meta_bubble_off_page', 'question 3 is off the page', False)
    >>> str(err)
    'meta_bubble_off_page: question 3 is off the page'
    >>> isinstance(err, OMRError), err.to_dict()["message"]
    (True, 'question 3 is off the page')
    >>> import pickle
    >>> pickle.loads(pickle.dumps(ImageError("image_invalid", "not an image"))).reason_code
    'image_invalid'
"""

from __future__ import annotations

from aicore.errors import AIError

__all__ = [
    "AlignmentError",
    "ImageError",
    "KeyFormatError",
    "MetaError",
    "OMRError",
    "OptionError",
    "PageFactsError",
]


class OMRError(AIError):
    """Base of every user-visible OMR error (``retryable`` is ``False`` for all of them).

    Args:
        reason_code: Stable machine-readable code, e.g. ``"image_truncated"``.
        message: One human sentence saying what was wrong and what was expected.
        retryable: Override the class default (``False`` for all OMR errors).
    """


class MetaError(OMRError):
    """The sheet meta is missing fields, inconsistent or physically absurd (``meta_*``)."""


class ImageError(OMRError):
    """The input is not a usable image: invalid, truncated, too small, too large (``image_*``)."""


class AlignmentError(OMRError):
    """The sheet could not be located in the image reliably enough to grade it (``alignment_*``)."""


class KeyFormatError(OMRError):
    """The answer key has an unsupported shape (``key_invalid``)."""


class OptionError(OMRError):
    """An option of the call is not one the library knows (``mode_invalid``)."""


class PageFactsError(OMRError):
    """Measurements handed between chain steps do not fit the page (``page_facts_invalid``)."""
