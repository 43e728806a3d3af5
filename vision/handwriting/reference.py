"""Handwriting with a blank reference: align the blank to the photo, keep what was added.

The blank (the worksheet as printed: a scan, a PNG, a rendered PDF page) is
aligned to the photo with ORB features matched under Lowe's ratio test and a
RANSAC homography, computed at :data:`ALIGN_LONG_SIDE_PX` for speed and
scaled back. Both images are then normalised by their local paper brightness
(:mod:`vision.handwriting.ink`), so shadows and uneven light cancel; the
student's ink is the photo's ink that has no blank ink within
:data:`PRINT_TOLERANCE_PX` (which absorbs the residual misalignment and the
blur that fattens print in a photo). Outside the warped blank (desk, fingers
at the border) nothing counts.

Frames:
    The photo's analysis frame ``(H, W)``; the homography maps blank pixels
    to photo pixels (both at analysis resolution).

Examples:
    >>> import numpy as np, cv2
    >>> rng = np.random.default_rng(0)
    >>> blank = np.full((500, 400), 255, np.uint8)
    >>> for i in range(40):
    ...     _ = cv2.putText(blank, f"Q{i} x={i*7}", (int(rng.integers(5, 300)), 20 + 12 * i),
    ...                     cv2.FONT_HERSHEY_SIMPLEX, 0.4, 0, 1)
    >>> photo = cv2.warpAffine(blank, np.float32([[1, 0, 6], [0, 1, 4]]), (400, 500), borderValue=255)
    >>> photo = cv2.cvtColor(photo, cv2.COLOR_GRAY2BGR)
    >>> _ = cv2.line(photo, (50, 450), (300, 480), (90, 90, 90), 3)
    >>> mask, page = reference_mask(photo, blank)
    >>> bool(mask[465, 175]) and int(mask[:400].sum()) < 50
    True
"""

from __future__ import annotations

import cv2
import numpy as np
import numpy.typing as npt

from vision.handwriting.ink import grow_faint, ink_mask, normalise, to_gray

__all__ = ["align_reference", "reference_mask"]

#: features are matched at this long side: enough glyph detail, ~10x cheaper than full size.
ALIGN_LONG_SIDE_PX = 1200
#: ORB keypoints per image: printed pages are feature-rich, more buys nothing.
ORB_FEATURES = 5000
#: Lowe's ratio test: the best match must beat the second best by this factor.
LOWE_RATIO = 0.8
#: RANSAC reprojection threshold at the alignment scale (px).
RANSAC_REPROJ_PX = 3.0
#: fewer inliers than this and the alignment is not trusted (the blank is another page).
MIN_INLIERS = 30
#: photo ink within this distance of blank ink is print (misalignment + blur), analysis px.
PRINT_TOLERANCE_PX = 4
#: added ink pieces smaller than this are alignment slivers or noise (analysis px).
MIN_ADDED_PX = 14
#: this many px inside the warped blank's border are ignored (warp edge, page edge shadow).
BORDER_PX = 6


def _resize_long(gray: npt.NDArray[np.uint8], long_side: int) -> tuple[npt.NDArray[np.uint8], float]:
    h, w = gray.shape
    scale = long_side / max(h, w)
    if scale >= 1.0:
        return gray, 1.0
    return np.asarray(cv2.resize(gray, (round(w * scale), round(h * scale)), interpolation=cv2.INTER_AREA), np.uint8), scale


def align_reference(
    photo_gray: npt.NDArray[np.uint8], blank_gray: npt.NDArray[np.uint8]
) -> npt.NDArray[np.float64] | None:
    """Homography ``(3, 3)`` mapping blank pixels to photo pixels, or ``None`` when they do not match."""
    p_small, p_scale = _resize_long(photo_gray, ALIGN_LONG_SIDE_PX)
    b_small, b_scale = _resize_long(blank_gray, ALIGN_LONG_SIDE_PX)
    orb = cv2.ORB_create(nfeatures=ORB_FEATURES)  # type: ignore[attr-defined]
    kp_p, des_p = orb.detectAndCompute(p_small, None)
    kp_b, des_b = orb.detectAndCompute(b_small, None)
    if des_p is None or des_b is None or len(kp_p) < MIN_INLIERS or len(kp_b) < MIN_INLIERS:
        return None
    matcher = cv2.BFMatcher(cv2.NORM_HAMMING)
    good = []
    for pair in matcher.knnMatch(des_b, des_p, k=2):
        if len(pair) == 2 and pair[0].distance < LOWE_RATIO * pair[1].distance:
            good.append(pair[0])
    if len(good) < MIN_INLIERS:
        return None
    src = np.array([kp_b[m.queryIdx].pt for m in good], np.float32)
    dst = np.array([kp_p[m.trainIdx].pt for m in good], np.float32)
    h_small, inliers = cv2.findHomography(src, dst, cv2.RANSAC, RANSAC_REPROJ_PX)
    if h_small is None or inliers is None or int(inliers.sum()) < MIN_INLIERS:
        return None
    to_small = np.diag([b_scale, b_scale, 1.0])
    from_small = np.diag([1.0 / p_scale, 1.0 / p_scale, 1.0])
    homography: npt.NDArray[np.float64] = (from_small @ np.asarray(h_small, np.float64) @ to_small).astype(np.float64)
    return homography


def reference_mask(
    photo: npt.NDArray[np.uint8], blank: npt.NDArray[np.uint8]
) -> tuple[npt.NDArray[np.bool_], npt.NDArray[np.bool_]] | None:
    """Mask of ink in ``photo`` that the ``blank`` does not have.

    Args:
        photo: ``(H, W, 3)`` BGR or ``(H, W)`` gray uint8, the written page.
        blank: the blank page, any resolution, BGR or gray uint8.

    Returns:
        ``(added, page)``: ``(H, W)`` bool masks in the photo's frame (the
        added ink, grown into its faint rim; where the blank lies), or
        ``None`` when the blank cannot be aligned (not the same worksheet,
        too little detail).
    """
    photo_gray, blank_gray = to_gray(photo), to_gray(blank)
    homography = align_reference(photo_gray, blank_gray)
    if homography is None:
        return None
    h, w = photo_gray.shape
    warped = np.asarray(cv2.warpPerspective(blank_gray, homography, (w, h), flags=cv2.INTER_LINEAR, borderValue=255), np.uint8)
    valid = cv2.warpPerspective(np.full(blank_gray.shape, 255, np.uint8), homography, (w, h), flags=cv2.INTER_NEAREST)
    valid = cv2.erode(valid, cv2.getStructuringElement(cv2.MORPH_RECT, (2 * BORDER_PX + 1, 2 * BORDER_PX + 1)))
    photo_norm = normalise(photo_gray)
    photo_ink = ink_mask(photo_norm)
    blank_ink = ink_mask(normalise(warped)).astype(np.uint8)
    k = 2 * PRINT_TOLERANCE_PX + 1
    printed = cv2.dilate(blank_ink, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (k, k))) > 0
    added = (photo_ink & ~printed & (valid > 0)).astype(np.uint8)
    n, labels, stats, _ = cv2.connectedComponentsWithStats(added, connectivity=8)
    keep = stats[:, cv2.CC_STAT_AREA] >= MIN_ADDED_PX
    keep[0] = False
    page = valid > 0
    return grow_faint(keep[labels], photo_norm) & page & ~printed, page
