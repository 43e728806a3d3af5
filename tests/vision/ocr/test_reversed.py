"""vision.ocr.reversed: white letters on a coloured band are read, and the band does not make a clean page 'uneven'."""

from __future__ import annotations

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from tests.vision.ocr._cer import cer
from tests.vision.ocr._render import NANUM
from vision.ocr.pipeline import read_page
from vision.ocr.preprocess import prepare_page
from vision.ocr.reversed import find_reversed_bands

HEADING = "2025학년도 2학기 과학 평가"
BODY = ["1. 다음 글을 읽고 물음에 답하시오.", "① 사과는 빨갛다  ② 하늘은 파랗다", "The OSS licence lets anyone read it."]
HEADING_CER = 0.15
"""Tesseract reads the lifted heading at CER 0 on this page; 0.15 leaves two look-alikes of its 14
characters. Without the lift the band is read as garbage (``QOnssjm 트로``) or dropped: CER 1.0."""


def _band_page() -> np.ndarray:
    """A clean render (BGR): a purple band with the white heading, then black lines."""
    img = Image.new("RGB", (1200, 520), (255, 255, 255))
    draw = ImageDraw.Draw(img)
    draw.rectangle((40, 30, 1160, 100), fill=(120, 40, 140))
    draw.text((70, 45), HEADING, font=ImageFont.truetype(NANUM + "NanumGothicBold.ttf", 36), fill=(255, 255, 255))
    face = ImageFont.truetype(NANUM + "NanumGothic.ttf", 30)
    for i, line in enumerate(BODY):
        draw.text((60, 160 + 60 * i), line, font=face, fill=(0, 0, 0))
    return np.asarray(img, dtype=np.uint8)[:, :, ::-1].copy()


def test_blank_page_has_no_band() -> None:
    assert find_reversed_bands(np.full((300, 400), 250, np.uint8)) == []


def test_black_text_is_not_a_band() -> None:
    page = _band_page()
    page[:110] = 255  # the band removed: only black text on white
    assert find_reversed_bands(page[:, :, 0]) == []


def test_band_is_found_and_the_page_stays_clean() -> None:
    page = _band_page()
    (x, y, w, h), = find_reversed_bands(np.asarray(page.mean(axis=2), np.uint8))
    assert abs(x - 40) <= 4 and abs(y - 30) <= 4 and abs(w - 1121) <= 8 and abs(h - 71) <= 8
    assert not prepare_page(page).binarized  # a band is not an uneven (photographed) background


def test_white_heading_on_colour_is_read() -> None:
    page = read_page(_band_page())
    lines = page.text.splitlines()
    assert lines, page.text
    assert cer(HEADING, lines[0]) <= HEADING_CER, page.text
    assert cer("\n".join([HEADING, *BODY]), page.text) <= 0.1, page.text
