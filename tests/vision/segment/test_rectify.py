"""Page outline in photos: found under uneven light, absent on scans; boxes map back."""

from __future__ import annotations

import numpy as np

from aicore.page.outline import find_page_quad
from vision.segment.rectify import map_box_back, rectify
from vision.synth.exam import render_exam_page
from vision.synth.photo import map_points, to_photo


def test_scan_has_no_quad() -> None:
    assert find_page_quad(render_exam_page(1).image) is None


def test_photo_quad_matches_the_true_corners() -> None:
    page = render_exam_page(2004, columns=2, lang="en")
    for seed in (2004, 1, 2, 3):
        photo, H = to_photo(page.image, seed)
        quad = find_page_quad(photo.mean(axis=2).astype(np.uint8))
        h, w = page.image.shape
        true = map_points([[0, 0], [w, 0], [w, h], [0, h]], H)
        assert quad is not None
        assert np.abs(quad - true).max() < 25, (seed, quad, true)


def test_rectify_round_trip() -> None:
    img = np.full((300, 200), 60, np.uint8)
    img[30:270, 20:180] = 230
    quad = find_page_quad(img)
    assert quad is not None
    flat, H_back = rectify(img, quad)
    assert abs(flat.shape[0] - 240) <= 3 and abs(flat.shape[1] - 160) <= 3
    x, y, w, h = map_box_back((10, 10, 50, 20), H_back, (200, 300))
    assert abs(x - 30) <= 3 and abs(y - 40) <= 3 and abs(w - 50) <= 3 and abs(h - 20) <= 3
    assert map_box_back((-100, -100, 1000, 1000), H_back, (200, 300)) == (0, 0, 200, 300)
