"""A local server speaking OpenAI's embeddings wire format (``POST /v1/embeddings``).

Real sockets and the real ``openai`` client on the other end. Each request
takes the next route of the script; :func:`vectors` answers with
deterministic vectors computed from the request's inputs, so tests can
check order and batching. Request bodies are recorded.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import threading
from collections.abc import Iterator, Sequence
from http.server import BaseHTTPRequestHandler
from typing import Any

from tests.ai_tasks._http import LocalServer, Route, serve

__all__ = ["EmbedServer", "embed_server", "error", "fake_vector", "raw", "vectors"]

PATH = "/v1/embeddings"


def _send(h: BaseHTTPRequestHandler, code: int, data: bytes, headers: dict[str, str] | None = None) -> None:
    h.send_response(code)
    h.send_header("Content-Type", "application/json")
    h.send_header("Content-Length", str(len(data)))
    for name, value in (headers or {}).items():
        h.send_header(name, value)
    h.end_headers()
    h.wfile.write(data)


def fake_vector(text: str, dims: int = 8) -> list[float]:
    """A deterministic, not normalised vector for ``text``."""
    digest = hashlib.sha256(text.encode()).digest()
    return [float(b) - 100.0 for b in digest[:dims]]


def vectors(dims: int = 8, *, reverse: bool = False) -> Route:
    """A 200 embeddings answer for the request's inputs (``reverse``: data listed backwards)."""

    def route(h: BaseHTTPRequestHandler) -> None:
        body = json.loads(h.server.requests[-1].body)  # type: ignore[attr-defined]
        inputs = body["input"] if isinstance(body["input"], list) else [body["input"]]
        data = [{"object": "embedding", "index": i, "embedding": fake_vector(t, dims)} for i, t in enumerate(inputs)]
        if reverse:
            data.reverse()
        doc = {"object": "list", "data": data, "model": body["model"],
               "usage": {"prompt_tokens": len(inputs), "total_tokens": len(inputs)}}
        _send(h, 200, json.dumps(doc).encode())

    return route


def error(code: int, message: str = "error", *, headers: dict[str, str] | None = None) -> Route:
    """An OpenAI-style error answer."""
    data = json.dumps({"error": {"message": message, "type": "invalid_request_error", "code": None}}).encode()
    return lambda h: _send(h, code, data, headers)


def raw(data: bytes, code: int = 200) -> Route:
    """Any body at all (not JSON, the wrong shape ...)."""
    return lambda h: _send(h, code, data)


class EmbedServer:
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
            return self._script.pop(0) if self._script else error(500, "script exhausted")

    @property
    def bodies(self) -> list[dict[str, Any]]:
        return [json.loads(r.body) for r in self.server.requests if r.path.startswith(PATH)]

    @property
    def headers(self) -> list[dict[str, str]]:
        return [r.headers for r in self.server.requests if r.path.startswith(PATH)]


@contextlib.contextmanager
def embed_server(script: Sequence[Route] = ()) -> Iterator[EmbedServer]:
    """Serve ``script`` (one route per request, in order) at ``POST /v1/embeddings``."""
    holder: list[EmbedServer] = []

    def dispatch(h: BaseHTTPRequestHandler) -> None:
        holder[0].next_route()(h)

    with serve({PATH: dispatch}) as server:
        holder.append(EmbedServer(server, list(script)))
        yield holder[0]
