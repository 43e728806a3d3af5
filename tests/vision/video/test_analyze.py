"""Writing on the page, not on the desk or the hand; progress over time."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from tests.vision.video._videos import write_frames
from vision.video import VideoLimits
from vision.video.analyze import PageTracker, analyze_video
from vision.video.synth import SKIN_BGR, write_homework_video

LIMITS = VideoLimits()


def _page_frame(strokes: int, hand: bool = False, w: int = 640, h: int = 360) -> np.ndarray:
    frame = np.full((h, w, 3), (45, 55, 70), np.uint8)
    cv2.rectangle(frame, (180, 20), (460, 340), (235, 238, 240), -1)
    rng = np.random.default_rng(0)
    for _ in range(strokes):
        x, y = int(rng.integers(200, 420)), int(rng.integers(40, 300))
        cv2.line(frame, (x, y), (x + 30, y + int(rng.integers(-8, 8))), (90, 90, 95), 1, cv2.LINE_AA)
    if hand:
        cv2.ellipse(frame, (330, 200), (70, 90), 30, 0, 360, SKIN_BGR, -1)
    return frame


@pytest.mark.parametrize("rotation", [0, 90])
def test_homework_video_progress_follows_the_writing(tmp_path: Path, rotation: int) -> None:
    path = tmp_path / "hw.mp4"
    truth = write_homework_video(path, seed=4, duration_s=12, size_wh=(640, 360), fps=30, rotation=rotation)
    res = analyze_video(path, sample_every_s=1.0, limits=LIMITS).to_dict()
    assert res["sampled_frames"] == 12 and res["rotation"] == rotation and res["total_frames"] == truth.frames
    assert all(f["page_found"] for f in res["frames"])
    totals = [p["ink_total_added"] for p in res["progress"]]
    assert totals == sorted(totals) and totals[-1] > 0.3 * truth.ink_fraction_at_s[-1][1]
    assert totals[-1] < 3 * truth.ink_fraction_at_s[-1][1]
    assert res["decoded_frames"] <= 2 * res["sampled_frames"]
    assert {"total_frames", "sampled_frames", "avg_writing_score", "filled_ratio", "frames", "too_short",
            "duration_s", "rotation", "progress", "timings_ms"} <= set(res)


def test_a_dark_desk_is_not_writing(tmp_path: Path) -> None:
    rng = np.random.default_rng(1)
    desk = (np.full((360, 640, 3), (40, 50, 60), np.int16) + rng.integers(-25, 25, (360, 640, 3))).clip(0, 255)
    path = tmp_path / "desk.mp4"
    write_frames(path, [(i / 10, desk.astype(np.uint8)) for i in range(30)])
    res = analyze_video(path, sample_every_s=1.0, limits=LIMITS).to_dict()
    assert res["avg_writing_score"] == 0.0 and res["filled_ratio"] == 0.0
    assert not any(f["page_found"] for f in res["frames"])


def test_a_hand_over_the_page_is_not_writing() -> None:
    bare = PageTracker().add(0, 0.0, _page_frame(10))
    covered = PageTracker().add(0, 0.0, _page_frame(10, hand=True))
    assert covered.occluded_fraction > 0.1 and bare.occluded_fraction < 0.05
    assert covered.writing_score <= bare.writing_score + 0.01


def test_revealed_paper_is_not_counted_as_added() -> None:
    tracker = PageTracker()
    tracker.add(0, 0.0, _page_frame(20, hand=True))
    later = tracker.add(1, 1.0, _page_frame(20, hand=False))  # same ink, the hand moved away
    more = tracker.add(2, 2.0, _page_frame(40, hand=False))  # new strokes
    assert later.ink_added < 0.001 < more.ink_added


def test_too_short_follows_min_frame_count(tmp_path: Path) -> None:
    path = tmp_path / "short.mp4"
    write_frames(path, [(i / 30, _page_frame(5)) for i in range(20)])
    assert analyze_video(path, sample_every_s=1.0, limits=LIMITS, min_frame_count=30).too_short is True
    assert analyze_video(path, sample_every_s=1.0, limits=LIMITS, min_frame_count=10).too_short is False


def test_progress_callback_counts_samples(tmp_path: Path) -> None:
    path = tmp_path / "hw.mp4"
    write_homework_video(path, seed=2, duration_s=5, size_wh=(320, 180), fps=30)
    seen: list[tuple[int, int]] = []
    analyze_video(path, sample_every_s=1.0, limits=LIMITS, progress=lambda d, t: seen.append((d, t)))
    assert [d for d, _ in seen] == [1, 2, 3, 4, 5] and all(t >= d for d, t in seen)
