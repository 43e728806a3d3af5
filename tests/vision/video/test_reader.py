"""The PyAV reader: rotation, time-based sampling, skipping, limits, bad files."""

from __future__ import annotations

from collections.abc import Callable
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest

from tests.vision.video._videos import marker_frame, write_frames, write_wav
from vision.errors import VideoError
from vision.video import SampledFrame, VideoLimits, open_video
from vision.video.synth import write_homework_video

LIMITS = VideoLimits()


def _samples(path: Path, every_s: float = 1.0, limits: VideoLimits = LIMITS) -> tuple[list[SampledFrame], int, int]:
    with open_video(path, limits) as reader:
        got = list(reader.samples(every_s))
        return got, reader.decoded_frames, reader.rotation


@pytest.mark.parametrize("codec", ["libx264", "mpeg4"])
@pytest.mark.parametrize("rotation", [0, 90, 180, 270])
def test_rotation_is_honoured_all_four_ways(tmp_path: Path, rotation: int, codec: str) -> None:
    path = tmp_path / f"r{rotation}.mp4"
    upright = marker_frame()
    write_frames(path, [(i / 30, upright) for i in range(30)], codec=codec, rotation=rotation)
    samples, _, seen_rotation = _samples(path)
    assert seen_rotation == rotation
    img = samples[0].image
    assert img.shape[:2] == upright.shape[:2]
    h, w = img.shape[:2]
    corners = [img[: h // 4, : w // 4].mean(), img[: h // 4, -w // 4 :].mean(),
               img[-h // 4 :, : w // 4].mean(), img[-h // 4 :, -w // 4 :].mean()]
    assert int(np.argmax(corners)) == 0, corners  # the white block is top-left, as displayed


def test_samples_by_time_on_a_variable_frame_rate(tmp_path: Path) -> None:
    path = tmp_path / "vfr.mp4"
    rng = np.random.default_rng(3)
    t, frames = 0.0, []
    while t < 8.0:
        frames.append((t, marker_frame()))
        t += float(rng.choice([1 / 60, 1 / 30, 1 / 10]))  # bursts and stalls
    write_frames(path, frames, gop=5)
    samples, _, _ = _samples(path, 1.0)
    times = [s.time_s for s in samples]
    assert times == sorted(times) and len(samples) >= 7
    for k, time_s in enumerate(times):
        assert abs(time_s - k) <= 0.5 + 0.1, times  # within the keyframe snap of every whole second


def test_unsampled_frames_are_not_decoded(tmp_path: Path) -> None:
    path = tmp_path / "hw.mp4"
    write_homework_video(path, seed=1, duration_s=10, size_wh=(320, 180), fps=30, gop_frames=30)
    samples, decoded, _ = _samples(path, 2.0)
    assert len(samples) == 5
    assert decoded <= 2 * len(samples), decoded  # ~1 frame per sample, not 300


def test_sampling_without_an_index_decodes_sequentially(tmp_path: Path) -> None:
    path = tmp_path / "hw.ts"  # MPEG-TS carries no index
    write_frames(path, [(i / 30, marker_frame()) for i in range(90)], codec="mpeg4")
    samples, decoded, _ = _samples(path, 1.0)
    assert [round(s.time_s) for s in samples] == [0, 1, 2] and decoded == 90


def test_frames_are_downscaled(tmp_path: Path) -> None:
    path = tmp_path / "big.mp4"
    write_frames(path, [(0.0, np.zeros((720, 1280, 3), np.uint8)), (0.5, np.zeros((720, 1280, 3), np.uint8))])
    samples, _, _ = _samples(path, 1.0, VideoLimits(analysis_long_side_px=320))
    assert samples[0].image.shape == (180, 320, 3)


def test_a_ten_hour_header_is_refused_before_decoding(tmp_path: Path) -> None:
    path = tmp_path / "ten_hours.mp4"
    write_frames(path, [(0.0, marker_frame()), (36_000.0, marker_frame())], time_base=Fraction(1, 1000))
    with pytest.raises(VideoError) as info:
        open_video(path, LIMITS)
    assert info.value.reason_code == "video_too_long"


@pytest.mark.parametrize(
    ("limits", "code"),
    [
        (VideoLimits(max_duration_s=1.0), "video_too_long"),
        (VideoLimits(max_frames=10), "video_too_many_frames"),
        (VideoLimits(max_pixels=100 * 50), "video_too_large"),
    ],
)
def test_limits_from_settings(tmp_path: Path, limits: VideoLimits, code: str) -> None:
    path = tmp_path / "v.mp4"
    write_frames(path, [(i / 30, marker_frame()) for i in range(60)])
    with pytest.raises(VideoError) as info:
        open_video(path, limits)
    assert info.value.reason_code == code


@pytest.mark.parametrize(
    ("name", "make", "code"),
    [
        ("empty.mp4", lambda p: p.write_bytes(b""), "video_empty"),
        ("junk.mp4", lambda p: p.write_bytes(b"this is not a video " * 100), "video_invalid"),
        ("jpeg_bytes.mp4", lambda p: p.write_bytes(b"\xff\xd8\xff\xe0" + b"\x00" * 500), "video_invalid"),
        ("audio.wav", write_wav, "video_invalid"),
        ("zero_frames.mp4", lambda p: write_frames(p, []), "video_empty"),
    ],
)
def test_bad_files_fail_with_a_code(tmp_path: Path, name: str, make: Callable[[Path], object], code: str) -> None:
    path = tmp_path / name
    make(path)
    with pytest.raises(VideoError) as info:
        with open_video(path, LIMITS) as reader:
            list(reader.samples(1.0))
    assert info.value.reason_code == code


@pytest.mark.parametrize(
    ("name", "codec", "indexed"),
    [
        ("b_frames.mp4", "libx264", True),  # x264's default preset: B-frames, index in decode time
        ("b_frames.mov", "libx264", True),
        ("plain.avi", "mpeg4", True),
        ("lazy_cues.mkv", "libx264", False),  # cues are read lazily: the reader continues sequentially
        ("vp8.webm", "libvpx", False),
    ],
)
def test_containers_sample_whole_seconds(tmp_path: Path, name: str, codec: str, indexed: bool) -> None:
    path = tmp_path / name
    write_frames(path, [(i / 30, marker_frame()) for i in range(120)], codec=codec, gop=10)
    samples, decoded, _ = _samples(path, 1.0)
    assert [round(s.time_s, 2) for s in samples] == [0.0, 1.0, 2.0, 3.0]
    if indexed:
        assert decoded <= 2 * len(samples), decoded
