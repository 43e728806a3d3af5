"""A local server speaking the Google Vision REST wire format (``POST /v1/images:annotate``).

The real ``google-cloud-vision`` client (REST transport, anonymous
credentials) is pointed at it with ``client_options.api_endpoint``; each test
queues the answers it wants: a document, an HTTP error status, an error
inside ``responses[]``, a body that is not JSON.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler
from typing import Any

from tests.ai_tasks._http import LocalServer, serve

ANNOTATE_PATH = "/v1/images:annotate"


def word(text: str, box_xyxy: tuple[int, int, int, int], brk: str | None = "SPACE", confidence: float = 0.97) -> dict[str, Any]:
    """One Vision word (camelCase JSON as the API sends it)."""
    x0, y0, x1, y1 = box_xyxy
    symbols: list[dict[str, Any]] = [{"text": ch, "confidence": confidence} for ch in text]
    if brk:
        symbols[-1]["property"] = {"detectedBreak": {"type": brk}}
    return {
        "boundingBox": {"vertices": [{"x": x0, "y": y0}, {"x": x1, "y": y0}, {"x": x1, "y": y1}, {"x": x0, "y": y1}]},
        "symbols": symbols,
        "confidence": confidence,
    }


def document(*lines: list[dict[str, Any]], size_wh: tuple[int, int] = (400, 300)) -> dict[str, Any]:
    """A ``responses[0]`` with ``fullTextAnnotation`` made of ``lines`` of words."""
    words = [w for line in lines for w in line]
    text = "\n".join("".join(s["text"] for w in line for s in w["symbols"]) for line in lines)
    return {
        "fullTextAnnotation": {
            "pages": [{"width": size_wh[0], "height": size_wh[1], "blocks": [{"paragraphs": [{"words": words}]}]}],
            "text": text,
        },
        "textAnnotations": [{"description": text}] if text else [],
    }


class FakeVision:
    """Answers queued by the test, one per request; the last one repeats."""

    def __init__(self, server: LocalServer) -> None:
        self.server = server
        self.answers: list[tuple[int, bytes]] = []
        server.route(ANNOTATE_PATH, self._route)

    @property
    def endpoint(self) -> str:
        return self.server.base_url

    @property
    def calls(self) -> int:
        return sum(1 for r in self.server.requests if r.path.startswith(ANNOTATE_PATH))

    def answer_json(self, payload: dict[str, Any], code: int = 200) -> FakeVision:
        self.answers.append((code, json.dumps(payload).encode()))
        return self

    def answer_document(self, *lines: list[dict[str, Any]]) -> FakeVision:
        return self.answer_json({"responses": [document(*lines)]})

    def answer_status(self, code: int, message: str = "error") -> FakeVision:
        status = {429: "RESOURCE_EXHAUSTED", 500: "INTERNAL", 503: "UNAVAILABLE", 400: "INVALID_ARGUMENT",
                  401: "UNAUTHENTICATED", 403: "PERMISSION_DENIED"}.get(code, "UNKNOWN")
        return self.answer_json({"error": {"code": code, "message": message, "status": status}}, code)

    def answer_raw(self, data: bytes, code: int = 200) -> FakeVision:
        self.answers.append((code, data))
        return self

    def _route(self, h: BaseHTTPRequestHandler) -> None:
        code, data = self.answers.pop(0) if len(self.answers) > 1 else self.answers[0]
        h.send_response(code)
        h.send_header("Content-Type", "application/json; charset=UTF-8")
        h.send_header("Content-Length", str(len(data)))
        h.end_headers()
        h.wfile.write(data)


@contextmanager
def fake_vision() -> Iterator[FakeVision]:
    with serve() as server:
        yield FakeVision(server)
