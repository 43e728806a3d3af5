"""ai_tasks/cli/omr_meta.py: ``ai-worker omr meta-from-image``."""

import json
from pathlib import Path

from ai_tasks.cli import main

BLANK = Path(__file__).resolve().parents[2] / "omr" / "assets" / "blank_card"


def test_meta_from_image_writes_a_meta_and_an_overlay(tmp_path, capsys) -> None:
    out, overlay = tmp_path / "meta.json", tmp_path / "overlay.png"
    rc = main(["omr", "meta-from-image", str(BLANK / "pink20_150dpi.jpg"), "--dpi", "150", "--out", str(out),
               "--overlay", str(overlay), "--title", "3월 모의고사"])
    assert rc == 0 and overlay.stat().st_size > 0
    meta = json.loads(out.read_text(encoding="utf-8"))
    assert meta["title"] == "3월 모의고사" and len(meta["questions"]) == 20 and meta["identifier"]["digits"] == 6


def test_meta_from_image_errors_exit_2(tmp_path, capsys) -> None:
    bad = tmp_path / "blank.jpg"
    bad.write_bytes(b"not an image at all")
    assert main(["omr", "meta-from-image", str(bad)]) == 2
    assert json.loads(capsys.readouterr().err)["reason_code"] == "image_invalid"
    assert main(["omr", "meta-from-image", str(BLANK / "pink20_150dpi.jpg"), "--dpi", "5"]) == 2
    assert json.loads(capsys.readouterr().err)["reason_code"] == "option_invalid"
