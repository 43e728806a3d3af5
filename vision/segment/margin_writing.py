"""Writing in a page's margins for layout analysis: a student's pen, set apart from the print.

Part of :mod:`vision.segment.layout`: the ink found here is left out of the
text lines and of every question's box.

In the left margin the print has an edge: the column's lines start there
(anchors, stems, headings, instructions). Ink wholly in the margin zone that
starts at or right of that edge is print (a short first choice ``① 봄`` far
from the next one, a short line of a choice list). Ink starting left of it is
either a hanging question number (``8.`` before an indented stem) or a
student's pen on the rows of a printed line (``54×7=378`` beside a stem);
both look alike to geometry. Hanging numbers come in a column (two more line
starts under or over it make a run print); a run alone there is read
(:func:`settle_doubtful`): it is a pen when something is read that is not a
question number or a range.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import cv2
import numpy as np

from vision.segment.anchor_reads import _crop
from vision.segment.anchors import parse_anchor, read_anchor_texts
from vision.segment.ink import GrayImage, Mask, _runs
from vision.segment.lines import _Line

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
#: The print's left edge near a run: where the lines reaching out of the zone start, within this
#: many text heights above and below it; a run starting this many text heights left of it is doubtful.
EDGE_REACH_TEXT = 12.0
EDGE_TOL_TEXT = 0.5
#: A run left of the edge with this many other line starts under or over it is a column of hanging
#: numbers (or headings at the margin): print.
ALIGNED_STARTS = 2
#: ... within the tolerance plus this lean (x per y) between them.
ALIGN_LEAN = 0.03
#: A doubtful run is a pen when it reads as this many characters or more and not as a number, even a
#: misread one (``[116`` for ``[16]``): arithmetic, a word; a lone sign or mark left of the edge (a
#: formula's "=", a heading's "Ⅰ") is print.
PEN_MIN_CHARS = 3


@dataclass(frozen=True)
class Doubtful:
    """A run left of the print's edge on a printed line's rows: a hanging number or a pen."""

    y0: int
    y1: int
    x0: int
    x1: int
    ink: Mask


def _margin_writing(text: Mask, body: tuple[int, int], text_px: float) -> tuple[Mask, list[Doubtful]]:
    """Ink in the page's left or right margin that is not part of a printed line: a student's pen.

    The text is smeared across by :data:`MARGIN_GAP_TEXT` so that the words
    of a printed line join into one run; a run lying wholly in the outer
    :data:`MARGIN_ZONE` of the width is writing in the margin unless it sits
    on the rows of the printed lines beside it (a right-aligned ``[3점]``),
    or, on the left, starts at the print's edge. A left run on a printed
    line's rows but left of the edge is returned as doubtful (read later).
    """
    H, W = text.shape
    out = np.zeros_like(text)
    doubtful: list[Doubtful] = []
    sub = text[body[0] : body[1]]
    if not sub.any():
        return out, doubtful
    k = max(3, int(MARGIN_GAP_TEXT * text_px))
    smear = cv2.dilate(sub.astype(np.uint8), np.ones((1, k), np.uint8))
    n, labels, stats, _ = cv2.connectedComponentsWithStats(smear, connectivity=8)
    reach = int(MARGIN_BESIDE * W)
    zone = MARGIN_ZONE * W
    # runs reaching out of the left zone from the left half: printed lines, whose starts make the edge
    # (the smear reaches k // 2 left of the ink)
    long_left = [(int(s[0]) + k // 2, int(s[1]), int(s[1] + s[3])) for s in stats[1:] if s[0] < W / 2 and s[0] + s[2] > zone]
    tol = EDGE_TOL_TEXT * text_px
    starts = [(x, a, b) for x, a, b in long_left]
    pending: list[tuple[int, int, int, int, Doubtful]] = []
    for i in range(1, n):
        x, y, w, h = (int(v) for v in stats[i, :4])
        pad = int(text_px)
        rows = slice(max(0, y - pad), y + h + pad)
        left = x + w <= zone
        edge = None
        if left:
            edge = _left_edge(long_left, y, y + h, text_px)
            if edge is not None and x + k // 2 >= edge - tol:
                continue  # starts at the print's edge: print
            beside = sub[rows, x + w : x + w + reach]
            # nothing printed hangs this far left of its line (a question number sits by its stem)
            own = np.flatnonzero(beside[y - rows.start : y - rows.start + h].any(axis=0))
            far = own.size == 0 or own[0] >= MARGIN_FAR_TEXT * text_px
        elif x >= (1 - MARGIN_ZONE) * W:
            beside = sub[rows, max(0, x - reach) : x]
            far = False
        else:
            continue
        run = (labels[y : y + h, x : x + w] == i) & sub[y : y + h, x : x + w]
        if not far and _on_printed_line(y - rows.start, h, beside, text_px):
            if edge is not None:  # left of the edge: a hanging number, unless a pen
                starts.append((x + k // 2, y, y + h))
                pending.append((x + k // 2, y, y + h, len(starts) - 1, Doubtful(body[0] + y, body[0] + y + h, x, x + w, run)))
            continue
        out[body[0] + y : body[0] + y + h, x : x + w] |= run
    for xs, y0, y1, own_index, d in pending:
        # hanging numbers come in a column (leaning under a photo's keystone): two more starts there make it print
        aligned = sum(
            j != own_index and abs(sx - xs) <= tol + ALIGN_LEAN * abs((a + b) / 2 - (y0 + y1) / 2)
            for j, (sx, a, b) in enumerate(starts)
        )
        if aligned < ALIGNED_STARTS:
            doubtful.append(d)
    return out, doubtful


def _left_edge(long_left: list[tuple[int, int, int]], y0: int, y1: int, text_px: float) -> int | None:
    """Where the printed lines near rows ``[y0, y1)`` start (the leftmost start), ``None`` if none is near."""
    r = EDGE_REACH_TEXT * text_px
    near = [x for x, a, b in long_left if b > y0 - r and a < y1 + r]
    return min(near) if near else None


def settle_doubtful(gray: GrayImage, doubtful: list[Doubtful], text_px: float) -> Mask:
    """The doubtful runs that are a pen: read as :data:`PEN_MIN_CHARS` characters or more and not as a
    question number, a range or a lone number (one Tesseract call for all of them).

    Examples:
        >>> [bool(_NUMBER_ONLY.match(t)) for t in ("[116", "117)", "12.", "5487=378", "12+3=15")]
        [True, True, True, False, False]
    """
    out = np.zeros(gray.shape, bool)
    if not doubtful:
        return out
    crops = [_crop(gray, _Line(d.y0, d.y1, d.x0, d.x1, 0), d.x1 - d.x0, text_px) for d in doubtful]
    for d, read in zip(doubtful, read_anchor_texts(crops, text_px), strict=True):
        chars = read.replace(" ", "")
        if len(chars) >= PEN_MIN_CHARS and parse_anchor(read) is None and not _NUMBER_ONLY.match(chars):
            out[d.y0 : d.y1, d.x0 : d.x1] |= d.ink
    return out


_NUMBER_ONLY = re.compile(r"^[\[(|{]?[0-9lIO]{1,3}[\])|}.,:]?$")


def _on_printed_line(y: int, h: int, beside: Mask, text_px: float) -> bool:
    """A run at rows ``[y, y + h)`` of ``beside`` is set on a printed line there: it lies within
    the rows of one of the printed row runs beside it, give or take :data:`MARGIN_ROW_ALIGN` text heights."""
    tol = MARGIN_ROW_ALIGN * text_px
    return any(a - tol <= y and y + h <= b + tol for a, b in _runs(np.asarray(beside.any(axis=1), dtype=bool)))
