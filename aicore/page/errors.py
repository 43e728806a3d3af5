"""The one error the page layer raises: a reason code that each library passes on as its own.

:class:`PageLayerError` is the page layer's subclass of
:class:`aicore.errors.AIError`. ``omr`` and ``vision`` catch it at their
boundary and raise their own class (``BatchInputError``, ``PageError``,
``EngineError``) with the same reason code, or the code their public contract
documents (``vision`` answers ``image_invalid`` for an unreadable PDF).

Examples:
    >>> err = PageLayerError("pdf_unreadable", "not a readable PDF")
    >>> str(err), err.retryable
    ('pdf_unreadable: not a readable PDF', False)
"""

from __future__ import annotations

from aicore.errors import AIError

__all__ = ["PageLayerError"]


class PageLayerError(AIError):
    """A page, PDF or OCR engine call failed; ``reason_code`` says how."""
