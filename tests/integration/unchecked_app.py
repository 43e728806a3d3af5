"""The test worker app with the message size check off: the control of ``test_oversized``.

Started as ``celery -A tests.integration.unchecked_app worker``: what an
oversized message costs the worker's main process when it is decoded, so the
bound that test puts on a refused one is shown to catch the difference. The
check is turned off when a worker starts, not on import: pytest imports every
module (doctests), and the app object is shared with the other tests.
"""

from __future__ import annotations

from typing import Any

from celery.signals import worker_init

from tests.integration.worker_app import app


@worker_init.connect
def _no_size_check(sender: Any = None, **_: Any) -> None:
    if sender is not None and getattr(sender, "app", None) is app:
        sender.app.conf.MAX_MESSAGE_BYTES = 0  # 0: no limit (ai_tasks.task.AITask.start_strategy)


__all__ = ["app"]
