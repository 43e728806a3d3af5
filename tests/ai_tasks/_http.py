"""A real HTTP server on 127.0.0.1 in a thread, with misbehaving routes.

Used by the download and delivery tests: no mocks, real sockets. Each route
is a function ``(handler) -> None`` that writes the whole response itself,
so a route can lie in ``Content-Length``, drop the connection, sleep or
stream forever. Every request is recorded in :attr:`LocalServer.requests`.
"""

from __future__ import annotations

import contextlib
import ssl
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

__all__ = [
    "LocalServer",
    "RecordedRequest",
    "Route",
    "body",
    "drip",
    "forever",
    "redirect",
    "serve",
    "sleep_then",
    "status",
    "truncated",
    "truncated_chunked",
]

Route = Callable[[BaseHTTPRequestHandler], None]


@dataclass(frozen=True)
class RecordedRequest:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    routes: dict[str, Route]
    requests: list[RecordedRequest]
    stopping: threading.Event

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Clients that hang up early are the point of these tests: stay quiet."""


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    body: bytes

    def log_message(self, format: str, *args: Any) -> None:
        """No access log on stderr."""

    def _dispatch(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        data = self.rfile.read(length) if length else b""
        self.body = data  # a route that needs the body reads it here (the stream is consumed)
        self.server.requests.append(
            RecordedRequest(self.command, self.path, dict(self.headers.items()), data)
        )
        route = self.server.routes.get(self.path.split("?", 1)[0])
        try:
            if route is None:
                status(404)(self)
            else:
                route(self)
        except OSError:  # client went away: expected in timeout / size tests
            self.close_connection = True

    do_GET = _dispatch
    do_POST = _dispatch


class LocalServer:
    """Handle on a running server: its base URL and the requests it saw."""

    def __init__(self, server: _Server) -> None:
        self._server = server
        host, port = server.server_address[:2]
        self.host = str(host)
        self.port = int(port)

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def url(self, path: str) -> str:
        return f"{self.base_url}{path}"

    @property
    def requests(self) -> list[RecordedRequest]:
        return self._server.requests

    @property
    def stopping(self) -> threading.Event:
        return self._server.stopping

    def route(self, path: str, handler: Route) -> None:
        self._server.routes[path] = handler


@contextlib.contextmanager
def serve(
    routes: dict[str, Route] | None = None,
    host: str = "127.0.0.1",
    tls: tuple[Path, Path] | None = None,
) -> Iterator[LocalServer]:
    """Run a server on ``host`` (a free port) for the duration of the block.

    ``tls`` is ``(cert_pem, key_pem)`` to serve HTTPS instead of HTTP.
    """
    server = _Server((host, 0), _Handler)
    if tls is not None:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(*tls)
        server.socket = context.wrap_socket(server.socket, server_side=True)
    server.routes = dict(routes or {})
    server.requests = []
    server.stopping = threading.Event()
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
    )
    thread.start()
    try:
        yield LocalServer(server)
    finally:
        server.stopping.set()
        server.shutdown()
        server.server_close()
        thread.join(5)


def _head(h: BaseHTTPRequestHandler, code: int, headers: dict[str, str]) -> None:
    h.send_response(code)
    for name, value in headers.items():
        h.send_header(name, value)
    h.end_headers()


def body(data: bytes, code: int = 200, content_length: bool = True) -> Route:
    """Serve ``data`` (with or without a Content-Length header)."""

    def route(h: BaseHTTPRequestHandler) -> None:
        _head(h, code, {"Content-Length": str(len(data))} if content_length else {})
        h.wfile.write(data)

    return route


def status(code: int) -> Route:
    """An empty response with ``code``."""
    return body(b"", code)


def redirect(location: str, code: int = 302) -> Route:
    """Redirect to ``location``."""

    def route(h: BaseHTTPRequestHandler) -> None:
        _head(h, code, {"Location": location, "Content-Length": "0"})

    return route


def truncated(sent_bytes: int, claimed_bytes: int) -> Route:
    """Claim ``claimed_bytes`` in Content-Length, send ``sent_bytes``, hang up."""

    def route(h: BaseHTTPRequestHandler) -> None:
        _head(h, 200, {"Content-Length": str(claimed_bytes)})
        h.wfile.write(b"x" * sent_bytes)
        h.wfile.flush()
        h.close_connection = True

    return route


def truncated_chunked(sent_bytes: int) -> Route:
    """Start a chunked body and hang up before the last chunk."""

    def route(h: BaseHTTPRequestHandler) -> None:
        h.protocol_version = "HTTP/1.1"
        _head(h, 200, {"Transfer-Encoding": "chunked"})
        h.wfile.write(b"%x\r\n%s\r\n" % (sent_bytes, b"x" * sent_bytes))
        h.wfile.flush()
        h.close_connection = True

    return route


def sleep_then(delay_s: float, then: Route) -> Route:
    """Wait ``delay_s`` (cut short when the server stops), then run ``then``."""

    def route(h: BaseHTTPRequestHandler) -> None:
        if not h.server.stopping.wait(delay_s):  # type: ignore[attr-defined]
            then(h)

    return route


def drip(interval_s: float, total_bytes: int) -> Route:
    """Announce ``total_bytes`` then send one byte every ``interval_s``."""

    def route(h: BaseHTTPRequestHandler) -> None:
        _head(h, 200, {"Content-Length": str(total_bytes)})
        for _ in range(total_bytes):
            if h.server.stopping.wait(interval_s):  # type: ignore[attr-defined]
                return
            h.wfile.write(b"x")
            h.wfile.flush()

    return route


def forever(chunk_bytes: int = 64 * 1024) -> Route:
    """Stream a body with no Content-Length until the client hangs up."""

    def route(h: BaseHTTPRequestHandler) -> None:
        _head(h, 200, {})
        chunk = b"x" * chunk_bytes
        while not h.server.stopping.is_set():  # type: ignore[attr-defined]
            h.wfile.write(chunk)

    return route
