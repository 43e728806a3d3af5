"""What every ai-worker package shares, and nothing else: the one error root
(:mod:`aicore.errors`) and the font chain text is drawn in (:mod:`aicore.fonts`).

``omr``, ``vision``, ``nlp`` and ``ai_tasks`` may all import this package; it
imports none of them and nothing outside the standard library, so a worker of
any queue (whatever its extra installed) can load it. The one exception is the
page layer :mod:`aicore.page` (outline, PDF, Tesseract, skew), shared by
``omr`` and ``vision`` and needing their extra: this package never imports it.
"""

from aicore.errors import AIError

__all__ = ["AIError"]
