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

__all__ = ["locate_page", "page_mask", "page_quad"]

#: the page border (shadow, curl, desk edge blur) is dropped: this share of the page's short side.
EDGE_MARGIN_FRACTION = 0.012


def page_quad(image: npt.NDArray[np.uint8]) -> npt.NDArray[np.float32] | None:
    """The page's convex outline ``(N, 2)`` float32 in frame pixels, or ``None`` (no page / a scan)."""
    return locate_page(image)[1]


def page_mask(image: npt.NDArray[np.uint8]) -> npt.NDArray[np.bool_]:
    """``(H, W)`` bool: the paper, its border eroded; the whole frame for a scan or when no page is seen."""
    h, w = image.shape[:2]
    hull = page_quad(image)
    if hull is None:
        return np.ones((h, w), bool)
    mask = np.zeros((h, w), np.uint8)
    cv2.fillConvexPoly(mask, np.round(hull).astype(np.int32), 1)
    x, y, bw, bh = cv2.boundingRect(np.round(hull).astype(np.int32))
    margin = max(1, round(EDGE_MARGIN_FRACTION * min(bw, bh)))
    mask = np.asarray(cv2.erode(mask, cv2.getStructuringElement(cv2.MORPH_RECT, (2 * margin + 1, 2 * margin + 1))), np.uint8)
    out: npt.NDArray[np.bool_] = mask > 0
    return out
