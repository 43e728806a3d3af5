"""Celery tasks: the ``ai.job`` dispatcher and how a job ends (``jobs.py``), every job step (``steps.py``, from the registry)."""

__all__: list[str] = []
