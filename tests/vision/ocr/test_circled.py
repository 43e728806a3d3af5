"""vision.ocr.circled: rings with a digit inside are read; letters, rings without digits and blank pages are not."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from tests.vision.ocr._render import text_page
from vision.ocr.circled import erase, find_circled
from vision.ocr.preprocess import ink_mask, prepare_page


def _ink(page: np.ndarray) -> np.ndarray:
    return prepare_page(page, deskew=False, binarize=False).ink


def test_blank_page_has_none() -> None:
    assert find_circled(np.zeros((100, 100), np.uint8)) == []


@pytest.mark.parametrize("font", ["NanumGothic.ttf", "NanumMyeongjo.ttf", "NanumBarunGothic.ttf"])
@pytest.mark.parametrize("size_px", [30, 44])  # 10.5 pt at 200 and at 300 dpi
def test_choice_numbers_read(font: str, size_px: int) -> None:
    # (known limit: serif 9 pt at 200 dpi, 24 px, has rings too thin to stay closed)
    page = text_page([(20, 40, "① 사과   ② 배   ③ apple   ④ 14   ⑤ 정답 없음")], (1400, 140), font, size_px)
    found = find_circled(ink_mask(page, local=False))
    assert "".join(c.char for c in found) == "①②③④⑤"
    assert all(c.score > 0.6 for c in found)
    xs = [c.box[0] for c in found]
    assert xs == sorted(xs) and 15 <= xs[0] <= 30


def test_letters_and_plain_rings_are_not_digits() -> None:
    page = text_page([(20, 40, "O 0 ㅇ @ ○ Q ⓐ ㉠")], (900, 140))
    assert [c.char for c in find_circled(_ink(page))] in (["ⓐ", "㉠"], ["ⓐ"], [])


def test_erase_paints_the_box_white() -> None:
    page = text_page([(20, 40, "① 가")], (300, 120))
    found = find_circled(_ink(page))
    x, y, w, h = found[0].box
    out = erase(page, found)
    assert int(out[y : y + h, x : x + w].min()) == 255 and out.shape == page.shape


def test_bold_strokes_fused_to_the_ring_are_read() -> None:
    """A blurred photo thresholded locally draws bold strokes: the digit touches its ring.
    Thickened by 2 px, the one-pass search read 1 of these 5; with the thinned second search, all 5."""
    page = text_page([(20, 40, "①   ②   ③   ④   ⑤")], (700, 140), "NanumGothic.ttf", 30)
    bold = np.asarray(cv2.dilate(ink_mask(page, local=False), np.ones((3, 3), np.uint8)), dtype=np.uint8)
    found = "".join(c.char for c in find_circled(bold))
    assert sum(a == b for a, b in zip(found, "①②③④⑤", strict=False)) >= 4, found
