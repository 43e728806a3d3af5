"""Markers of other shapes (``omr.markers``): meta validation and alignment on drawn pages."""

from __future__ import annotations

import copy
from typing import Any

import cv2
import numpy as np
import pytest

from omr.errors import AlignmentError, MetaError
from omr.meta import load_meta
from omr.template import build_template, render_sheet
from omr.warp import warp_page

DPI = 150
S = DPI / 25.4  # px per mm of the drawn page
CORNERS = {"tl": (12.0, 12.0), "tr": (285.0, 12.0), "br": (285.0, 198.0), "bl": (12.0, 198.0)}


def shaped_meta(shape: str, *, size: float = 8.0, thickness: float | None = None,
                orientations: dict[str, str] | None = None) -> dict[str, Any]:
    """Our 10-question sheet with its 4 corner markers replaced by ``shape`` (no mid-edge ones)."""
    meta = build_template(10)
    markers = []
    for name, (x, y) in CORNERS.items():
        m: dict[str, Any] = {"id": name, "center": {"x": x, "y": y}, "size": size, "shape": shape}
        if thickness is not None:
            m["thickness"] = thickness
        if shape == "l_corner":
            m["orientation"] = (orientations or {}).get(name, name)
        markers.append(m)
    meta["markers"] = markers
    return meta


def draw_page(meta: dict[str, Any]) -> np.ndarray:
    """The sheet's bubbles and text (rendered without markers) with the meta's markers drawn by cv2."""
    page = render_sheet({**meta, "markers": []}, dpi=DPI).copy()
    for m in meta["markers"]:
        cx, cy, s = m["center"]["x"] * S, m["center"]["y"] * S, m["size"] * S
        t = m.get("thickness", 0.0) * S
        shape = m.get("shape", "square")
        if shape in ("square", "filled_square"):
            cv2.rectangle(page, (round(cx - s / 2), round(cy - s / 2)), (round(cx + s / 2), round(cy + s / 2)), 0, -1)
        elif shape == "filled_circle":
            cv2.circle(page, (round(cx), round(cy)), round(s / 2), 0, -1, cv2.LINE_AA)
        elif shape == "circle":
            cv2.circle(page, (round(cx), round(cy)), round(s / 2 - t / 2), 0, max(1, round(t)), cv2.LINE_AA)
        else:  # l_corner: arms along the two page edges meeting at the named corner
            sx = -1 if m["orientation"] in ("tl", "bl") else 1
            sy = -1 if m["orientation"] in ("tl", "tr") else 1
            vx, vy = cx + sx * s / 2, cy + sy * s / 2  # the corner vertex
            for x0, y0, x1, y1 in ((vx, vy, vx - sx * s, vy - sy * t), (vx, vy, vx - sx * t, vy - sy * s)):
                cv2.rectangle(page, (round(min(x0, x1)), round(min(y0, y1))),
                              (round(max(x0, x1)), round(max(y0, y1))), 0, -1)
    return page


def photograph(page: np.ndarray, angle_deg: float, persp: float) -> np.ndarray:
    """``page`` turned by ``angle_deg`` and tilted in perspective, on a gray desk."""
    h, w = page.shape
    src = np.array([[0, 0], [w, 0], [w, h], [0, h]], np.float32)
    d = persp * w
    dst = np.array([[d, 0], [w - d, d * 0.5], [w, h], [0, h - d * 0.3]], np.float32)
    m = cv2.getPerspectiveTransform(src, dst)
    side = round(1.1 * np.hypot(w, h))  # room for any turn
    rot = cv2.getRotationMatrix2D((w / 2, h / 2), angle_deg, 1.0)
    rot[:, 2] += ((side - w) / 2, (side - h) / 2)
    m = np.vstack([rot, [0, 0, 1]]) @ m
    out = cv2.warpPerspective(page, m, (side, side), borderValue=110)
    return np.asarray(out, np.uint8)


@pytest.mark.parametrize(("shape", "kw"), [
    ("filled_square", {}),
    ("filled_circle", {"size": 9.0}),
    ("circle", {"size": 9.0, "thickness": 1.5}),
    ("l_corner", {"size": 16.0, "thickness": 3.0}),
])
@pytest.mark.parametrize(("angle", "persp"), [(0.0, 0.0), (20.0, 0.04), (-160.0, 0.03)])
def test_shaped_markers_align(shape: str, kw: dict[str, Any], angle: float, persp: float) -> None:
    meta = shaped_meta(shape, **kw)
    if shape == "l_corner":  # one L turned: the set tells 0 from 180 degrees
        meta = shaped_meta(shape, size=kw["size"], thickness=kw["thickness"],
                           orientations={"tl": "tl", "tr": "tr", "br": "br", "bl": "tl"})
    elif abs(angle) > 90:
        pytest.skip("a symmetric set of circles or squares cannot tell 180 degrees apart by itself")
    wp = warp_page(photograph(draw_page(meta), angle, persp), meta, mode="photo")
    assert wp.alignment["method"] == "fiducials"
    assert wp.alignment["markers_found"] >= 3
    assert wp.alignment["fit_error_mm"] < 0.6
    # bubbles land where the meta says: the first choice of question 1 is a dark ring at its centre
    c = meta["questions"][0]["choices"][0]
    px = wp.px_per_mm
    ring = wp.page[round(c["center"]["y"] * px) - round(c["r"] * px) - 3:round(c["center"]["y"] * px) + 3,
                   round(c["center"]["x"] * px) - 2:round(c["center"]["x"] * px) + 3]
    assert ring.min() < 160


def test_l_orientation_tells_half_turn() -> None:
    meta = shaped_meta("l_corner", size=16.0, thickness=3.0,
                       orientations={"tl": "tl", "tr": "tr", "br": "br", "bl": "tl"})
    wp = warp_page(photograph(draw_page(meta), 180.0, 0.0), meta, mode="photo")
    assert wp.alignment["rotation"] == 180


def test_square_metas_keep_their_hash() -> None:
    meta = build_template(10)
    before = load_meta(meta).meta_hash
    assert load_meta(copy.deepcopy(meta)).meta_hash == before
    with_shape = copy.deepcopy(meta)
    for m in with_shape["markers"]:
        m["shape"] = "square"
    assert load_meta(with_shape).markers == load_meta(meta).markers


@pytest.mark.parametrize(("change", "reason"), [
    ({"shape": "circle", "size": 90.0}, "meta_absurd_size"),
    ({"shape": "circle", "size": 8.0, "thickness": 7.0}, "meta_absurd_size"),
    ({"shape": "l_corner", "size": 200.0, "thickness": 3.0, "orientation": "tl"}, "meta_absurd_size"),
    ({"shape": "l_corner", "size": 20.0, "thickness": 0.1, "orientation": "tl"}, "meta_absurd_size"),
    ({"shape": "l_corner", "size": 20.0}, "meta_invalid"),
    ({"shape": "hexagon"}, "meta_invalid"),
])
def test_absurd_marker_shapes_are_refused(change: dict[str, Any], reason: str) -> None:
    meta = build_template(10)
    meta["markers"][0].update(change)
    with pytest.raises(MetaError) as err:
        load_meta(meta)
    assert err.value.reason_code == reason


def test_blank_page_with_shaped_meta_is_refused() -> None:
    meta = shaped_meta("filled_circle", size=9.0)
    with pytest.raises(AlignmentError):
        warp_page(np.full((1000, 1400), 235, np.uint8), meta, mode="photo")


def test_rbaron_l_corners_align_the_real_sheet() -> None:
    """rbaron/omr (MIT, tests/omr/assets/real): its 4 L-shaped corner marks, described in the meta,
    find the page turned ~30 degrees; the printed bubbles verify it (without them: refused, symmetric)."""
    import json
    from pathlib import Path

    from omr.image import decode_image

    real = Path(__file__).parent / "assets" / "real"
    meta = json.loads((real / "rbaron_meta.json").read_text())
    k = 25.4 / 90  # the project's sheet.svg: 90 user units per inch; each L spans 200 x 200, 20 wide
    meta["markers"] = [
        {"id": name, "shape": "l_corner", "orientation": name, "center": {"x": round(x * k, 2), "y": round(y * k, 2)},
         "size": round(200 * k, 2), "thickness": round(20 * k, 2)}
        for name, x, y in (("tl", 102, 102), ("tr", 642.1, 102), ("br", 642.09, 950.36), ("bl", 102, 950.36))]
    wp = warp_page(decode_image(real / "rbaron_rotated.png"), meta)
    assert (wp.alignment["method"], wp.alignment["rotation"]) == ("fiducials", 0)
    assert wp.alignment["rings_matched"] == wp.alignment["rings_expected"]
    assert wp.alignment["fit_error_mm"] < 0.6
