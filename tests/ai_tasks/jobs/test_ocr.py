"""The ocr job end to end in process: payload at the door, real Tesseract, the real Google client, bad input."""

from __future__ import annotations

import io
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pypdfium2 as pdfium
import pytest
from PIL import Image, ImageDraw, ImageFont

from ai_tasks.contracts import AIJob
from ai_tasks.errors import JobPayloadError
from ai_tasks.inprocess import run_job
from ai_tasks.jobs.base import JobRef
from ai_tasks.jobs.ocr import OCRState, ocr_options, prepare
from ai_tasks.settings import get_settings
from tests.ai_tasks._http import LocalServer, body, serve
from tests.vision.ocr._vision_server import fake_vision, word

FONT = "/usr/share/fonts/truetype/nanum/NanumGothic.ttf"
LINES = ("1. 다음 중 옳은 것은?", "① 사과   ② 바나나   ③ apple")


def _page() -> np.ndarray:
    img = Image.new("L", (900, 300), 255)
    draw = ImageDraw.Draw(img)
    face = ImageFont.truetype(FONT, 30)
    for i, text in enumerate(LINES):
        draw.text((40, 60 + 70 * i), text, font=face, fill=0)
    return np.asarray(img)


def _png(image: np.ndarray) -> bytes:
    ok, buf = cv2.imencode(".png", image)
    assert ok
    return bytes(buf)


def _pdf(n_pages: int) -> bytes:
    pdf = pdfium.PdfDocument.new()
    for _ in range(n_pages):
        pdf.new_page(72, 72)
    buf = io.BytesIO()
    pdf.save(buf)
    pdf.close()
    return buf.getvalue()


@pytest.fixture(scope="module")
def server() -> Iterator[LocalServer]:
    with serve() as srv:
        srv.route("/page.png", body(_png(_page())))
        srv.route("/page.pdf", body(_page_pdf()))
        srv.route("/blank.png", body(_png(np.full((400, 300), 255, np.uint8))))
        srv.route("/junk.png", body(b"not an image at all"))
        srv.route("/empty.png", body(b""))
        srv.route("/zero.pdf", body(_pdf(0)))
        srv.route("/many.pdf", body(_pdf(60)))
        srv.route("/huge.png", body(_huge_png()))
        yield srv


def _page_pdf() -> bytes:
    buf = io.BytesIO()
    Image.fromarray(_page()).save(buf, format="PDF", resolution=200)
    return buf.getvalue()


def _huge_png() -> bytes:
    import struct
    import zlib

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    ihdr = struct.pack(">IIBBBBB", 30000, 30000, 8, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\0" * 64)) + chunk(b"IEND", b"")


@pytest.fixture()
def env(monkeypatch: pytest.MonkeyPatch) -> Iterator[pytest.MonkeyPatch]:
    get_settings.cache_clear()
    yield monkeypatch
    get_settings.cache_clear()


def _run(payload: dict[str, Any]) -> dict[str, Any]:
    return run_job({"id": "ocr-1", "type": "ocr", "payload": payload})


def _tmp_entries() -> set[str]:
    base = get_settings().tmp_dir
    root = Path(base) if base else Path(os.environ.get("TMPDIR", "/tmp"))
    return {p.name for p in root.iterdir() if "ocr-1" in p.name}


# --- state and payload --------------------------------------------------------


def test_state_json_round_trip() -> None:
    import json

    state = OCRState(job=JobRef(id="7", type="ocr"), download_url="https://x/y.png", engine="google", language="kor",
                     dpi=300, columns=False, circled=True, deskew=False)
    assert OCRState.from_dict(json.loads(json.dumps(state.to_dict()))) == state


def test_prepare_validates_and_drops_secrets() -> None:
    job = AIJob(id="1", type="ocr", payload={"download_url": " https://x/p.png ", "engine": "TESSERACT",
                                             "options": {"dpi": 300, "columns": False}, "api_key": "s3cret"})
    state = prepare(job, JobRef(id="1", type="ocr"))
    assert (state.download_url, state.engine, state.dpi, state.columns, state.circled) == ("https://x/p.png", "tesseract", 300, False, True)
    assert "s3cret" not in repr(state.to_dict())
    assert not state.force_ocr


def test_force_ocr_option() -> None:
    job = AIJob(id="1", type="ocr", payload={"download_url": "https://x/p.pdf", "options": {"force_ocr": True}})
    state = prepare(job, JobRef(id="1", type="ocr"))
    assert state.force_ocr and OCRState.from_dict(state.to_dict()).force_ocr
    assert ocr_options(state).force_ocr


@pytest.mark.parametrize(
    ("payload", "reason"),
    [
        ({}, "download_url_missing"),
        ({"download_url": "https://x", "engine": "paddle"}, "payload_invalid"),
        ({"download_url": "https://x", "language": "jpn"}, "payload_invalid"),
        ({"download_url": "https://x", "options": {"dpi": 5000}}, "payload_invalid"),
        ({"download_url": "https://x", "options": {"speed": 1}}, "payload_invalid"),
        ({"download_url": "https://x", "options": "fast"}, "payload_invalid"),
        ({"download_url": "https://x", "colour": True}, "payload_invalid"),
    ],
)
def test_prepare_rejects(payload: dict[str, Any], reason: str) -> None:
    with pytest.raises(JobPayloadError) as err:
        prepare(AIJob(id="1", type="ocr", payload=payload), JobRef(id="1", type="ocr"))
    assert err.value.reason_code == reason


# --- the whole job --------------------------------------------------------------


def test_tesseract_reads_the_page(server: LocalServer) -> None:
    out = _run({"download_url": server.url("/page.png"), "engine": "tesseract"})
    assert out["status"] == "DONE", out
    res = out["result"]
    assert res["engine"] == "tesseract" and res["status"] == "ok"
    squashed = "".join(res["text"].split())
    assert "다음" in squashed and "①사과" in squashed and "③apple" in squashed
    assert 0.0 < res["confidence"] <= 1.0
    (page,) = res["pages"]
    assert (page["width"], page["height"]) == (900, 300)
    assert len(page["lines"]) == 2 and all(len(line["box"]) == 4 for line in page["lines"])
    circled = [w for w in page["words"] if w["text"] == "①"]
    assert circled and 30 <= circled[0]["box"][0] <= 60  # in page pixels, where it was drawn
    assert {"download", "load", "ocr", "total"} <= set(res["timings_ms"])


def test_pdf_page_by_page(server: LocalServer) -> None:
    out = _run({"download_url": server.url("/page.pdf"), "engine": "tesseract", "options": {"dpi": 200}})
    assert out["status"] == "DONE", out
    assert "apple" in out["result"]["text"] and len(out["result"]["pages"]) == 1


def test_blank_page_is_empty_not_an_error(server: LocalServer) -> None:
    out = _run({"download_url": server.url("/blank.png"), "engine": "tesseract"})
    assert out["status"] == "DONE", out
    assert out["result"]["status"] == "empty" and out["result"]["text"] == "" and out["result"]["confidence"] is None


@pytest.mark.parametrize(
    ("path", "reason"),
    [
        ("/junk.png", "image_invalid"),
        ("/empty.png", "image_empty"),
        ("/zero.pdf", "pdf_empty"),
        ("/many.pdf", "pdf_too_many_pages"),
        ("/huge.png", "page_too_large"),
    ],
)
def test_bad_input_fails_with_reason(server: LocalServer, path: str, reason: str) -> None:
    out = _run({"download_url": server.url(path), "engine": "tesseract"})
    assert out["status"] == "FAILED"
    assert out["error"]["reason_code"] == reason
    assert not _tmp_entries()  # the job's temp folder is gone


# --- Google through the real client -------------------------------------------------


def test_google_engine_through_real_client(server: LocalServer, env: pytest.MonkeyPatch) -> None:
    with fake_vision() as vision:
        vision.answer_document([word("구글", (40, 60, 120, 90), brk="LINE_BREAK")])
        env.setenv("AI_WORKER_GOOGLE_VISION_ENDPOINT", vision.endpoint)
        out = _run({"download_url": server.url("/page.png"), "engine": "google"})
    assert out["status"] == "DONE", out
    assert out["result"]["engine"] == "google" and out["result"]["text"] == "구글"
    assert out["result"]["pages"][0]["lines"][0]["box"] == [40, 60, 80, 30]


def test_google_without_credentials_fails_clearly(server: LocalServer, env: pytest.MonkeyPatch) -> None:
    env.delenv("GOOGLE_APPLICATION_CREDENTIALS", raising=False)
    out = _run({"download_url": server.url("/page.png"), "engine": "google"})
    assert out["status"] == "FAILED"
    assert out["error"]["reason_code"] == "google_not_configured"


def test_auto_without_credentials_uses_tesseract(server: LocalServer, env: pytest.MonkeyPatch) -> None:
    env.delenv("GOOGLE_APPLICATION_CREDENTIALS", raising=False)
    out = _run({"download_url": server.url("/page.png"), "engine": "auto"})
    assert out["status"] == "DONE", out
    assert out["result"]["engine"] == "tesseract" and "fallback_reason" not in out["result"]


@pytest.mark.parametrize(
    ("answer", "reason"),
    [
        (lambda v: v.answer_status(503), "google_unavailable"),
        (lambda v: v.answer_status(429), "google_rate_limited"),
        (lambda v: v.answer_json({"responses": [{}]}), "google_no_text"),
        (lambda v: v.answer_raw(b"<html>"), "google_bad_response"),
    ],
    ids=["503", "429", "no-text", "malformed"],
)
def test_auto_falls_back_to_tesseract(server: LocalServer, env: pytest.MonkeyPatch, answer: Any, reason: str) -> None:
    with fake_vision() as vision:
        answer(vision)
        env.setenv("AI_WORKER_GOOGLE_VISION_ENDPOINT", vision.endpoint)
        out = _run({"download_url": server.url("/page.png"), "engine": "auto"})
    assert out["status"] == "DONE", out
    assert out["result"]["engine"] == "tesseract" and out["result"]["fallback_reason"] == reason
    assert "apple" in out["result"]["text"]


@pytest.mark.parametrize(("code", "reason", "retryable"), [(503, "google_unavailable", True), (403, "google_auth_failed", False)])
def test_google_errors_keep_reason_and_retryable(server: LocalServer, env: pytest.MonkeyPatch, code: int, reason: str,
                                                 retryable: bool) -> None:
    from ai_tasks.jobs.base import StepContext
    from vision.errors import VisionError

    with fake_vision() as vision:
        vision.answer_status(code)
        env.setenv("AI_WORKER_GOOGLE_VISION_ENDPOINT", vision.endpoint)
        state = prepare(AIJob(id="1", type="ocr", payload={"download_url": server.url("/page.png"), "engine": "google"}),
                        JobRef(id="1", type="ocr"))
        from ai_tasks.jobs import ocr as job

        with pytest.raises(VisionError) as err:
            job.run(state, StepContext(state.job, hop=False))
    assert err.value.reason_code == reason and err.value.retryable is retryable
