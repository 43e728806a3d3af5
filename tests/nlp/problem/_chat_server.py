"""A local server speaking the chat-completions wire format, replaying scripted replies.

Real sockets, the real ``openai`` client on the other end (it talks through
``httpx2``, which httpx mocking libraries do not intercept). A request to
``POST /v1/chat/completions`` takes the next reply of the script whose key
appears in the request body (:meth:`ScriptedServer.expect`; tests running
jobs concurrently put the key in the OCR text), else the next reply of the
unkeyed script (:meth:`ScriptedServer.extend`). Requests are recorded so
tests can assert on what was sent.

Routes are ``(handler) -> None`` functions, as in ``tests/ai_tasks/_http.py``
(whose ``truncated``/``sleep_then`` routes work here too).
"""

from __future__ import annotations

import contextlib
import json
import threading
from collections.abc import Iterator, Sequence
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from tests.ai_tasks._http import RecordedRequest, Route

__all__ = ["ScriptedServer", "completion", "error", "raw", "scripted_server"]

PATH = "/v1/chat/completions"


def _send(h: BaseHTTPRequestHandler, code: int, data: bytes, headers: dict[str, str] | None = None) -> None:
    h.send_response(code)
    h.send_header("Content-Type", "application/json")
    h.send_header("Content-Length", str(len(data)))
    for name, value in (headers or {}).items():
        h.send_header(name, value)
    h.end_headers()
    h.wfile.write(data)


def completion(
    content: str | None,
    *,
    finish_reason: str = "stop",
    refusal: str | None = None,
    model: str = "test-model",
    usage: tuple[int, int] = (100, 50),
) -> Route:
    """A 200 chat completion whose message says ``content`` (or refuses)."""
    doc = {
        "id": "chatcmpl-test",
        "object": "chat.completion",
        "created": 1_700_000_000,
        "model": model,
        "choices": [
            {
                "index": 0,
                "finish_reason": finish_reason,
                "message": {"role": "assistant", "content": content, "refusal": refusal},
            }
        ],
        "usage": {"prompt_tokens": usage[0], "completion_tokens": usage[1], "total_tokens": sum(usage)},
    }
    data = json.dumps(doc, ensure_ascii=False).encode()
    return lambda h: _send(h, 200, data)


def error(code: int, message: str = "error", *, headers: dict[str, str] | None = None, err_code: str | None = None) -> Route:
    """An OpenAI-style error answer: ``{"error": {"message", "type", "code"}}``."""
    data = json.dumps({"error": {"message": message, "type": "invalid_request_error", "code": err_code}}).encode()
    return lambda h: _send(h, code, data, headers)


def raw(data: bytes, code: int = 200) -> Route:
    """Any body at all (not JSON, too large ...)."""
    return lambda h: _send(h, code, data)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    owner: ScriptedServer
    stopping: threading.Event

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Clients that hang up early (timeouts, size caps) are expected: stay quiet."""


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:
        """No access log on stderr."""

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        data = self.rfile.read(length) if length else b""
        owner = self.server.owner
        with owner.lock:
            owner.requests.append(RecordedRequest(self.command, self.path, dict(self.headers.items()), data))
        route = owner.next_route(data) if self.path.startswith(PATH) else error(404, "no such path")
        try:
            route(self)
        except OSError:  # client went away: expected in timeout / size tests
            self.close_connection = True


class ScriptedServer:
    """The running server: its ``/v1`` base URL, its scripts and the requests it received."""

    def __init__(self, server: _Server) -> None:
        host, port = server.server_address[:2]
        self.base_url = f"http://{host!s}:{port}/v1"
        self.lock = threading.Lock()
        self.requests: list[RecordedRequest] = []
        self._script: list[Route] = []
        self._keyed: dict[str, list[Route]] = {}

    def next_route(self, body: bytes) -> Route:
        text = body.decode("utf-8", "replace")
        with self.lock:
            for key in sorted(self._keyed, key=len, reverse=True):
                if key in text and self._keyed[key]:
                    return self._keyed[key].pop(0)
            if self._script:
                return self._script.pop(0)
        return error(500, "script exhausted")

    def extend(self, routes: Sequence[Route]) -> None:
        """Replies for requests that carry no registered key, in order."""
        with self.lock:
            self._script.extend(routes)

    def expect(self, key: str, routes: Sequence[Route]) -> None:
        """Replies, in order, for requests whose body contains ``key`` (use ASCII keys)."""
        with self.lock:
            self._keyed.setdefault(key, []).extend(routes)

    def calls_with(self, key: str) -> int:
        """Requests whose body contained ``key``."""
        return sum(1 for r in self.requests if r.path.startswith(PATH) and key.encode() in r.body)

    @property
    def bodies(self) -> list[dict[str, Any]]:
        """The JSON request bodies, in order."""
        return [json.loads(r.body) for r in self.requests if r.path.startswith(PATH)]

    @property
    def calls(self) -> int:
        return len(self.bodies)


@contextlib.contextmanager
def scripted_server(script: Sequence[Route] = ()) -> Iterator[ScriptedServer]:
    """Serve ``script`` (one route per unkeyed request, in order) at ``POST /v1/chat/completions``."""
    server = _Server(("127.0.0.1", 0), _Handler)
    server.stopping = threading.Event()
    owner = ScriptedServer(server)
    owner.extend(script)
    server.owner = owner
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield owner
    finally:
        server.stopping.set()
        server.shutdown()
        server.server_close()
        thread.join(5)
