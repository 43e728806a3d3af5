"""ai-worker's Celery side: the app, tasks per queue, routing, contracts, CLI.

The app lives in :mod:`ai_tasks.celery` (``celery -A ai_tasks`` finds it
there); this package stays import-light so that its pure helpers
(contracts, errors, downloads) can be used without configuring Celery.
"""

__all__: list[str] = []
