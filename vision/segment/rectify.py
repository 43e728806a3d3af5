"""Find the sheet of paper in a phone photo and flatten it (perspective undone).

A phone photo shows the page as a bright quadrilateral on a darker desk.
:func:`find_page_quad` finds that quadrilateral; :func:`rectify` warps it to an
upright page and returns the homography back to the photo, so boxes found on
the flat page map back to photo pixels (:func:`map_box_back`). A scan (no desk
visible, or the page filling the frame) has no quad: it is used as is.

Frames:
    ``quad_xy`` is ``(4, 2)`` float32, photo pixels, ordered top-left,
    top-right, bottom-right, bottom-left. ``H_back`` maps flat-page pixels to
    photo pixels.

Examples:
    >>> import numpy as np
    >>> photo = np.full((300, 200), 60, np.uint8)
    >>> photo[30:270, 20:180] = 230
    >>> quad = find_page_quad(photo)
    >>> bool(np.abs(quad - [[20, 30], [179, 30], [179, 269], [20, 269]]).max() <= 3)
    True
    >>> find_page_quad(np.full((300, 200), 230, np.uint8)) is None
    True
    >>> lit = np.repeat(np.linspace(235, 110, 300), 200).reshape(300, 200).astype(np.uint8)
    >>> find_page_quad(lit) is None          # light fading down the frame: no sheet edge
    True
"""

from __future__ import annotations

from typing import Any

import cv2
import numpy as np
import numpy.typing as npt

__all__ = ["deskew", "estimate_skew_deg", "find_page_quad", "map_box_back", "rectify"]

#: Side of the downscaled copy the page is searched on, in pixels (the outline needs no detail).
SEARCH_SIDE_PX = 640
#: The page must cover at least this fraction of the photo to be trusted.
MIN_PAGE_AREA = 0.3
#: A quad covering more than this fraction is the whole frame: a scan, nothing to undo.
MAX_PAGE_AREA = 0.97
#: Polygon approximation tolerances tried, as fractions of the outline's perimeter.
APPROX_EPS = (0.01, 0.02, 0.03, 0.05)
#: Skew search: side of the small copy (px), range and step (degrees); phones hold pages within a few degrees.
SKEW_SIDE_PX, SKEW_RANGE_DEG, SKEW_STEP_DEG = 900, 4.0, 0.2
#: The paper's grey (corners laid in by :func:`deskew`): this percentile of the page (most of a page is paper).
PAPER_PERCENTILE = 75
#: Grey levels sampled this many pixels (small copy) inside and outside each side of a candidate quad ...
STEP_PX = 3
#: ... must differ by at least this much (median over sides) for a sheet on a desk.
MIN_EDGE_STEP = 12.0
#: Canny thresholds on the blurred small copy: the paper's edge, not the text's.
CANNY_LOW, CANNY_HIGH = 20, 60


def _order(quad: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]:
    s = quad.sum(axis=1)
    d = np.diff(quad, axis=1).ravel()
    return np.array([quad[np.argmin(s)], quad[np.argmin(d)], quad[np.argmax(s)], quad[np.argmax(d)]], np.float32)


def _quad_of(mask: npt.NDArray[Any]) -> tuple[npt.NDArray[np.float32], float] | None:
    """The four corners of the largest blob of ``mask`` and its area fraction, if it is a page-sized quad."""
    contours, _ = cv2.findContours(mask, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    if not contours:
        return None
    hull = cv2.convexHull(max(contours, key=lambda c: cv2.contourArea(cv2.convexHull(c))))
    area = cv2.contourArea(hull) / float(mask.shape[0] * mask.shape[1])
    if not MIN_PAGE_AREA <= area <= MAX_PAGE_AREA:
        return None
    perimeter = cv2.arcLength(hull, True)
    h, w = mask.shape[:2]
    for eps in APPROX_EPS:
        approx = cv2.approxPolyDP(hull, eps * perimeter, True)
        if len(approx) == 4:
            return approx.reshape(4, 2).astype(np.float32), area
    return None


def _edge_contrast(small: npt.NDArray[Any], quad: npt.NDArray[np.float32]) -> float:
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


def find_page_quad(gray: npt.NDArray[np.uint8]) -> npt.NDArray[np.float32] | None:
    """The page's four corners in ``gray`` (``uint8`` ``(H, W)``), or ``None`` for a scan.

    Two outlines are tried on a small copy: the bright region (Otsu), which
    uneven light can cut in two, and the closed edge map (Canny), which a
    low-contrast desk can break; the larger page-sized quad wins.
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
    return _order(quad / scale)


def rectify(
    image: npt.NDArray[np.uint8], quad_xy: npt.NDArray[np.float32]
) -> tuple[npt.NDArray[np.uint8], npt.NDArray[np.float64]]:
    """Warp the page inside ``quad_xy`` upright; return ``(flat, H_back)`` (flat -> photo)."""
    tl, tr, br, bl = quad_xy
    width = int(round(max(np.linalg.norm(tr - tl), np.linalg.norm(br - bl))))
    height = int(round(max(np.linalg.norm(bl - tl), np.linalg.norm(br - tr))))
    dst = np.array([[0, 0], [width - 1, 0], [width - 1, height - 1], [0, height - 1]], np.float32)
    H = cv2.getPerspectiveTransform(quad_xy.astype(np.float32), dst)
    flat = cv2.warpPerspective(image, H, (width, height), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    return np.asarray(flat, dtype=np.uint8), np.linalg.inv(H).astype(np.float64)


def estimate_skew_deg(gray: npt.NDArray[np.uint8]) -> float:
    """The rotation (degrees, counter-clockwise positive as OpenCV draws it) that levels the text lines.

    Projection-profile search: the ink's row sums are sharpest (largest sum of
    squares) when lines run level. Searched on a small copy over
    ±:data:`SKEW_RANGE_DEG` in :data:`SKEW_STEP_DEG` steps.

    Examples:
        >>> img = np.full((400, 300), 255, np.uint8)
        >>> for y in range(40, 380, 20):
        ...     _ = cv2.line(img, (30, y), (270, y + 10), 0, 3)
        >>> round(estimate_skew_deg(img))
        2
    """
    h, w = gray.shape[:2]
    scale = min(1.0, SKEW_SIDE_PX / max(h, w))
    small = cv2.resize(gray, (max(1, round(w * scale)), max(1, round(h * scale))), interpolation=cv2.INTER_AREA)
    window = max(15, (small.shape[1] // 30) | 1)
    ink = cv2.adaptiveThreshold(small, 1, cv2.ADAPTIVE_THRESH_MEAN_C, cv2.THRESH_BINARY_INV, window, 10).astype(np.float32)
    centre = (small.shape[1] / 2, small.shape[0] / 2)
    best, best_score = 0.0, -1.0
    for angle in np.arange(-SKEW_RANGE_DEG, SKEW_RANGE_DEG + 1e-9, SKEW_STEP_DEG):
        m = cv2.getRotationMatrix2D(centre, float(angle), 1.0)
        rotated = cv2.warpAffine(ink, m, (small.shape[1], small.shape[0]), flags=cv2.INTER_NEAREST)
        rows = rotated.sum(axis=1)
        score = float(np.dot(rows, rows))
        if score > best_score:
            best, best_score = float(angle), score
    return best


def deskew(
    image: npt.NDArray[np.uint8], angle_deg: float
) -> tuple[npt.NDArray[np.uint8], npt.NDArray[np.float64]]:
    """Rotate ``image`` by ``angle_deg`` about its centre; return ``(level, H_back)`` (level -> input).

    The canvas grows to hold the whole rotated page (a page that fills the
    frame keeps the text at its edges) and the corners are laid in the
    paper's grey, not smeared from the edge (a replicated edge reads as ink).
    """
    h, w = image.shape[:2]
    m = cv2.getRotationMatrix2D((w / 2, h / 2), angle_deg, 1.0)
    cos, sin = abs(m[0, 0]), abs(m[0, 1])
    out_w, out_h = int(np.ceil(w * cos + h * sin)), int(np.ceil(w * sin + h * cos))
    m[0, 2] += (out_w - w) / 2
    m[1, 2] += (out_h - h) / 2
    paper = float(np.percentile(image, PAPER_PERCENTILE))
    level = cv2.warpAffine(
        image, m, (out_w, out_h), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT, borderValue=(paper, paper, paper)
    )
    H = np.vstack([m, [0.0, 0.0, 1.0]])
    return np.asarray(level, dtype=np.uint8), np.linalg.inv(H).astype(np.float64)


def map_box_back(
    box_xywh: tuple[int, int, int, int], H_back: npt.NDArray[np.float64], size_wh: tuple[int, int]
) -> tuple[int, int, int, int]:
    """The photo box around the four mapped corners of a flat-page box, clipped to the photo."""
    x, y, w, h = box_xywh
    pts = np.array([[[x, y]], [[x + w, y]], [[x + w, y + h]], [[x, y + h]]], np.float64)
    mapped = cv2.perspectiveTransform(pts, H_back).reshape(-1, 2)
    x0 = int(np.clip(np.floor(mapped[:, 0].min()), 0, size_wh[0]))
    y0 = int(np.clip(np.floor(mapped[:, 1].min()), 0, size_wh[1]))
    x1 = int(np.clip(np.ceil(mapped[:, 0].max()), 0, size_wh[0]))
    y1 = int(np.clip(np.ceil(mapped[:, 1].max()), 0, size_wh[1]))
    return (x0, y0, x1 - x0, y1 - y0)
