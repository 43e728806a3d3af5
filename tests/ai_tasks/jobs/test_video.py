"""The homework_video_analysis job in process: legacy keys, sampling options, progress, bad input."""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from fractions import Fraction
from pathlib import Path
from typing import Any

import pytest

from ai_tasks.contracts import AIJob
from ai_tasks.inprocess import run_job
from ai_tasks.jobs.base import JobRef, StepContext
from ai_tasks.jobs.video import VideoState, prepare, run
from ai_tasks.settings import get_settings
from tests.ai_tasks._http import LocalServer, body, serve
from tests.vision.video._videos import marker_frame, write_frames
from vision.video.synth import write_homework_video


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalServer]:
    d = tmp_path_factory.mktemp("videos")
    write_homework_video(d / "hw.mp4", seed=3, duration_s=6, size_wh=(640, 360), fps=30, rotation=90)
    write_frames(d / "ten_hours.mp4", [(0.0, marker_frame()), (36_000.0, marker_frame())], time_base=Fraction(1, 1000))
    write_frames(d / "zero.mp4", [])
    with serve() as srv:
        srv.route("/hw.mp4", body((d / "hw.mp4").read_bytes()))
        srv.route("/ten_hours.mp4", body((d / "ten_hours.mp4").read_bytes()))
        srv.route("/zero.mp4", body((d / "zero.mp4").read_bytes()))
        srv.route("/junk.mp4", body(b"this is not a video" * 50))
        srv.route("/empty.mp4", body(b""))
        yield srv


def _job(payload: dict[str, Any]) -> dict[str, Any]:
    return {"id": "video-1", "type": "homework_video_analysis", "payload": payload}


def test_legacy_keys_and_new_ones(server: LocalServer) -> None:
    out = run_job(_job({"download_url": server.url("/hw.mp4")}))
    assert out["status"] == "DONE", out
    res = out["result"]
    assert res["total_frames"] == 180 and res["sampled_frames"] == 6 and res["too_short"] is False
    assert res["rotation"] == 90 and res["duration_s"] == pytest.approx(6.0, abs=0.1)
    assert 0 <= res["avg_writing_score"] <= 1 and 0 <= res["filled_ratio"] <= 1
    assert [f["index"] for f in res["frames"]] == [0, 30, 60, 90, 120, 150]
    assert len(res["progress"]) == 6 and set(res["timings_ms"]) >= {"download", "decode", "analyse", "total"}


@pytest.mark.parametrize(
    ("payload", "every_s", "samples"),
    [
        ({"sample_every_s": 2}, 2.0, 3),
        ({"frame_stride": 15}, 0.5, 12),  # legacy: every 15th frame of a 30 fps video
        ({"frame_stride": 15, "sample_every_s": 3.0}, 3.0, 2),  # the new field wins
    ],
)
def test_sampling_options(server: LocalServer, payload: dict[str, Any], every_s: float, samples: int) -> None:
    out = run_job(_job({"download_url": server.url("/hw.mp4"), **payload}))
    assert out["result"]["sample_every_s"] == every_s and out["result"]["sampled_frames"] == samples


def test_min_frame_count_sets_too_short(server: LocalServer) -> None:
    out = run_job(_job({"download_url": server.url("/hw.mp4"), "min_frame_count": 1000}))
    assert out["result"]["too_short"] is True


def test_progress_is_reported(server: LocalServer) -> None:
    seen: list[tuple[int, int]] = []

    def reporter(done: int, total: int, info: Mapping[str, Any]) -> None:
        seen.append((done, total))

    ref = JobRef(id="v", type="homework_video_analysis")
    state = prepare(AIJob.from_dict({"id": "v", "type": "homework_video_analysis",
                                     "payload": {"download_url": server.url("/hw.mp4")}}), ref)
    assert VideoState.from_dict(state.to_dict()) == state
    run(state, StepContext(ref, reporter=reporter, hop=False))
    assert [d for d, _ in seen] == [1, 2, 3, 4, 5, 6] and seen[-1][1] >= 6


@pytest.mark.parametrize(
    ("payload", "code"),
    [
        ({}, "download_url_missing"),
        ({"download_url": "/junk.mp4"}, "video_invalid"),
        ({"download_url": "/empty.mp4"}, "video_empty"),
        ({"download_url": "/zero.mp4"}, "video_empty"),
        ({"download_url": "/ten_hours.mp4"}, "video_too_long"),
        ({"download_url": "/hw.mp4", "sample_every_s": 0}, "payload_invalid"),
        ({"download_url": "/hw.mp4", "sample_every_s": "fast"}, "payload_invalid"),
        ({"download_url": "/hw.mp4", "frame_stride": 0}, "payload_invalid"),
        ({"download_url": "/hw.mp4", "fps": 30}, "payload_invalid"),
    ],
)
def test_bad_input_fails_with_a_code_and_leaves_no_temp_files(
    server: LocalServer, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, payload: dict[str, Any], code: Any
) -> None:
    monkeypatch.setenv("AI_WORKER_TMP_DIR", str(tmp_path))
    get_settings.cache_clear()
    try:
        full = {k: server.url(v) if k.endswith("_url") else v for k, v in payload.items()}
        out = run_job(_job(full))
    finally:
        get_settings.cache_clear()
    assert out["status"] == "FAILED", out
    assert out["error"]["reason_code"] in ((code,) if isinstance(code, str) else code), out
    assert os.listdir(tmp_path) == []


def test_duration_cap_comes_from_settings(server: LocalServer, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AI_WORKER_VIDEO_MAX_DURATION_S", "2")
    get_settings.cache_clear()
    try:
        out = run_job(_job({"download_url": server.url("/hw.mp4")}))
    finally:
        get_settings.cache_clear()
    assert out["error"]["reason_code"] == "video_too_long"
