"""Text lines of a column for layout analysis: rows of text, the column's margin, footers.

Part of :mod:`vision.segment.layout` (step 5): runs of text rows in a column
are its lines; the column's left margin (leaning under a photo's keystone)
says which lines may hold an anchor; the footer (page number) is dropped.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from vision.segment.anchors import Anchor
from vision.segment.ink import Mask, _runs
from vision.segment.rules import FOOTER_BAND

#: A footer line (page number) is this narrow (fraction of page width) ...
FOOTER_MAX_W = 0.3
#: ... centred within this fraction of the page width, and in the bottom band.
FOOTER_CENTRE_TOL = 0.06
#: ... and set apart from the line above by at least this many text heights.
FOOTER_GAP_TEXT = 1.5
#: The column margin is fitted through the leftmost line start of this many bands down the
#: column (a photo's keystone leans the margin: one page-long minimum misses its ends) ...
MARGIN_BINS = 5
#: ... leaning at most this much (x per y; ~3.4 degrees).
MAX_LEAN = 0.06
#: Two lines share a row when they overlap this much of the shorter one's height.
ROW_OVERLAP = 0.8
#: Text rows separated by less than this many text heights belong to one line.
LINE_JOIN_TEXT = 0.15
#: A run of rows taller than this many text heights is split where its start parts into lines ...
SPLIT_MIN_TEXT = 2.5
#: ... looking this many text heights into it.
SPLIT_WINDOW_TEXT = 4.0
#: Neighbours of a line: lines within this many text heights above or below it ...
NEIGHBOUR_TEXT = 4.0
#: ... which an anchor leads by at least this many text heights (its stem's hanging indent).
LEAD_TEXT = 0.7
#: A line starting within this many text heights of the column margin is an anchor candidate.
MARGIN_TOL_TEXT = 0.5


@dataclass
class _Line:
    y0: int
    y1: int
    x0: int
    x1: int
    column: int
    anchor: Anchor | None = None
    gap_above: int = 0
    options: tuple[int, ...] = ()
    reads: tuple[str, ...] = ()


def _same_row(a: _Line, b: _Line) -> bool:
    overlap = min(a.y1, b.y1) - max(a.y0, b.y0)
    return overlap >= ROW_OVERLAP * min(a.y1 - a.y0, b.y1 - b.y0)


def _lines_in(text: Mask, x0: int, x1: int, body: tuple[int, int], text_px: float, column: int) -> list[_Line]:
    band = text[body[0] : body[1], x0:x1]
    rows: npt.NDArray[np.bool_] = np.asarray(band.any(axis=1))
    runs = _runs(rows)
    joined: list[list[int]] = []
    for a, b in runs:
        if joined and a - joined[-1][1] < LINE_JOIN_TEXT * text_px:
            joined[-1][1] = b
        else:
            joined.append([a, b])
    lines: list[_Line] = []
    pieces = [piece for j0, j1 in joined for piece in _split_tall(band, j0, j1, text_px)]
    for a, b in pieces:
        cols = np.flatnonzero(band[a:b].any(axis=0))
        if b - a < 0.3 * text_px and cols.size < text_px:
            continue  # a speck row
        gap = a + body[0] - lines[-1].y1 if lines else a
        lines.append(_Line(a + body[0], b + body[0], int(cols[0]) + x0, int(cols[-1]) + 1 + x0, column, gap_above=gap))
    return lines


def _split_tall(band: Mask, a: int, b: int, text_px: float) -> list[tuple[int, int]]:
    """Rows ``[a, b)`` of ``band`` as lines: a run too tall for one line is split where the rows at its
    start (:data:`SPLIT_WINDOW_TEXT` text heights) part into lines of text.

    A photo's residual tilt or keystone slopes the lines of a wide column, so
    that across it the gap between two lines closes and both read as one tall
    block (its anchor is then never read); near the line start they still part.
    """
    if b - a <= SPLIT_MIN_TEXT * text_px:
        return [(a, b)]
    cols = np.flatnonzero(band[a:b].any(axis=0))
    window = band[a:b, cols[0] : cols[0] + int(SPLIT_WINDOW_TEXT * text_px)]
    runs = _runs(np.asarray(window.any(axis=1), dtype=bool))
    joined: list[list[int]] = []
    for r0, r1 in runs:
        if joined and r0 - joined[-1][1] < LINE_JOIN_TEXT * text_px:
            joined[-1][1] = r1
        else:
            joined.append([r0, r1])
    if len(joined) < 2 or not all(0.5 * text_px <= r1 - r0 <= 1.6 * text_px for r0, r1 in joined):
        return [(a, b)]
    cuts = [a] + [a + (p[1] + q[0]) // 2 for p, q in zip(joined[:-1], joined[1:], strict=True)] + [b]
    return list(zip(cuts[:-1], cuts[1:], strict=True))


def _locally_leftmost(line: _Line, lines: list[_Line], text_px: float) -> bool:
    """``line`` starts clearly left of every other line within a few text heights above and below.

    Hanging anchors do (their stem is indented after them); choices, stems
    and captions sit under or beside something further left.
    """
    reach = NEIGHBOUR_TEXT * text_px
    near = [o for o in lines if o is not line and o.y1 > line.y0 - reach and o.y0 < line.y1 + reach]
    return bool(near) and all(line.x0 <= o.x0 - LEAD_TEXT * text_px for o in near)


def _margin(textual: list[_Line], tol: float) -> tuple[float, float]:
    """The column's left margin as a line ``x = a + b * y`` (a photo's keystone leans it).

    The lowest line start in each of :data:`MARGIN_BINS` bands down the column
    is a point of the margin, unless the band holds only indented lines
    (choices, a passage): the band furthest right of the fitted line is
    dropped while it lies more than ``tol`` off it. The lean is at most
    :data:`MAX_LEAN`; the line is then moved left onto the leftmost start.
    """
    ys = np.array([(ln.y0 + ln.y1) / 2 for ln in textual], np.float64)
    xs = np.array([ln.x0 for ln in textual], np.float64)
    edges = np.linspace(ys.min(), ys.max() + 1, MARGIN_BINS + 1)
    pts = []
    for lo, hi in zip(edges[:-1], edges[1:], strict=True):
        inside = (ys >= lo) & (ys < hi)
        if inside.any():
            k = int(np.flatnonzero(inside)[np.argmin(xs[inside])])
            pts.append((ys[k], xs[k]))
    slope = 0.0
    while len(pts) >= 2:
        py, px = np.array(pts).T
        slope = float(np.clip(np.polyfit(py, px, 1)[0], -MAX_LEAN, MAX_LEAN)) if np.ptp(py) > 0 else 0.0
        resid = px - slope * py
        resid -= resid.min()
        worst = int(np.argmax(resid))
        if resid[worst] <= tol:
            break
        pts.pop(worst)
    if len(pts) < 2:
        slope = 0.0
    return float((xs - slope * ys).min()), slope


def _is_footer(line: _Line, W: int, H: int, text_px: float) -> bool:
    """A page number or footer: narrow, centred on the page, set apart, in the bottom band."""
    centred = abs((line.x0 + line.x1) / 2 - W / 2) < FOOTER_CENTRE_TOL * W
    apart = line.gap_above >= FOOTER_GAP_TEXT * text_px
    return line.y0 > (1 - FOOTER_BAND) * H and centred and apart and line.x1 - line.x0 < FOOTER_MAX_W * W


def _is_text_line(line: _Line, text_px: float) -> bool:
    """A line of text, by its size: not a speck, not a tall figure or rule remnant."""
    h, w = line.y1 - line.y0, line.x1 - line.x0
    return 0.5 * text_px <= h <= 2.5 * text_px and w >= 1.2 * text_px


def _reading_key(line: _Line) -> tuple[int, int]:
    return (line.column, line.y0)
