"""Phone-photo degradation: the homography maps truth boxes onto the photo's ink."""

from __future__ import annotations

import numpy as np

from vision.synth.exam import render_exam_page
from vision.synth.photo import map_box, map_points, to_photo


def test_photo_is_deterministic_and_degraded() -> None:
    page = render_exam_page(3, columns=2, lang="ko")
    a, Ha = to_photo(page.image, 9)
    b, Hb = to_photo(page.image, 9)
    assert np.array_equal(a, b) and np.allclose(Ha, Hb)
    assert a.shape == page.image.shape + (3,) and a.dtype == np.uint8
    gray = a.mean(axis=2)
    assert gray[0:5, 0:5].mean() < 200  # desk visible in the corner


def test_homography_maps_truth_onto_ink() -> None:
    page = render_exam_page(4, columns=1, lang="en")
    photo, H = to_photo(page.image, 4)
    gray = photo.mean(axis=2)
    for q in page.questions:
        x, y, w, h = map_box(q.box_xywh, H)
        inside = gray[y : y + h, x : x + w]
        assert inside.min() < 110
    corners = map_points([[0, 0], [page.image.shape[1], page.image.shape[0]]], H)
    assert (corners[0] > 0).all() and (corners[1] < np.array(photo.shape[1::-1])).all()
