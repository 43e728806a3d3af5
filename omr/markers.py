"""Markers of other shapes than our squares: circles, filled squares, L-corners.

A meta's marker may say ``"shape"`` (``docs/omr-meta.md``): ``square`` (the
default, today's markers, solid or hollow by ``kind``), ``filled_square``,
``circle`` (a ring of line width ``thickness``), ``filled_circle`` or
``l_corner`` (two arms of length ``size`` and width ``thickness`` meeting at
the corner named by ``orientation``; its ``center`` is the centre of the
``size`` x ``size`` square the L spans). :func:`marker_shapes` reads them.

Detection reuses :mod:`omr.fiducials`: a circle or filled square is a solid
blob there already (its area over its minimum-area rectangle is >= pi/4); an
L is not (its solidity is low), so :func:`find_l_candidates` adds L-shaped
blobs, centred on their minimum-area rectangle. Matching compares a blob's
sqrt(area) with the marker's (:func:`effective_sizes_mm`: a square's side, a
disc's 0.886 d, an L's sqrt(s^2 - (s - t)^2)), so a set of mixed shapes gets
one common scale; for square markers the effective size is the side, exactly
as before. An L also points at its corner: :func:`orientation_agrees` tells a
page hypothesis from its half-turn twin when the L orientations differ (one
distinct corner is enough).

Examples:
    >>> from omr.types import Marker
    >>> l_side = effective_size_mm(MarkerShape("l_corner", 20.0, 4.0, "tl"))
    >>> round(l_side, 2), effective_size_mm(MarkerShape("square", 8.0, 0.0, ""))
    (12.0, 8.0)
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import cv2
import numpy as np
import numpy.typing as npt

from omr.types import GrayImage, SheetMeta

__all__ = [
    "SHAPES",
    "MarkerShape",
    "effective_size_mm",
    "effective_sizes_mm",
    "find_l_candidates",
    "has_l_corners",
    "marker_shape",
    "marker_shapes",
    "orientation_agrees",
    "shape_size_problem",
]

F64 = npt.NDArray[np.float64]

SHAPES = ("square", "filled_square", "circle", "filled_circle", "l_corner")
"""Marker shapes a meta may name (``square`` is the default and today's marker)."""
MARKER_SIZE_MM = (2.0, 40.0)
"""Side / diameter of a square or circle marker: below it is a dot, above it a box."""
L_SIZE_MM = (4.0, 100.0)
"""Arm length of an L-corner: printed corner marks run up to a tenth of a page."""
MIN_THICKNESS_MM = 0.3
"""A line thinner than this does not survive a phone photo."""
MAX_THICKNESS_FRACTION = 0.5
"""A ring's or an L's line is at most half its size (thicker is a filled shape)."""
L_FILL_RANGE = (0.08, 0.62)
"""An L's area over its minimum-area rectangle (arm width / length 0.04..0.38)."""
L_MAX_SOLIDITY = 0.8
"""An L's area over its convex hull's (a filled square is ~1)."""
L_MAX_ASPECT = 1.35
"""An equal-armed L spans a square: its minimum-area rectangle is about as wide as high."""
L_MIN_OFFSET = 0.08
"""An L's centroid lies at least this many sides off its rectangle's centre, towards its corner."""
CORNER_DIRS = {"tl": (-1.0, -1.0), "tr": (1.0, -1.0), "br": (1.0, 1.0), "bl": (-1.0, 1.0)}
"""Direction (page mm, y down) from an L's centre to its corner."""


@dataclass(frozen=True)
class MarkerShape:
    """The printed shape of one marker (mm).

    Attributes:
        shape: One of :data:`SHAPES`.
        size_mm: Side (squares), diameter (circles) or arm length (L).
        thickness_mm: Line width of a ring or an L (0 when not given).
        orientation: The corner an L points at (``tl``, ``tr``, ``br``, ``bl``), else ``""``.
    """

    shape: str
    size_mm: float
    thickness_mm: float
    orientation: str


def marker_shape(raw_marker: Mapping[str, Any]) -> MarkerShape:
    """The :class:`MarkerShape` of one raw meta marker (defaults: square, no thickness).

    Examples:
        >>> marker_shape({"id": "tl", "center": {"x": 1, "y": 1}, "size": 8})
        MarkerShape(shape='square', size_mm=8.0, thickness_mm=0.0, orientation='')
    """
    return MarkerShape(str(raw_marker.get("shape") or "square"), float(raw_marker["size"]),
                       float(raw_marker.get("thickness") or 0.0), str(raw_marker.get("orientation") or ""))


def marker_shapes(sheet: SheetMeta) -> list[MarkerShape]:
    """Shapes of ``sheet.markers`` in meta order (from ``sheet.raw``; squares when unsaid).

    Examples:
        >>> from omr.meta import as_sheet_meta
        >>> from omr.template import build_template
        >>> {s.shape for s in marker_shapes(as_sheet_meta(build_template(5)))}
        {'square'}
    """
    raw = sheet.raw.get("markers") if isinstance(sheet.raw, Mapping) else None
    if isinstance(raw, Sequence) and len(raw) == len(sheet.markers):
        return [marker_shape(m) for m in raw]
    return [MarkerShape("square", m.size_mm, 0.0, "") for m in sheet.markers]


def shape_size_problem(s: MarkerShape) -> str | None:
    """Why a marker's sizes are absurd, or None (message for ``meta_absurd_size``).

    Examples:
        >>> shape_size_problem(MarkerShape("l_corner", 56.4, 5.6, "tl")) is None
        True
        >>> shape_size_problem(MarkerShape("circle", 8.0, 6.0, ""))
        'thickness 6 mm is absurd for size 8 mm (expected 0.3..4 mm)'
        >>> shape_size_problem(MarkerShape("filled_circle", 90.0, 0.0, ""))
        'size 90 mm is absurd (expected 2..40 mm)'
    """
    lo, hi = L_SIZE_MM if s.shape == "l_corner" else MARKER_SIZE_MM
    if not lo <= s.size_mm <= hi:
        return f"size {s.size_mm:g} mm is absurd (expected {lo:g}..{hi:g} mm)"
    if s.thickness_mm or s.shape == "l_corner":
        t_hi = MAX_THICKNESS_FRACTION * s.size_mm
        if not MIN_THICKNESS_MM <= s.thickness_mm <= t_hi:
            return (f"thickness {s.thickness_mm:g} mm is absurd for size {s.size_mm:g} mm "
                    f"(expected {MIN_THICKNESS_MM:g}..{t_hi:g} mm)")
    return None


def effective_size_mm(s: MarkerShape) -> float:
    """sqrt of the area inside the marker's outer contour (what a candidate's ``size`` measures).

    Examples:
        >>> round(effective_size_mm(MarkerShape("circle", 10.0, 1.0, "")), 3)
        8.862
    """
    if s.shape in ("circle", "filled_circle"):
        return s.size_mm * math.sqrt(math.pi) / 2.0
    if s.shape == "l_corner":
        t = min(s.thickness_mm, s.size_mm)
        return math.sqrt(s.size_mm ** 2 - (s.size_mm - t) ** 2)
    return s.size_mm


def effective_sizes_mm(sheet: SheetMeta) -> F64:
    """:func:`effective_size_mm` of every marker, meta order (the side for squares)."""
    return np.array([effective_size_mm(s) for s in marker_shapes(sheet)], np.float64)


def has_l_corners(sheet: SheetMeta) -> bool:
    """True when some marker of ``sheet`` is an L-corner."""
    return any(s.shape == "l_corner" for s in marker_shapes(sheet))


def find_l_candidates(small: GrayImage, offset: int) -> tuple[F64, F64, F64]:
    """L-shaped dark blobs of the detection image.

    Args:
        small: ``(H, W)`` uint8 detection image.
        offset: Dark threshold below the local mean (as :func:`omr.fiducials.find_candidates`).

    Returns:
        ``(xy, size, direction)``: ``(n, 2)`` centres of their minimum-area
        rectangles (px), ``(n,)`` sqrt(area) px, ``(n, 2)`` unit vectors from
        the centre towards the L's corner.
    """
    h, w = small.shape
    long_px = max(h, w)
    block = max(31, (long_px // 16) | 1)
    bw = cv2.adaptiveThreshold(small, 1, cv2.ADAPTIVE_THRESH_MEAN_C, cv2.THRESH_BINARY_INV, block, offset)
    contours, _ = cv2.findContours(bw, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    min_side, max_side = long_px / 100.0, long_px / 3.0
    xy, size, dirs = [], [], []
    for c in contours:
        if len(c) < 5:
            continue
        (rx, ry), (rw, rh), _ = cv2.minAreaRect(c)
        if min(rw, rh) < min_side or max(rw, rh) > max_side or max(rw, rh) / min(rw, rh) > L_MAX_ASPECT:
            continue
        a = cv2.contourArea(c)
        hull_area = cv2.contourArea(cv2.convexHull(c))
        if hull_area <= 0 or a / hull_area > L_MAX_SOLIDITY:
            continue
        if not L_FILL_RANGE[0] <= a / (rw * rh) <= L_FILL_RANGE[1]:
            continue
        m = cv2.moments(c)
        if m["m00"] <= 0:
            continue
        d = np.array([m["m10"] / m["m00"] - rx, m["m01"] / m["m00"] - ry])
        side = math.sqrt(rw * rh)
        if np.linalg.norm(d) < L_MIN_OFFSET * side:
            continue
        xy.append((rx, ry))
        size.append(math.sqrt(a))
        dirs.append(d / np.linalg.norm(d))
    if not xy:
        return np.zeros((0, 2)), np.zeros(0), np.zeros((0, 2))
    return np.array(xy, np.float64), np.array(size, np.float64), np.array(dirs, np.float64)


def orientation_agrees(h_mm_to_img: F64, sheet: SheetMeta, l_xy: F64, l_dir: F64) -> bool:
    """Do the L-corners a page map predicts point where the detected ones point?

    Every L-corner marker of ``sheet`` whose predicted centre has a detected L
    within a third of its size is checked: the direction the map gives its
    corner must agree with the detected L's (positive dot product). True when
    none is checked (nothing to say).

    Examples:
        >>> from omr.meta import as_sheet_meta
        >>> from omr.template import build_template
        >>> orientation_agrees(np.eye(3), as_sheet_meta(build_template(5)), np.zeros((0, 2)), np.zeros((0, 2)))
        True
    """
    checked = agreed = 0
    for m, s in zip(sheet.markers, marker_shapes(sheet), strict=True):
        if s.shape != "l_corner" or not len(l_xy):
            continue
        dx, dy = CORNER_DIRS[s.orientation]
        step = 0.25 * s.size_mm
        pts = np.array([[[m.x_mm, m.y_mm], [m.x_mm + dx * step, m.y_mm + dy * step]]], np.float64)
        c, tip = cv2.perspectiveTransform(pts, h_mm_to_img)[0]
        dist = np.linalg.norm(l_xy - c, axis=1)
        j = int(np.argmin(dist))
        if dist[j] > np.linalg.norm(tip - c) * 4.0 / 3.0:
            continue
        checked += 1
        agreed += int(float(np.dot(tip - c, l_dir[j])) > 0)
    return checked == 0 or 2 * agreed > checked
