"""Capture the worker events Flower would see (task-received, -succeeded, ...) in a thread."""

from __future__ import annotations

import threading
import time
from typing import Any


class EventTap:
    """Receive every event of ``app``'s broker until :meth:`stop`."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.events: list[dict[str, Any]] = []
        self._recv: Any = None
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        with self.app.connection_for_read() as conn:
            self._recv = self.app.events.Receiver(conn, handlers={"*": self.events.append})
            self._ready.set()
            try:
                self._recv.capture(limit=None, timeout=None, wakeup=False)
            except Exception:  # stopped, or the connection went away
                pass

    def start(self) -> EventTap:
        self._thread.start()
        self._ready.wait(10)
        time.sleep(1.0)  # let the subscription settle before anything is sent
        return self

    def stop(self) -> None:
        if self._recv is not None:
            self._recv.should_stop = True
        self._thread.join(timeout=5)

    def of(self, kind: str, uuid: str | None = None) -> list[dict[str, Any]]:
        return [e for e in list(self.events) if e.get("type") == kind and (uuid is None or e.get("uuid") == uuid)]
