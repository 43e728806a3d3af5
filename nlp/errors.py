"""Errors raised by the text libraries (embeddings, problem generation, wrong-answer notes).

Every error a user can see subclasses :class:`NLPError`. All ai-worker
errors share one constructor shape, ``Error(reason_code, message)``, and a
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

from typing import Any

__all__ = [
    "EngineError",
    "EngineUnavailableError",
    "InputError",
    "ModelError",
    "NLPError",
    "OutputError",
]


class NLPError(Exception):
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


def _rebuild(cls: type[NLPError], reason_code: str, message: str, retryable: bool) -> NLPError:
    return cls(reason_code, message, retryable=retryable)


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
