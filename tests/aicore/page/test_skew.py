"""aicore.page.skew: both searches find a known turn of text lines; a blank page is level."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from aicore.page.skew import rotation_matrix, shrink_to_width, skew_deg_from_gray, skew_deg_from_ink

#: both searches land within this of the true angle (steps of 0.1 and 0.2 degrees).
ANGLE_TOLERANCE_DEG = 0.3


def _lines(angle_deg: float) -> np.ndarray:
    """Dark bars of text height on white, turned ``angle_deg`` (counter-clockwise positive)."""
    page = np.full((700, 900), 255, np.uint8)
    for y in range(80, 620, 45):
        page[y : y + 18, 80:820:6] = 0
        page[y : y + 18, 81:820:6] = 0
    return cv2.warpAffine(page, rotation_matrix(900, 700, angle_deg), (900, 700), borderValue=255)


def test_blank_page_is_level() -> None:
    assert skew_deg_from_ink(np.zeros((300, 400), np.uint8)) == 0.0


@pytest.mark.parametrize("angle", [0.0, 1.5, -2.5])
def test_both_find_the_turn(angle: float) -> None:
    page = _lines(angle)
    ink = (page < 128).astype(np.uint8)
    # the angle that levels the lines is the opposite turn
    assert abs(skew_deg_from_ink(ink) + angle) <= ANGLE_TOLERANCE_DEG
    assert abs(skew_deg_from_gray(page) + angle) <= ANGLE_TOLERANCE_DEG


def test_shrink_to_width_keeps_the_aspect_and_never_enlarges() -> None:
    assert shrink_to_width(np.zeros((300, 1800), np.uint8), 900).shape == (150, 900)
    small = np.zeros((30, 40), np.uint8)
    assert shrink_to_width(small, 900) is small
