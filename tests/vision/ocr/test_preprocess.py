"""vision.ocr.preprocess: deskew, sheet on a desk, text scaling, local threshold, rules; boxes map back."""

from __future__ import annotations

import cv2
import numpy as np

from tests.vision.ocr._render import text_page
from vision.ocr.preprocess import (
    BOLD_STROKE_SHARE,
    estimate_skew_deg,
    find_rules,
    find_sheet_quad,
    ink_mask,
    prepare_page,
    stroke_share,
)


def _page() -> np.ndarray:
    return text_page([(60, 60 + 55 * i, "학생들은 수업 시간에 English 설명을 들었다 2024") for i in range(10)], (1100, 700))


def test_blank_page_is_left_alone() -> None:
    prep = prepare_page(np.full((300, 200), 255, np.uint8))
    assert prep.glyph_px == 0 and prep.scale == 1.0 and prep.angle_deg == 0.0


def test_skew_is_found_and_undone() -> None:
    page = _page()
    h, w = page.shape
    rotated = cv2.warpAffine(page, cv2.getRotationMatrix2D((w / 2, h / 2), 2.0, 1.0), (w, h), borderValue=255)
    assert abs(estimate_skew_deg(ink_mask(rotated, local=False)) + 2.0) < 0.3
    prep = prepare_page(rotated)
    assert abs(prep.angle_deg + 2.0) < 0.3


def test_small_text_is_upscaled_and_boxes_map_back() -> None:
    page = cv2.resize(_page(), None, fx=0.5, fy=0.5, interpolation=cv2.INTER_AREA)
    prep = prepare_page(page, deskew=False)
    assert prep.scale > 1.5 and 25 <= prep.glyph_px <= 36
    x, y, w, h = 100, 40, 60, 20
    s = prep.scale
    back = prep.to_page_box((round(x * s), round(y * s), round(w * s), round(h * s)))
    assert all(abs(a - b) <= 2 for a, b in zip(back, (x, y, w, h), strict=True))


def test_boxes_map_back_clipped_to_the_page() -> None:
    page = cv2.resize(_page(), None, fx=0.5, fy=0.5, interpolation=cv2.INTER_AREA)
    prep = prepare_page(page, deskew=False)
    h, w = prep.image.shape
    assert prep.to_page_box((-50, -50, w + 100, h + 100)) == (0, 0, page.shape[1], page.shape[0])
    assert prep.to_page_box((0, 0, 0, 0)) == (0, 0, 0, 0)


def test_sheet_on_a_desk_is_flattened() -> None:
    page = _page()
    desk = np.full((1000, 1400), 60, np.uint8)
    src = np.float32([[0, 0], [1100, 0], [1100, 700], [0, 700]])
    dst = np.float32([[150, 120], [1260, 160], [1230, 880], [130, 850]])
    photo = cv2.warpPerspective(page, cv2.getPerspectiveTransform(src, dst), (1400, 1000), dst=desk.copy(),
                                borderMode=cv2.BORDER_TRANSPARENT)
    quad = find_sheet_quad(photo)
    assert quad is not None and np.abs(quad - dst).max() < 8
    prep = prepare_page(photo)
    assert prep.rectified
    # a box of the flattened page maps back onto the photo near where the text was drawn
    x, y, w, h = prep.to_page_box((60, 60, 300, 30))
    assert 130 <= x <= 260 and 150 <= y <= 260


def test_uneven_light_is_thresholded_locally() -> None:
    page = _page().astype(np.float32)
    gradient = np.linspace(0.35, 1.0, page.shape[1], dtype=np.float32)[None, :]
    prep = prepare_page(np.clip(page * gradient, 0, 255).astype(np.uint8))
    assert prep.binarized and set(np.unique(prep.image)) <= {0, 255}


def test_rules_found_but_not_text() -> None:
    page = _page().copy()
    page[650, 40:1060] = 0  # an underline across the page
    ink = ink_mask(page, local=False)
    rules = find_rules(ink, glyph_px=30)
    assert rules[650, 100:1000].all()
    assert rules[:600].sum() < 0.01 * ink[:600].sum()


def test_blurred_photo_strokes_are_thinned_by_a_deeper_threshold() -> None:
    """Blurred by sigma 2 px and thresholded locally 12 levels below the mean, strokes measure
    0.142 of the line height (serif ``을`` fills to ``읍``); the page is thresholded again deeper."""
    page = text_page([(40, 40 + 60 * i, "다음 글을 읽고 물음에 답하시오. OSS") for i in range(6)], (1200, 420), "NanumMyeongjo.ttf", 30)
    blurred = np.asarray(cv2.GaussianBlur(page, (0, 0), 2.0), dtype=np.uint8)
    plain = ink_mask(blurred, local=True, glyph_px=30.0)
    assert stroke_share(plain, 30.0) > BOLD_STROKE_SHARE
    prep = prepare_page(blurred, binarize=True, deskew=False)
    assert stroke_share(prep.ink, prep.glyph_px) <= BOLD_STROKE_SHARE
    sharp = prepare_page(np.asarray(cv2.GaussianBlur(page, (0, 0), 1.0), dtype=np.uint8), binarize=True, deskew=False)
    assert 0.08 < stroke_share(sharp.ink, sharp.glyph_px) <= BOLD_STROKE_SHARE  # left as it was
