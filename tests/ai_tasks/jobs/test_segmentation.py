"""The question_segmentation job end to end in process: download, pages, engines, artifacts, bad input."""

from __future__ import annotations

import io
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pytest
from PIL import Image

from ai_tasks.contracts import AIJob
from ai_tasks.inprocess import run_job
from ai_tasks.jobs.base import JobRef
from ai_tasks.jobs.segmentation import SegmentationState, prepare
from ai_tasks.resources import artifact_store
from ai_tasks.settings import get_settings
from tests.ai_tasks._http import LocalServer, body, serve
from tests.vision.segment._onnx import constant_model
from vision.synth.exam import render_exam_page

PAGE = render_exam_page(21, columns=2, lang="ko")
#: an independent page with a heading, a group instruction [4~5] and margin writing (tests/vision/segment)
INDEP = Path(__file__).resolve().parents[2] / "vision" / "segment" / "assets" / "indep_16062.png"


def _png(image: np.ndarray) -> bytes:
    ok, buf = cv2.imencode(".png", image)
    assert ok
    return bytes(buf)


def _pdf() -> bytes:
    img = Image.fromarray(PAGE.image)
    buf = io.BytesIO()
    img.save(buf, format="PDF", save_all=True, append_images=[img], resolution=200)
    return buf.getvalue()


@pytest.fixture(scope="module")
def server() -> Iterator[LocalServer]:
    with serve() as srv:
        srv.route("/page.png", body(_png(PAGE.image)))
        srv.route("/two.pdf", body(_pdf()))
        srv.route("/indep.png", body(INDEP.read_bytes()))
        srv.route("/junk.png", body(b"not an image at all"))
        srv.route("/empty.png", body(b""))
        srv.route("/blank.png", body(_png(np.full((600, 400), 255, np.uint8))))
        yield srv


@pytest.fixture()
def yolo_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[pytest.MonkeyPatch]:
    get_settings.cache_clear()
    yield monkeypatch
    get_settings.cache_clear()


def _run(payload: dict[str, Any]) -> dict[str, Any]:
    return run_job({"id": "seg-1", "type": "question_segmentation", "payload": payload})


def test_png_page_gives_boxes_numbers_crops_and_overlay(server: LocalServer) -> None:
    out = _run({"download_url": server.url("/page.png"), "engine": "opencv", "crops": True, "overlay": True})
    assert out["status"] == "DONE", out
    res = out["result"]
    assert res["engine"] == "opencv" and res["page"] == {"width": 1654, "height": 2339}
    assert [q["number"] for q in res["questions"]] == [q.number for q in PAGE.questions]
    assert res["boxes"] == [q["box"] for q in res["questions"]]
    assert [q["column"] for q in res["questions"]] == [q.column for q in PAGE.questions]
    assert len(res["crop_keys"]) == len(res["boxes"]) and len(res["overlay_keys"]) == 1
    x, y, w, h = res["boxes"][0]
    crop = cv2.imdecode(np.frombuffer(artifact_store().get(res["crop_keys"][0]), np.uint8), cv2.IMREAD_UNCHANGED)
    assert crop is not None and crop.shape[:2] == (h, w)
    assert set(res["timings_ms"]) == {"download", "decode", "segment", "artifacts"}


def test_headings_and_instructions_come_back_as_blocks_not_questions(server: LocalServer) -> None:
    out = _run({"download_url": server.url("/indep.png"), "engine": "opencv"})
    assert out["status"] == "DONE", out
    res = out["result"]
    assert [q["number"] for q in res["questions"]] == [3, 4, 5, 6, 7, 8, 9, 10]
    assert {q["kind"] for q in res["questions"]} == {"question"}
    assert [(b["kind"], b.get("governs"), b["number"], b["page"]) for b in res["blocks"]] == [
        ("heading", None, None, 0),
        ("instruction", [4, 5], None, 0),
    ]
    assert all(b["box"] not in res["boxes"] for b in res["blocks"])


def test_pdf_segments_every_page(server: LocalServer) -> None:
    out = _run({"download_url": server.url("/two.pdf"), "engine": "opencv"})
    assert out["status"] == "DONE", out
    res = out["result"]
    n = len(PAGE.questions)
    assert [p["count"] for p in res["pages"]] == [n, n]
    assert [q["page"] for q in res["questions"]] == [0] * n + [1] * n


def test_blank_page_is_done_with_no_boxes(server: LocalServer) -> None:
    out = _run({"download_url": server.url("/blank.png")})
    assert out["status"] == "DONE" and out["result"]["boxes"] == []


@pytest.mark.parametrize(
    ("path", "reason"), [("/junk.png", "image_invalid"), ("/empty.png", "image_empty")]
)
def test_unreadable_input_fails_with_its_reason(server: LocalServer, path: str, reason: str) -> None:
    out = _run({"download_url": server.url(path)})
    assert out["status"] == "FAILED" and out["error"]["reason_code"] == reason


def test_huge_page_fails_before_decoding(server: LocalServer, yolo_env: pytest.MonkeyPatch) -> None:
    yolo_env.setenv("AI_WORKER_MAX_PIXELS", "1000000")
    get_settings.cache_clear()
    out = _run({"download_url": server.url("/page.png")})
    assert out["status"] == "FAILED" and out["error"]["reason_code"] == "page_too_large"


def test_payload_is_validated_at_the_door() -> None:
    ref = JobRef(id="1", type="question_segmentation")
    s = prepare(AIJob("1", "question_segmentation", {"download_url": "https://x/y.png", "crops": True, "engine": "OPENCV"}), ref)
    assert (s.engine, s.crops, s.overlay) == ("opencv", True, False)
    assert SegmentationState.from_dict(s.to_dict()) == s
    for payload, reason in [
        ({}, "download_url_missing"),
        ({"download_url": "https://x", "engine": "tesseract"}, "payload_invalid"),
        ({"download_url": "https://x", "colour": "red"}, "payload_invalid"),
    ]:
        out = run_job({"id": 2, "type": "question_segmentation", "payload": payload})
        assert out["status"] == "FAILED" and out["error"]["reason_code"] == reason, out


def _yolo_model(tmp: Path) -> Path:
    out = np.zeros((1, 6, 16), np.float32)  # YOLOv8 layout, 2 classes, 16 proposals
    out[0, :, 0] = [320, 100, 400, 80, 0.9, 0.0]  # one box in the letterboxed 640 input
    return constant_model(tmp / "q.onnx", out, 640)


def test_yolo_and_auto_use_the_model(server: LocalServer, yolo_env: pytest.MonkeyPatch, tmp_path: Path) -> None:
    yolo_env.setenv("YOLO_QUESTION_MODEL_PATH", str(_yolo_model(tmp_path)))
    get_settings.cache_clear()
    for engine in ("yolo", "auto"):
        out = _run({"download_url": server.url("/page.png"), "engine": engine})
        assert out["status"] == "DONE", out
        assert out["result"]["engine"] == "yolo" and len(out["result"]["boxes"]) == 1
        assert out["result"]["questions"][0]["number"] is None


def test_auto_falls_back_to_opencv_when_the_model_finds_nothing(server: LocalServer, yolo_env: pytest.MonkeyPatch, tmp_path: Path) -> None:
    yolo_env.setenv("YOLO_QUESTION_MODEL_PATH", str(constant_model(tmp_path / "none.onnx", np.zeros((1, 6, 16), np.float32), 640)))
    get_settings.cache_clear()
    out = _run({"download_url": server.url("/page.png"), "engine": "auto"})
    assert out["status"] == "DONE" and out["result"]["engine"] == "opencv"
    assert len(out["result"]["boxes"]) == len(PAGE.questions)


@pytest.mark.parametrize("kind", ["missing", "not_onnx", "wrong_shape", "not_configured"])
def test_bad_models_fail_with_their_reason(server: LocalServer, yolo_env: pytest.MonkeyPatch, tmp_path: Path, kind: str) -> None:
    reason = {"missing": "model_missing", "not_onnx": "model_invalid", "wrong_shape": "model_output_shape", "not_configured": "model_not_configured"}[kind]
    if kind == "missing":
        yolo_env.setenv("YOLO_QUESTION_MODEL_PATH", str(tmp_path / "gone.onnx"))
    elif kind == "not_onnx":
        (tmp_path / "bad.onnx").write_bytes(b"\x00garbage" * 64)
        yolo_env.setenv("YOLO_QUESTION_MODEL_PATH", str(tmp_path / "bad.onnx"))
    elif kind == "wrong_shape":
        yolo_env.setenv("YOLO_QUESTION_MODEL_PATH", str(constant_model(tmp_path / "s.onnx", np.zeros((1, 2, 3, 4), np.float32), 640)))
    else:
        yolo_env.delenv("YOLO_QUESTION_MODEL_PATH", raising=False)
    tmp_base = Path(tempfile.mkdtemp(prefix="seg-tmp-"))
    yolo_env.setenv("AI_WORKER_TMP_DIR", str(tmp_base))
    get_settings.cache_clear()
    out = _run({"download_url": server.url("/page.png"), "engine": "yolo"})
    assert out["status"] == "FAILED" and out["error"]["reason_code"] == reason, out
    assert os.listdir(tmp_base) == []  # the job's temp folder is gone
