"""How far a page's text lines are turned from level, in degrees (counter-clockwise positive).

Two projection-profile searches, moved verbatim from the libraries that had
one each; they differ, and each caller keeps exactly what it had (a later
change may unify them, only when the benches show no change):

* :func:`skew_deg_from_ink`: on an ink mask (1 = ink), the angle whose row
  sums change most sharply (sum of squared differences), searched coarse
  (0.5°) then fine (0.1°) within ±:data:`INK_MAX_SKEW_DEG` (``vision.ocr``).
* :func:`skew_deg_from_gray`: on a grey page, thresholded here, the angle
  whose row sums are the most peaked (sum of squares), in
  :data:`GRAY_SKEW_STEP_DEG` steps within ±:data:`GRAY_SKEW_RANGE_DEG`
  (``vision.segment``).

Both rotate about the centre of the small copy with
:func:`rotation_matrix` (OpenCV's sign: positive turns counter-clockwise).

Examples:
    >>> m = np.zeros((300, 600), np.uint8)
    >>> for y in range(40, 260, 30): m[y:y + 12, 50:550] = 1
    >>> abs(skew_deg_from_ink(m)) < 0.2
    True
"""

from __future__ import annotations

import cv2
import numpy as np
import numpy.typing as npt

__all__ = ["rotation_matrix", "shrink_to_width", "skew_deg_from_gray", "skew_deg_from_ink"]

GrayImage = npt.NDArray[np.uint8]

#: :func:`skew_deg_from_ink`: exam photos are within a few degrees of upright.
INK_MAX_SKEW_DEG = 6.0
#: width of the small copy the ink search runs on.
INK_WORK_WIDTH_PX = 900
#: :func:`skew_deg_from_gray`: side of the small copy (px), range and step (degrees); phones hold pages within a few degrees.
GRAY_SKEW_SIDE_PX, GRAY_SKEW_RANGE_DEG, GRAY_SKEW_STEP_DEG = 900, 4.0, 0.2


def rotation_matrix(w: float, h: float, angle_deg: float) -> npt.NDArray[np.float64]:
    """The ``(2, 3)`` affine turning a ``w`` x ``h`` image by ``angle_deg`` about its centre."""
    return np.asarray(cv2.getRotationMatrix2D((w / 2.0, h / 2.0), angle_deg, 1.0), dtype=np.float64)


def shrink_to_width(image: GrayImage, width: int) -> GrayImage:
    """``image`` scaled down (area averaging) to ``width`` px wide; unchanged when not wider.

    Examples:
        >>> shrink_to_width(np.zeros((100, 400), np.uint8), 200).shape, shrink_to_width(np.zeros((10, 20), np.uint8), 200).shape
        ((50, 200), (10, 20))
    """
    h, w = image.shape[:2]
    if w <= width:
        return image
    f = width / w
    return np.asarray(cv2.resize(image, (width, max(1, round(h * f))), interpolation=cv2.INTER_AREA), dtype=np.uint8)


def skew_deg_from_ink(ink: GrayImage) -> float:
    """The text's baseline angle in degrees (counter-clockwise positive), within ±:data:`INK_MAX_SKEW_DEG`.

    Args:
        ink: ``(H, W)`` uint8, 1 where there is ink.

    Examples:
        >>> m = np.zeros((300, 600), np.uint8)
        >>> for y in range(40, 260, 30): m[y:y + 12, 50:550] = 1
        >>> abs(skew_deg_from_ink(m)) < 0.2
        True
    """
    small = shrink_to_width(ink * 255, INK_WORK_WIDTH_PX)
    if int(small.max()) == 0:
        return 0.0

    def score(angle: float) -> float:
        h, w = small.shape
        rotated = cv2.warpAffine(small, rotation_matrix(w, h, angle), (w, h), flags=cv2.INTER_NEAREST)
        rows = rotated.sum(axis=1, dtype=np.float64)
        return float(np.square(np.diff(rows)).sum())

    coarse = np.arange(-INK_MAX_SKEW_DEG, INK_MAX_SKEW_DEG + 1e-9, 0.5)
    best = max(coarse, key=score)
    fine = np.arange(best - 0.5, best + 0.5 + 1e-9, 0.1)
    return round(float(max(fine, key=score)), 2)


def skew_deg_from_gray(gray: GrayImage) -> float:
    """The rotation (degrees, counter-clockwise positive as OpenCV draws it) that levels the text lines.

    Projection-profile search: the ink's row sums are sharpest (largest sum of
    squares) when lines run level. Searched on a small copy over
    ±:data:`GRAY_SKEW_RANGE_DEG` in :data:`GRAY_SKEW_STEP_DEG` steps.

    Args:
        gray: ``(H, W)`` uint8 page, dark ink on light paper.

    Examples:
        >>> img = np.full((400, 300), 255, np.uint8)
        >>> for y in range(40, 380, 20):
        ...     _ = cv2.line(img, (30, y), (270, y + 10), 0, 3)
        >>> round(skew_deg_from_gray(img))
        2
    """
    h, w = gray.shape[:2]
    scale = min(1.0, GRAY_SKEW_SIDE_PX / max(h, w))
    small = cv2.resize(gray, (max(1, round(w * scale)), max(1, round(h * scale))), interpolation=cv2.INTER_AREA)
    window = max(15, (small.shape[1] // 30) | 1)
    ink = cv2.adaptiveThreshold(small, 1, cv2.ADAPTIVE_THRESH_MEAN_C, cv2.THRESH_BINARY_INV, window, 10).astype(np.float32)
    centre = (small.shape[1] / 2, small.shape[0] / 2)
    best, best_score = 0.0, -1.0
    for angle in np.arange(-GRAY_SKEW_RANGE_DEG, GRAY_SKEW_RANGE_DEG + 1e-9, GRAY_SKEW_STEP_DEG):
        m = cv2.getRotationMatrix2D(centre, float(angle), 1.0)
        rotated = cv2.warpAffine(ink, m, (small.shape[1], small.shape[0]), flags=cv2.INTER_NEAREST)
        rows = rotated.sum(axis=1)
        score = float(np.dot(rows, rows))
        if score > best_score:
            best, best_score = float(angle), score
    return best
