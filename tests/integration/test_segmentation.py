"""question_segmentation through ai.job on a real cpu-vision worker (Redis and RabbitMQ): a page, a PDF, bad input."""

from __future__ import annotations

import io
import struct
import uuid
import zlib
from collections.abc import Iterator
from typing import Any

import cv2
import pytest
from PIL import Image

from tests.ai_tasks._http import LocalServer, body, serve
from tests.integration.conftest import Workers
from vision.synth.exam import render_exam_page

PAGE = render_exam_page(31, columns=2, lang="mixed")


def _huge_png_header(width: int, height: int) -> bytes:
    """A PNG whose header claims ``width`` x ``height`` (the pixels are never there)."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\x00" * 16)) + chunk(b"IEND", b"")


@pytest.fixture(scope="module")
def files() -> Iterator[LocalServer]:
    ok, png = cv2.imencode(".png", PAGE.image)
    assert ok
    pdf = io.BytesIO()
    Image.fromarray(PAGE.image).save(pdf, format="PDF", resolution=200)
    with serve() as srv:
        srv.route("/page.png", body(bytes(png)))
        srv.route("/page.pdf", body(pdf.getvalue()))
        srv.route("/junk.png", body(b"not an image" * 50))
        srv.route("/huge.png", body(_huge_png_header(30000, 30000)))
        yield srv


@pytest.fixture(scope="module")
def running(workers: Workers) -> Workers:
    if not any(n.startswith("cpu-vision-") for n in workers.procs):
        workers.start("cpu-vision", tmp=workers.tmp)  # type: ignore[attr-defined]
    return workers


def _send(w: Workers, payload: dict[str, Any]) -> dict[str, Any]:
    job = {"id": f"seg-{uuid.uuid4().hex[:8]}", "type": "question_segmentation", "payload": payload}
    out: dict[str, Any] = w.client.send_task("ai.job", args=[job]).get(timeout=180)
    return out


def test_page_and_pdf_then_bad_input_and_the_worker_lives(running: Workers, files: LocalServer) -> None:
    out = _send(running, {"download_url": files.url("/page.png"), "crops": True})
    assert out["status"] == "DONE", out
    res = out["result"]
    assert [q["number"] for q in res["questions"]] == [q.number for q in PAGE.questions]
    assert len(res["crop_keys"]) == len(res["boxes"]) and res["engine"] == "opencv"
    pdf = _send(running, {"download_url": files.url("/page.pdf"), "engine": "opencv"})
    assert pdf["status"] == "DONE" and len(pdf["result"]["boxes"]) == len(PAGE.questions), pdf
    for path, code in (("/junk.png", "image_invalid"), ("/huge.png", "page_too_large")):
        bad = _send(running, {"download_url": files.url(path)})
        assert bad["status"] == "FAILED" and bad["error"]["reason_code"] == code, bad
    no_model = _send(running, {"download_url": files.url("/page.png"), "engine": "yolo"})
    assert no_model["status"] == "FAILED" and no_model["error"]["reason_code"] == "model_not_configured"
    again = _send(running, {"download_url": files.url("/page.png")})
    assert again["status"] == "DONE" and again["result"]["boxes"] == res["boxes"]
