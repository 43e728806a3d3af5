"""Writing in a page's margins for layout analysis: a student's pen, set apart from the print.

Part of :mod:`vision.segment.layout`: the ink found here is left out of the
text lines and of every question's box.
"""

from __future__ import annotations

import cv2
import numpy as np

from vision.segment.ink import Mask, _runs

#: Margin writing: ink in the outer share of the page width ...
MARGIN_ZONE = 0.15
#: ... not joined to a printed line across gaps narrower than this many text heights (word spacing) ...
MARGIN_GAP_TEXT = 0.6
#: ... and not set on a printed line beside it (a right-aligned "[3점]" is): within its rows,
#: give or take this many text heights ...
MARGIN_ROW_ALIGN = 0.25
#: ... found within this share of the page width beside it.
MARGIN_BESIDE = 0.3
#: In the left margin, a run this many text heights left of the text on its rows is writing
#: whatever its rows (a question number hangs closer to its stem).
MARGIN_FAR_TEXT = 2.0


def _margin_writing(text: Mask, body: tuple[int, int], text_px: float) -> Mask:
    """Ink in the page's left or right margin that is not part of a printed line: a student's pen.

    The text is smeared across by :data:`MARGIN_GAP_TEXT` so that the words
    of a printed line join into one run; a run lying wholly in the outer
    :data:`MARGIN_ZONE` of the width is writing in the margin unless it sits
    on the rows of the printed lines beside it (a right-aligned ``[3점]``).
    """
    H, W = text.shape
    out = np.zeros_like(text)
    sub = text[body[0] : body[1]]
    if not sub.any():
        return out
    k = max(3, int(MARGIN_GAP_TEXT * text_px))
    smear = cv2.dilate(sub.astype(np.uint8), np.ones((1, k), np.uint8))
    n, labels, stats, _ = cv2.connectedComponentsWithStats(smear, connectivity=8)
    reach = int(MARGIN_BESIDE * W)
    for i in range(1, n):
        x, y, w, h = (int(v) for v in stats[i, :4])
        pad = int(text_px)
        rows = slice(max(0, y - pad), y + h + pad)
        if x + w <= MARGIN_ZONE * W:
            beside = sub[rows, x + w : x + w + reach]
            # nothing printed hangs this far left of its line (a question number sits by its stem)
            own = np.flatnonzero(beside[y - rows.start : y - rows.start + h].any(axis=0))
            far = own.size == 0 or own[0] >= MARGIN_FAR_TEXT * text_px
        elif x >= (1 - MARGIN_ZONE) * W:
            beside = sub[rows, max(0, x - reach) : x]
            far = False
        else:
            continue
        if not far and _on_printed_line(y - rows.start, h, beside, text_px):
            continue
        run = (labels[y : y + h, x : x + w] == i) & sub[y : y + h, x : x + w]
        out[body[0] + y : body[0] + y + h, x : x + w] |= run
    return out


def _on_printed_line(y: int, h: int, beside: Mask, text_px: float) -> bool:
    """A run at rows ``[y, y + h)`` of ``beside`` is set on a printed line there: it lies within
    the rows of one of the printed row runs beside it, give or take :data:`MARGIN_ROW_ALIGN` text heights."""
    tol = MARGIN_ROW_ALIGN * text_px
    return any(a - tol <= y and y + h <= b + tol for a, b in _runs(np.asarray(beside.any(axis=1), dtype=bool)))
