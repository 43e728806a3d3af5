"""The handwriting_analysis job in process: download, reference, overlay artifact, bad input."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pytest

from ai_tasks.contracts import AIJob
from ai_tasks.inprocess import run_job
from ai_tasks.jobs.base import JobRef
from ai_tasks.jobs.handwriting import HandwritingState, prepare
from ai_tasks.resources import artifact_store
from ai_tasks.settings import get_settings
from tests.ai_tasks._http import LocalServer, body, serve
from tests.vision.handwriting._pages import photo_of, printed_page
from vision.handwriting.synth import add_handwriting

BLANK = printed_page(2)
WRITTEN = add_handwriting(BLANK, seed=9, units=14, tool="pencil").image


def _png(image: np.ndarray) -> bytes:
    ok, buf = cv2.imencode(".png", image)
    assert ok
    return bytes(buf)


def _jpg(image: np.ndarray) -> bytes:
    ok, buf = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, 90])
    assert ok
    return bytes(buf)


def _pdf(image: np.ndarray) -> bytes:
    import io

    from PIL import Image

    buf = io.BytesIO()
    Image.fromarray(cv2.cvtColor(image, cv2.COLOR_BGR2RGB)).save(buf, format="PDF", resolution=200)
    return buf.getvalue()


def _png_header(width: int, height: int) -> bytes:
    """A PNG that claims ``width`` x ``height`` pixels (a decompression bomb's header)."""
    import struct
    import zlib

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\x00" * 64)) + chunk(b"IEND", b"")


@pytest.fixture(scope="module")
def server() -> Iterator[LocalServer]:
    with serve() as srv:
        srv.route("/written.jpg", body(_jpg(photo_of(WRITTEN, 1))))
        srv.route("/printed.jpg", body(_jpg(photo_of(BLANK, 1))))
        srv.route("/blank.png", body(_png(BLANK)))
        srv.route("/blank.pdf", body(_pdf(BLANK)))
        srv.route("/junk.jpg", body(b"this is not an image"))
        srv.route("/empty.jpg", body(b""))
        srv.route("/bomb.png", body(_png_header(30000, 30000)))
        yield srv


def _job(payload: dict[str, Any]) -> dict[str, Any]:
    return {"id": "hw-1", "type": "handwriting_analysis", "payload": payload}


def test_written_page_scores_above_printed_page(server: LocalServer) -> None:
    written = run_job(_job({"download_url": server.url("/written.jpg")}))
    printed = run_job(_job({"download_url": server.url("/printed.jpg")}))
    assert written["status"] == "DONE" and printed["status"] == "DONE", (written, printed)
    w, p = written["result"], printed["result"]
    assert w["method"] == "features" and w["aligned"] is None
    assert p["writing_score"] <= 0.05 < w["writing_score"]
    assert {"writing_score", "calculation_score", "written_fraction", "regions", "timings_ms"} <= set(w)
    assert 0 <= w["calculation_score"] <= 1 and w["regions"]


@pytest.mark.parametrize("blank", ["/blank.png", "/blank.pdf"])
def test_reference_image_or_pdf(server: LocalServer, blank: str) -> None:
    out = run_job(_job({"download_url": server.url("/written.jpg"), "reference_url": server.url(blank)}))
    assert out["status"] == "DONE", out
    assert out["result"]["method"] == "reference" and out["result"]["aligned"] is True
    assert out["result"]["writing_score"] > 0.1


def test_overlay_is_an_artifact(server: LocalServer) -> None:
    out = run_job(_job({"download_url": server.url("/written.jpg"), "overlay": True}))
    png = artifact_store().get(out["result"]["overlay_key"])
    image = cv2.imdecode(np.frombuffer(png, np.uint8), cv2.IMREAD_COLOR)
    assert image is not None and image.shape[:2] == (2200, 1700)


def test_state_round_trips_and_refuses_unknown_fields() -> None:
    ref = JobRef(id="1", type="handwriting_analysis")
    state = prepare(AIJob.from_dict({"id": 1, "type": "handwriting_analysis",
                                     "payload": {"download_url": "https://x/a.jpg", "overlay": True}}), ref)
    assert HandwritingState.from_dict(state.to_dict()) == state
    out = run_job(_job({"download_url": "https://x/a.jpg", "colour": "red"}))
    assert out["error"]["reason_code"] == "payload_invalid"


@pytest.mark.parametrize(
    ("payload", "code"),
    [
        ({}, "download_url_missing"),
        ({"download_url": "/junk.jpg"}, "image_invalid"),
        ({"download_url": "/empty.jpg"}, "image_empty"),
        ({"download_url": "/bomb.png"}, "page_too_large"),
        ({"download_url": "/written.jpg", "reference_url": "/bomb.png"}, "reference_page_too_large"),
        ({"download_url": "/written.jpg", "reference_url": "/junk.jpg"}, "reference_image_invalid"),
        ({"download_url": "/written.jpg", "overlay": "yes"}, "payload_invalid"),
    ],
)
def test_bad_input_fails_with_a_code_and_leaves_no_temp_files(
    server: LocalServer, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, payload: dict[str, Any], code: str
) -> None:
    monkeypatch.setenv("AI_WORKER_TMP_DIR", str(tmp_path))
    get_settings.cache_clear()
    try:
        full = {k: server.url(v) if k.endswith("_url") else v for k, v in payload.items()}
        out = run_job(_job(full))
    finally:
        get_settings.cache_clear()
    assert out["status"] == "FAILED" and out["error"]["reason_code"] == code, out
    assert os.listdir(tmp_path) == []
