"""``ai-worker segment``: JSON on stdout, crops and overlay files, errors as JSON with exit code 2."""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import pytest

from ai_tasks.cli import main
from vision.synth.exam import render_exam_page


def test_segment_writes_json_crops_and_overlay(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    page = render_exam_page(8, columns=1, lang="en")
    src = tmp_path / "page.png"
    cv2.imwrite(str(src), page.image)
    code = main(["segment", str(src), "--engine", "opencv", "--crops", str(tmp_path / "crops"), "--overlay", str(tmp_path / "o.png")])
    assert code == 0
    out = json.loads(capsys.readouterr().out)
    assert [q["number"] for q in out["questions"]] == [q.number for q in page.questions]
    assert len(list((tmp_path / "crops").glob("*.png"))) == len(page.questions)
    overlay = cv2.imread(str(tmp_path / "o.png"))
    assert overlay is not None and overlay.shape[:2] == page.image.shape


def test_segment_prints_headings_and_instructions_as_blocks(capsys: pytest.CaptureFixture[str]) -> None:
    src = Path(__file__).resolve().parents[2] / "vision" / "segment" / "assets" / "indep_16062.png"
    assert main(["segment", str(src), "--engine", "opencv"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert [q["number"] for q in out["questions"]] == [3, 4, 5, 6, 7, 8, 9, 10]
    assert [(b["kind"], b.get("governs")) for b in out["blocks"]] == [("heading", None), ("instruction", [4, 5])]


@pytest.mark.parametrize(
    ("args", "reason"),
    [
        (["missing.png"], "input_not_found"),
        (["junk.png"], "image_invalid"),
        (["page.png", "--engine", "yolo"], "model_not_configured"),
        (["page.png", "--engine", "yolo", "--model", "nope.onnx"], "model_missing"),
    ],
)
def test_errors_exit_2_with_a_reason(tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, args: list[str], reason: str) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "junk.png").write_bytes(b"junk")
    cv2.imwrite(str(tmp_path / "page.png"), render_exam_page(1).image[:400])
    assert main(["segment", *args]) == 2
    assert json.loads(capsys.readouterr().err)["reason_code"] == reason
