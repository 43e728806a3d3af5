"""handwriting_analysis and homework_video_analysis through ai.job on a real cpu-vision worker, both brokers."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from fractions import Fraction
from typing import Any

import cv2
import pytest

from tests.ai_tasks._http import LocalServer, body, serve
from tests.integration.conftest import Workers
from tests.vision.handwriting._pages import printed_page
from tests.vision.video._videos import marker_frame, write_frames
from vision.handwriting.synth import add_handwriting
from vision.video.synth import write_homework_video


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalServer]:
    d = tmp_path_factory.mktemp("media")
    blank = printed_page(5)
    ok, written = cv2.imencode(".png", add_handwriting(blank, 2, units=12, tool="pencil").image)
    ok2, blank_png = cv2.imencode(".png", blank)
    assert ok and ok2
    write_homework_video(d / "hw.mp4", seed=5, duration_s=4, size_wh=(640, 360), fps=30, rotation=90)
    write_frames(d / "ten_hours.mp4", [(0.0, marker_frame()), (36_000.0, marker_frame())], time_base=Fraction(1, 1000))
    with serve() as srv:
        srv.route("/written.png", body(bytes(written)))
        srv.route("/blank.png", body(bytes(blank_png)))
        srv.route("/hw.mp4", body((d / "hw.mp4").read_bytes()))
        srv.route("/ten_hours.mp4", body((d / "ten_hours.mp4").read_bytes()))
        srv.route("/junk.mp4", body(b"not a video" * 100))
        yield srv


@pytest.fixture(scope="module")
def running(workers: Workers) -> Workers:
    if not any(n.startswith("cpu-vision-") for n in workers.procs):
        workers.start("cpu-vision", tmp=workers.tmp)  # type: ignore[attr-defined]
    return workers


def _job(kind: str, payload: dict[str, Any]) -> dict[str, Any]:
    return {"id": f"{kind}-{uuid.uuid4().hex[:8]}", "type": kind, "payload": payload}


def test_handwriting_with_reference(running: Workers, files: LocalServer) -> None:
    payload = {"download_url": files.url("/written.png"), "reference_url": files.url("/blank.png")}
    out = running.client.send_task("ai.job", args=[_job("handwriting_analysis", payload)]).get(timeout=120)
    assert out["status"] == "DONE", out
    assert out["result"]["method"] == "reference" and out["result"]["writing_score"] > 0.1


def test_video_then_bad_videos_and_the_worker_lives(running: Workers, files: LocalServer) -> None:
    out = running.client.send_task("ai.job", args=[_job("homework_video_analysis",
                                                        {"download_url": files.url("/hw.mp4")})]).get(timeout=120)
    assert out["status"] == "DONE", out
    assert out["result"]["rotation"] == 90 and out["result"]["sampled_frames"] == 4
    for path, code in (("/junk.mp4", "video_invalid"), ("/ten_hours.mp4", "video_too_long")):
        bad = running.client.send_task("ai.job", args=[_job("homework_video_analysis",
                                                            {"download_url": files.url(path)})]).get(timeout=120)
        assert bad["status"] == "FAILED" and bad["error"]["reason_code"] == code, bad
    again = running.client.send_task("ai.job", args=[_job("homework_video_analysis",
                                                          {"download_url": files.url("/hw.mp4")})]).get(timeout=120)
    assert again["status"] == "DONE"
