"""Pure image libraries beyond OMR: OCR, question segmentation, handwriting, video.

Empty on purpose: their engines land in later issues (see docs/architecture.md).
Like ``omr``, this package never imports Celery or ``ai_tasks``.
"""

__all__: list[str] = []
