"""``ai-worker video FILE``: JSON on stdout, errors as exit 2 with a reason code."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ai_tasks.cli import main
from vision.video.synth import write_homework_video


def test_video_summary(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "hw.mp4"
    write_homework_video(path, seed=1, duration_s=3, size_wh=(320, 180), fps=30, rotation=270)
    assert main(["video", str(path), "--summary", "--sample-every", "0.5"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["sampled_frames"] == 6 and out["rotation"] == 270 and "frames" not in out


@pytest.mark.parametrize(
    ("args", "code"),
    [
        (["missing.mp4"], "input_not_found"),
        (["{junk}"], "video_invalid"),
        (["{junk}", "--sample-every", "0"], "option_invalid"),
    ],
)
def test_video_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str], args: list[str], code: str) -> None:
    junk = tmp_path / "junk.mp4"
    junk.write_bytes(b"not a video" * 100)
    argv = ["video", *[a.replace("{junk}", str(junk)) for a in args]]
    assert main(argv) == 2
    assert json.loads(capsys.readouterr().err)["reason_code"] == code
