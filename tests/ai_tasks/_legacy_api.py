"""A local academy API speaking the legacy worker's contract, for the bridge's tests and bench.

``GET /api/v1/internal/ai/job/next/`` hands out each queued job once
(``{"job": {...}}``, then ``{"job": null}`` when none is left) and
``POST /api/v1/internal/ai/job/result/`` records every result; both answer
401 without the right ``X-Worker-Token``. Either endpoint can be made to
answer 503 for a while (:meth:`LegacyAPI.stall`). Extra routes (a photo to
download) go on the same server.
"""

from __future__ import annotations

import contextlib
import json
import threading
import time
from collections import Counter, deque
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from typing import Any

from tests.ai_tasks._http import LocalServer, Route, serve

NEXT_PATH = "/api/v1/internal/ai/job/next/"
RESULT_PATH = "/api/v1/internal/ai/job/result/"


@dataclass(frozen=True)
class Post:
    """One result POST the API received."""

    status: int
    body: dict[str, Any]
    headers: dict[str, str]


@dataclass
class LegacyAPI:
    """The two legacy endpoints on a :class:`LocalServer`."""

    token: str
    queue: deque[Any] = field(default_factory=deque)  # job objects, or anything a broken API might send
    posts: list[Post] = field(default_factory=list)
    handed_out: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    stalled: dict[str, float] = field(default_factory=dict)
    server: LocalServer | None = None

    def add(self, jobs: Iterable[Any]) -> None:
        with self.lock:
            self.queue.extend(jobs)

    def stall(self, endpoint: str, seconds: float) -> None:
        """Answer 503 on ``endpoint`` (``"next"`` or ``"result"``) for ``seconds``."""
        self.stalled[endpoint] = time.monotonic() + seconds

    def _refused(self, h: BaseHTTPRequestHandler, endpoint: str) -> int | None:
        if h.headers.get("X-Worker-Token") != self.token:
            return 401
        if time.monotonic() < self.stalled.get(endpoint, 0.0):
            return 503
        return None

    def _next(self, h: BaseHTTPRequestHandler) -> None:
        code = self._refused(h, "next")
        job = None
        if code is None:
            with self.lock:
                job = self.queue.popleft() if self.queue else None
                if job is not None:
                    self.handed_out.append(str(job.get("id") if isinstance(job, dict) else job))
        _answer(h, code or 200, {"job": job} if code is None else {"detail": "no"})

    def _result(self, h: BaseHTTPRequestHandler) -> None:
        code = self._refused(h, "result")
        raw = getattr(h, "body", b"")
        try:
            body = json.loads(raw)
        except ValueError:
            body, code = {}, code or 400
        with self.lock:
            self.posts.append(Post(code or 200, body, dict(h.headers.items())))
        _answer(h, code or 200, {})

    def accepted(self) -> Counter[str]:
        """2xx result POSTs per job id."""
        with self.lock:
            return Counter(str(p.body.get("job_id")) for p in self.posts if p.status == 200)

    def bodies(self) -> dict[str, dict[str, Any]]:
        """The last accepted body per job id."""
        with self.lock:
            return {str(p.body.get("job_id")): p.body for p in self.posts if p.status == 200}

    @property
    def base_url(self) -> str:
        assert self.server is not None
        return self.server.base_url


def _answer(h: BaseHTTPRequestHandler, code: int, data: Any) -> None:
    raw = json.dumps(data).encode()
    h.send_response(code)
    h.send_header("Content-Type", "application/json")
    h.send_header("Content-Length", str(len(raw)))
    h.end_headers()
    h.wfile.write(raw)


@contextlib.contextmanager
def legacy_api(token: str, jobs: Iterable[Any] = (),
               routes: dict[str, Route] | None = None) -> Iterator[LegacyAPI]:
    """Serve the legacy endpoints (and ``routes``) on 127.0.0.1 for the block."""
    api = LegacyAPI(token)
    api.add(jobs)
    with serve({NEXT_PATH: api._next, RESULT_PATH: api._result, **(routes or {})}) as srv:
        api.server = srv
        yield api
