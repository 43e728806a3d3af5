"""The one base of every error a user of ai-worker can see.

:class:`AIError` is subclassed once per package (``ai_tasks.errors.AIWorkerError``,
``omr.errors.OMRError``, ``vision.errors.VisionError``, ``nlp.errors.NLPError``),
so they all share one constructor shape and one behaviour:

* ``reason_code``: a stable snake_case code that callers put in API
  responses, CSV rows and CLI output;
* ``message``: one human sentence saying what was wrong and what was
  expected (the code itself when none is given);
* ``retryable``: a class default (``False``) that a subclass or one instance
  (``retryable=True``) may change; ``ai_tasks`` retries any error whose
  ``retryable`` is true and fails the rest at once;
* ``str(err)`` is ``"reason_code: message"``; :meth:`AIError.to_dict` is the
  JSON error body;
* pickling keeps the class, the three fields and any attribute set on the
  instance (``retry_after_s``), so errors cross process pools intact.

Examples:
    >>> err = AIError("image_invalid", "not an image")
    >>> err.reason_code, err.message, err.retryable, str(err)
    ('image_invalid', 'not an image', False, 'image_invalid: not an image')
    >>> err.to_dict()
    {'reason_code': 'image_invalid', 'message': 'not an image'}
    >>> AIError("engine_busy", retryable=True).message, AIError("engine_busy", retryable=True).retryable
    ('engine_busy', True)
    >>> import pickle
    >>> later = AIError("rate_limited", "429", retryable=True)
    >>> later.retry_after_s = 2.0
    >>> back = pickle.loads(pickle.dumps(later))
    >>> back.reason_code, back.message, back.retryable, back.retry_after_s
    ('rate_limited', '429', True, 2.0)
"""

from __future__ import annotations

from typing import Any

__all__ = ["AIError"]

_FIELDS = ("reason_code", "message", "retryable")


class AIError(Exception):
    """Base of every user-visible ai-worker error.

    Args:
        reason_code: short snake_case code, stable across releases (``"image_truncated"``).
        message: one human sentence saying what was wrong and what was expected.
        retryable: override the class default (``False`` unless the class says so).
    """

    retryable: bool = False

    def __init__(self, reason_code: str, message: str = "", *, retryable: bool | None = None) -> None:
        super().__init__(reason_code, message)
        self.reason_code: str = reason_code
        self.message: str = message or reason_code
        if retryable is not None:
            self.retryable = retryable

    def __str__(self) -> str:
        return f"{self.reason_code}: {self.message}"

    def __reduce__(self) -> tuple[Any, ...]:
        extra = {k: v for k, v in self.__dict__.items() if k not in _FIELDS}
        return (_rebuild, (self.__class__, self.reason_code, self.message, self.retryable), extra or None)

    def to_dict(self) -> dict[str, Any]:
        """The JSON error body: ``{"reason_code": ..., "message": ...}``."""
        return {"reason_code": self.reason_code, "message": self.message}


def _rebuild(cls: type[AIError], reason_code: str, message: str, retryable: bool) -> AIError:
    return cls(reason_code, message, retryable=retryable)
