"""``ai-worker ocr PAGE``: JSON on stdout, reason codes on stderr with exit code 2."""

from __future__ import annotations

import json

import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageFont

from ai_tasks.cli import main


def _page(path) -> None:
    img = Image.new("L", (700, 160), 255)
    ImageDraw.Draw(img).text((30, 50), "② 정답 answer", font=ImageFont.truetype("/usr/share/fonts/truetype/nanum/NanumGothic.ttf", 32), fill=0)
    img.save(path)


def test_ocr_prints_result_json(tmp_path, capsys: pytest.CaptureFixture[str]) -> None:
    page = tmp_path / "p.png"
    _page(page)
    assert main(["ocr", str(page), "--engine", "tesseract"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["engine"] == "tesseract" and out["status"] == "ok"
    assert "".join(out["text"].split()) == "②정답answer"
    assert out["pages"][0]["width"] == 700


def test_ocr_force_ocr_flag(capsys: pytest.CaptureFixture[str]) -> None:
    from pathlib import Path

    pdf = Path(__file__).parents[2] / "vision" / "ocr" / "assets" / "text_layer.pdf"
    assert main(["ocr", str(pdf), "--engine", "tesseract"]) == 0
    assert json.loads(capsys.readouterr().out)["engine"] == "pdf_text"
    assert main(["ocr", str(pdf), "--engine", "tesseract", "--force-ocr"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["engine"] == "tesseract" and out["pages"][0]["text_layer"] == "forced_ocr"


def test_ocr_text_only_and_blank(tmp_path, capsys: pytest.CaptureFixture[str]) -> None:
    blank = tmp_path / "b.png"
    Image.fromarray(np.full((100, 100), 255, np.uint8)).save(blank)
    assert main(["ocr", str(blank), "--engine", "tesseract", "--text"]) == 0
    assert capsys.readouterr().out == "\n"


@pytest.mark.parametrize(("content", "reason"), [(None, "input_not_found"), (b"junk", "image_invalid"), (b"", "image_empty")])
def test_ocr_errors_exit_2_with_reason(tmp_path, capsys: pytest.CaptureFixture[str], content: bytes | None, reason: str) -> None:
    path = tmp_path / "x.png"
    if content is not None:
        path.write_bytes(content)
    assert main(["ocr", str(path), "--engine", "tesseract"]) == 2
    assert json.loads(capsys.readouterr().err)["reason_code"] == reason
