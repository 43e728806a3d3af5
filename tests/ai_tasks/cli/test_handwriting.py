"""``ai-worker handwriting IMAGE [--reference BLANK] [--overlay OUT.png]``."""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import pytest

from ai_tasks.cli import main
from tests.vision.handwriting._pages import printed_page
from vision.handwriting.synth import add_handwriting


def test_handwriting_with_reference_and_overlay(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    blank = printed_page(4)
    cv2.imwrite(str(tmp_path / "blank.png"), blank)
    cv2.imwrite(str(tmp_path / "page.png"), add_handwriting(blank, 3, units=10, tool="blue_pen").image)
    overlay = tmp_path / "overlay.png"
    rc = main(["handwriting", str(tmp_path / "page.png"), "--reference", str(tmp_path / "blank.png"),
               "--overlay", str(overlay)])
    assert rc == 0
    out = json.loads(capsys.readouterr().out)
    assert out["method"] == "reference" and out["writing_score"] > 0.1 and overlay.is_file()


@pytest.mark.parametrize(("name", "content", "code"), [("missing.png", None, "input_not_found"),
                                                       ("junk.png", b"junk", "image_invalid"),
                                                       ("empty.png", b"", "image_empty")])
def test_handwriting_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str], name: str,
                            content: bytes | None, code: str) -> None:
    if content is not None:
        (tmp_path / name).write_bytes(content)
    assert main(["handwriting", str(tmp_path / name)]) == 2
    assert json.loads(capsys.readouterr().err)["reason_code"] == code
