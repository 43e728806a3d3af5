"""Pure text libraries: embeddings and LLM problem generation.

Empty on purpose: their engines land in later issues (see docs/architecture.md).
This package never imports Celery or ``ai_tasks``.
"""

__all__: list[str] = []
