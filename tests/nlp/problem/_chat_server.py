"""A local server speaking the chat-completions wire format, replaying scripted replies.

Real sockets, the real ``openai`` client on the other end (it talks through
``httpx2``, which httpx mocking libraries do not intercept). Each request to
``POST /v1/chat/completions`` takes the next reply of the script; the
requests are recorded so tests can assert on what was sent.
"""

from __future__ import annotations

import contextlib
import json
import threading
from collections.abc import Iterator, Sequence
from http.server import BaseHTTPRequestHandler
from typing import Any

from tests.ai_tasks._http import LocalServer, Route, serve

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


class ScriptedServer:
    """The running server: its ``/v1`` base URL and the JSON bodies it received."""

    def __init__(self, server: LocalServer, script: list[Route]) -> None:
        self.server = server
        self._script = script
        self._lock = threading.Lock()

    @property
    def base_url(self) -> str:
        return self.server.url("/v1")

    def next_route(self) -> Route:
        with self._lock:
            if not self._script:
                return error(500, "script exhausted")
            return self._script.pop(0)

    def extend(self, routes: Sequence[Route]) -> None:
        with self._lock:
            self._script.extend(routes)

    @property
    def bodies(self) -> list[dict[str, Any]]:
        """The JSON request bodies, in order."""
        return [json.loads(r.body) for r in self.server.requests if r.path.startswith(PATH)]

    @property
    def calls(self) -> int:
        return len(self.bodies)


@contextlib.contextmanager
def scripted_server(script: Sequence[Route] = ()) -> Iterator[ScriptedServer]:
    """Serve ``script`` (one route per request, in order) at ``POST /v1/chat/completions``."""
    holder: list[ScriptedServer] = []

    def dispatch(h: BaseHTTPRequestHandler) -> None:
        holder[0].next_route()(h)

    with serve({PATH: dispatch}) as server:
        holder.append(ScriptedServer(server, list(script)))
        yield holder[0]
