"""Columns of a page for layout analysis: one to three, found from blank gutters.

Part of :mod:`vision.segment.layout` (step 4).
"""

from __future__ import annotations

import numpy as np

from vision.segment.ink import Mask, _runs
from vision.segment.lines import _lines_in, _same_row
from vision.segment.rules import DIVIDER_TOL_TEXT

#: A column is at least this share of the text block's width (one to three columns, even or not).
MIN_COLUMN_SHARE = 0.2
#: A "gutter" whose right-hand lines share their row with a left-hand line this often is inside one column.
ROW_SHARED = 0.85
#: A gutter column may hold ink on this fraction of the body's rows (a title run across it).
GUTTER_INK_ROWS = 0.02
#: A gutter is at least this many text heights wide.
GUTTER_MIN_TEXT = 1.0


def _columns(text: Mask, text_px: float, body: tuple[int, int], dividers: list[int]) -> list[tuple[int, int]]:
    """One to three columns, even or not: blank vertical bands across the text block's body.

    A band is a gutter when it is at least :data:`GUTTER_MIN_TEXT` wide and
    leaves columns of at least :data:`MIN_COLUMN_SHARE` of the text block on
    both sides. A divider rule down it confirms it; without one, a band whose
    right-hand lines nearly all share their row with a left-hand line is the
    gap in a row of choices set across one column, not a gutter.
    """
    H, W = text.shape
    profile = text[body[0] : body[1]].sum(axis=0)
    inked = np.flatnonzero(profile > 0)
    if inked.size == 0:
        return [(0, W)]
    left, right = int(inked[0]), int(inked[-1]) + 1
    span = right - left
    empty = profile[left:right] <= max(1, int(GUTTER_INK_ROWS * (body[1] - body[0])))
    bands = [(a + left, b + left) for a, b in _runs(empty) if b - a >= GUTTER_MIN_TEXT * text_px]
    bands.sort(key=lambda g: g[0] - g[1])  # widest first
    cuts: list[int] = []
    tol = DIVIDER_TOL_TEXT * text_px
    for a, b in bands:
        mid = (a + b) // 2
        edges = sorted([left, right, *cuts])
        lo = max(e for e in edges if e < mid)
        hi = min(e for e in edges if e > mid)
        if min(mid - lo, hi - mid) < MIN_COLUMN_SHARE * span or len(cuts) >= 2:
            continue
        if not any(a - tol <= d <= b + tol for d in dividers):
            # One column of short rows (choices set in a row of five) also leaves a blank band,
            # but then every line on its right shares its row with a line on its left.
            lines_l = _lines_in(text, lo, mid, body, text_px, 0)
            lines_r = _lines_in(text, mid, hi, body, text_px, 1)
            if not lines_l or not lines_r:
                continue
            if sum(any(_same_row(r, ln) for ln in lines_l) for r in lines_r) >= ROW_SHARED * len(lines_r):
                continue
        cuts.append(mid)
    edges = [0, *sorted(cuts), W]
    return [(edges[k], edges[k + 1]) for k in range(len(edges) - 1)]
