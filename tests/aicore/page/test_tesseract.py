"""aicore.page.tesseract: one engine call for OCR and anchors; each failure has its reason code."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageFont

from aicore.page.errors import PageLayerError
from aicore.page.tesseract import _parse_tsv, image_to_data, inprocess_api, inprocess_data

FONT = "/usr/share/fonts/truetype/nanum/NanumGothic.ttf"
ARGS = "--psm 6 -c preserve_interword_spaces=1"


def _line(text: str, size_wh: tuple[int, int] = (700, 90)) -> np.ndarray:
    img = Image.new("L", size_wh, 255)
    ImageDraw.Draw(img).text((20, 25), text, font=ImageFont.truetype(FONT, 32), fill=0)
    return np.asarray(img)


def _words(data: dict[str, list[object]]) -> list[str]:
    return [str(t).strip() for t in data["text"] if str(t).strip()]


def test_parse_tsv_skips_short_rows_and_pads_a_missing_text() -> None:
    data = _parse_tsv("garbage\n5\t1\t1\t1\t1\t1\t10\t5\t40\t20\t96\t학생\n4\t1\t1\t1\t1\t0\t0\t0\t90\t20\t-1")
    assert data["text"] == ["학생", ""] and data["left"] == ["10", "0"]


def test_both_calls_read_the_same_words() -> None:
    image = _line("The quick brown fox")
    words = _words(image_to_data(image, lang="eng", args=ARGS, timeout_s=30))
    assert words == ["The", "quick", "brown", "fox"]
    api = inprocess_api("eng", 6)
    if api is None:
        pytest.skip("tesserocr is not installed")
    assert _words(inprocess_data(api, image, dpi=300, timeout_s=30)) == words


@pytest.mark.parametrize(("tell", "code"), [(True, "tesseract_language_missing"), (False, "tesseract_failed")])
def test_missing_language(tell: bool, code: str) -> None:
    with pytest.raises(PageLayerError) as err:
        image_to_data(_line("abc"), lang="zzz", args=ARGS, timeout_s=30, tell_missing_language=tell)
    assert err.value.reason_code == code


@pytest.mark.parametrize("timeout_code", ["ocr_timeout", "tesseract_timeout"])
def test_a_timeout_has_the_callers_code(timeout_code: str) -> None:
    page = np.tile(_line("학생들은 수업 시간에 설명을 들었다", (900, 60)), (40, 3))  # far more than 1 ms of work
    with pytest.raises(PageLayerError) as err:
        image_to_data(page, lang="kor", args=ARGS, timeout_s=0.001, timeout_code=timeout_code)
    assert err.value.reason_code == timeout_code
