"""Dot leaders (``제1장 총칙 ........ 3``) found geometrically and kept away from Tesseract.

Tesseract reads a long row of dots between an entry and its page number as a
run of Hangul garbage (``이해하라아아나아아아아마마아아``): on the real
contents pages of set (c) that was 55-481 % CER per page. A leader is found
on the ink, without Tesseract, as a chain of connected components that are

* **small**: at most :data:`MAX_DOT_GLYPHS` of the text height on each side,
  roughly square (aspect within :data:`MAX_DOT_ASPECT`);
* **in a row**: each next dot of similar size, its centre within
  :data:`MAX_DY_DOTS` dot sizes of the previous one's height and
  :data:`MIN_GAP_DOTS`-:data:`MAX_GAP_DOTS` dot sizes to its right, with no
  other ink between them (spacing in dot sizes: no text height is needed, so
  leaders are dropped before the text height is estimated: their dots made
  it look like 6 px text and the page was upscaled 3x);
* **evenly spaced**: the widest gap at most :data:`MAX_GAP_RATIO` times the
  narrowest (an ellipsis ``…`` leader alternates two gaps);
* **long**: at least :data:`MIN_DOTS` dots.

A period, a decimal point or ``1.2.3`` has letters or digits between its dots
and never chains. The leaders are erased from the image Tesseract reads and
from the ink the rest of the pipeline measures; nothing is emitted for them
(an entry reads ``제1장 총칙 3``, which is how the bench's truth drops them).

Examples:
    >>> import numpy as np
    >>> ink = np.zeros((40, 400), np.uint8)
    >>> ink[10:30, 10:30] = 1                   # a "letter"
    >>> for x in range(50, 340, 12):
    ...     ink[26:29, x : x + 3] = 1           # dots, 12 px apart
    >>> ink[10:30, 360:380] = 1                 # the page number
    >>> mask = find_leaders(ink, glyph_px=20.0)
    >>> int(mask[:, 50:340].sum() > 0), int(mask[:, :40].sum()), int(mask[:, 350:].sum())
    (1, 0, 0)
"""

from __future__ import annotations

import cv2
import numpy as np
import numpy.typing as npt

__all__ = ["find_leaders"]

GrayImage = npt.NDArray[np.uint8]

#: a dot is at most this share of the text height wide and tall (a 10 pt ``.`` is ~0.15, ``·`` ~0.15, ``…``'s dots ~0.12);
#: without a text height, at most this share of the page's shorter side.
MAX_DOT_GLYPHS = 0.3
MAX_DOT_PAGE = 0.02
#: ... and at most this many times wider than tall or taller than wide, and filling this share of its box.
MAX_DOT_ASPECT = 2.5
MIN_DOT_FILL = 0.35
#: spacing is measured in dot sizes (the larger side of a dot), so that no text height is needed:
#: consecutive dots' centres differ in height by at most this many dot sizes,
MAX_DY_DOTS = 0.6
#: ... and are this many dot sizes apart (``…`` ~2, ``.`` ~3-4, spaced ``. .`` ~5-8).
MIN_GAP_DOTS = 1.3
MAX_GAP_DOTS = 10.0
#: two dots of one leader differ in size by at most this factor.
MAX_SIZE_RATIO = 2.0
#: the widest gap of a leader is at most this many times its narrowest.
MAX_GAP_RATIO = 3.0
#: a dot is at least this many pixels on each side (smaller specks are grain).
MIN_DOT_PX = 2
#: fewer dots than this is not a leader (an ellipsis in a sentence has 3, ``....`` 4).
MIN_DOTS = 6


def find_leaders(ink: GrayImage, glyph_px: float = 0.0) -> GrayImage:
    """1 on the dots of every dot leader of ``ink`` (``(H, W)``, 1 where there is ink), 0 elsewhere.

    ``glyph_px`` (the text height, 0 when not known yet) only bounds a dot's size.
    """
    out = np.zeros_like(ink)
    if not ink.any():
        return out
    n, labels, stats, centroids = cv2.connectedComponentsWithStats((ink > 0).astype(np.uint8), connectivity=8)
    if n <= MIN_DOTS:
        return out
    x, y, w, h, area = (stats[1:, i].astype(np.float64) for i in range(5))
    cx, cy = centroids[1:, 0], centroids[1:, 1]
    biggest = MAX_DOT_GLYPHS * glyph_px if glyph_px > 0 else MAX_DOT_PAGE * min(ink.shape)
    dot = ((w <= biggest) & (h <= biggest) & (w >= MIN_DOT_PX) & (h >= MIN_DOT_PX)
           & (w <= MAX_DOT_ASPECT * h) & (h <= MAX_DOT_ASPECT * w) & (area >= MIN_DOT_FILL * w * h))
    dots = np.flatnonzero(dot)
    if dots.size < MIN_DOTS:
        return out
    size = np.maximum(w, h)
    others = np.flatnonzero(~dot & (area > 1))
    ox0, oy0, ox1, oy1 = x[others], y[others], x[others] + w[others], y[others] + h[others]
    next_of: dict[int, int] = {}
    has_prev: set[int] = set()
    order = dots[np.argsort(cx[dots])]
    xs = cx[order]
    for i in order:
        lo = int(np.searchsorted(xs, cx[i] + MIN_GAP_DOTS * size[i]))
        hi = int(np.searchsorted(xs, cx[i] + MAX_GAP_DOTS * size[i], side="right"))
        near = [j for j in order[lo:hi] if abs(cy[j] - cy[i]) <= MAX_DY_DOTS * size[i] and j not in has_prev
                and max(size[i], size[j]) <= MAX_SIZE_RATIO * min(size[i], size[j])]
        if not near:
            continue
        j = min(near, key=lambda k: cx[k])
        # no other ink between the two dots (a digit of "1.2.3", a letter)
        top, bottom = min(cy[i], cy[j]) - 2 * size[i], max(cy[i], cy[j]) + 2 * size[i]
        between = (ox0 < x[j]) & (ox1 > x[i] + w[i]) & (oy0 < bottom) & (oy1 > top)
        if between.any():
            continue
        next_of[int(i)] = int(j)
        has_prev.add(int(j))
    keep: list[int] = []
    for start in (int(i) for i in order if int(i) not in has_prev and int(i) in next_of):
        chain = [start]
        while chain[-1] in next_of:
            chain.append(next_of[chain[-1]])
        if len(chain) < MIN_DOTS:
            continue
        gaps = np.diff(cx[chain])
        if gaps.max() > MAX_GAP_RATIO * max(gaps.min(), 1e-6):
            continue
        keep += chain
    if keep:
        out = np.isin(labels, np.asarray(keep) + 1).astype(np.uint8)
        # and their soft edges (the grey rim a threshold left out)
        out = np.asarray(cv2.dilate(out, np.ones((3, 3), np.uint8)), dtype=np.uint8)
    return out
