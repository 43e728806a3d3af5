"""``omr.thumbnail``: orientation of a page quad by correlation with the template."""

import cv2
import numpy as np
import pytest

from omr.meta import as_sheet_meta
from omr.template import build_template, render_sheet
from omr.thumbnail import THUMB_PX_PER_MM, correlate, highpass, orient, template_thumbnail


def test_highpass_is_zero_mean_and_unit_norm() -> None:
    hp = highpass(np.random.default_rng(0).integers(0, 255, (40, 60)).astype(np.uint8))
    assert abs(float(hp.mean())) < 1e-6 and abs(float((hp * hp).sum()) - 1.0) < 1e-6  # float32 arithmetic


@pytest.mark.parametrize("turns", [0, 1, 2, 3])
def test_orient_finds_which_corner_is_top_left(turns: int) -> None:
    sheet = as_sheet_meta(build_template(10))
    tmpl = template_thumbnail(sheet)
    page = np.ascontiguousarray(np.rot90(render_sheet(sheet.raw, dpi=2 * 25.4), turns))
    h, w = page.shape
    quad = [(0.0, 0.0), (w - 1.0, 0.0), (w - 1.0, h - 1.0), (0.0, h - 1.0)]  # clockwise, any start
    corners = [(0.0, 0.0), (297.0, 0.0), (297.0, 210.0), (0.0, 210.0)]
    corr, h_small_to_mm = orient(page, 1.0, quad, corners, tmpl)
    assert corr > 0.8
    # the page's top-left corner (where the hollow marker is) maps to template (0, 0)
    tl = [(0.0, 0.0), (0.0, h - 1.0), (w - 1.0, h - 1.0), (w - 1.0, 0.0)][turns]
    x, y = cv2.perspectiveTransform(np.array([[tl]], np.float64), h_small_to_mm)[0, 0]
    assert abs(x) < 1.0 and abs(y) < 1.0
    assert abs(correlate(page, 1.0, h_small_to_mm, tmpl) - corr) < 0.02
    assert tmpl.shape == (round(210 * THUMB_PX_PER_MM), round(297 * THUMB_PX_PER_MM) - 1)
