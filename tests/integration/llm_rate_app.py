"""The integration worker app with the llm settings docs/jobs/problem.md recommends.

Started as ``celery -A tests.integration.llm_rate_app worker -Q llm -P threads``:
the production app plus a per-worker rate limit on ``ai.problem.generate``
(what ``AI_WORKER_LLM_RATE_LIMIT`` would set in ``celeryconfig.py``).
"""

from __future__ import annotations

from tests.integration.worker_app import app

#: one call per second per worker: small enough that three jobs visibly queue.
RATE_LIMIT = "60/m"

app.conf.task_annotations.setdefault("ai.problem.generate", {})["rate_limit"] = RATE_LIMIT

__all__ = ["RATE_LIMIT", "app"]
