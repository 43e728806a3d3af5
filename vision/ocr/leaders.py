"""Dot leaders (``제1장 총칙 ........ 3``) found geometrically and kept away from Tesseract.

Tesseract reads a long row of dots between an entry and its page number as a
run of Hangul garbage (``이해하라아아나아아아아마마아아``): on the real
contents pages of set (c) that was 55-481 % CER per page. A leader is found
on the ink, without Tesseract, as a chain of connected components that are

* **small**: at most :data:`MAX_DOT_GLYPHS` of the text height tall (of the
  page's shorter side times :data:`MAX_DOT_PAGE` before the text height is
  known), a dot or dots run together into a flat dash (up to
  :data:`MAX_PIECE_ASPECT` times wider than tall);
* **in a row**: each next dot of similar size, its centre within
  :data:`MAX_DY_DOTS` dot sizes of the previous one's height and
  :data:`MIN_GAP_DOTS`-:data:`MAX_GAP_DOTS` dot sizes to its right, with no
  ink taller than the dots between them but grain (spacing in dot sizes: no text height is needed, so
  leaders are dropped before the text height is estimated: their dots made
  it look like 7 px text and the page was upscaled 3x);
* **long**: at least :data:`MIN_DOTS` dots;
* **leading to text**: the nearest ink beyond either end of the chain, on its
  row, is at least :data:`MIN_TEXT_OVER_DOT` times as tall as the dots (the
  entry, the page number): a row of letters of one height is not a leader.

Even spacing is not required: an ellipsis leader alternates two gaps, and on
a photo its dots run together into dashes (a white gap of 0-10 px); a
ratio test on the gaps lost every leader of such a page.

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
FloatArray = npt.NDArray[np.float64]

#: a dot is at most this share of the text height wide and tall (a 10 pt ``.`` is ~0.15, ``·`` ~0.15, ``…``'s dots ~0.12);
#: without a text height, at most this share of the page's shorter side.
MAX_DOT_GLYPHS = 0.3
MAX_DOT_PAGE = 0.02
#: ... and at most this many times taller than wide, or :data:`MAX_PIECE_ASPECT` times wider than tall
#: (dots that ran together on a photo: dense ``.`` thresholded as a dotted dash), and filling this share of its box.
MAX_DOT_ASPECT = 2.5
MAX_PIECE_ASPECT = 30.0
MIN_DOT_FILL = 0.35
#: spacing is measured in dot sizes (a dot's height), so that no text height is needed:
#: consecutive dots' centres differ in height by at most this many dot sizes,
MAX_DY_DOTS = 0.6
#: ... and are this many dot sizes apart, centre to centre (``…`` ~1.3-2 on photos, ``.`` ~3-4, spaced ``. .`` ~5-8).
MIN_GAP_DOTS = 1.0
MAX_GAP_DOTS = 10.0
#: two dots of one leader differ in size by at most this factor.
MAX_SIZE_RATIO = 2.0
#: a dot is at least this many pixels on each side (smaller specks are grain).
MIN_DOT_PX = 2
#: between two dots, ink of more pixels than this and taller than the dots by this factor breaks
#: the chain (smaller or flatter: grain, which on a photo lies between every two dots).
BLOCK_MIN_AREA = 4
BLOCK_TALLER = 1.5
#: a leader leads from text to text: the taller of its nearest neighbours on its row (the entry's
#: last letter, the page number) is at least this many times the dots' height (a row of letters
#: of one height, chained when the text height is not known yet, is not a leader) ...
MIN_TEXT_OVER_DOT = 2.5
#: ... and no further than this many dot heights away; ink taller than :data:`MAX_TEXT_OVER_DOT`
#: dot heights (the desk around a photographed sheet, a frame) is no neighbour.
MAX_NEIGHBOUR_DOTS = 30.0
MAX_TEXT_OVER_DOT = 20.0
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
    dot = ((h <= biggest) & (w <= MAX_PIECE_ASPECT * biggest) & (w >= MIN_DOT_PX) & (h >= MIN_DOT_PX)
           & (w <= MAX_PIECE_ASPECT * h) & (h <= MAX_DOT_ASPECT * w) & (area >= MIN_DOT_FILL * w * h))
    dots = np.flatnonzero(dot)
    if dots.size < MIN_DOTS:
        return out
    size = h
    # ink that breaks a chain, or that a chain leads to: all but grain specks (a few pixels); a letter
    # may pass as a "dot" while the text height is not known, so that is not asked
    blocking = area > BLOCK_MIN_AREA
    next_of: dict[int, int] = {}
    has_prev: set[int] = set()
    order = dots[np.argsort(cx[dots])]
    xs = cx[order]
    for i in order:
        lo = int(np.searchsorted(xs, cx[i] + MIN_GAP_DOTS * size[i]))
        hi = int(np.searchsorted(xs, x[i] + w[i] + MAX_GAP_DOTS * size[i], side="right"))
        cand = order[lo:hi]
        # the row, size and side tests on all candidates at once (a Python test per pair cost ~0.15 s a page)
        cand = cand[(x[cand] >= x[i] + w[i]) & (np.abs(cy[cand] - cy[i]) <= MAX_DY_DOTS * size[i])
                    & (np.maximum(size[i], size[cand]) <= MAX_SIZE_RATIO * np.minimum(size[i], size[cand]))]
        near = [j for j in cand.tolist() if j not in has_prev]
        if not near:
            continue
        j = min(near, key=lambda k: cx[k])
        # no other ink between the two dots (a digit of "1.2.3", a letter)
        # (pixels, not boxes: the desk around a photographed sheet is one component spanning the page)
        top, bottom = int(max(0, min(cy[i], cy[j]) - 2 * size[i])), int(max(cy[i], cy[j]) + 2 * size[i]) + 1
        strip = labels[top:bottom, int(x[i] + w[i]) : int(x[j])]
        touched = strip[strip > 0] - 1
        if touched.size and (blocking[touched] & (h[touched] > BLOCK_TALLER * max(size[i], size[j]))).any():
            continue
        next_of[int(i)] = int(j)
        has_prev.add(int(j))
    keep: list[int] = []
    for start in (int(i) for i in order if int(i) not in has_prev and int(i) in next_of):
        chain = [start]
        while chain[-1] in next_of:
            chain.append(next_of[chain[-1]])
        if len(chain) < MIN_DOTS or not _beside_text(chain, x, y, w, h, blocking):
            continue
        keep += chain
    if keep:
        out = np.isin(labels, np.asarray(keep) + 1).astype(np.uint8)
        # and their soft edges (the grey rim a threshold left out)
        out = np.asarray(cv2.dilate(out, np.ones((3, 3), np.uint8)), dtype=np.uint8)
    return out


def _beside_text(chain: list[int], x: FloatArray, y: FloatArray, w: FloatArray, h: FloatArray,
                 blocking: npt.NDArray[np.bool_]) -> bool:
    """Whether the chain's nearest ink on its row, left or right, is text well taller than its dots."""
    dot_h = float(np.median(h[chain]))
    top = float(min(y[k] for k in chain)) - dot_h
    bottom = float(max(y[k] + h[k] for k in chain)) + dot_h
    start, end = x[chain[0]], x[chain[-1]] + w[chain[-1]]
    row = blocking & (y < bottom) & (y + h > top) & (h <= MAX_TEXT_OVER_DOT * dot_h)
    row[chain] = False
    reach = MAX_NEIGHBOUR_DOTS * dot_h
    tallest = 0.0
    for side in (row & (x + w <= start) & (start - (x + w) <= reach), row & (x >= end) & (x - end <= reach)):
        idx = np.flatnonzero(side)
        if idx.size:
            nearest = idx[np.argmin(np.abs(np.where(x[idx] >= end, x[idx] - end, start - (x[idx] + w[idx]))))]
            tallest = max(tallest, float(h[nearest]))
    return tallest >= MIN_TEXT_OVER_DOT * dot_h
