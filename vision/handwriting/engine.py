"""``analyze_handwriting``: how much a student wrote on a worksheet photo, and where.

With a blank ``reference`` the blank is aligned to the photo and only what
the student added counts (:mod:`vision.handwriting.reference`); without one,
or when the blank does not align, handwriting is told from print by its own
features (:mod:`vision.handwriting.features`). The result says which method
ran.

Scores:
    ``writing_score = 1 - exp(-max(0, ink_fraction - WRITING_DEADZONE[method]) / WRITING_SCALE)``:
    0 for a printed-only page, 0.63 when 1 % of the page is handwritten ink,
    0.95 at 3 %; it grows monotonically with the written ink, never saturating
    early (a full page still ranks above a half page). ``calculation_score``
    is the share of the written ink that forms symbol runs
    (:mod:`vision.handwriting.calculation`).

Frames:
    The analysis runs at most :data:`ANALYSIS_LONG_SIDE_PX` on the long side;
    boxes in the result are in the input photo's pixels.

Examples:
    >>> import numpy as np, cv2
    >>> page = np.full((800, 600, 3), 250, np.uint8)
    >>> _ = cv2.putText(page, "1. Solve x + 3 = 5", (30, 60), cv2.FONT_HERSHEY_SIMPLEX, 0.9, (0, 0, 0), 2)
    >>> analyze_handwriting(page).writing_score
    0.0
    >>> _ = cv2.putText(page, "x = 2", (60, 300), cv2.FONT_HERSHEY_SCRIPT_SIMPLEX, 2.0, (170, 70, 30), 3)
    >>> r = analyze_handwriting(page)
    >>> r.method, r.writing_score > 0.2, len(r.regions), r.calculation_score > 0.5
    ('features', True, 1, True)
"""

from __future__ import annotations

import math

import cv2
import numpy as np
import numpy.typing as npt

from vision.errors import PageError
from vision.handwriting.calculation import calculation_mask
from vision.handwriting.features import features_mask
from vision.handwriting.reference import reference_mask
from vision.handwriting.types import HandwritingResult, WrittenRegion

__all__ = ["ANALYSIS_LONG_SIDE_PX", "analyze_handwriting", "writing_score"]

#: analysis resolution (long side): an A4 page at ~170 dpi, pencil strokes still 2-3 px wide.
ANALYSIS_LONG_SIDE_PX = 2000
#: written ink this share of the page gives writing_score 1 - 1/e (0.63).
WRITING_SCALE = 0.01
#: ink below this share of the page is noise the method lets through, not writing: a few
#: specks after subtracting a blank; stray print pieces (blurred rings, merged glyphs) without one.
WRITING_DEADZONE = {"reference": 0.00002, "features": 0.0002}
#: strokes closer than this (analysis px, ~5 mm) belong to one written region.
REGION_JOIN_PX = 41
#: regions with fewer handwritten pixels than this are dropped from the list (not from the score).
REGION_MIN_INK_PX = 60
#: a region is "calculation" when at least this share of its ink is symbol runs.
REGION_CALC_SHARE = 0.5
#: smallest image analysed (px per side): smaller is a thumbnail, not a page.
MIN_SIDE_PX = 32


def writing_score(ink_fraction: float, method: str = "features") -> float:
    """Map the handwritten-ink share of the page to 0..1 (see the module docstring).

    Examples:
        >>> writing_score(0.0), round(writing_score(0.0102), 2), round(writing_score(0.0302), 2)
        (0.0, 0.63, 0.95)
    """
    return 1.0 - math.exp(-max(0.0, ink_fraction - WRITING_DEADZONE[method]) / WRITING_SCALE)


def _resize_long(image: npt.NDArray[np.uint8], long_side: int) -> tuple[npt.NDArray[np.uint8], float]:
    h, w = image.shape[:2]
    scale = long_side / max(h, w)
    if scale >= 1.0:
        return image, 1.0
    small = np.asarray(cv2.resize(image, (round(w * scale), round(h * scale)), interpolation=cv2.INTER_AREA), np.uint8)
    return small, scale


def _check(image: npt.NDArray[np.uint8], what: str) -> None:
    if not isinstance(image, np.ndarray) or image.dtype != np.uint8 or image.ndim not in (2, 3):
        raise PageError("image_invalid", f"{what} must be a uint8 (H, W) or (H, W, 3) array")
    if image.ndim == 3 and image.shape[2] != 3:
        raise PageError("image_invalid", f"{what} must have 3 channels (BGR), got {image.shape[2]}")
    if min(image.shape[:2]) < MIN_SIDE_PX:
        raise PageError("image_too_small", f"{what} is {image.shape[1]}x{image.shape[0]} px, need {MIN_SIDE_PX} px per side")


def _regions(
    hand: npt.NDArray[np.bool_], calc: npt.NDArray[np.bool_], scale: float, size_wh: tuple[int, int]
) -> tuple[tuple[WrittenRegion, ...], int]:
    kernel = cv2.getStructuringElement(cv2.MORPH_RECT, (REGION_JOIN_PX, REGION_JOIN_PX))
    joined = cv2.dilate(hand.astype(np.uint8), kernel)
    n, labels, stats, _ = cv2.connectedComponentsWithStats(joined, connectivity=8)
    ink_per = np.bincount(labels[hand], minlength=n)
    calc_per = np.bincount(labels[calc], minlength=n)
    half = REGION_JOIN_PX // 2
    out: list[WrittenRegion] = []
    covered = np.zeros(hand.shape, bool)
    for i in range(1, n):
        if ink_per[i] < REGION_MIN_INK_PX:
            continue
        # the dilation grew the box by half a kernel on each side: take it back
        x0 = int(stats[i, cv2.CC_STAT_LEFT]) + half
        y0 = int(stats[i, cv2.CC_STAT_TOP]) + half
        x1 = x0 + max(1, int(stats[i, cv2.CC_STAT_WIDTH]) - 2 * half)
        y1 = y0 + max(1, int(stats[i, cv2.CC_STAT_HEIGHT]) - 2 * half)
        covered[y0:y1, x0:x1] = True
        area = max(1, (x1 - x0) * (y1 - y0))
        bx, by = int(x0 / scale), int(y0 / scale)
        bw = min(size_wh[0] - bx, max(1, round((x1 - x0) / scale)))
        bh = min(size_wh[1] - by, max(1, round((y1 - y0) / scale)))
        out.append(WrittenRegion((bx, by, bw, bh), float(min(1.0, ink_per[i] / area)),
                                 bool(calc_per[i] >= REGION_CALC_SHARE * ink_per[i])))
    out.sort(key=lambda r: -(r.box_xywh[2] * r.box_xywh[3]))
    return tuple(out), int(covered.sum())


def analyze_handwriting(
    image: npt.NDArray[np.uint8], reference: npt.NDArray[np.uint8] | None = None
) -> HandwritingResult:
    """Score the handwriting on a worksheet photo.

    Args:
        image: ``(H, W, 3)`` BGR (colour helps without a reference) or
            ``(H, W)`` gray uint8, a photo or scan of the written page.
        reference: the same worksheet blank (any resolution), or ``None``.

    Returns:
        A :class:`~vision.handwriting.types.HandwritingResult`.

    Raises:
        PageError: ``image_invalid`` (not a uint8 image), ``image_too_small``.
    """
    _check(image, "image")
    if reference is not None:
        _check(reference, "reference")
    size_wh = (int(image.shape[1]), int(image.shape[0]))
    small, scale = _resize_long(image, ANALYSIS_LONG_SIDE_PX)
    found: tuple[npt.NDArray[np.bool_], npt.NDArray[np.bool_]] | None = None
    aligned: bool | None = None
    if reference is not None:
        blank, _ = _resize_long(reference, ANALYSIS_LONG_SIDE_PX)
        found = reference_mask(small, blank)
        aligned = found is not None
    method = "reference" if found is not None else "features"
    hand, page = found if found is not None else features_mask(small)
    page_px = max(1, int(page.sum()))
    calc = calculation_mask(hand) & hand
    ink_fraction = float(hand.sum() / page_px)
    ink_px = int(hand.sum())
    regions, written_px = _regions(hand, calc, scale, size_wh)
    written_fraction = min(1.0, written_px / page_px)
    return HandwritingResult(
        writing_score=writing_score(ink_fraction, method),
        calculation_score=float(calc.sum() / ink_px) if ink_px else 0.0,
        method=method,
        ink_fraction=ink_fraction,
        written_fraction=written_fraction,
        regions=regions,
        size_wh=size_wh,
        aligned=aligned,
        mask=(hand.astype(np.uint8) * 255),
    )
