"""Celery tasks, one module per queue (plus the ``ai.job`` dispatcher)."""

__all__: list[str] = []
