"""vision.ocr.jamo: choice lists of jamo (``① ㄱ, ㄴ``) are read from the ink; real letters and digits are not."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from tests.vision.ocr._cer import cer
from tests.vision.ocr._render import text_page
from vision.ocr.jamo import fix_jamo_items, read_jamo_list
from vision.ocr.pipeline import PageOptions, read_page
from vision.ocr.preprocess import ink_mask
from vision.ocr.tesseract import make_line
from vision.ocr.types import OCRWord

ASSETS = Path(__file__).parent / "assets"
#: the jamo lines of the committed sample read within this CER (Tesseract alone: commas dropped, ``7`` for ``ㄱ``).
MAX_JAMO_CER = 0.05


def _ink(text: str, font: str, size_px: int = 31) -> tuple[np.ndarray, int]:
    """The ink of one rendered item (``ㄱ, ㄴ``) and the height of a circled number in the same font."""
    ring = ink_mask(text_page([(10, 10, "①")], (80, 70), font, size_px), local=False)
    ys = np.nonzero(ring)[0]
    return ink_mask(text_page([(10, 10, text)], (400, 70), font, size_px), local=False), int(ys.max() - ys.min() + 1)


@pytest.mark.parametrize("font", ["NanumGothic.ttf", "NanumSquareRoundR.ttf", "NanumGothicCoding.ttf"])
def test_jamo_lists_are_read_with_their_commas(font: str) -> None:
    # (known limit: NanumMyeongjo's ㄴ at 14 px matches ㄷ)
    for text in ("ㄱ, ㄴ, ㄷ", "ㄴ, ㄹ", "ㄱ"):
        ink, ring = _ink(text, font)
        glyphs = read_jamo_list(ink, ring_px=ring)
        assert glyphs is not None and "".join(g.char for g in glyphs) == text.replace(" ", "")


@pytest.mark.parametrize("font", ["NanumGothic.ttf", "NanumMyeongjo.ttf", "NanumSquareRoundR.ttf", "NanumGothicCoding.ttf"])
def test_letters_and_digits_are_not_jamo(font: str) -> None:
    for text in ("7", "L", "c", "a, c", "L, T", "7, 1", "12", "x", "o", "봄"):
        ink, ring = _ink(text, font)
        assert read_jamo_list(ink, ring_px=ring) is None, text


def _line_of(items: list[str], y: int) -> tuple[list[OCRWord], list[tuple[int, int, str]]]:
    """Words as Tesseract could give them (circled numbers, then each item as read) and what to draw."""
    words, draw = [], []
    for k, (shown, read) in enumerate(item.split("|") for item in items):
        x = 20 + 260 * k
        words += [OCRWord("①②③④⑤"[k], 0.95, (x, y, 30, 30)), OCRWord(read, 0.9, (x + 42, y + 6, 120, 20))]
        draw.append((x + 40, y - 4, shown))
    return words, draw


def test_a_lone_jamo_needs_a_list_nearby() -> None:
    """``① 7`` read as 7 stays 7 alone; beside ``③ ㄱ, ㄴ`` (the same question's choices) it is ㄱ."""
    alone, draw_alone = _line_of(["ㄱ|7", "봄|봄"], 20)
    listed, draw_listed = _line_of(["ㄱ|7", "ㄱ, ㄴ|ak"], 120)
    # the items only: the pipeline erases the circled numbers from the ink
    ink = ink_mask(text_page(draw_alone + draw_listed, (700, 200), "NanumGothic.ttf", 31), local=False)
    lines = [make_line(alone), make_line(listed)]
    assert fix_jamo_items(lines[:1], ink)[0].text == lines[0].text
    fixed = fix_jamo_items(lines[1:], ink)[0].text
    assert fixed.startswith("① ㄱ ②") and fixed.endswith("ㄱ, ㄴ"), fixed


def test_committed_sample_reads_jamo_lists_and_keeps_letters() -> None:
    image = np.asarray(cv2.imread(str(ASSETS / "jamo_choices.png"), cv2.IMREAD_GRAYSCALE), dtype=np.uint8)
    truth = (ASSETS / "jamo_choices.txt").read_text(encoding="utf-8").splitlines()
    lines = read_page(image, PageOptions(columns=False)).text.splitlines()
    assert len(lines) == len(truth)
    assert cer("\n".join(truth[:2]), "\n".join(lines[:2])) <= MAX_JAMO_CER, lines[:2]
    assert not any(ch in lines[2] for ch in "ㄱㄴㄷㄹㅁ"), lines[2]  # 7, L, c, a, c stay letters and digits
