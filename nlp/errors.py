"""Errors raised by the text libraries (embeddings, problem generation, wrong-answer notes).

Every error a user can see subclasses :class:`NLPError`, itself a subclass
of the one ai-worker error root :class:`aicore.errors.AIError`: one
constructor shape, ``Error(reason_code, message, *, retryable=None)``, and a
``retryable`` attribute: ``ai_tasks`` retries any error whose ``retryable`` is
true (an OpenAI 429) with backoff and fails the rest at once.

Examples:
    >>> err = InputError("texts_too_many", "100000 texts, limit 2048")
    >>> err.reason_code, err.retryable, str(err)
    ('texts_too_many', False, 'texts_too_many: 100000 texts, limit 2048')
    >>> EngineUnavailableError("ocr_engine_unavailable", "429 from OpenAI").retryable
    True
"""

from __future__ import annotations

from aicore.errors import AIError

__all__ = [
    "EngineError",
    "EngineUnavailableError",
    "InputError",
    "ModelError",
    "NLPError",
    "OutputError",
]


class NLPError(AIError):
    """Base of every user-visible text-library error.

    Args:
        reason_code: short snake_case code, stable across releases.
        message: one human sentence saying what was wrong and what was expected.
        retryable: override the class default (``False`` unless the class says so).
    """


class InputError(NLPError):
    """The input text or items are unusable (missing, wrong type, too many, too long)."""


class OutputError(NLPError):
    """A model's output is unusable (not JSON, wrong shape, refusal, truncated)."""


class ModelError(NLPError):
    """A model file is missing, not loadable, or has the wrong shape."""


class EngineError(NLPError):
    """An engine refused the input for good (bad credentials, 4xx)."""


class EngineUnavailableError(NLPError):
    """An engine failed in a way that may pass (timeout, 429, 5xx): retried."""

    retryable = True
    #: seconds the server asked us to wait (its Retry-After), set on the instance; None when it said nothing.
    retry_after_s: float | None = None
