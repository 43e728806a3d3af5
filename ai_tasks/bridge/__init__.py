"""``ai-worker bridge``: the legacy intake, served by the Celery workers.

The legacy worker (``run.py``) polled ``GET {API}/api/v1/internal/ai/job/next/``
(headers ``X-Worker-Token``, ``X-Worker-Id``; answer ``{"job": {...}}`` or
``{"job": null}``), ran the job itself and POSTed ``{"job_id",
"submission_id", "status", "result", "error"}`` to
``/api/v1/internal/ai/job/result/``. The bridge polls the same intake,
submits each job as ``ai.job`` through the job ledger
(:func:`ai_tasks.ledger.submit_job`) and POSTs each result back with the poster
the workers use (:func:`ai_tasks.delivery.post_unless_delivered`), so the
academy's API needs no change to switch over (``docs/bridge.md``).

* **Idempotent by job id.** The ``ai.job`` task id is derived from the job id
  (:func:`task_id_for`), so the result slot, the idempotency key and the
  delivered marker are the job's own. A job the intake offers again while it
  is in flight, or after its result was posted, is neither run nor posted
  again.
* **At least once.** A fetched job goes into a ledger in Redis (one hash,
  the job's JSON by id) before it is published, and leaves it only after its
  result was POSTed (2xx) and that 2xx recorded in the delivered marker. A
  bridge that stops or dies resumes from the ledger on its next start. A job
  whose result is overdue is published again under the same task id (on
  Redis the job ledger already holds it, so that publish is a no-op and the
  workers' ledger sweeper republishes a lost message after the job's
  deadline).
* **Secrets stay out.** The worker token is a :class:`~ai_tasks.settings.Secret`
  revealed only into the request header; log lines name job ids and types,
  never a payload, a token or a URL's query.

Examples:
    >>> task_id_for("17") == task_id_for(17) != task_id_for("18")
    True
    >>> LedgerEntry.from_json(LedgerEntry(job={"id": "17", "type": "ocr"}, fetched_at=1.0).to_json()).job_id
    '17'
"""

from __future__ import annotations

from ai_tasks.bridge.broker import (
    Publish,
    ReadResults,
    celery_publisher,
    celery_results,
    finished_result,
)
from ai_tasks.bridge.intake import NEXT_PATH, LegacyIntake
from ai_tasks.bridge.ledger import LEDGER_KEY, Ledger, LedgerEntry, task_id_for
from ai_tasks.bridge.loop import Bridge, BridgeCounts

__all__ = [
    "LEDGER_KEY",
    "NEXT_PATH",
    "Bridge",
    "BridgeCounts",
    "Ledger",
    "LedgerEntry",
    "LegacyIntake",
    "Publish",
    "ReadResults",
    "celery_publisher",
    "celery_results",
    "finished_result",
    "task_id_for",
]
