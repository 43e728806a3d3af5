"""Which handwriting looks like calculation.

Definition (what ``calculation_score`` measures): the share of handwritten
ink pixels that belong to *symbol runs* -- digit-sized marks (height
:data:`GLYPH_H_PX`) or short horizontal bars (``-``, ``=``, fraction bars),
with at least one other such mark beside them on the same line within
:data:`NEIGHBOUR_GAP_GLYPHS` glyph heights. Long strokes, cursive lines,
drawings and scribbles are writing but not calculation. Handwritten words
printed letter by letter also form symbol runs; without reading them (OCR)
the score cannot tell ``x+3=5`` from ``cat``, so it says "symbol-like", and
is highest on pages of worked arithmetic.

Frames:
    Analysis frame ``(H, W)``; masks are ``bool``.

Examples:
    >>> import numpy as np, cv2
    >>> m = np.zeros((200, 400), np.uint8)
    >>> _ = cv2.putText(m, "12+35=47", (10, 60), cv2.FONT_HERSHEY_SIMPLEX, 1.0, 255, 2)
    >>> _ = cv2.ellipse(m, (250, 140), (120, 40), 0, 0, 300, 255, 3)  # a drawing
    >>> calc = calculation_mask(m > 0)
    >>> bool(calc[30:70, :200].sum() > 0.8 * (m[30:70, :200] > 0).sum()), int(calc[100:, :].sum())
    (True, 0)
"""

from __future__ import annotations

import cv2
import numpy as np
import numpy.typing as npt

__all__ = ["calculation_mask"]

#: digit-sized marks are this tall (analysis px, ~2-9 mm on an A4 page at 2000 px).
GLYPH_H_PX = (8, 75)
#: a mark wider than this many of its heights is a line of cursive, not a symbol (bars excepted);
#: handwritten digits touch in twos and threes ("12", "350"), so a symbol may be 3 heights wide
#: (2 lost them: Spearman with the true calculation share 0.21 -> 0.42 on 29 written photos).
GLYPH_MAX_ASPECT = 3.0
#: operator bars: at most this tall (px) and at least this elongated.
BAR_MAX_H_PX = 9
BAR_MIN_ASPECT = 2.5
BAR_MAX_W_PX = 90
#: neighbours on the same line are at most this many glyph heights apart horizontally.
NEIGHBOUR_GAP_GLYPHS = 1.5
#: and their vertical centres at most this many glyph heights apart.
SAME_LINE_GLYPHS = 0.7
#: pairwise distances are taken this many symbols at a time (bounded memory on busy pages).
PAIR_CHUNK = 512


def calculation_mask(hand: npt.NDArray[np.bool_]) -> npt.NDArray[np.bool_]:
    """The part of the handwriting mask ``hand`` that forms symbol runs."""
    n, labels, stats, _ = cv2.connectedComponentsWithStats(hand.astype(np.uint8), connectivity=8)
    x = stats[:, cv2.CC_STAT_LEFT].astype(np.float64)
    y = stats[:, cv2.CC_STAT_TOP].astype(np.float64)
    w = stats[:, cv2.CC_STAT_WIDTH].astype(np.float64)
    h = stats[:, cv2.CC_STAT_HEIGHT].astype(np.float64)
    glyph = (h >= GLYPH_H_PX[0]) & (h <= GLYPH_H_PX[1]) & (w <= GLYPH_MAX_ASPECT * h)
    bar = (h <= BAR_MAX_H_PX) & (w >= BAR_MIN_ASPECT * h) & (w <= BAR_MAX_W_PX)
    symbol = glyph | bar
    symbol[0] = False
    idx = np.flatnonzero(symbol)
    keep = np.zeros(n, bool)
    if len(idx) >= 2:
        scale = np.maximum(h[idx], GLYPH_H_PX[0])
        cy = y[idx] + h[idx] / 2
        left, right = x[idx], x[idx] + w[idx]
        for start in range(0, len(idx), PAIR_CHUNK):
            rows = slice(start, start + PAIR_CHUNK)
            # horizontal gap between boxes (0 when they overlap) and centre offset, pairwise
            gap = np.maximum(0.0, np.maximum(left[rows, None] - right[None, :], left[None, :] - right[rows, None]))
            ref = np.maximum(scale[rows, None], scale[None, :])
            near = (gap <= NEIGHBOUR_GAP_GLYPHS * ref) & (np.abs(cy[rows, None] - cy[None, :]) <= SAME_LINE_GLYPHS * ref)
            near[np.arange(near.shape[0]), np.arange(start, start + near.shape[0])] = False
            keep[idx[rows][near.any(axis=1)]] = True
    mask: npt.NDArray[np.bool_] = keep[labels]
    return mask
