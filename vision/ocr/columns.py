"""Find the columns of a page before OCR, so two-column exams do not read as merged lines.

Tesseract in ``--psm 6`` reads a region as one block of lines; on a
two-column page each printed line would then be the left column's line
glued to the right column's. The gutter is found first:

1. vertical rules (a line between the columns) are removed from the ink;
2. the page is cut into thin horizontal slabs; a candidate gutter ``x`` is
   good in a slab when the slab has no ink within half a glyph of ``x`` and
   has ink on both sides of it;
3. the ``x`` in the middle half of the page that is good in the most slabs
   is the gutter, if it is good in at least :data:`MIN_SPLIT_SLABS`;
4. consecutive slabs blank at the gutter form a two-column *segment* (left
   then right in reading order); slabs inked across it (a title, a
   full-width passage) a full-width one. Segment borders snap to the emptiest
   row nearby so no text line is cut.

Frames:
    Regions are ``(x, y, w, h)`` in the pixels of the ink mask given, in
    reading order.

Examples:
    >>> import numpy as np
    >>> ink = np.zeros((400, 600), np.uint8)
    >>> for y in range(40, 360, 30):
    ...     ink[y:y + 14, 40:270:6] = 1; ink[y:y + 14, 330:560:6] = 1   # two columns of lines
    >>> [r for r in find_columns(ink, glyph_px=14)]
    [(0, 0, 299, 400), (299, 0, 301, 400)]
    >>> find_columns(np.zeros((50, 50), np.uint8), glyph_px=10)
    [(0, 0, 50, 50)]
"""

from __future__ import annotations

import cv2
import numpy as np
import numpy.typing as npt

from vision.ocr.types import BoxXYWH

__all__ = ["find_columns", "gutter_crossings"]

GrayImage = npt.NDArray[np.uint8]

#: the gutter is searched in this band of the page width (exam columns are near-equal).
GUTTER_SEARCH = (0.25, 0.75)
#: a gutter is this many glyph heights wide at least (word spaces are ~0.3).
MIN_GUTTER_GLYPHS = 0.8
#: slab height in glyph heights: two slabs per text line.
SLAB_GLYPHS = 0.5
#: a vertical run this many glyph heights long is a rule, not text.
RULE_GLYPHS = 4.0
#: the right column's text starts within this many glyph heights of the gutter
#: (lines are flush left; a short line's end far from the next text is not a gutter).
COLUMN_REACH_GLYPHS = 5.0
#: gutter candidates need this share of the best candidate's support.
GUTTER_SUPPORT = 0.8
#: a two-column segment needs this many good slabs (about eight text lines on both
#: sides; a row of widely spaced choices ① 5   ② 8 ... must not look like columns).
MIN_SPLIT_SLABS = 16


def find_columns(ink: GrayImage, *, glyph_px: float) -> list[BoxXYWH]:
    """The page's reading regions: full-width segments whole, two-column segments left then right."""
    h, w = ink.shape
    whole = [(0, 0, w, h)]
    if glyph_px <= 0 or h < 4 or w < 4:
        return whole
    text = _without_vertical_rules(ink, glyph_px)
    slab = max(2, int(glyph_px * SLAB_GLYPHS))
    n = h // slab
    if n < MIN_SPLIT_SLABS:
        return whole
    inked: npt.NDArray[np.bool_] = np.asarray(text[: n * slab].reshape(n, slab, w).any(axis=1), dtype=bool)  # (n, W)
    half = max(2, int(glyph_px * MIN_GUTTER_GLYPHS / 2))
    near = cv2.dilate(inked.astype(np.uint8), np.ones((1, 2 * half + 1), np.uint8)) > 0
    reach = max(half + 1, int(glyph_px * COLUMN_REACH_GLYPHS))
    grown = cv2.dilate(inked.astype(np.uint8), np.ones((1, reach), np.uint8), anchor=(0, 0)) > 0
    left = np.cumsum(inked, axis=1) > 0  # any ink to the left of x (a column's right edge is ragged)
    right = grown  # anchored left: ink within ``reach`` to the right of x (a column starts flush)
    lo, hi = int(w * GUTTER_SEARCH[0]), int(w * GUTTER_SEARCH[1])
    if hi - lo < 1 or lo - half < 0 or hi + half >= w:
        return whole
    xs = np.arange(lo, hi)
    good = ~near[:, xs] & left[:, xs - half] & right[:, xs + half]
    score = good.sum(axis=0)
    best = int(score.max())
    if best < MIN_SPLIT_SLABS:
        return whole
    # among the well-supported candidates, the one crossed by the fewest
    # slabs (the true gutter, not the ragged right edge of the left column);
    # ties: the middle of the white corridor
    has_text = np.asarray(inked.any(axis=1), dtype=bool)
    crossings = (near[:, xs] & has_text[:, None]).sum(axis=0)
    crossings = np.where(score >= GUTTER_SUPPORT * best, crossings, np.iinfo(np.int64).max)
    plateau = xs[crossings == crossings.min()]
    gutter = int(plateau[len(plateau) // 2])
    return _segments(text, inked, near[:, gutter], good[:, gutter - lo], gutter, slab)


def gutter_crossings(ink: GrayImage, gutters: list[int], *, glyph_px: float) -> list[int]:
    """For each column in ``gutters``: how many text slabs (vertical rules removed) have ink within half a gutter of it.

    Compares splits of one page: a text line crossing the gutter is cut in two.
    The rules are removed once for all the gutters.

    Examples:
        >>> ink = np.zeros((400, 600), np.uint8)
        >>> for y in range(40, 360, 30): ink[y:y + 14, 40:270:6] = 1; ink[y:y + 14, 330:560:6] = 1
        >>> crossed = gutter_crossings(ink, [299, 200], glyph_px=14)
        >>> crossed[0], crossed[1] > 0
        (0, True)
    """
    h, w = ink.shape
    slab = max(2, int(glyph_px * SLAB_GLYPHS))
    half = max(2, int(glyph_px * MIN_GUTTER_GLYPHS / 2))
    n = h // slab
    if n < 1:
        return [0] * len(gutters)
    text = _without_vertical_rules(ink, glyph_px)[: n * slab]
    crossed: list[int] = []
    for gutter in gutters:
        band = text[:, max(0, gutter - half) : gutter + half + 1] if 0 <= gutter < w else text[:, :0]
        crossed.append(int(np.count_nonzero(band.reshape(n, slab, -1).any(axis=(1, 2)))) if band.size else 0)
    return crossed


def _without_vertical_rules(ink: GrayImage, glyph_px: float) -> GrayImage:
    length = max(3, int(glyph_px * RULE_GLYPHS))
    rules = np.asarray(cv2.morphologyEx(ink, cv2.MORPH_OPEN, np.ones((length, 1), np.uint8)), dtype=np.uint8)
    return np.asarray(ink & (1 - rules), dtype=np.uint8)


def _segments(
    text: GrayImage,
    inked: npt.NDArray[np.bool_],
    crossed: npt.NDArray[np.bool_],
    good: npt.NDArray[np.bool_],
    gutter: int,
    slab: int,
) -> list[BoxXYWH]:
    h, w = text.shape
    has_text = np.asarray(inked.any(axis=1), dtype=bool)
    # state per slab: True = split at the gutter; blank slabs follow the previous state
    state: list[bool] = []
    current = not bool(crossed[has_text][0]) if has_text.any() else False
    for i in range(len(has_text)):
        if has_text[i]:
            current = not bool(crossed[i])
        state.append(current)
    # runs of equal state; a split run with too few good slabs is read full width
    runs: list[tuple[int, int, bool]] = []
    start = 0
    for i in range(1, len(state) + 1):
        if i == len(state) or state[i] != state[start]:
            split = state[start] and int(good[start:i].sum()) >= MIN_SPLIT_SLABS
            if runs and runs[-1][2] == split:
                runs[-1] = (runs[-1][0], i, split)
            else:
                runs.append((start, i, split))
            start = i
    row_ink = np.count_nonzero(text, axis=1)
    regions: list[BoxXYWH] = []
    y0 = 0
    for k, (_, end, split) in enumerate(runs):
        y1 = h if k == len(runs) - 1 else _quiet_row(row_ink, end * slab, slab)
        if y1 <= y0:
            continue
        if split:
            regions += [(0, y0, gutter, y1 - y0), (gutter, y0, w - gutter, y1 - y0)]
        else:
            regions.append((0, y0, w, y1 - y0))
        y0 = y1
    return [r for r in regions if text[r[1] : r[1] + r[3], r[0] : r[0] + r[2]].any()] or [(0, 0, w, h)]


def _quiet_row(row_ink: npt.NDArray[np.int64], y: int, reach: int) -> int:
    """The row with the least ink within ``reach`` of ``y`` (a cut that splits no line)."""
    lo, hi = max(0, y - reach), min(len(row_ink), y + reach + 1)
    return lo + int(np.argmin(row_ink[lo:hi]))
