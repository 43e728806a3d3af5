"""Handwriting without a blank reference: told from print by its own features.

Each ink component (8-connected) is described by :func:`stroke_table` and
judged by the learned stroke classifier (:mod:`vision.handwriting.classifier`,
trees trained from the page generators). Its inputs start from what print
rarely has, once hand-written rules and now features among others:

* **colour** -- blue and red pens are colourful (Lab chroma), print is black;
* **lightness** -- a pencil stroke's *core* (10th-percentile pixel) stays
  light grey (normalised ~0.4-0.8) where even a thin, blurred print stroke
  has a near-black core;
* **shape** -- a black-pen stroke is larger than the page's print glyphs
  (measured on the page: the median glyph height) without being a ruled
  line or a table (a long straight horizontal or vertical run, looked for
  on the levelled page when the photo is tilted);
* **rows** -- print stands in long rows of same-size glyphs on one baseline;
  handwriting has few neighbours and wanders.

Black-pen digits the size of print glyphs, sitting on a printed line, are the
case this method finds only in part (a third to a half of the ink): give a blank reference for those
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

from dataclasses import dataclass
from functools import lru_cache

import cv2
import numpy as np
import numpy.typing as npt

from vision.handwriting.classifier import StrokeModel, load_model
from vision.handwriting.components import Components, component_stats
from vision.handwriting.ink import chroma, grow_faint, ink_mask, normalise, to_gray
from vision.handwriting.page import page_outline

__all__ = ["FEATURE_NAMES", "StrokeTable", "features_mask", "stroke_table"]

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
#: same-size glyphs: heights within this share of each other (and tops within BASELINE_GLYPHS).
SAME_HEIGHT_SHARE = 0.12
#: a piece this many glyph heights thin (at least 2 px) is a line fragment candidate...
THIN_GLYPHS = 0.2
#: ...and lies on another's line when their centres are this many glyph heights apart across it.
COLLINEAR_GLYPHS = 0.08
#: a page tilted less than this (degrees) is looked at as it is; more, and rules and rows are
#: found on the levelled page (a 1 degree tilt moves a 90 px rule by 1.6 px, within LINE_SLACK_PX).
MIN_TILT_DEG = 1.0
#: neighbours on one baseline: bottoms at most this many glyph heights apart.
BASELINE_GLYPHS = 0.08
#: a component is handwriting when the stroke classifier gives it at least this probability.
STROKE_MIN_PROBABILITY = 0.5
#: chroma above this is clipped in the classifier's input (a saturated pen is a pen).
CHROMA_CLIP = 60.0
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


def _line_pixels(ink: npt.NDArray[np.bool_], length_px: int, level: npt.NDArray[np.float64] | None = None) -> npt.NDArray[np.bool_]:
    """Pixels on horizontal or vertical straight runs of at least ``length_px``.

    ``level``: the ``(2, 3)`` rotation that levels a tilted page (its rules are
    looked for on the levelled ink and mapped back), or ``None``.
    """
    h, w = ink.shape
    u8 = ink.astype(np.uint8)
    if level is not None:
        u8 = np.asarray(cv2.warpAffine(u8, level, (w, h), flags=cv2.INTER_NEAREST), np.uint8)
    u8 = np.asarray(cv2.dilate(u8, cv2.getStructuringElement(cv2.MORPH_RECT, (LINE_SLACK_PX, LINE_SLACK_PX))), np.uint8)
    horiz = cv2.morphologyEx(u8, cv2.MORPH_OPEN, cv2.getStructuringElement(cv2.MORPH_RECT, (length_px, 1)))
    vert = cv2.morphologyEx(u8, cv2.MORPH_OPEN, cv2.getStructuringElement(cv2.MORPH_RECT, (1, length_px)))
    both = np.asarray(np.asarray(horiz) | np.asarray(vert), np.uint8)
    if level is not None:
        both = np.asarray(cv2.warpAffine(both, cv2.invertAffineTransform(level), (w, h), flags=cv2.INTER_NEAREST), np.uint8)
    out: npt.NDArray[np.bool_] = both > 0
    return out


def _glyph_height(comps: Components) -> float:
    """The page's print glyph height (analysis px): a high quantile of dark, glyph-sized components."""
    dark = (comps.area >= MIN_COMPONENT_PX) & (comps.chroma < CHROMA_PEN_MIN)
    band = dark & (comps.h >= GLYPH_H_BAND_PX[0]) & (comps.h <= GLYPH_H_BAND_PX[1])
    band[0] = False
    return float(np.quantile(comps.h[band], GLYPH_H_QUANTILE)) if band.any() else float(DEFAULT_GLYPH_H_PX)


def _print_level(comps: Components, sized: npt.NDArray[np.bool_]) -> npt.NDArray[np.float64]:
    """Per component, the core lightness of the page's print of its stroke width.

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
    return level


def _row_support(comps: Components, dark: npt.NDArray[np.bool_], glyph_h: float,
                 level: npt.NDArray[np.float64] | None = None) -> tuple[
        npt.NDArray[np.int64], npt.NDArray[np.int64], npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    """Per component, how many dark components share its text row nearby, and how many share its baseline.

    Print comes in rows of many small pieces (glyphs, jamo, digits) standing
    on one baseline; a handwritten line is a few long pieces, and written
    digits wander up and down. Counted for every dark component: those whose
    vertical centre is within :data:`ROW_BAND_GLYPHS` glyph heights of its
    own and whose box lies within :data:`ROW_WINDOW_GLYPHS` of it; of those,
    the ones whose bottom is within :data:`BASELINE_GLYPHS` of its bottom;
    the ones of its own height (within :data:`SAME_HEIGHT_SHARE`) whose top
    is as close (typeset glyphs of one line); and, for a thin piece, the thin
    pieces on its own horizontal or vertical line (what is left of a light
    grid, a dashed or dotted rule). Positions are taken on the levelled page when ``level`` (a ``(2, 3)``
    rotation) is given.
    """
    idx = np.flatnonzero(dark)
    cx = comps.x[idx] + comps.w[idx] / 2
    cy = comps.y[idx] + comps.h[idx] / 2
    bottom = (comps.y[idx] + comps.h[idx]).astype(np.float64)
    top = comps.y[idx].astype(np.float64)
    if level is not None:
        cx, cy, bottom, top = (level[0, 0] * cx + level[0, 1] * cy + level[0, 2],
                               level[1, 0] * cx + level[1, 1] * cy + level[1, 2],
                               level[1, 0] * cx + level[1, 1] * bottom + level[1, 2],
                               level[1, 0] * cx + level[1, 1] * top + level[1, 2])
    hgt = comps.h[idx].astype(np.float64)
    wid = comps.w[idx].astype(np.float64)
    thin_limit = max(2.0, THIN_GLYPHS * glyph_h)
    thin_h = hgt <= thin_limit
    thin_v = wid <= thin_limit
    x0, x1 = cx - comps.w[idx] / 2, cx + comps.w[idx] / 2
    support = np.zeros(len(comps.area), np.int64)
    base = np.zeros(len(comps.area), np.int64)
    same = np.zeros(len(comps.area), np.int64)
    collinear = np.zeros(len(comps.area), np.int64)
    tol = max(2.0, COLLINEAR_GLYPHS * glyph_h)
    band, window = ROW_BAND_GLYPHS * glyph_h, ROW_WINDOW_GLYPHS * glyph_h
    order = np.argsort(cy)
    cy_sorted = cy[order]
    lo_all = np.searchsorted(cy_sorted, cy - band)
    hi_all = np.searchsorted(cy_sorted, cy + band, side="right")
    for j in range(len(idx)):
        near = order[lo_all[j]:hi_all[j]]
        gap = np.maximum(0, np.maximum(x0[near] - x1[j], x0[j] - x1[near]))
        on_row = gap <= window
        support[idx[j]] = int(on_row.sum()) - 1
        base[idx[j]] = int((on_row & (np.abs(bottom[near] - bottom[j]) <= BASELINE_GLYPHS * glyph_h)).sum()) - 1
        same[idx[j]] = int((on_row & (np.abs(top[near] - top[j]) <= BASELINE_GLYPHS * glyph_h)
                            & (np.abs(hgt[near] - hgt[j]) <= SAME_HEIGHT_SHARE * hgt[j])).sum()) - 1
    # thin pieces on one line: a horizontal one among horizontal ones, a vertical one among vertical ones
    for thin, across in ((thin_h, cy), (thin_v, cx)):
        members = np.flatnonzero(thin)
        if len(members) < 2:
            continue
        order_t = members[np.argsort(across[members])]
        pos = across[order_t]
        lo = np.searchsorted(pos, pos - tol)
        hi = np.searchsorted(pos, pos + tol, side="right")
        collinear[idx[order_t]] = np.maximum(collinear[idx[order_t]], hi - lo - 1)
    return support, base, same, collinear


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



#: the stroke classifier's inputs, one column each (see :func:`stroke_table`).
FEATURE_NAMES = (
    "log_area", "log_h", "log_w", "fill", "dark", "dark_rel", "dark50", "chroma", "chroma_rel",
    "width_mean", "width_max", "row", "baseline", "same_size", "collinear", "rule_pen", "rule_pencil", "rule_tall", "rule_wide",
)


@dataclass(frozen=True, eq=False)
class StrokeTable:
    """Ink components of a page and their classifier features.

    Args:
        comps: the components (print rules removed).
        x: ``(count + 1, len(FEATURE_NAMES))`` float features per label (row 0 unused).
        big: ``(count + 1,)`` bool, components large enough to judge.
        norm: ``(H, W)`` float32 normalised page (1 = paper).
        page: ``(H, W)`` bool paper mask.
    """

    comps: Components
    x: npt.NDArray[np.float64]
    big: npt.NDArray[np.bool_]
    norm: npt.NDArray[np.float32]
    page: npt.NDArray[np.bool_]


def _ratio_to_median(values: npt.NDArray[np.float64], among: npt.NDArray[np.bool_]) -> npt.NDArray[np.float64]:
    ref = float(np.median(values[among])) if among.any() else 1.0
    out: npt.NDArray[np.float64] = values / max(ref, 1e-3)
    return out


def stroke_table(image: npt.NDArray[np.uint8]) -> StrokeTable:
    """Components of the page's ink and their features (analysis frame ``(H, W)``).

    The rule-based cues of the module docstring (coloured, pencil-grey, tall,
    wide and alone on its row) are inputs among others: stroke width and
    darkness relative to the page's own print, fill, size relative to the
    page's glyph height, and how many pieces share the component's row and
    baseline (print stands on baselines; handwriting wanders).
    """
    norm = normalise(to_gray(image))
    page, angle = page_outline(image)
    h, w = norm.shape
    levelling = (np.asarray(cv2.getRotationMatrix2D((w / 2, h / 2), angle, 1.0), np.float64)
                 if abs(angle) >= MIN_TILT_DEG else None)
    colour = chroma(image)
    ink = ink_mask(norm) & page
    glyph_h = _glyph_height(component_stats(ink, norm, colour))
    # printed rules, table edges and underlines go before labelling, so an underlined
    # printed word falls apart into glyphs instead of one long "stroke"
    lines = _line_pixels(ink, max(8, int(LINE_MIN_GLYPHS * glyph_h)), levelling) & (colour < CHROMA_PEN_MIN)
    comps = component_stats(ink & ~lines, norm, colour)
    big = comps.area >= MIN_COMPONENT_PX
    big[0] = False
    pen = big & (comps.chroma >= CHROMA_PEN_MIN)
    sized = comps.area >= PENCIL_MIN_PX
    sized[0] = False
    level = _print_level(comps, sized & ~pen)
    pencil = sized & (comps.dark_p10 >= np.maximum(PENCIL_CORE_MIN, level + PENCIL_MARGIN)) & ~pen
    dark = big & ~pen & ~pencil
    tall = comps.h >= SCRIBBLE_MIN_GLYPHS * glyph_h
    support, base, same, collinear = _row_support(comps, big, glyph_h, levelling)
    wide = dark & (comps.w >= WIDE_MIN_GLYPHS * glyph_h) & ~tall & (support < MIN_ROW_SUPPORT)
    print_like = sized & ~pen
    chroma_c = np.minimum(comps.chroma, CHROMA_CLIP)
    print_chroma = float(np.median(chroma_c[print_like])) if print_like.any() else 0.0
    hw = np.maximum(comps.w, 1) * np.maximum(comps.h, 1)
    x = np.column_stack([
        np.log(np.maximum(comps.area, 1)),
        np.log(np.maximum(comps.h, 1) / glyph_h),
        np.log(np.maximum(comps.w, 1) / glyph_h),
        comps.area / hw,
        comps.dark_p10,
        comps.dark_p10 - level,
        comps.dark_p50,
        chroma_c,
        chroma_c - print_chroma,
        _ratio_to_median(comps.mean_half_width, print_like),
        _ratio_to_median(comps.half_width, print_like),
        np.log1p(support),
        np.log1p(base),
        np.log1p(same),
        np.log1p(collinear),
        pen, pencil, dark & tall, wide,
    ]).astype(np.float64)
    return StrokeTable(comps, x, big, norm, page)


@lru_cache(maxsize=1)
def _model() -> StrokeModel:
    return load_model()


def features_mask(
    image: npt.NDArray[np.uint8], model: StrokeModel | None = None
) -> tuple[npt.NDArray[np.bool_], npt.NDArray[np.bool_]]:
    """Mask of handwritten ink on a page photo, without a reference.

    Args:
        image: ``(H, W, 3)`` BGR (colour is a strong cue) or ``(H, W)`` gray uint8.
        model: the stroke classifier; the shipped one when ``None``.

    Returns:
        ``(hand, page)``: ``(H, W)`` bool masks, ``True`` on handwritten ink
        (grown into its faint rim) and on the paper.
    """
    table = stroke_table(image)
    comps = table.comps
    prob = (model or _model()).probability(table.x)
    hand = table.big & (prob >= STROKE_MIN_PROBABILITY)
    # dark or grey candidates must not be figure outlines or rings (thin printed shapes and
    # circled numbers blur to pencil-grey in a soft photo); coloured ones are pens whatever their shape
    check = hand & (table.x[:, FEATURE_NAMES.index("rule_pen")] == 0)
    for i in np.flatnonzero(check):
        box = (int(comps.x[i]), int(comps.y[i]), int(comps.w[i]), int(comps.h[i]))
        if _is_figure(comps.labels, int(i), box):
            hand[i] = False
    hand[0] = False
    return grow_faint(hand[comps.labels], table.norm) & table.page, table.page
