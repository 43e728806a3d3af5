"""Heavy engines, loaded once per worker process (``worker_process_init``).

Each queue's engines are imported only where installed, so a ``cpu-vision``
worker never imports torch. Later issues register their models here.
"""

from __future__ import annotations

import importlib.util
import logging

__all__ = ["warm_up"]

log = logging.getLogger(__name__)


def warm_up() -> list[str]:
    """Import and warm what this process can run; returns the names warmed."""
    warmed: list[str] = []
    if importlib.util.find_spec("cv2") is not None:
        import cv2

        # One thread per pool process: concurrency comes from processes.
        cv2.setNumThreads(1)
        import omr  # noqa: F401  (pays the import once, not on the first job)

        warmed.append("omr")
    log.debug("engines warmed: %s", warmed)
    return warmed
