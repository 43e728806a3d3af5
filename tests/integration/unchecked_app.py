"""The test worker app with the message size check off: the control of ``test_oversized``.

Started as ``celery -A tests.integration.unchecked_app worker``: what an
oversized message costs the worker's main process when it is decoded, so the
bound that test puts on a refused one is shown to catch the difference.
"""

from tests.integration.worker_app import app

app.conf.MAX_MESSAGE_BYTES = 0  # 0: no limit (ai_tasks.task.AITask.start_strategy)

__all__ = ["app"]
