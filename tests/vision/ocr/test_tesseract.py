"""vision.ocr.tesseract: both backends read the same line; errors carry reason codes."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageFont

from tests.vision.ocr._cer import cer
from vision.errors import EngineError
from vision.ocr.tesseract import TesseractConfig, read_region

FONT = "/usr/share/fonts/truetype/nanum/NanumGothic.ttf"
LINE_CER = 0.1


def _line(text: str) -> np.ndarray:
    img = Image.new("L", (900, 90), 255)
    ImageDraw.Draw(img).text((20, 25), text, font=ImageFont.truetype(FONT, 32), fill=0)
    return np.asarray(img)


@pytest.mark.parametrize("inprocess", [True, False], ids=["tesserocr", "pytesseract"])
@pytest.mark.parametrize("text", ["학생들은 수업을 들었다", "The quick brown fox, 2024."])
def test_reads_korean_and_english(inprocess: bool, text: str) -> None:
    lines = read_region(_line(text), TesseractConfig(inprocess=inprocess))
    assert len(lines) == 1
    # by CER (see tests/vision/ocr/_cer.py): read exactly today; one wrong character
    # of these 10-22 passes, a line read in the wrong script or half missing does not
    assert cer(text, lines[0].text) <= LINE_CER, lines[0].text
    x, y, w, h = lines[0].box
    assert 10 <= x <= 30 and 15 <= y <= 45 and w > 250
    assert 0.5 < lines[0].confidence <= 1.0


def test_blank_region_reads_nothing_without_calling_tesseract() -> None:
    assert read_region(np.full((50, 50), 200, np.uint8)) == []


def test_missing_language_is_a_clear_error() -> None:
    with pytest.raises(EngineError) as err:
        read_region(_line("abc"), TesseractConfig(lang="xyz", inprocess=False))
    assert err.value.reason_code == "tesseract_language_missing"


def test_missing_language_inprocess_falls_back_to_the_command() -> None:
    with pytest.raises(EngineError) as err:
        read_region(_line("abc"), TesseractConfig(lang="xyz", inprocess=True))
    assert err.value.reason_code == "tesseract_language_missing"
