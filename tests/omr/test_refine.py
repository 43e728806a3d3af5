"""Ring-block verification and local shift correction after the marker warp."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from omr.compiled import compile_sheet
from omr.meta import as_sheet_meta
from omr.refine import Offsets, anchors, fit_field, measure_offsets
from omr.template import build_template, render_sheet
from omr.warp import PX_PER_MM, warp_page

DPI = 150
S = DPI / 25.4


def _bend(page: np.ndarray, amp_mm: float) -> np.ndarray:
    """Displace the content by a smooth bend that the corner markers do not see.

    The shift is ``amp_mm * sin(pi * x / W)`` vertically (0 at the left and
    right edges where the corner markers sit, largest mid-page), like paper
    bulging between the markers.
    """
    h, w = page.shape
    ys, xs = np.mgrid[0:h, 0:w].astype(np.float32)
    dy = amp_mm * S * np.sin(np.pi * xs / w) * np.sin(np.pi * ys / h)
    return np.asarray(cv2.remap(page, xs, ys - dy, cv2.INTER_LINEAR, borderValue=255), np.uint8)


def _hide_mid_markers(page: np.ndarray, meta: dict) -> None:
    for m in meta["markers"]:
        if m["kind"] == "edge":
            x, y, s = m["center"]["x"], m["center"]["y"], m["size"]
            cv2.rectangle(page, (round((x - s) * S), round((y - s) * S)), (round((x + s) * S), round((y + s) * S)),
                          255, -1)


def test_anchors_cover_every_bubble_group() -> None:
    sheet = as_sheet_meta(build_template(30))
    boxes = [a.box_mm for a in anchors(sheet)]
    for q in sheet.questions:
        for b in q.choices:
            assert any(x0 <= b.x_mm <= x1 and y0 <= b.y_mm <= y1 for x0, y0, x1, y1 in boxes)


def test_fit_field_no_anchor() -> None:
    off = Offsets(np.zeros((2, 2)), np.zeros((2, 2)), np.full(2, -1.0), np.zeros(2, bool), np.zeros(2, bool))
    assert fit_field(off) is None


def test_clean_scan_is_not_resampled(meta10) -> None:
    wp = warp_page(render_sheet(meta10, dpi=300), meta10, "scan")
    assert wp.alignment["refined"] is False
    assert wp.alignment["fit_error_mm"] < 0.2


def test_bend_between_four_markers_is_measured_and_corrected(meta10) -> None:
    """4 markers: the homography has no residual, yet the rings are 1.2 mm off mid-page."""
    page = render_sheet(meta10, dpi=DPI)
    _hide_mid_markers(page, meta10)
    bent = _bend(page, 1.2)
    sheet = as_sheet_meta(meta10)
    raw = warp_page(bent, meta10, "photo", refine=False)
    assert raw.alignment["markers_found"] == 4 and raw.alignment["fit_error_mm"] < 0.05  # blind to the bend
    before = measure_offsets(raw.page, compile_sheet(sheet, PX_PER_MM))
    assert np.abs(before.d_mm[before.ok]).max() > 0.6
    wp = warp_page(bent, meta10, "photo")
    assert wp.alignment["refined"] is True
    assert wp.alignment["ring_rms_mm"] > 0.4
    assert wp.alignment["fit_error_mm"] < 0.15
    after = measure_offsets(wp.page, compile_sheet(sheet, PX_PER_MM))
    assert np.abs(after.d_mm[after.ok]).max() < 0.2


@pytest.mark.parametrize("amp_mm", [4.5])
def test_shift_near_half_the_pitch_is_flagged(meta10, amp_mm: float) -> None:
    """A correction approaching half the bubble pitch could be a one-bubble slip: fit_error says so."""
    page = render_sheet(meta10, dpi=DPI)
    _hide_mid_markers(page, meta10)
    wp = warp_page(_bend(page, amp_mm), meta10, "photo")
    assert wp.alignment["fit_error_mm"] > 0.8
