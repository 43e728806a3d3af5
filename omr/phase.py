"""The grid's periodic ambiguity for :mod:`omr.register`: one step off, or half a turn.

A grid of bubbles also fits itself shifted by one step (row, column, diagonal) or turned about
a centre of symmetry. This module holds the steps and shifts (:data:`SHIFTS`, :func:`_grid_steps`,
:func:`_shift`), the half-turn twins (:func:`_half_turn_centres`), and the proofs that tell a
placement from its twin: printed rings beyond the grid's ends (:func:`_grid_ends`, :func:`_phase`),
the paper's edges (:func:`_edges_prove`, :func:`_edge_error_mm`) and bubbles that land in the image
without a ring (:func:`_visible_unmatched`). See docs/omr-field.md "Phase proof".
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np
import numpy.typing as npt

from omr.rings import MATCH_PITCH
from omr.types import SheetMeta

F64 = npt.NDArray[np.float64]

#: Another placement (orientation, or the chosen one's half-turn twin) that matches at least this fraction
#: of the chosen one's bubbles must be ruled out by asymmetric evidence (:mod:`omr.orient`).
RIVAL_MATCHED = 0.5
#: Phase proof (a periodic grid also fits itself one step off): a one-step shift is ruled out when the
#: printed rings at the positions only the chosen placement covers outnumber those at the positions only
#: the shift would cover (one step beyond the grid's ends) by this fraction of the former ...
PHASE_MARGIN = 0.5
#: ... and by at least this many rings (a grid edge of two or three bubbles proves nothing) ...
PHASE_MIN_RINGS = 3
#: ... or when the paper's edges (outline, or image bounds that are the page) hold the page corners within
#: this fraction of the smallest grid step: a one-step shift would move them a whole step.
PHASE_EDGE_STEP = 0.3
#: Two meta positions closer than this fraction of the smallest step are the same place.
SAME_PLACE = 0.3


def _grid_step_mm(mm: F64) -> tuple[float, float]:
    """One bubble step along the meta's rows and columns ``(sx, sy)``, mm (medians)."""
    d = np.hypot(mm[:, None, 0] - mm[None, :, 0], mm[:, None, 1] - mm[None, :, 1])
    np.fill_diagonal(d, np.inf)
    v = mm[d.argmin(axis=1)] - mm
    horiz = np.abs(v[:, 0]) >= np.abs(v[:, 1])
    sx = float(np.median(np.abs(v[horiz, 0]))) if horiz.any() else 0.0
    # the nearest bubble above or below in the same column (the median over all pairs of a column
    # would be a third of the column's height, not a row)
    vert = np.abs(mm[:, None, 1] - mm[None, :, 1])
    same_col = (np.abs(mm[:, None, 0] - mm[None, :, 0]) < 0.5) & (vert > 0.5)
    nearest = np.where(same_col, vert, np.inf).min(axis=1)
    sy = float(np.median(nearest[np.isfinite(nearest)])) if same_col.any() else sx
    return sx, sy


#: The eight one-step shifts of a grid, in steps (columns, rows).
SHIFTS = tuple((dx, dy) for dx in (-1, 0, 1) for dy in (-1, 0, 1) if dx or dy)


def _grid_steps(mm: F64) -> list[tuple[float, float]]:
    """One bubble step along each grid direction of the meta (the eight neighbouring placements), mm."""
    sx, sy = _grid_step_mm(mm)
    return [(dx * sx, dy * sy) for dx, dy in SHIFTS]


def _shift(dx_mm: float, dy_mm: float) -> F64:
    return np.array([[1.0, 0.0, dx_mm], [0.0, 1.0, dy_mm], [0.0, 0.0, 1.0]])


def _half_turn_centres(mm: F64, step_mm: tuple[float, float]) -> list[F64]:
    """Centres about which a half turn lands at least ``RIVAL_MATCHED`` of the bubbles on bubbles, best first (<= 2).

    Every ordered pair ``(p, q)`` votes for the centre ``(p + q) / 2`` in cells of a quarter step.
    """
    cell = 0.25 * min(v for v in (*step_mm, 1.0) if v > 0)
    sums = (mm[:, None, :] + mm[None, :, :]).reshape(-1, 2) / 2.0
    keys = np.floor((sums - sums.min(axis=0)) / cell).astype(np.int64)
    flat = keys[:, 0] * (int(keys[:, 1].max()) + 1) + keys[:, 1]
    counts = np.bincount(flat)
    out: list[F64] = []
    for key in np.argsort(-counts, kind="stable")[:2]:
        if counts[key] < RIVAL_MATCHED * len(mm):
            break
        out.append(np.median(sums[flat == key], axis=0))
    return out


def _half_turn_about(c: F64) -> F64:
    """The half turn (mm -> mm) about ``c``."""
    return np.array([[-1.0, 0.0, 2.0 * c[0]], [0.0, -1.0, 2.0 * c[1]], [0.0, 0.0, 1.0]])


def _visible_unmatched(blobs: F64, mm: F64, h_mm_to_px: F64, shape_hw: tuple[int, int], pitch_px: float) -> float:
    """The fraction of the meta's bubbles landing inside the image (a pitch clear of its edges) with no
    blob within ``MATCH_PITCH / 2`` of a pitch; 0 when none lands inside.

    Examples:
        >>> mm = np.array([[0.0, 0.0], [10.0, 0.0], [20.0, 0.0], [30.0, 0.0]])
        >>> h = np.array([[1.0, 0, 20], [0, 1.0, 20], [0, 0, 1.0]])  # 1 px per mm, 20 px in
        >>> blobs = np.array([[20.0, 20.0], [30.0, 20.0]])
        >>> _visible_unmatched(blobs, mm, h, (40, 45), 10.0)  # the bubbles at x = 40, 50 px are outside
        0.0
        >>> _visible_unmatched(blobs[:1], mm, h, (40, 45), 10.0)
        0.5
    """
    pts = np.asarray(cv2.perspectiveTransform(mm[None], h_mm_to_px)[0], np.float64)
    h, w = shape_hw
    inside = ((pts[:, 0] >= pitch_px) & (pts[:, 0] <= w - 1 - pitch_px)
              & (pts[:, 1] >= pitch_px) & (pts[:, 1] <= h - 1 - pitch_px))
    if not inside.any():
        return 0.0
    return float(1.0 - _near_count(pts[inside], blobs, MATCH_PITCH / 2 * pitch_px).mean())


def _near_count(pts: F64, rings: F64, tol_px: float) -> npt.NDArray[np.bool_]:
    """For each point ``(N, 2)``, whether a ring lies within ``tol_px`` (brute force: a few hundred each)."""
    if len(pts) == 0 or len(rings) == 0:
        return np.zeros(len(pts), bool)
    d = np.hypot(pts[:, None, 0] - rings[None, :, 0], pts[:, None, 1] - rings[None, :, 1])
    return np.asarray(d.min(axis=1) <= tol_px)


@dataclass(frozen=True)
class _Ends:
    """The meta's grid ends for each one-step shift ``(dx, dy)``: which meta bubbles sit at the trailing
    ends (no bubble one step behind them) and the positions one step beyond the leading ends, mm.
    They depend on the meta alone: computed once per :func:`register`."""

    shifts: tuple[tuple[int, int, npt.NDArray[np.bool_], F64], ...]


def _grid_ends(mm: F64, step_mm: tuple[float, float], sheet: SheetMeta | None = None) -> _Ends:
    """:class:`_Ends` of the grid ``mm``. With ``sheet``, a position beyond the ends where the card prints
    an oval that is not a question (``extra_ovals``) or a box for handwriting (``write_in``) is no
    evidence: a ring is there whatever the phase, or may be (a handwritten 0).

    Examples:
        >>> from omr.types import ExtraOval, SheetMeta
        >>> row = np.array([[10.0, 10.0], [15.0, 10.0], [20.0, 10.0]])
        >>> ends = _grid_ends(row, (5.0, 0.0))
        >>> [(dx, dy, b.tolist()) for dx, dy, _t, b in ends.shifts if dy == 0]
        [(-1, 0, [[5.0, 10.0]]), (1, 0, [[25.0, 10.0]])]
        >>> card = SheetMeta(100, 100, (), 0, (), (), extra_ovals=(ExtraOval("absent", 25.0, 10.0),))
        >>> [(dx, dy, b.tolist()) for dx, dy, _t, b in _grid_ends(row, (5.0, 0.0), card).shifts if dy == 0]
        [(-1, 0, [[5.0, 10.0]]), (1, 0, [])]
    """
    sx, sy = step_mm
    same = SAME_PLACE * min(v for v in (sx, sy) if v > 0) if max(sx, sy) > 0 else 0.0
    printed = np.array([(e.x_mm, e.y_mm) for e in sheet.extra_ovals], np.float64).reshape(-1, 2) \
        if sheet is not None else np.zeros((0, 2))
    boxes = sheet.write_in if sheet is not None else ()

    def evidence(pts: F64) -> npt.NDArray[np.bool_]:
        ok = ~_occupied(pts, mm, same)
        if len(printed):
            ok &= ~_occupied(pts, printed, same)
        for b in boxes:
            ok &= ~((pts[:, 0] >= b.x_mm) & (pts[:, 0] <= b.x_mm + b.w_mm)
                    & (pts[:, 1] >= b.y_mm) & (pts[:, 1] <= b.y_mm + b.h_mm))
        return ok

    out = []
    for dx, dy in SHIFTS:
        s = np.array([dx * sx, dy * sy])
        if not s.any():
            continue
        out.append((dx, dy, ~_occupied(mm - s, mm, same), (mm + s)[evidence(mm + s)]))
    return _Ends(tuple(out))


def _phase(rings: F64, mm: F64, h_mm_to_px: F64, pitch_px: float, ends: _Ends
           ) -> tuple[list[tuple[int, int]], list[tuple[int, int]]]:
    """Which one-step shifts of the placement the printed rings do not rule out, and which they prefer.

    For a shift ``s`` (in grid steps), the positions only the chosen placement covers are the meta
    bubbles ``b`` with no meta bubble at ``b - s`` (the grid's trailing ends); those only the shift
    covers are ``b + s`` where no meta bubble is (one step beyond the leading ends; :class:`_Ends`).
    Printed rings (the bubble-sized blobs, not text) are counted at both. The chosen placement must
    win by ``PHASE_MARGIN`` of its count and ``PHASE_MIN_RINGS``; a shift whose beyond-the-end rings
    beat the trailing ones by as much is *preferred*.

    Returns:
        ``(unproven, preferred)``: shifts as ``(dx, dy)``; ``preferred`` best first.
    """
    tol = MATCH_PITCH / 2 * pitch_px
    here = _near_count(cv2.perspectiveTransform(mm[None], h_mm_to_px)[0], rings, tol)
    unproven: list[tuple[int, int]] = []
    preferred: list[tuple[int, int, int]] = []
    for dx, dy, trailing, beyond_mm in ends.shifts:
        at_t = int(here[trailing].sum())
        at_b = int(_near_count(cv2.perspectiveTransform(beyond_mm[None], h_mm_to_px)[0], rings, tol).sum()
                   if len(beyond_mm) else 0)
        if at_t - at_b < max(PHASE_MIN_RINGS, PHASE_MARGIN * at_t):
            unproven.append((dx, dy))
        if at_b - at_t >= max(PHASE_MIN_RINGS, PHASE_MARGIN * at_b):
            preferred.append((at_b - at_t, dx, dy))
    return unproven, [(dx, dy) for _m, dx, dy in sorted(preferred, reverse=True)]


def _occupied(pts: F64, mm: F64, same_mm: float) -> npt.NDArray[np.bool_]:
    """For each point, whether a meta bubble sits within ``same_mm`` of it."""
    d = np.hypot(pts[:, None, 0] - mm[None, :, 0], pts[:, None, 1] - mm[None, :, 1])
    return np.asarray(d.min(axis=1) <= same_mm)


def _page_corners(h_mm_to_px: F64, sheet: SheetMeta) -> F64:
    """The page's four corners (TL, TR, BR, BL) under ``h_mm_to_px``, ``(4, 2)`` px."""
    w, h = sheet.page_w_mm, sheet.page_h_mm
    return np.asarray(cv2.perspectiveTransform(np.array([[(0.0, 0.0), (w, 0.0), (w, h), (0.0, h)]]),
                                               h_mm_to_px)[0], np.float64)


def _edges_prove(h_mm_to_px: F64, quads: list[list[tuple[float, float]]], sheet: SheetMeta,
                 step_mm: tuple[float, float]) -> bool:
    """True when the page corners land within ``PHASE_EDGE_STEP`` of a grid step of ``quads`` (paper, bounds, hint)."""
    steps = [v for v in step_mm if v > 0]
    if not quads or not steps:
        return False
    return _edge_error_mm(h_mm_to_px, quads, sheet) <= PHASE_EDGE_STEP * min(steps)


def _edge_error_mm(h_mm_to_px: F64, quads: list[list[tuple[float, float]]], sheet: SheetMeta) -> float:
    """How far (mm, worst corner) the page's corners land from the nearest of ``quads`` (any cyclic order)."""
    w, h = sheet.page_w_mm, sheet.page_h_mm
    corners = cv2.perspectiveTransform(np.array([[(0.0, 0.0), (w, 0.0), (w, h), (0.0, h)]]), h_mm_to_px)[0]
    px_per_mm = math.sqrt(abs(np.linalg.det(h_mm_to_px[:2, :2])))
    out = math.inf
    for q in quads:
        arr = np.array(q, np.float64)
        for shift in range(4):
            d = np.hypot(*(np.roll(arr, shift, axis=0) - corners).T).max() / px_per_mm
            out = min(out, float(d))
    return out
