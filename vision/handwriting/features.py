"""Handwriting without a blank reference: told from print by its own features.

Each ink component (8-connected) is judged on what print rarely has:

* **colour** -- blue and red pens are colourful (Lab chroma), print is black;
* **lightness** -- a pencil stroke's *core* (10th-percentile pixel) stays
  light grey (normalised ~0.4-0.8) where even a thin, blurred print stroke
  has a near-black core;
* **shape** -- a black-pen stroke is larger than the page's print glyphs
  (measured on the page: the median glyph height) without being a ruled
  line or a table (a long straight horizontal or vertical run).

Black-pen digits the size of print glyphs, sitting on a printed line, are the
case this method cannot tell from print: give a blank reference for those
(:mod:`vision.handwriting.reference`).

Frames:
    Analysis frame ``(H, W)`` (the caller's downscaled photo); the mask is
    ``bool`` in that frame.

Examples:
    >>> import numpy as np, cv2
    >>> page = np.full((400, 300, 3), 255, np.uint8)
    >>> _ = cv2.putText(page, "Print 123", (10, 50), cv2.FONT_HERSHEY_SIMPLEX, 1.0, (0, 0, 0), 2)
    >>> int(features_mask(page)[0].sum())
    0
    >>> _ = cv2.line(page, (20, 200), (250, 260), (160, 60, 20), 3)  # blue pen
    >>> int(features_mask(page)[0][230, 135])
    1
"""

from __future__ import annotations

import cv2
import numpy as np
import numpy.typing as npt

from vision.handwriting.components import Components, component_stats
from vision.handwriting.ink import chroma, grow_faint, ink_mask, normalise, to_gray
from vision.handwriting.page import page_mask

__all__ = ["features_mask"]

#: components smaller than this (analysis px) are paper grain or JPEG noise.
MIN_COMPONENT_PX = 8
#: mean Lab chroma above which a stroke is coloured ink (black print + JPEG bleeding stays < 12).
CHROMA_PEN_MIN = 16.0
#: a component whose darkest tenth is lighter than this share of its paper may be pencil...
PENCIL_CORE_MIN = 0.35
#: ...and lighter than the page's print by this much: blur and JPEG lighten thin print
#: (its core goes from ~0.15 to ~0.5 on soft photos), so the bar follows the page's own print.
PENCIL_MARGIN = 0.2
#: the page's print level is this quantile of component cores (print outnumbers writing).
PRINT_LEVEL_QUANTILE = 0.25
#: stroke half-width bins (px) for the print level: hairline, thin, regular, bold.
WIDTH_BINS_PX = (1.2, 1.8, 2.6)
#: a width bin needs this many components to set its own print level.
MIN_BIN_COMPONENTS = 25
#: pencil dots smaller than this are not trusted (blurred print specks get light too).
PENCIL_MIN_PX = 20
#: glyph heights used for the page's print scale lie in this band (analysis px).
GLYPH_H_BAND_PX = (6, 80)
#: the page's print glyph height is this quantile of component heights (capitals, Hangul, not x-height).
GLYPH_H_QUANTILE = 0.75
#: a dark component this many print glyphs tall is a stroke, not a glyph. Width is no cue:
#: touching print glyphs merge into whole words in a soft photo, but stay one line tall.
SCRIBBLE_MIN_GLYPHS = 2.0
#: a straight run this many glyph heights long is a ruled line or a table edge.
LINE_MIN_GLYPHS = 4.0
#: ink is thickened by this much before looking for straight runs: a slightly tilted rule
#: (perspective) still contains a straight run of the kernel's length.
LINE_SLACK_PX = 5
#: a dark component this many glyph heights wide is a word or a written line; it is print
#: when its row has at least MIN_ROW_SUPPORT other pieces within ROW_WINDOW_GLYPHS of it.
WIDE_MIN_GLYPHS = 2.5
MIN_ROW_SUPPORT = 6
#: same row: vertical centres this many glyph heights apart at most.
ROW_BAND_GLYPHS = 0.35
#: neighbours on the row: at most this many glyph heights away horizontally.
ROW_WINDOW_GLYPHS = 8.0
#: an outline whose filled shape is this convex (filled area / hull area) is a printed figure
#: (triangle, circle, box); handwriting strokes are open and bent.
FIGURE_MIN_SOLIDITY = 0.88
#: ...provided it is hollow: ink covers at most this share of the filled shape.
FIGURE_MAX_INK_SHARE = 0.6
#: an outline filling this share of its enclosing circle is a ring: a circled number
#: (①-⑤, its digit touching the ring in a soft photo) or a printed circle.
RING_MIN_ROUNDNESS = 0.78
#: fallback print glyph height when the page has no print (analysis px).
DEFAULT_GLYPH_H_PX = 22


def _line_pixels(ink: npt.NDArray[np.bool_], length_px: int) -> npt.NDArray[np.bool_]:
    """Pixels on horizontal or vertical straight runs of at least ``length_px``."""
    u8 = cv2.dilate(ink.astype(np.uint8), cv2.getStructuringElement(cv2.MORPH_RECT, (LINE_SLACK_PX, LINE_SLACK_PX)))
    horiz = cv2.morphologyEx(u8, cv2.MORPH_OPEN, cv2.getStructuringElement(cv2.MORPH_RECT, (length_px, 1)))
    vert = cv2.morphologyEx(u8, cv2.MORPH_OPEN, cv2.getStructuringElement(cv2.MORPH_RECT, (1, length_px)))
    out: npt.NDArray[np.bool_] = (np.asarray(horiz) | np.asarray(vert)) > 0
    return out


def _glyph_height(comps: Components) -> float:
    """The page's print glyph height (analysis px): a high quantile of dark, glyph-sized components."""
    dark = (comps.area >= MIN_COMPONENT_PX) & (comps.chroma < CHROMA_PEN_MIN)
    band = dark & (comps.h >= GLYPH_H_BAND_PX[0]) & (comps.h <= GLYPH_H_BAND_PX[1])
    band[0] = False
    return float(np.quantile(comps.h[band], GLYPH_H_QUANTILE)) if band.any() else float(DEFAULT_GLYPH_H_PX)


def _pencil_bar(comps: Components, sized: npt.NDArray[np.bool_]) -> npt.NDArray[np.float64]:
    """Per component, the core lightness above which it is pencil.

    Blur lightens thin print more than thick print, so the page's print level
    is taken among components of similar stroke width (bins of
    :data:`WIDTH_BINS_PX`), falling back to the whole page for a sparse bin.
    """
    overall = float(np.quantile(comps.dark_p10[sized], PRINT_LEVEL_QUANTILE)) if sized.any() else 0.0
    bins = np.digitize(comps.half_width, WIDTH_BINS_PX)
    level = np.full(len(bins), overall)
    for b in np.unique(bins[sized]):
        members = sized & (bins == b)
        if members.sum() >= MIN_BIN_COMPONENTS:
            level[bins == b] = max(overall, float(np.quantile(comps.dark_p10[members], PRINT_LEVEL_QUANTILE)))
    out: npt.NDArray[np.float64] = np.maximum(PENCIL_CORE_MIN, level + PENCIL_MARGIN)
    return out


def _row_support(comps: Components, dark: npt.NDArray[np.bool_], glyph_h: float) -> npt.NDArray[np.int64]:
    """Per component, how many dark components share its text row nearby.

    Print comes in rows of many small pieces (glyphs, jamo, digits); a
    handwritten line is a few long pieces. Counted for every component: those
    whose vertical centre is within :data:`ROW_BAND_GLYPHS` glyph heights of
    its own and whose box lies within :data:`ROW_WINDOW_GLYPHS` of it.
    """
    idx = np.flatnonzero(dark)
    cy = comps.y[idx] + comps.h[idx] / 2
    x0, x1 = comps.x[idx], comps.x[idx] + comps.w[idx]
    support = np.zeros(len(comps.area), np.int64)
    band, window = ROW_BAND_GLYPHS * glyph_h, ROW_WINDOW_GLYPHS * glyph_h
    order = np.argsort(cy)
    cy_sorted = cy[order]
    for j in np.flatnonzero(comps.w[idx] >= WIDE_MIN_GLYPHS * glyph_h):
        lo = np.searchsorted(cy_sorted, cy[j] - band)
        hi = np.searchsorted(cy_sorted, cy[j] + band, side="right")
        near = order[lo:hi]
        gap = np.maximum(0, np.maximum(x0[near] - x1[j], x0[j] - x1[near]))
        support[idx[j]] = int((gap <= window).sum()) - 1
    return support


def _is_figure(labels: npt.NDArray[np.int32], label: int, box: tuple[int, int, int, int]) -> bool:
    """A closed, convex, hollow outline (a printed triangle, circle or box)."""
    x, y, w, h = box
    roi = (labels[y : y + h, x : x + w] == label).astype(np.uint8)
    contours, _ = cv2.findContours(roi, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    if not contours:
        return False
    outer = max(contours, key=cv2.contourArea)
    filled = cv2.contourArea(outer)
    hull = cv2.contourArea(cv2.convexHull(outer))
    if hull <= 0 or filled <= 0:
        return False
    if filled / hull >= FIGURE_MIN_SOLIDITY and roi.sum() / filled <= FIGURE_MAX_INK_SHARE:
        return True
    _, radius = cv2.minEnclosingCircle(outer)
    return bool(filled / (np.pi * max(radius, 1.0) ** 2) >= RING_MIN_ROUNDNESS)


def features_mask(image: npt.NDArray[np.uint8]) -> tuple[npt.NDArray[np.bool_], npt.NDArray[np.bool_]]:
    """Mask of handwritten ink on a page photo, without a reference.

    Args:
        image: ``(H, W, 3)`` BGR (colour is a strong cue) or ``(H, W)`` gray uint8.

    Returns:
        ``(hand, page)``: ``(H, W)`` bool masks, ``True`` on handwritten ink
        (grown into its faint rim) and on the paper.
    """
    norm = normalise(to_gray(image))
    page = page_mask(image)
    colour = chroma(image)
    ink = ink_mask(norm) & page
    glyph_h = _glyph_height(component_stats(ink, norm, colour))
    # printed rules, table edges and underlines go before labelling, so an underlined
    # printed word falls apart into glyphs instead of one long "stroke"
    lines = _line_pixels(ink, max(8, int(LINE_MIN_GLYPHS * glyph_h))) & (colour < CHROMA_PEN_MIN)
    comps = component_stats(ink & ~lines, norm, colour)
    big = comps.area >= MIN_COMPONENT_PX
    pen = big & (comps.chroma >= CHROMA_PEN_MIN)
    sized = comps.area >= PENCIL_MIN_PX
    sized[0] = False
    pencil = sized & (comps.dark_p10 >= _pencil_bar(comps, sized & ~pen)) & ~pen
    dark = big & ~pen & ~pencil
    tall = comps.h >= SCRIBBLE_MIN_GLYPHS * glyph_h
    wide = dark & (comps.w >= WIDE_MIN_GLYPHS * glyph_h) & ~tall
    if wide.any():
        tall |= wide & (_row_support(comps, dark, glyph_h) < MIN_ROW_SUPPORT)
    # pencil and tall dark strokes must not be figure outlines or rings
    # (thin printed shapes and circled numbers blur to pencil-grey in a soft photo)
    candidate = (dark & tall) | pencil
    candidate[0] = False
    for i in np.flatnonzero(candidate):
        box = (int(comps.x[i]), int(comps.y[i]), int(comps.w[i]), int(comps.h[i]))
        if _is_figure(comps.labels, int(i), box):
            candidate[i] = False
    hand = pen | candidate
    hand[0] = False
    return grow_faint(hand[comps.labels], norm) & page, page
