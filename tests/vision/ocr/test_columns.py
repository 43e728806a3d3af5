"""vision.ocr.columns: two columns found, one column left whole, a header kept full width."""

from __future__ import annotations

import numpy as np

from tests.vision.ocr._render import text_page
from vision.ocr.columns import find_columns
from vision.ocr.preprocess import ink_mask

LEFT = "학생들은 수업을 들었다 and"
RIGHT = "The museum opens at 9"


def _two_columns(header: bool) -> np.ndarray:
    lines = [(40, 30, "2026학년도 1학기 중간고사 수학 영어 과학 평가 문제지")] if header else []
    for i in range(12):
        y = 120 + 50 * i
        lines += [(40, y, LEFT), (640, y, RIGHT)]
    return text_page(lines, (1200, 760))


def test_blank_and_tiny() -> None:
    assert find_columns(np.zeros((50, 50), np.uint8), glyph_px=10) == [(0, 0, 50, 50)]
    assert find_columns(np.zeros((50, 50), np.uint8), glyph_px=0) == [(0, 0, 50, 50)]


def test_two_columns_left_then_right() -> None:
    regions = find_columns(ink_mask(_two_columns(False), local=False), glyph_px=30)
    assert len(regions) == 2
    (lx, _, lw, _), (rx, _, _, _) = regions
    assert lx == 0 and 400 < lx + lw == rx < 640


def test_header_above_columns_stays_full_width() -> None:
    regions = find_columns(ink_mask(_two_columns(True), local=False), glyph_px=30)
    assert regions[0][0] == 0 and regions[0][2] == 1200 and regions[0][1] == 0
    assert len(regions) == 3 and regions[1][1] == regions[2][1] > 60


def test_one_column_with_choices_at_tab_stops_is_not_split() -> None:
    stem = "다음 글의 내용과 일치하지 않는 것은? The museum opens at 9 a.m. on weekdays."
    lines = [(40, 40 + 50 * i, stem if i % 3 == 0 else "① 5        ② 8        ③ 11        ④ 14") for i in range(12)]
    page = text_page(lines, (1200, 700))
    assert find_columns(ink_mask(page, local=False), glyph_px=30) == [(0, 0, 1200, 700)]
