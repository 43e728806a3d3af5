"""Ink of a page for layout analysis: the local threshold, specks and grain dropped, the text height.

Part of :mod:`vision.segment.layout` (steps 2 and 3): ink is found by an
adaptive threshold, which survives uneven light; specks are dropped; the text
height ``text_px`` (the unit of every tuning constant) is measured on it.
"""

from __future__ import annotations

import cv2
import numpy as np
import numpy.typing as npt

#: Adaptive threshold window as a fraction of the page width (a few characters wide).
THRESH_WINDOW = 0.025
#: Adaptive threshold offset in grey levels: ink is this much darker than its neighbourhood.
THRESH_OFFSET = 12
#: Components smaller than this many pixels are noise (JPEG, sensor), not ink.
SPECK_PX = 6
#: Rules are followed this many pixels across their direction (a slanted rule steps sideways).
RULE_SLANT_PX = 5
#: Ink components smaller than this (text heights, both sides) with no other ink within
#: :data:`SPECK_REACH_TEXT` are grain or dust, not text (a period sits beside its word).
SPECK_TEXT, SPECK_REACH_TEXT = 0.3, 0.6
#: On a grainy page, a component of less than this many text heights squared in area is grain
#: even beside a letter (a period at 30 px text is ~25 px, grain after smoothing 2-10 px).
GRAIN_SPECK_TEXT = 0.12
#: ... and an isolated one (no letter within :data:`SPECK_REACH_TEXT`) up to this many text heights
#: on a side (grain clumps that smoothing merged).
GRAIN_SPECK_SIDE_TEXT = 0.45


GrayImage = npt.NDArray[np.uint8]
Mask = npt.NDArray[np.bool_]


def _gray(image: npt.NDArray[np.uint8]) -> GrayImage:
    if image.ndim == 3:
        return np.asarray(cv2.cvtColor(image, cv2.COLOR_BGR2GRAY), dtype=np.uint8)
    return image


def _ink(gray: GrayImage, border_px: int = 0, outside: Mask | None = None) -> Mask:
    """Ink pixels; specks, and blobs reaching into the ``border_px`` frame (desk remnants), dropped;
    blobs touching ``outside`` (the corners a rotation laid in) dropped too."""
    window = max(15, int(gray.shape[1] * THRESH_WINDOW) | 1)
    binary = cv2.adaptiveThreshold(gray, 255, cv2.ADAPTIVE_THRESH_MEAN_C, cv2.THRESH_BINARY_INV, window, THRESH_OFFSET)
    n, labels, stats, _ = cv2.connectedComponentsWithStats(binary, connectivity=8)
    x, y, w, h, area = (stats[:, i] for i in range(5))
    H, W = gray.shape
    keep = area >= SPECK_PX
    if border_px:
        touches = (x <= 0) | (y <= 0) | (x + w >= W) | (y + h >= H)
        # reaching into the frame (a page edge's shadow or grain runs along it), not only wholly inside it
        inside_frame = (x < border_px) | (y < border_px) | (x + w > W - border_px) | (y + h > H - border_px)
        keep &= ~touches & ~inside_frame
    if outside is not None and outside.any():
        near = cv2.dilate(outside.astype(np.uint8), np.ones((2 * RULE_SLANT_PX + 1, 2 * RULE_SLANT_PX + 1), np.uint8)).astype(bool)
        keep[np.unique(labels[near])] = False
    keep[0] = False
    mask: Mask = keep[labels]
    return mask


def _drop_specks(ink: Mask, text_px: float, *, noisy: bool = False) -> Mask:
    """``ink`` without isolated specks: components smaller than :data:`SPECK_TEXT` text heights
    with no larger component within :data:`SPECK_REACH_TEXT` (grain a smoothing left, dust);
    on a ``noisy`` page also every component under :data:`GRAIN_SPECK_TEXT` squared in area."""
    n, labels, stats, _ = cv2.connectedComponentsWithStats(ink.astype(np.uint8), connectivity=8)
    limit = (GRAIN_SPECK_SIDE_TEXT if noisy else SPECK_TEXT) * text_px
    small = (stats[:, cv2.CC_STAT_WIDTH] < limit) & (stats[:, cv2.CC_STAT_HEIGHT] < limit)
    grain = np.zeros(n, bool)
    if noisy:
        grain = stats[:, cv2.CC_STAT_AREA] < (GRAIN_SPECK_TEXT * text_px) ** 2
    small[0] = False
    big = ~small & ~grain
    big[0] = False
    reach = max(1, int(SPECK_REACH_TEXT * text_px))
    near = cv2.dilate(big[labels].astype(np.uint8), np.ones((2 * reach + 1, 2 * reach + 1), np.uint8)).astype(bool)
    keep = big.copy()
    keep[np.unique(labels[near & small[labels]])] = True
    keep &= ~grain
    keep[0] = False
    out: Mask = keep[labels]
    return out


def _text_height(text: Mask) -> float:
    n, _, stats, _ = cv2.connectedComponentsWithStats(text.astype(np.uint8), connectivity=8)
    h = stats[1:, cv2.CC_STAT_HEIGHT]
    w = stats[1:, cv2.CC_STAT_WIDTH]
    ok = (h >= 6) & (h <= 120) & (w <= 3 * h) & (w >= 2)
    if ok.sum() < 10:
        return 20.0
    return float(np.percentile(h[ok], 75))


def _runs(flags: npt.NDArray[np.bool_]) -> list[tuple[int, int]]:
    """Half-open ``[start, end)`` runs of True."""
    padded = np.concatenate([[False], flags, [False]])
    edges = np.flatnonzero(padded[1:] != padded[:-1])
    return [(int(a), int(b)) for a, b in zip(edges[::2], edges[1::2], strict=True)]
