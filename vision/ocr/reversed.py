"""Reversed text (white or light letters on a dark or coloured band) turned into ink on paper.

Exam headings, table headers and slide titles are often printed white on a
coloured band. Tesseract reads such a band as one dark blob (``QOnssjm 트로``)
and a global or local threshold keeps the band as ink with holes where the
letters are. On the independent bench (set b) the heading band was lost or
garbled on every page, about 5 % of a page's characters.

Each band is found and rewritten on the gray page, per region (its own
levels, so any band colour works, and a photo's light falloff does not matter):

1. *dark* pixels: darker than :data:`DARK_SHARE` of the paper's brightness
   (after a light smoothing, so that grain does not break the band);
2. *solid*: the dark mask opened with a square of :data:`SOLID_PX` (at
   200 dpi; scaled with the page's width): letters' strokes vanish, a band
   stays;
3. a *band*: a solid component at least :data:`MIN_BAND_WH_PX` in size whose
   box is mostly dark (:data:`MIN_BAND_FILL`) and holds light pixels (the
   letters; :data:`LETTER_SHARE`) nearly as bright as paper
   (:data:`MIN_LETTER_SHARE`);
4. inside the band's box the letters (light components not touching the
   box's border, where the paper and the band's soft edge are) are stretched
   from the band's level (paper) to their own (ink black); the rest of the
   box becomes paper, at the grey level of the paper around the band.

A band without letters (a solid bar, a dark picture with few light pixels)
is left alone.

Frames:
    The image keeps its size; nothing moves.

Examples:
    >>> page = np.full((300, 600), 245, np.uint8)
    >>> page[40:100, 30:570] = 70                     # a purple band
    >>> for x in range(60, 400, 12): page[55:85, x:x + 4] = 250   # its white letters
    >>> out = lift_reversed_text(page)
    >>> int(out[50, 40]), int(out[65, 61]), int(out[200, 300])   # band -> paper, letter -> ink, paper kept
    (245, 0, 245)
"""

from __future__ import annotations

import cv2
import numpy as np
import numpy.typing as npt

__all__ = ["find_reversed_bands", "lift_reversed_text"]

GrayImage = npt.NDArray[np.uint8]

#: a pixel darker than this share of the paper's brightness (90th percentile) is dark.
DARK_SHARE = 0.6
#: opening square (px at a 1654 px wide page, A4 at 200 dpi) that removes letter
#: strokes (a bold 20 pt stroke is ~6 px there) but keeps a band.
SOLID_PX = 13
#: page width :data:`SOLID_PX` refers to.
REFERENCE_WIDTH_PX = 1654
#: smallest band (width, height) in px at that width: a heading band, a table header cell.
MIN_BAND_WH_PX = (60, 24)
#: share of the band's box that is dark (a band is a filled rectangle).
MIN_BAND_FILL = 0.55
#: share of the band's box that is light (its letters): some, and not most.
LETTER_SHARE = (0.03, 0.45)
#: the letters (the box's 99th percentile) are near paper white: at least this share of
#: the paper's brightness (a grey table header in a photo's shadow holds dark letters, not light ones).
MIN_LETTER_SHARE = 0.75
#: the band's soft edge outside its dark box (px at :data:`REFERENCE_WIDTH_PX`), made paper.
EDGE_PX = 10
#: smoothing (px) before the dark mask, so that photo grain does not break the band.
SMOOTH_PX = 1.5


def find_reversed_bands(gray: GrayImage) -> list[tuple[int, int, int, int]]:
    """Boxes ``(x, y, w, h)`` of the dark bands holding light letters in ``gray`` (``(H, W)`` uint8)."""
    h, w = gray.shape
    f = w / REFERENCE_WIDTH_PX
    smooth = cv2.GaussianBlur(gray, (0, 0), SMOOTH_PX)
    paper = float(np.percentile(smooth, 90))
    dark = (smooth < DARK_SHARE * paper).astype(np.uint8)
    if not dark.any():
        return []
    k = max(3, round(SOLID_PX * f)) | 1
    solid = cv2.morphologyEx(dark, cv2.MORPH_OPEN, np.ones((k, k), np.uint8))
    count, _, stats, _ = cv2.connectedComponentsWithStats(solid, connectivity=8)
    min_w, min_h = MIN_BAND_WH_PX[0] * f, MIN_BAND_WH_PX[1] * f
    out: list[tuple[int, int, int, int]] = []
    for label in range(1, count):
        x, y, bw, bh, _ = (int(v) for v in stats[label])
        if bw < min_w or bh < min_h:
            continue
        box_dark = dark[y : y + bh, x : x + bw]
        fill = float(box_dark.mean())
        box = smooth[y : y + bh, x : x + bw]
        light = float((box > DARK_SHARE * paper).mean())
        letters = float(np.percentile(box, 99))
        if fill >= MIN_BAND_FILL and LETTER_SHARE[0] <= light <= LETTER_SHARE[1] and letters >= MIN_LETTER_SHARE * paper:
            out.append((x, y, bw, bh))
    return out


def lift_reversed_text(gray: GrayImage) -> GrayImage:
    """``gray`` with each reversed band (:func:`find_reversed_bands`) rewritten as dark letters on white.

    Returns ``gray`` itself when there is no band.
    """
    bands = find_reversed_bands(gray)
    if not bands:
        return gray
    out = gray.copy()
    smooth = cv2.GaussianBlur(gray, (0, 0), SMOOTH_PX)
    h, w = gray.shape
    margin = max(1, round(EDGE_PX * w / REFERENCE_WIDTH_PX))
    for bx, by, bbw, bbh in bands:
        # the band's soft edge (blur, a photo's defocus) lies just outside its dark box: paper too
        x, y = max(0, bx - margin), max(0, by - margin)
        bw, bh = min(w, bx + bbw + margin) - x, min(h, by + bbh + margin) - y
        region = gray[y : y + bh, x : x + bw].astype(np.float32)
        band_level = float(np.percentile(region, 50))
        letter_level = float(np.percentile(region, 99))
        if letter_level - band_level < 1.0:
            continue
        letters = _enclosed(smooth[y : y + bh, x : x + bw] > (band_level + letter_level) / 2.0)
        stretched = np.clip((region - band_level) / (letter_level - band_level), 0.0, 1.0)
        paper = _paper_around(gray, (x, y, bw, bh), margin)
        out[y : y + bh, x : x + bw] = np.where(letters, paper * (1.0 - stretched), paper).astype(np.uint8)
    return out


def _paper_around(gray: GrayImage, box: tuple[int, int, int, int], margin: int) -> float:
    """The paper's grey level just around ``box`` (its median in a ring ``margin`` wide): the band
    becomes that paper, not white (white on a dim photo's paper would be an edge, thresholded as a frame)."""
    h, w = gray.shape
    x, y, bw, bh = box
    x0, y0, x1, y1 = max(0, x - margin), max(0, y - margin), min(w, x + bw + margin), min(h, y + bh + margin)
    ring = np.ones((y1 - y0, x1 - x0), bool)
    ring[y - y0 : y - y0 + bh, x - x0 : x - x0 + bw] = False
    values = gray[y0:y1, x0:x1][ring]
    return float(np.percentile(values, 75)) if values.size else 255.0


def _enclosed(light: npt.NDArray[np.bool_]) -> npt.NDArray[np.bool_]:
    """The light components inside the band (not touching its box's border: the paper
    around the band and its soft edge), grown by a pixel to keep their anti-aliased rims.

    Examples:
        >>> light = np.zeros((9, 12), bool); light[0, :] = True; light[4:6, 4:7] = True
        >>> m = _enclosed(light)
        >>> bool(m[0].any()), bool(m[4, 5]), bool(m[3, 5])
        (False, True, True)
    """
    count, labels, stats, _ = cv2.connectedComponentsWithStats(light.astype(np.uint8), connectivity=8)
    h, w = light.shape
    x0, y0 = stats[:, cv2.CC_STAT_LEFT], stats[:, cv2.CC_STAT_TOP]
    x1, y1 = x0 + stats[:, cv2.CC_STAT_WIDTH], y0 + stats[:, cv2.CC_STAT_HEIGHT]
    inside = (x0 > 0) & (y0 > 0) & (x1 < w) & (y1 < h)
    inside[0] = False
    mask = inside[labels].astype(np.uint8)
    return np.asarray(cv2.dilate(mask, np.ones((3, 3), np.uint8)) > 0, dtype=bool)
