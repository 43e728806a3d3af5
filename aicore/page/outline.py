"""Where the sheet of paper is in an image: its four corners.

Every finder of a paper outline lives here, moved verbatim from the libraries
that had one each; they differ, and each caller keeps exactly what it had
(a later change may unify them, only when the benches show no change):

* :func:`bright_quad`: the largest bright (Otsu) region, if a quadrilateral,
  clockwise from any corner, on a copy already downscaled by the caller
  (``omr.warp`` with ``require_convex=True``, ``omr.register`` with ``False``).
* :func:`find_page_quad`: the bright region or the closed edge map, whichever
  page-sized quad is larger, kept only with a sharp grey step at its sides
  (``vision.segment``).
* :func:`find_sheet_quad`: the bright region, one polygon tolerance, kept
  only when clearly brighter than the desk (``vision.ocr``).
* :func:`locate_page`: the largest bright, unsaturated region's convex hull
  (not a quad), or that paper fills the frame or is not in sight
  (``vision.handwriting`` and ``vision.video``);
* :func:`hull_corners`: four corners of an outline already found (that
  hull), the minimum-area rectangle when no polygon tolerance gives four
  (``vision.video``).

Frames:
    Corners are ``(x, y)`` pixels of the image given. :func:`order_corners`
    (and the ``vision`` finders) order them top-left, top-right,
    bottom-right, bottom-left as a ``(4, 2)`` float32 array; :func:`bright_quad`
    returns them clockwise (image coordinates, y down) as a list of tuples.

Examples:
    >>> photo = np.full((300, 200), 60, np.uint8)
    >>> photo[30:270, 20:180] = 230
    >>> quad = find_page_quad(photo)
    >>> bool(np.abs(quad - [[20, 30], [179, 30], [179, 269], [20, 269]]).max() <= 3)
    True
    >>> clockwise = np.array(bright_quad(photo, min_area=0.15))
    >>> bool(np.abs(clockwise - [[20, 30], [179, 30], [179, 269], [20, 269]]).max() <= 3)
    True
"""

from __future__ import annotations

import math
from typing import Any

import cv2
import numpy as np
import numpy.typing as npt

__all__ = ["bright_quad", "find_page_quad", "find_sheet_quad", "hull_corners", "locate_page", "order_corners"]

GrayImage = npt.NDArray[np.uint8]
Quad = npt.NDArray[np.float32]

#: :func:`find_page_quad`: side of the downscaled copy the page is searched on, in pixels (the outline needs no detail).
SEARCH_SIDE_PX = 640
#: The page must cover at least this fraction of the photo to be trusted.
MIN_PAGE_AREA = 0.3
#: A quad covering more than this fraction is the whole frame: a scan, nothing to undo.
MAX_PAGE_AREA = 0.97
#: Polygon approximation tolerances tried, as fractions of the outline's perimeter (:func:`bright_quad`'s too).
APPROX_EPS = (0.01, 0.02, 0.03, 0.05)
#: Grey levels sampled this many pixels (small copy) inside and outside each side of a candidate quad ...
STEP_PX = 3
#: ... must differ by at least this much (median over sides) for a sheet on a desk.
MIN_EDGE_STEP = 12.0
#: Canny thresholds on the blurred small copy: the paper's edge, not the text's.
CANNY_LOW, CANNY_HIGH = 20, 60

#: :func:`find_sheet_quad`: work width, the sheet's share of the photo, polygon
#: tolerance (share of perimeter), and how much brighter than the desk it is.
SHEET_WORK_WIDTH_PX = 600
SHEET_AREA = (0.25, 0.95)
SHEET_POLY_EPS = 0.02
SHEET_CONTRAST = 25.0

#: :func:`hull_corners`: polygon tolerances tried on a hull, as fractions of its perimeter.
HULL_EPS = (0.02, 0.04, 0.06, 0.1)

#: :func:`locate_page`: the page is searched on a copy this long (px): its outline needs no detail.
SEARCH_LONG_SIDE_PX = 400
#: paper is at most this saturated (HSV S, 0..255); desks, skin and wood are more.
PAPER_MAX_SATURATION = 60
#: a page smaller than this share of the frame is not the page (or there is none).
MIN_PAGE_FRACTION = 0.08
#: a bright region covering this share of the frame means a scan: the whole frame is page.
SCAN_FRACTION = 0.97


def order_corners(quad: Quad) -> Quad:
    """Four corners ordered top-left, top-right, bottom-right, bottom-left (by ``x + y`` and ``y - x``).

    Examples:
        >>> order_corners(np.array([[9, 9], [0, 0], [0, 9], [9, 0]], np.float32)).tolist()
        [[0.0, 0.0], [9.0, 0.0], [9.0, 9.0], [0.0, 9.0]]
    """
    s = quad.sum(axis=1)
    d = np.diff(quad, axis=1).ravel()
    return np.array([quad[np.argmin(s)], quad[np.argmin(d)], quad[np.argmax(s)], quad[np.argmax(d)]], np.float32)


# --- the largest bright quadrilateral, on the caller's small copy (omr) ---------------


def bright_quad(
    small: npt.NDArray[Any], *, min_area: float, eps: tuple[float, ...] = APPROX_EPS, require_convex: bool = True
) -> list[tuple[float, float]] | None:
    """The paper outline as 4 clockwise corners (``small``'s px): the largest bright region, if a quadrilateral.

    Args:
        small: ``(H, W)`` uint8, already downscaled by the caller.
        min_area: the region must cover this fraction of ``small``.
        eps: polygon tolerances tried in turn, as fractions of the hull's perimeter.
        require_convex: ``None`` when the 4 corners do not turn clockwise
            strictly (``omr.warp``); ``False`` returns them in angle order
            about their centre, unchecked (``omr.register``).
    """
    blur = cv2.GaussianBlur(small, (5, 5), 0)
    _, bw = cv2.threshold(blur, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    bw = cv2.morphologyEx(bw, cv2.MORPH_CLOSE, np.ones((9, 9), np.uint8))
    contours, _ = cv2.findContours(bw, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    if not contours:
        return None
    c = max(contours, key=cv2.contourArea)
    if cv2.contourArea(c) < min_area * small.shape[0] * small.shape[1]:
        return None
    hull = cv2.convexHull(c)
    peri = cv2.arcLength(hull, True)
    for e in eps:
        approx = cv2.approxPolyDP(hull, e * peri, True)
        if len(approx) == 4:
            if not require_convex:
                p64 = approx[:, 0, :].astype(np.float64)
                centre = p64.mean(axis=0)
                by_angle = np.argsort(np.arctan2(p64[:, 1] - centre[1], p64[:, 0] - centre[0]))
                return [(float(p64[i, 0]), float(p64[i, 1])) for i in by_angle]
            pts = [(float(p[0][0]), float(p[0][1])) for p in approx]
            order = _cyclic(pts)
            return None if order is None else [pts[i] for i in order]
    return None


def _cyclic(pts: list[tuple[float, float]]) -> list[int] | None:
    """Indices of 4 points in clockwise order (image coords, y down), or None if not convex."""
    cx = sum(p[0] for p in pts) / 4
    cy = sum(p[1] for p in pts) / 4
    order = sorted(range(4), key=lambda i: math.atan2(pts[i][1] - cy, pts[i][0] - cx))
    for k in range(4):
        a, b, c = (pts[order[(k + j) % 4]] for j in range(3))
        cross = (b[0] - a[0]) * (c[1] - b[1]) - (b[1] - a[1]) * (c[0] - b[0])
        if cross <= 0:
            return None
    return order


# --- a sheet on a desk in a phone photo, kept by its edge step (vision.segment) -------


def _quad_of(mask: npt.NDArray[Any]) -> tuple[Quad, float] | None:
    """The four corners of the largest blob of ``mask`` and its area fraction, if it is a page-sized quad."""
    contours, _ = cv2.findContours(mask, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    if not contours:
        return None
    hull = cv2.convexHull(max(contours, key=lambda c: cv2.contourArea(cv2.convexHull(c))))
    area = cv2.contourArea(hull) / float(mask.shape[0] * mask.shape[1])
    if not MIN_PAGE_AREA <= area <= MAX_PAGE_AREA:
        return None
    perimeter = cv2.arcLength(hull, True)
    for eps in APPROX_EPS:
        approx = cv2.approxPolyDP(hull, eps * perimeter, True)
        if len(approx) == 4:
            return approx.reshape(4, 2).astype(np.float32), area
    return None


def _edge_contrast(small: npt.NDArray[Any], quad: Quad) -> float:
    """Median grey step across the quad's sides that lie inside the photo (paper minus desk).

    A sheet on a desk has a sharp step at its edge; a patch cut out by uneven
    light fades over a long way and shows almost none a few pixels across.
    """
    h, w = small.shape
    centre = quad.mean(axis=0)
    steps: list[float] = []
    for i in range(4):
        a, b = quad[i], quad[(i + 1) % 4]
        t = np.linspace(0.1, 0.9, 24)[:, None]
        pts = a + (b - a) * t
        normal = np.array([-(b - a)[1], (b - a)[0]], np.float64)
        normal /= max(float(np.linalg.norm(normal)), 1e-6)
        if float(np.dot(centre - (a + b) / 2, normal)) < 0:
            normal = -normal
        inside = np.round(pts + normal * STEP_PX).astype(int)
        outside = np.round(pts - normal * STEP_PX).astype(int)
        ok = (outside[:, 0] >= 0) & (outside[:, 0] < w) & (outside[:, 1] >= 0) & (outside[:, 1] < h)
        ok &= (inside[:, 0] >= 0) & (inside[:, 0] < w) & (inside[:, 1] >= 0) & (inside[:, 1] < h)
        if ok.sum() < 6:
            continue  # this side runs along the frame
        diff = small[inside[ok, 1], inside[ok, 0]].astype(np.float64) - small[outside[ok, 1], outside[ok, 0]]
        steps.append(float(np.median(diff)))
    return float(np.median(steps)) if steps else 0.0


def find_page_quad(gray: GrayImage) -> Quad | None:
    """The page's four corners in ``gray`` (``uint8`` ``(H, W)``), or ``None`` for a scan.

    Two outlines are tried on a small copy: the bright region (Otsu), which
    uneven light can cut in two, and the closed edge map (Canny), which a
    low-contrast desk can break; the larger page-sized quad wins.

    Examples:
        >>> find_page_quad(np.full((300, 200), 230, np.uint8)) is None
        True
        >>> lit = np.repeat(np.linspace(235, 110, 300), 200).reshape(300, 200).astype(np.uint8)
        >>> find_page_quad(lit) is None          # light fading down the frame: no sheet edge
        True
    """
    h, w = gray.shape[:2]
    scale = SEARCH_SIDE_PX / max(h, w)
    small = cv2.resize(gray, (max(1, round(w * scale)), max(1, round(h * scale))), interpolation=cv2.INTER_AREA)
    small = np.asarray(cv2.GaussianBlur(small, (5, 5), 0), dtype=np.uint8)
    _, bright = cv2.threshold(small, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    bright = np.asarray(cv2.morphologyEx(bright, cv2.MORPH_CLOSE, np.ones((9, 9), np.uint8)), dtype=np.uint8)
    edges = cv2.Canny(small, CANNY_LOW, CANNY_HIGH)
    edges = np.asarray(cv2.dilate(edges, np.ones((3, 3), np.uint8)), dtype=np.uint8)
    found = [q for q in (_quad_of(bright), _quad_of(edges)) if q is not None and _edge_contrast(small, q[0]) >= MIN_EDGE_STEP]
    if not found:
        return None
    quad, _area = max(found, key=lambda q: q[1])
    return order_corners(quad / scale)


# --- a sheet on a desk, kept by its contrast with the desk (vision.ocr) ---------------


def find_sheet_quad(gray: GrayImage) -> Quad | None:
    """The corners (TL, TR, BR, BL; ``(4, 2)`` page pixels) of a bright sheet on a darker desk, or ``None``.

    ``None`` when the image is the sheet (a scan) or no clear sheet is seen.

    Examples:
        >>> desk = np.full((400, 300), 70, np.uint8)
        >>> _ = cv2.fillConvexPoly(desk, np.array([[40, 30], [260, 45], [250, 370], [30, 360]]), 230)
        >>> corners = np.array([[40, 30], [260, 45], [250, 370], [30, 360]])
        >>> bool(np.abs(find_sheet_quad(desk) - corners).max() <= 2)
        True
        >>> find_sheet_quad(np.full((400, 300), 230, np.uint8)) is None
        True
    """
    h, w = gray.shape
    f = min(1.0, SHEET_WORK_WIDTH_PX / w)
    small = cv2.resize(gray, (max(1, round(w * f)), max(1, round(h * f))), interpolation=cv2.INTER_AREA) if f < 1 else gray
    small = cv2.GaussianBlur(small, (5, 5), 0)
    _, bright = cv2.threshold(small, 0, 255, cv2.THRESH_BINARY | cv2.THRESH_OTSU)
    bright = cv2.morphologyEx(bright, cv2.MORPH_CLOSE, np.ones((15, 15), np.uint8))  # text holes
    contours, _ = cv2.findContours(bright, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    if not contours:
        return None
    sheet = max(contours, key=cv2.contourArea)
    area = cv2.contourArea(sheet) / float(small.shape[0] * small.shape[1])
    if not SHEET_AREA[0] <= area <= SHEET_AREA[1]:
        return None
    hull = cv2.convexHull(sheet)
    quad = cv2.approxPolyDP(hull, SHEET_POLY_EPS * cv2.arcLength(hull, True), True)
    if len(quad) != 4:
        return None
    inside = np.zeros_like(small)
    cv2.fillConvexPoly(inside, quad.reshape(-1, 2), 1)
    if float(small[inside > 0].mean()) - float(small[inside == 0].mean()) < SHEET_CONTRAST:
        return None
    pts = quad.reshape(4, 2).astype(np.float32) / f
    return order_corners(pts)


# --- corners of an outline found elsewhere (vision.video) ----------------------------


def hull_corners(hull: Quad) -> Quad:
    """Four corners of the page outline ``hull`` (``(N, 2)`` or ``(N, 1, 2)``), ordered TL, TR, BR, BL.

    Examples:
        >>> hull = np.array([[10, 10], [90, 12], [95, 60], [50, 70], [8, 62]], np.float32)
        >>> hull_corners(hull).shape
        (4, 2)
    """
    pts = hull.reshape(-1, 2).astype(np.float32)
    peri = cv2.arcLength(pts, True)
    quad = None
    for frac in HULL_EPS:
        approx = cv2.approxPolyDP(pts, frac * peri, True).reshape(-1, 2)
        if len(approx) == 4:
            quad = approx.astype(np.float32)
            break
    if quad is None:
        quad = np.asarray(cv2.boxPoints(cv2.minAreaRect(pts)), np.float32)
    return order_corners(quad)


# --- the page as a hull: bright, unsaturated paper (vision.handwriting, vision.video) ---


def locate_page(image: npt.NDArray[np.uint8]) -> tuple[str, npt.NDArray[np.float32] | None]:
    """``("page", hull)``: a page on a background; ``("full", None)``: paper fills the frame;
    ``("none", None)``: no paper in sight (a desk, a hand, the ceiling)."""
    h, w = image.shape[:2]
    scale = min(1.0, SEARCH_LONG_SIDE_PX / max(h, w))
    # bilinear is enough for an outline (and 3x cheaper than area averaging on a 960 px frame)
    small = cv2.resize(image, (max(1, round(w * scale)), max(1, round(h * scale))), interpolation=cv2.INTER_LINEAR)
    if small.ndim == 2:
        value, sat = small, np.zeros_like(small)
    else:
        hsv = cv2.cvtColor(small, cv2.COLOR_BGR2HSV)
        value, sat = hsv[..., 2], hsv[..., 1]
    value = cv2.GaussianBlur(value, (5, 5), 0)
    thr, _ = cv2.threshold(value, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    bright = ((value > thr) & (sat <= PAPER_MAX_SATURATION)).astype(np.uint8)
    bright = np.asarray(cv2.morphologyEx(bright, cv2.MORPH_CLOSE, cv2.getStructuringElement(cv2.MORPH_RECT, (5, 5))), np.uint8)
    n, labels, stats, _ = cv2.connectedComponentsWithStats(bright, connectivity=4)
    if n <= 1:
        return "none", None
    best = 1 + int(np.argmax(stats[1:, cv2.CC_STAT_AREA]))
    area = float(stats[best, cv2.CC_STAT_AREA]) / (small.shape[0] * small.shape[1])
    if area < MIN_PAGE_FRACTION:
        return "none", None
    if area >= SCAN_FRACTION:
        return "full", None
    contours, _ = cv2.findContours((labels == best).astype(np.uint8), cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    hull = cv2.convexHull(max(contours, key=cv2.contourArea)).reshape(-1, 2).astype(np.float32)
    if cv2.contourArea(hull) / (small.shape[0] * small.shape[1]) >= SCAN_FRACTION:
        return "full", None
    out: npt.NDArray[np.float32] = (hull / np.float32(scale)).astype(np.float32)
    return "page", out
