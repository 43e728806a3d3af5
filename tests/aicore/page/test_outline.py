"""aicore.page.outline: every finder sees a sheet on a desk, none on a blank frame; corners in the stated order."""

from __future__ import annotations

from collections.abc import Callable

import cv2
import numpy as np
import pytest

from aicore.page.outline import (
    bright_quad,
    find_page_quad,
    find_sheet_quad,
    hull_corners,
    locate_page,
    order_corners,
)

#: where the sheet is drawn (TL, TR, BR, BL), px; found corners may sit this far off (blur, polygon fit).
CORNERS = np.array([[60, 40], [340, 55], [330, 460], [50, 445]], np.float32)
CORNER_TOLERANCE_PX = 4.0

Finder = Callable[[np.ndarray], np.ndarray | None]


def _desk(paper: int = 230, desk: int = 60) -> np.ndarray:
    img = np.full((500, 400), desk, np.uint8)
    cv2.fillConvexPoly(img, CORNERS.astype(np.int32), paper)
    return img


@pytest.mark.parametrize("finder", [find_page_quad, find_sheet_quad])
@pytest.mark.parametrize("frame", ["blank", "desk only"])
def test_no_sheet_no_quad(finder: Finder, frame: str) -> None:
    img = np.full((500, 400), 230 if frame == "blank" else 60, np.uint8)
    assert finder(img) is None


def test_bright_quad_needs_a_bright_region_large_enough() -> None:
    small = np.full((100, 80), 60, np.uint8)
    small[40:50, 30:40] = 230  # 1 % of the frame
    assert bright_quad(small, min_area=0.15) is None
    assert bright_quad(np.zeros((100, 80), np.uint8), min_area=0.15) is None


@pytest.mark.parametrize("finder", [find_page_quad, find_sheet_quad])
def test_vision_finders_give_tl_tr_br_bl(finder: Finder) -> None:
    quad = finder(_desk())
    assert quad is not None and quad.shape == (4, 2) and quad.dtype == np.float32
    assert np.abs(quad - CORNERS).max() <= CORNER_TOLERANCE_PX


@pytest.mark.parametrize("require_convex", [True, False])
def test_bright_quad_is_clockwise_in_image_coordinates(require_convex: bool) -> None:
    quad = bright_quad(_desk(), min_area=0.15, require_convex=require_convex)
    assert quad is not None and len(quad) == 4
    pts = np.array(quad)
    # each found corner lies near one drawn corner, and the walk turns clockwise (y down: positive shoelace)
    assert all(np.linalg.norm(CORNERS - p, axis=1).min() <= CORNER_TOLERANCE_PX for p in pts)
    x, y = pts[:, 0], pts[:, 1]
    assert float(np.dot(x, np.roll(y, -1)) - np.dot(y, np.roll(x, -1))) > 0


def test_find_sheet_quad_refuses_a_faint_sheet() -> None:
    assert find_sheet_quad(_desk(paper=80, desk=60)) is None  # 20 grey levels: under SHEET_CONTRAST


def test_hull_corners_from_a_polygon_and_from_a_round_hull() -> None:
    assert np.abs(hull_corners(CORNERS[[2, 3, 0, 1]]) - CORNERS).max() == 0
    angles = np.linspace(0, 2 * np.pi, 60, endpoint=False)
    circle = np.stack([200 + 100 * np.cos(angles), 150 + 100 * np.sin(angles)], axis=1).astype(np.float32)
    corners = hull_corners(circle)  # no polygon tolerance gives 4: the minimum-area rectangle
    assert corners.shape == (4, 2)
    assert corners[0].sum() == corners.sum(axis=1).min() and corners[2].sum() == corners.sum(axis=1).max()


def test_order_corners() -> None:
    shuffled = CORNERS[[3, 1, 0, 2]]
    assert np.array_equal(order_corners(shuffled), CORNERS)


def test_locate_page_tells_a_page_from_a_full_frame_and_from_no_paper() -> None:
    desk = np.full((300, 400, 3), (40, 60, 90), np.uint8)  # brown: too saturated to be paper
    page = desk.copy()
    page[50:250, 100:300] = 235
    kind, hull = locate_page(page)
    assert kind == "page" and hull is not None
    x, y, w, h = cv2.boundingRect(np.round(hull).astype(np.int32))
    assert abs(x - 100) <= 3 and abs(y - 50) <= 3 and abs(w - 200) <= 4 and abs(h - 200) <= 4
    assert locate_page(np.full((300, 400), 240, np.uint8)) == ("full", None)
    assert locate_page(desk)[0] == "none"
