"""vision.ocr.reread: uncertain words read again with one language at a time."""

from __future__ import annotations

from tests.vision.ocr._cer import cer
from tests.vision.ocr._render import text_page
from vision.ocr.reread import needs_second_look, reread_uncertain
from vision.ocr.tesseract import TesseractConfig, make_line
from vision.ocr.types import OCRWord


def test_sure_words_untouched_and_single_language_skipped() -> None:
    line = make_line([OCRWord("apple", 0.97, (0, 0, 50, 20))])
    page = text_page([], (100, 40))
    assert reread_uncertain(page, [line], glyph_px=20, config=TesseractConfig()) == [line]
    shaky = make_line([OCRWord("S", 0.2, (0, 0, 20, 20))])
    assert reread_uncertain(page, [shaky], glyph_px=20, config=TesseractConfig(lang="kor")) == [shaky]


def test_a_misread_word_is_replaced() -> None:
    page = text_page([(20, 20, "apple")], (400, 90), size_px=32)
    wrong = make_line([OCRWord("80016", 0.3, (20, 24, 80, 30))])
    (fixed,) = reread_uncertain(page, [wrong], glyph_px=30, config=TesseractConfig())
    # the reread replaced "80016": by CER (tests/vision/ocr/_cer.py), one look-alike allowed
    assert cer("apple", fixed.text) <= 0.2 and fixed.words[0].box == (20, 24, 80, 30), fixed.text


def test_needs_second_look() -> None:
    assert not needs_second_look(OCRWord("사과", 0.95, (0, 0, 1, 1)))
    assert needs_second_look(OCRWord("사S", 0.99, (0, 0, 1, 1)))
