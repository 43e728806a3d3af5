import cv2
import numpy as np
import pytest

from omr.errors import AlignmentError
from omr.template import render_sheet
from omr.warp import WarpedPage, warp_page


@pytest.mark.parametrize("rotation", [0, 90, 180, 270])
def test_photo_each_orientation(meta10, sheet_factory, photo_factory, rotation: int) -> None:
    page = sheet_factory(meta10, {1: ["2"]}, "12345678")
    gray = photo_factory(page, rotation=rotation, seed=rotation)
    wp = warp_page(gray, meta10, "photo")
    assert wp.alignment["rotation"] == rotation
    assert wp.alignment["fit_error_mm"] < 0.5
    assert wp.alignment["markers_found"] >= 4


@pytest.mark.parametrize("mode", ["auto", "photo", "scan"])
def test_modes_on_scan(meta10, mode: str) -> None:
    wp = warp_page(render_sheet(meta10, dpi=200), meta10, mode)
    assert wp.alignment["rotation"] == 0
    assert wp.alignment["fit_error_mm"] < 0.3
    if mode == "scan":
        assert wp.alignment["model"] == "affine"


def test_scan_scaled_and_shifted(meta10) -> None:
    """Printed at 95% and shifted on the glass, rotated 180."""
    page = render_sheet(meta10, dpi=200)
    h, w = page.shape
    m = np.float32([[0.95, 0, 40], [0, 0.95, 25]])
    scan = cv2.warpAffine(page, m, (w, h), borderValue=255)
    wp = warp_page(np.rot90(scan, 2).copy(), meta10, "scan")
    assert wp.alignment["rotation"] == 180 and wp.alignment["fit_error_mm"] < 0.4


def test_no_sheet(meta10) -> None:
    rng = np.random.default_rng(1)
    desk = cv2.resize(rng.integers(0, 255, (60, 80), dtype=np.uint8), (1600, 1200))
    with pytest.raises(AlignmentError) as ei:
        warp_page(desk, meta10, "photo")
    assert ei.value.reason_code == "alignment_failed"


def test_bad_mode(meta10) -> None:
    with pytest.raises(ValueError):
        warp_page(np.zeros((10, 10), np.uint8), meta10, "fax")


def test_bytes_roundtrip() -> None:
    wp = WarpedPage(np.arange(12, dtype=np.uint8).reshape(3, 4), 6.0, {"method": "fiducials"}, [[0, 0]])
    data, header = wp.to_bytes()
    back = WarpedPage.from_bytes(data, header)
    assert np.array_equal(back.page, wp.page) and back.alignment == wp.alignment
