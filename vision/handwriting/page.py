"""Where the paper is in a photo: the largest bright, unsaturated region.

A phone photo shows desk around the page; the desk's edge against the paper
would read as a long dark stroke. The page is found on a small copy
(:func:`aicore.page.outline.locate_page`): paper
is bright and nearly colourless, so pixels above Otsu's threshold of the
value channel with low saturation are paper; the largest such region's
convex hull (ink inside the page leaves holes, the hull closes them),
eroded by :data:`EDGE_MARGIN_FRACTION` of the page size, is the page. A scan
whose paper fills the frame gets the whole frame.

Frames:
    Input ``(H, W)`` or ``(H, W, 3)`` uint8; the mask is ``(H, W)`` bool in
    the same frame.

Examples:
    >>> import numpy as np
    >>> frame = np.full((300, 400, 3), (40, 60, 90), np.uint8)   # brown desk
    >>> frame[50:250, 100:300] = 235                              # the page
    >>> m = page_mask(frame)
    >>> bool(m[150, 200]), bool(m[20, 20]), bool(m[150, 101])
    (True, False, False)
    >>> bool(page_mask(np.full((100, 100), 240, np.uint8)).all())
    True
"""

from __future__ import annotations

import cv2
import numpy as np
import numpy.typing as npt

from aicore.page.outline import locate_page

__all__ = ["locate_page", "page_angle_deg", "page_mask", "page_outline", "page_quad"]

#: the page border (shadow, curl, desk edge blur) is dropped: this share of the page's short side.
EDGE_MARGIN_FRACTION = 0.012


def page_quad(image: npt.NDArray[np.uint8]) -> npt.NDArray[np.float32] | None:
    """The page's convex outline ``(N, 2)`` float32 in frame pixels, or ``None`` (no page / a scan)."""
    return locate_page(image)[1]


def page_angle_deg(hull: npt.NDArray[np.float32] | None) -> float:
    """The tilt of the page's top edge (degrees; positive: it runs down to the right in the image),
    from the outline's smallest enclosing rectangle; 0 without an outline (a scan).

    ``cv2.getRotationMatrix2D(centre, page_angle_deg(hull), 1)`` levels the page.

    Examples:
        >>> square = np.array([[0, 0], [100, 5], [95, 105], [-5, 100]], np.float32)
        >>> round(page_angle_deg(square), 1), page_angle_deg(None)
        (2.9, 0.0)
    """
    if hull is None or len(hull) < 3:
        return 0.0
    box = cv2.boxPoints(cv2.minAreaRect(hull.astype(np.float32)))
    edges = np.roll(box, -1, axis=0) - box
    horiz = edges[np.argmax(np.abs(edges[:, 0]) - np.abs(edges[:, 1]))]
    dx, dy = (float(horiz[0]), float(horiz[1])) if horiz[0] >= 0 else (-float(horiz[0]), -float(horiz[1]))
    return float(np.degrees(np.arctan2(dy, dx)))


def page_mask(image: npt.NDArray[np.uint8]) -> npt.NDArray[np.bool_]:
    """``(H, W)`` bool: the paper, its border eroded; the whole frame for a scan or when no page is seen."""
    return page_outline(image)[0]


def page_outline(image: npt.NDArray[np.uint8]) -> tuple[npt.NDArray[np.bool_], float]:
    """``(page_mask(image), page_angle_deg(outline))`` from one search."""
    h, w = image.shape[:2]
    hull = page_quad(image)
    if hull is None:
        return np.ones((h, w), bool), 0.0
    mask = np.zeros((h, w), np.uint8)
    cv2.fillConvexPoly(mask, np.round(hull).astype(np.int32), 1)
    x, y, bw, bh = cv2.boundingRect(np.round(hull).astype(np.int32))
    margin = max(1, round(EDGE_MARGIN_FRACTION * min(bw, bh)))
    mask = np.asarray(cv2.erode(mask, cv2.getStructuringElement(cv2.MORPH_RECT, (2 * margin + 1, 2 * margin + 1))), np.uint8)
    out: npt.NDArray[np.bool_] = mask > 0
    return out, page_angle_deg(hull)
