"""Find the sheet of paper in a phone photo and flatten it (perspective undone).

A phone photo shows the page as a bright quadrilateral on a darker desk.
:func:`find_page_quad` (the page layer's, :mod:`aicore.page.outline`) finds that
quadrilateral; :func:`rectify` warps it to an upright page and returns the
homography back to the photo, so boxes found on the flat page map back to
photo pixels (:func:`map_box_back`). A scan (no desk visible, or the page
filling the frame) has no quad: it is used as is. :func:`estimate_skew_deg` is
:func:`aicore.page.skew.skew_deg_from_gray`.

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

import cv2
import numpy as np
import numpy.typing as npt

from aicore.page.outline import find_page_quad
from aicore.page.skew import skew_deg_from_gray as estimate_skew_deg

__all__ = ["deskew", "estimate_skew_deg", "find_page_quad", "map_box_back", "rectify"]

#: The paper's grey (corners laid in by :func:`deskew`): this percentile of the page (most of a page is paper).
PAPER_PERCENTILE = 75


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
