"""Alignment from the meta alone: register the printed bubbles to the meta's bubble centres.

A sheet printed by somebody else carries no fiducials of ours, and does not
look like the thumbnail our template code renders; the meta's bubble centres
are all the worker knows about it. This module finds the page from them:

1. *Rings*: on a copy downscaled to <= ``DETECT_LONG_PX``, an adaptive
   threshold finds dark blobs; each blob's centre and its short side
   (``cv2.minAreaRect``: an oval's short side is the meta's ``2 r``). Empty
   rings and filled bubbles both count; a scribble or a glyph has the wrong
   size and is left over.
2. *Hypotheses*: each gives an initial image <-> template map, in each of
   the four orientations (0/90/180/270):

   * ``outline``: the paper's outline (largest bright quadrilateral), when
     it stands out from a contrasting background;
   * ``page_bounds``: the whole image, when the page fills it (scanners,
     scanner apps);
   * ``bubble_grid``: the rings alone: the scale from their size, the angle
     from the directions to their nearest neighbours, the translation from
     a vote over every (ring, meta bubble) pair. It works when the paper
     edge is cut off or lies on white.

3. *Fit*: each hypothesis projects the meta's bubbles, matches each to the
   nearest ring within ``MATCH_PITCH`` of the bubble pitch, and refits a
   homography (photos) or an affine map (scans) on the matches with RANSAC,
   three times with a shrinking window. The hypothesis that matches the
   most bubbles wins, then the lowest residual.
4. *Orientation*: the chosen placement must beat every rival (another
   orientation, its own half-turn twins) on asymmetric evidence: bubbles
   matched, rings where only one expects a bubble, the paper's edges, the
   meta's timing marks (:mod:`omr.orient`, :func:`_orient`).
5. *Refuse rather than guess*: fewer than ``MIN_MATCHED`` of the bubbles
   matched, a ring residual over ``MAX_FIT_MM``, or a rival that nothing
   tells apart (a symmetric grid with no other cue) raise
   :class:`~omr.errors.AlignmentError` ``alignment_failed``.

``fit_error_mm`` is the RMS distance, in mm on the template, between the
matched rings' centres and the meta's bubble centres.

Frames:
    Image pixels ``(x, y)``: origin top-left, x right, y down. Template
    millimetres ``(x_mm, y_mm)`` as in the meta. ``h_img_to_mm`` maps image
    pixels (full resolution) to template mm.

Examples:
    >>> import numpy as np, cv2
    >>> from omr.template import build_template, render_sheet
    >>> meta = {**build_template(20), "markers": []}
    >>> page = render_sheet(build_template(20), dpi=100)
    >>> reg = register(page, meta, mode="scan")
    >>> reg.rotation, reg.fit_error_mm < 0.3, reg.matched == reg.expected
    (0, True, True)
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import cv2
import numpy as np
import numpy.typing as npt

from aicore.page.outline import bright_quad
from omr.errors import AlignmentError
from omr.meta import as_sheet_meta
from omr.orient import proves, ring_evidence, timing_evidence
from omr.types import GrayImage, SheetMeta

__all__ = ["Registration", "find_rings", "page_from_meta", "register", "warp_registered"]

F64 = npt.NDArray[np.float64]

#: Rings are found on a copy this long: a 2 mm bubble on A4 is still ~13 px across.
DETECT_LONG_PX = 1600
#: Adaptive threshold window (px on the detection copy) and offset (grey levels below the local mean).
THRESH_BLOCK_PX = 31
THRESH_OFFSET = 10
#: A blob is a ring candidate when its short side is this many px or more (noise below).
MIN_RING_PX = 5
#: Its long side may be this many times its short side (the meta's ovals are ~2:1).
MAX_RING_ASPECT = 2.6
#: Two blob centres closer than this fraction of the short side are one ring (outer and inner contour) ...
SAME_RING = 0.5
#: ... when the inner one is at least 1/this of the outer: a ring's hole or the letter printed in it,
#: not the rings inside a block's frame (those are 1/5 of it or smaller).
INSIDE_RATIO = 4.0
#: Rings within this factor of the most common size are bubbles; the rest is text, lines, scribbles.
SIZE_TOLERANCE = 1.35
#: Of those, the ones whose long side is within this factor of the group's median count for the orientation
#: proof (an oval's height: question numbers and glyphs are as wide as an oval, not as tall).
SHAPE_TOLERANCE = 1.25
#: The scale from the rings' spacing replaces the one from their size when the two agree within this factor.
PITCH_SCALE_AGREE = 1.15
#: A meta bubble matches a ring within this fraction of the bubble pitch (first pass; then halved twice).
MATCH_PITCH = 0.45
#: The widest matching window is repeated up to this many times while it gains bubbles.
GROW_PASSES = 4
#: Another placement (orientation, or the chosen one's half-turn twin) that matches at least this fraction
#: of the chosen one's bubbles must be ruled out by asymmetric evidence (:mod:`omr.orient`).
RIVAL_MATCHED = 0.5
#: Blobs up to this many bubble diameters can answer a bubble when matching (rings, labels in them).
MAX_CANDIDATE = 2.2
#: Refuse unless this fraction of the meta's bubbles is matched.
MIN_MATCHED = 0.6
#: ... and at least this many (a homography needs 4; a handful could match by chance).
MIN_MATCHED_COUNT = 8
#: Refuse when the matched rings sit further than this (RMS, mm) from the meta's centres.
MAX_FIT_MM = 0.8
#: Orientation: a placement matching fewer than this fraction of another's bubbles is clearly worse ...
CLEARLY_FEWER = 0.8
#: ... and the paper's edges decide: the page corners of one orientation must land within this (mm,
#: worst corner: a photo often cuts a corner or a curled edge) of the outline or the image bounds ...
EDGE_AGREE_MM = 15.0
#: ... and those of every other orientation this much further away (mm).
EDGE_MARGIN_MM = 15.0
#: The paper outline must cover this fraction of the image to be a page, not a label.
MIN_OUTLINE_AREA = 0.15
#: Phase proof (a periodic grid also fits itself one step off): a one-step shift is ruled out when the
#: printed rings at the positions only the chosen placement covers outnumber those at the positions only
#: the shift would cover (one step beyond the grid's ends) by this fraction of the former ...
PHASE_MARGIN = 0.5
#: ... and by at least this many rings (a grid edge of two or three bubbles proves nothing) ...
PHASE_MIN_RINGS = 3
#: ... or when the paper's edges (outline, or image bounds that are the page) hold the page corners within
#: this fraction of the smallest grid step: a one-step shift would move them a whole step.
PHASE_EDGE_STEP = 0.3
#: A placement the rings prove to be off is moved a step at a time, at most this many steps.
MAX_PHASE_MOVES = 4
#: The placement itself is unproven when more than this fraction of the meta's bubbles that land inside the
#: image (clear of its edge by a bubble pitch) has no printed blob there: a placement matching only part of
#: the card (a partly cut-off card fitted a whole block over: 0.27) leaves rings missing where it expects
#: them; right placements of 100 independent Korean cards (photos and scans) leave at most 0.044.
VISIBLE_UNMATCHED = 0.1
#: Two meta positions closer than this fraction of the smallest step are the same place.
SAME_PLACE = 0.3


@dataclass(frozen=True)
class Registration:
    """Where the meta's page lies in the image.

    Args:
        h_img_to_mm: ``(3, 3)`` float64, full-resolution image px -> template mm.
        method: ``outline``, ``page_bounds`` or ``bubble_grid``: the hypothesis that won.
        rotation: 0/90/180/270, the page's turn in the image (clockwise).
        fit_error_mm: RMS residual of the matched rings, mm on the template.
        matched: meta bubbles matched to a ring.
        expected: meta bubbles (answers and ID grid).
        model: ``homography`` or ``affine``.
        phase: ``proven`` when every one-step shift of the grid (row, column, diagonal) is ruled out
            by the rings beyond the grid's ends, the paper's edges or the markers; ``uncertain``
            otherwise (the result's review then says ``alignment_uncertain``).
        phase_unproven: the shifts not ruled out, as ``(dx, dy)`` in grid steps; ``(0, 0)``: the
            placement itself, which leaves bubbles inside the image without a ring (``VISIBLE_UNMATCHED``).
    """

    h_img_to_mm: F64
    method: str
    rotation: int
    fit_error_mm: float
    matched: int
    expected: int
    model: str
    phase: str = "proven"
    phase_unproven: tuple[tuple[int, int], ...] = ()


def _bubble_centres(sheet: SheetMeta) -> tuple[F64, float]:
    """All bubble centres ``(N, 2)`` in mm and the median bubble radius in mm."""
    pts = [(c.x_mm, c.y_mm, c.r_mm) for q in sheet.questions for c in q.choices]
    pts += [(b.x_mm, b.y_mm, b.r_mm) for b in sheet.id_bubbles]
    arr = np.array(pts, np.float64)
    return arr[:, :2], float(np.median(arr[:, 2]))


def _pitch(xy: F64) -> float:
    """Median nearest-neighbour distance of a point set."""
    if len(xy) < 2:
        return 1.0
    d = np.hypot(xy[:, None, 0] - xy[None, :, 0], xy[:, None, 1] - xy[None, :, 1])
    np.fill_diagonal(d, np.inf)
    return float(np.median(d.min(axis=1)))


def find_rings(small: GrayImage) -> tuple[F64, F64]:
    """Dark blob centres ``(N, 2)`` and short sides ``(N,)`` in ``small``'s pixels.

    Examples:
        >>> img = np.full((100, 100), 255, np.uint8)
        >>> _ = cv2.circle(img, (30, 40), 8, 0, 2); _ = cv2.circle(img, (70, 40), 8, 0, -1)
        >>> xy, size = find_rings(img)
        >>> sorted((round(x), round(y)) for x, y in xy), bool((size > 14).all())
        ([(30, 40), (70, 40)], True)
    """
    return find_ring_blobs(small)[:2]


def find_ring_blobs(small: GrayImage) -> tuple[F64, F64, F64]:
    """:func:`find_rings`, with each blob's long side ``(N,)`` too (an oval's height)."""
    bw = cv2.adaptiveThreshold(small, 255, cv2.ADAPTIVE_THRESH_MEAN_C, cv2.THRESH_BINARY_INV,
                               THRESH_BLOCK_PX, THRESH_OFFSET)
    contours, _ = cv2.findContours(bw, cv2.RETR_LIST, cv2.CHAIN_APPROX_SIMPLE)
    xy: list[tuple[float, float]] = []
    size: list[float] = []
    longs: list[float] = []
    for c in contours:
        if len(c) < 5:
            continue
        (cx, cy), (w, h), _ang = cv2.minAreaRect(c)
        short, long_ = min(w, h), max(w, h)
        if short < MIN_RING_PX or long_ > MAX_RING_ASPECT * short:
            continue
        xy.append((cx, cy))
        size.append(short)
        longs.append(long_)
    if not xy:
        return np.zeros((0, 2)), np.zeros(0), np.zeros(0)
    pts, sz = np.array(xy, np.float64), np.array(size, np.float64)
    keep = np.ones(len(pts), bool)
    order = np.argsort(-sz)  # the outer contour of a ring wins over its inner one
    for i in order:
        if not keep[i]:
            continue
        # the ring's inner contour, or a letter printed inside it; a block's frame around rings is not
        close = (np.hypot(*(pts - pts[i]).T) < SAME_RING * sz[i]) & (sz * INSIDE_RATIO >= sz[i])
        close[i] = False
        keep &= ~close
    return pts[keep], sz[keep], np.array(longs, np.float64)[keep]


def _bubble_rings(xy: F64, size: F64, r_mm: float, pitch_mm: float) -> tuple[npt.NDArray[np.bool_], float]:
    """Which blobs are the bubbles (a mask), and the implied px per mm.

    Blobs are grouped by size (within ``SIZE_TOLERANCE``); the bubbles are the
    group whose size and spacing agree with the meta: its short side gives
    px/mm (``2 r``), and its members' nearest-neighbour distance must then be
    about one bubble pitch. Text and scribbles are many but do not agree.
    """
    if len(size) == 0:
        return np.zeros(0, bool), 0.0
    logs = np.log(size)
    width = math.log(SIZE_TOLERANCE)
    best: tuple[float, npt.NDArray[np.bool_], float] = (math.inf, np.zeros(len(xy), bool), 0.0)
    for centre in np.unique(np.round(logs / (width / 2))) * (width / 2):
        sel = np.abs(logs - centre) <= width
        if sel.sum() < MIN_MATCHED_COUNT:
            continue
        px_per_mm = float(np.exp(np.median(logs[sel]))) / (2.0 * r_mm)
        spacing = _pitch(xy[sel]) / (pitch_mm * px_per_mm)
        miss = abs(math.log(spacing)) - 0.05 * math.log(int(sel.sum()))  # ties: the bigger group
        if miss < best[0]:
            best = (miss, sel, px_per_mm)
    return best[1], best[2]


def _grid_angle(xy: F64) -> float:
    """Dominant direction (radians, modulo 90 degrees) of the nearest-neighbour steps."""
    d = np.hypot(xy[:, None, 0] - xy[None, :, 0], xy[:, None, 1] - xy[None, :, 1])
    np.fill_diagonal(d, np.inf)
    j = d.argmin(axis=1)
    v = xy[j] - xy
    a = np.arctan2(v[:, 1], v[:, 0])
    return float(np.angle(np.exp(4j * a).sum()) / 4.0)


def _similarity(scale: float, angle: float, t: tuple[float, float]) -> F64:
    c, s = math.cos(angle) * scale, math.sin(angle) * scale
    return np.array([[c, -s, t[0]], [s, c, t[1]], [0.0, 0.0, 1.0]])


def _vote_translation(rings: F64, mm: F64, a: F64, pitch_px: float, extent_px: float) -> tuple[float, float] | None:
    """The translation most (ring, bubble) pairs agree on, for the linear part ``a`` (mm -> px).

    Every pair votes for ``ring - a @ bubble`` in cells of a quarter pitch
    (one ``bincount``); translations that would put the page more than two
    image lengths away are not counted.
    """
    proj = mm @ a[:2, :2].T
    t = (rings[:, None, :] - proj[None, :, :]).reshape(-1, 2)
    cell = 0.25 * pitch_px
    lo = -2.0 * extent_px
    n = int(math.ceil(5.0 * extent_px / cell))
    keys = np.floor((t - lo) / cell).astype(np.int64)
    inside = ((keys >= 0) & (keys < n)).all(axis=1)
    if not inside.any():
        return None
    flat = keys[inside, 0] * n + keys[inside, 1]
    votes = np.bincount(flat, minlength=n * n)
    best = int(np.argmax(votes))
    sel = flat == best
    ts = t[inside][sel]
    return float(np.median(ts[:, 0])), float(np.median(ts[:, 1]))


class _NearestRing:
    """Nearest ring to any pixel of the detection copy in O(1): one distance transform with labels."""

    def __init__(self, rings: F64, shape_hw: tuple[int, int]) -> None:
        h, w = shape_hw
        self.margin = 8
        seeds = np.full((h + 2 * self.margin, w + 2 * self.margin), 255, np.uint8)
        ij = np.round(rings).astype(np.int64) + self.margin
        ij[:, 0] = np.clip(ij[:, 0], 0, seeds.shape[1] - 1)
        ij[:, 1] = np.clip(ij[:, 1], 0, seeds.shape[0] - 1)
        seeds[ij[:, 1], ij[:, 0]] = 0
        self.dist, labels = cv2.distanceTransformWithLabels(seeds, cv2.DIST_L2, 5, labelType=cv2.DIST_LABEL_PIXEL)
        lut = np.full(int(labels.max()) + 1, -1, np.int64)
        lut[labels[ij[:, 1], ij[:, 0]]] = np.arange(len(rings))
        self.index = lut[labels]
        self.rings = rings

    def query(self, pts: F64) -> tuple[npt.NDArray[np.int64], F64]:
        """Index of the nearest ring and the distance to it (inf off the copy)."""
        h, w = self.index.shape
        x = np.round(pts[:, 0]).astype(np.int64) + self.margin
        y = np.round(pts[:, 1]).astype(np.int64) + self.margin
        on = (x >= 0) & (x < w) & (y >= 0) & (y < h)
        j = np.full(len(pts), -1, np.int64)
        j[on] = self.index[y[on], x[on]]
        d = np.full(len(pts), np.inf)
        ok = j >= 0
        d[ok] = np.hypot(*(self.rings[j[ok]] - pts[ok]).T)
        return j, d


def _refine(near: _NearestRing, mm: F64, h_mm_to_px: F64, pitch_px: float, model: str, *, grow: bool = False
            ) -> tuple[F64, F64, F64] | None:
    """Match projected bubbles to rings and refit; returns ``(H mm->px, mm_used, px_used)``.

    With ``grow`` the widest window is repeated while it gains bubbles (from a similarity start on a
    tilted photo it reaches only the bubbles near the middle at first); then it is narrowed twice.
    """
    fit: tuple[F64, F64, F64] = (h_mm_to_px, np.zeros((0, 2)), np.zeros((0, 2)))
    for frac, passes in ((MATCH_PITCH, GROW_PASSES if grow else 1), (MATCH_PITCH / 2, 1), (MATCH_PITCH / 4, 1)):
        for i in range(passes):
            step = _match_and_fit(near, mm, fit[0], frac * pitch_px, 0.2 * pitch_px, model)
            if step is None:
                return None
            gained = len(step[1]) > len(fit[1])
            fit = step
            if i and not gained:
                break
    return np.asarray(fit[0], np.float64), fit[1], fit[2]


def _match_and_fit(near: _NearestRing, mm: F64, hmat: F64, window_px: float, ransac_px: float,
                   model: str) -> tuple[F64, F64, F64] | None:
    """One pass: each projected bubble takes the nearest ring within ``window_px``; the map is refitted."""
    proj = cv2.perspectiveTransform(mm[None], hmat)[0]
    j, d = near.query(proj)
    ok = d <= window_px
    # one ring answers one bubble
    _, first = np.unique(j[ok], return_index=True)
    idx = np.flatnonzero(ok)[first]
    if len(idx) < max(4, MIN_MATCHED_COUNT // 2):
        return None
    used_mm, used_px = mm[idx], near.rings[j[idx]]
    if model == "affine":
        a, _ = cv2.estimateAffine2D(used_mm, used_px, method=cv2.RANSAC, ransacReprojThreshold=ransac_px)
        if a is None:
            return None
        return np.vstack([a, [0.0, 0.0, 1.0]]), used_mm, used_px
    hm, _ = cv2.findHomography(used_mm, used_px, cv2.RANSAC, ransac_px)
    if hm is None:
        return None
    return np.asarray(hm, np.float64), used_mm, used_px


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


def _count(near: _NearestRing, mm: F64, h_mm_to_px: F64, pitch_px: float) -> int:
    """Meta bubbles within a quarter pitch of a ring under ``h_mm_to_px``."""
    _j, d = near.query(cv2.perspectiveTransform(mm[None], h_mm_to_px)[0])
    return int((d <= MATCH_PITCH / 2 * pitch_px).sum())


def _quad_hypotheses(quad: list[tuple[float, float]], sheet: SheetMeta) -> list[tuple[int, F64]]:
    """The page corners (TL, TR, BR, BL in mm) assigned to ``quad`` in each of the 4 cyclic ways."""
    w, h = sheet.page_w_mm, sheet.page_h_mm
    dst = np.array([(0.0, 0.0), (w, 0.0), (w, h), (0.0, h)], np.float32)
    out = []
    for k in range(4):
        src = np.array([quad[(i + k) % 4] for i in range(4)], np.float32)
        out.append((k, cv2.getPerspectiveTransform(dst, src).astype(np.float64)))
    return out


def _rotation(h_img_to_mm: F64) -> int:
    inv = np.linalg.inv(h_img_to_mm)
    p = cv2.perspectiveTransform(np.array([[[0.0, 0.0], [100.0, 0.0]]]), inv)[0]
    ang = math.degrees(math.atan2(p[1][1] - p[0][1], p[1][0] - p[0][0]))
    return int(round(ang / 90.0)) % 4 * 90


def register(gray: GrayImage, meta: SheetMeta | Mapping[str, Any], *, mode: str = "auto",
             hint_h_img_to_mm: F64 | None = None) -> Registration:
    """Locate the meta's page in ``gray`` from its printed bubbles alone.

    Args:
        gray: ``(H, W)`` uint8 photo or scan, any rotation.
        meta: the sheet meta; its markers are not used.
        mode: ``scan`` fits an affine map, ``photo``/``auto`` a homography.
        hint_h_img_to_mm: A page already found (markers of other shapes,
            :mod:`omr.markers`), orientation included: the only hypothesis,
            fitted on the rings and checked (matched count, residual) but
            not turned (method ``fiducials``).

    Raises:
        AlignmentError: ``alignment_failed`` when too few bubbles match, the
            fit is poor, or the orientation cannot be told.
    """
    sheet = as_sheet_meta(meta)
    mm, r_mm = _bubble_centres(sheet)
    gh, gw = gray.shape
    k = max(1.0, max(gh, gw) / DETECT_LONG_PX)
    small = cv2.resize(gray, (round(gw / k), round(gh / k)), interpolation=cv2.INTER_AREA) if k > 1 else gray
    small = np.asarray(small, np.uint8)
    all_xy, all_size, all_long = find_ring_blobs(small)
    pitch_mm = _pitch(mm)
    in_group, px_per_mm = _bubble_rings(all_xy, all_size, r_mm, pitch_mm)
    rings = all_xy[in_group]
    # the orientation proof counts only the blobs shaped like the bubbles (SHAPE_TOLERANCE)
    shaped = rings[np.abs(np.log(all_long[in_group] / np.median(all_long[in_group]))) <= math.log(SHAPE_TOLERANCE)
                   ] if len(rings) else rings
    if px_per_mm > 0 and len(rings) >= MIN_MATCHED_COUNT:
        # the rings' spacing measures the scale far better than their size (line width, ovals, blur)
        by_pitch = _pitch(rings) / pitch_mm
        if abs(math.log(by_pitch / px_per_mm)) <= math.log(PITCH_SCALE_AGREE):
            px_per_mm = by_pitch
    model = "affine" if mode == "scan" else "homography"
    if len(rings) < MIN_MATCHED_COUNT:
        raise AlignmentError("alignment_failed", f"found {len(rings)} bubble rings; the meta has {len(mm)} bubbles")
    hyps: list[tuple[str, F64]] = []
    sh, sw = small.shape
    bounds = [(0.0, 0.0), (sw - 1.0, 0.0), (sw - 1.0, sh - 1.0), (0.0, sh - 1.0)]
    quad = None
    if hint_h_img_to_mm is not None:
        hint = np.diag([1.0 / k, 1.0 / k, 1.0]) @ np.linalg.inv(hint_h_img_to_mm)
        hyps.append(("fiducials", np.asarray(hint / hint[2, 2], np.float64)))
    else:
        quad = bright_quad(small, min_area=MIN_OUTLINE_AREA, require_convex=False)
        if quad is not None:
            hyps += [("outline", h) for _, h in _quad_hypotheses(quad, sheet)]
        hyps += [("page_bounds", h) for _, h in _quad_hypotheses(bounds, sheet)]
    if px_per_mm > 0 and hint_h_img_to_mm is None:
        angle = _grid_angle(rings)
        for turn in range(4):
            a = _similarity(px_per_mm, angle + turn * math.pi / 2, (0.0, 0.0))
            t = _vote_translation(rings, mm, a, pitch_mm * px_per_mm, float(max(sh, sw)))
            if t is not None:
                hyps.append(("bubble_grid", _similarity(px_per_mm, angle + turn * math.pi / 2, t)))
    results: list[tuple[int, float, str, F64]] = []
    # every blob up to twice a bubble's size may answer a bubble: the ring itself, or the label printed
    # inside it (same centre); the size group alone misses rings split by their labels
    cands = all_xy[all_size <= MAX_CANDIDATE * 2.0 * r_mm * px_per_mm] if px_per_mm > 0 else all_xy
    step_mm = _grid_step_mm(mm)
    grid = _Grid(_NearestRing(cands, (sh, sw)), mm, rings, model, _grid_steps(mm), step_mm,
                 _grid_ends(mm, step_mm, sheet))
    near = grid.near
    for method, h_mm_to_small in hyps:
        pitch_px = pitch_mm * math.sqrt(abs(np.linalg.det(h_mm_to_small[:2, :2])))
        fitted = _fit_placement(grid, h_mm_to_small, pitch_px, method, walk=False)
        if fitted is not None:
            results.append(fitted)
    if not results:
        raise AlignmentError("alignment_failed", "no placement of the meta's bubbles matches the printed rings")
    scale = np.diag([k, k, 1.0])
    best: dict[int, _Fit] = {}
    for r in sorted(results, key=lambda r: (-r[0], r[1])):
        best.setdefault(_rotation(np.asarray(np.linalg.inv(scale @ r[3]), np.float64)), r)
    ranked = sorted(best.values(), key=lambda v: (-v[0], v[1]))
    if hint_h_img_to_mm is None:
        # the best of each orientation that could win or rival, walked to the phase its rings prefer
        # (a placement several rows off still matches most of a tall grid), kept where it matches more
        walked = [_fit_placement(grid, v[3], pitch_mm * math.sqrt(abs(np.linalg.det(v[3][:2, :2]))), v[2])
                  if v[0] >= RIVAL_MATCHED * ranked[0][0] else None for v in ranked]
        ranked = sorted((w if w is not None and w[0] > v[0] else v for v, w in zip(ranked, walked, strict=True)),
                        key=lambda v: (-v[0], v[1]))
    n, err, method, h_mm_to_small = ranked[0]
    if n < max(MIN_MATCHED_COUNT, MIN_MATCHED * len(mm)):
        raise AlignmentError("alignment_failed", f"only {n} of {len(mm)} bubbles match a printed ring")
    if hint_h_img_to_mm is None:
        # another orientation, or this placement's half-turn twin, may fit the rings nearly as well (a symmetric
        # grid; a poor first scale): asymmetric print decides (omr.orient), or the sheet is refused
        pitch_px = pitch_mm * math.sqrt(abs(np.linalg.det(h_mm_to_small[:2, :2])))
        twins = [twin for c in _half_turn_centres(mm, grid.step_mm)
                 if (twin := _fit_placement(grid, h_mm_to_small @ _half_turn_about(c), pitch_px, method)) is not None]
        cues = _Cues(small, shaped, mm, sheet, [q for q in (quad, bounds) if q is not None],
                     MATCH_PITCH / 2 * pitch_px)
        n, err, method, h_mm_to_small = _orient(ranked[0], ranked[1:] + twins, cues, scale)
    rot = _rotation(np.asarray(np.linalg.inv(scale @ h_mm_to_small), np.float64))
    if err > MAX_FIT_MM:
        raise AlignmentError("alignment_failed", f"the printed bubbles fit the meta to {err:.2f} mm RMS (limit {MAX_FIT_MM})")
    # the fit proves nothing about the grid's phase: prove it, move to a shift the rings clearly prefer, or say so
    pitch_px = pitch_mm * math.sqrt(abs(np.linalg.det(h_mm_to_small[:2, :2])))
    paper: list[list[tuple[float, float]]] = [q for q in (quad, bounds) if q is not None]
    if hint_h_img_to_mm is not None:
        paper = [[(float(x), float(y)) for x, y in _page_corners(hint, sheet)]]
    unproven, better = _phase(rings, mm, h_mm_to_small, pitch_px, grid.ends)
    for _ in range(MAX_PHASE_MOVES):
        if not better or _edges_prove(h_mm_to_small, paper, sheet, step_mm):
            break
        dx, dy = better[0]
        moved = _refine(near, mm, h_mm_to_small @ _shift(dx * step_mm[0], dy * step_mm[1]), pitch_px, model)
        if moved is None or len(moved[1]) < max(MIN_MATCHED_COUNT, MIN_MATCHED * len(mm)):
            break
        h_mm_to_small, used_mm, used_px = moved
        back = cv2.perspectiveTransform(used_px[None], np.linalg.inv(h_mm_to_small))[0]
        n, err = len(used_mm), float(np.sqrt(((back - used_mm) ** 2).sum(axis=1).mean()))
        unproven, better = _phase(rings, mm, h_mm_to_small, pitch_px, grid.ends)
    if _edges_prove(h_mm_to_small, paper, sheet, step_mm):
        unproven = []
    if _visible_unmatched(cands, mm, h_mm_to_small, (sh, sw), pitch_px) > VISIBLE_UNMATCHED:
        unproven = [*unproven, (0, 0)]
    h_img_to_mm = np.asarray(np.linalg.inv(scale @ h_mm_to_small), np.float64)
    return Registration(h_img_to_mm, method, rot, round(err, 3), n, len(mm), model,
                        "uncertain" if unproven else "proven", tuple(unproven))


_Fit = tuple[int, float, str, F64]
"""A fitted placement: ``(bubbles matched, RMS residual mm, method, H mm -> detection px)``."""


@dataclass(frozen=True)
class _Grid:
    """What fitting a placement needs, fixed for one :func:`register` call."""

    near: _NearestRing
    mm: F64
    rings: F64
    model: str
    steps: list[tuple[float, float]]
    step_mm: tuple[float, float]
    ends: _Ends


def _fit_placement(grid: _Grid, h_mm_to_px: F64, pitch_px: float, method: str, *, walk: bool = True) -> _Fit | None:
    """Refine a placement, try its eight one-step neighbours (a regular grid also matches one off), with
    ``walk`` grow its matches (:func:`_refine`) and move it to the phase its printed rings prefer (:func:`_phase`, up to ``MAX_PHASE_MOVES``
    steps), and score it."""
    near, mm, model = grid.near, grid.mm, grid.model
    fit = _refine(near, mm, h_mm_to_px, pitch_px, model)
    grown = _refine(near, mm, h_mm_to_px, pitch_px, model, grow=True) if walk else None
    if grown is not None and (fit is None or len(grown[1]) > len(fit[1])):
        fit = grown  # the grown fit only where it matches more (on text-dense pages it may drift)
    if fit is None:
        return None
    shifted = max(((_count(near, mm, fit[0] @ _shift(dx, dy), pitch_px), dx, dy) for dx, dy in grid.steps),
                  key=lambda c: c[0])
    if shifted[0] > len(fit[1]):
        fit = _refine(near, mm, fit[0] @ _shift(shifted[1], shifted[2]), pitch_px, model) or fit
    for _ in range(MAX_PHASE_MOVES if walk else 0):
        _unproven, better = _phase(grid.rings, mm, fit[0], pitch_px, grid.ends)
        if not better:
            break
        dx, dy = better[0]
        moved = _refine(near, mm, fit[0] @ _shift(dx * grid.step_mm[0], dy * grid.step_mm[1]), pitch_px, model)
        if moved is None or len(moved[1]) < len(fit[1]):
            break
        fit = moved
    hmat, used_mm, used_px = fit
    back = cv2.perspectiveTransform(used_px[None], np.linalg.inv(hmat))[0]
    return len(used_mm), float(np.sqrt(((back - used_mm) ** 2).sum(axis=1).mean())), method, hmat


@dataclass(frozen=True)
class _Cues:
    """What the orientation proof looks at: the detection copy, its printed rings, the meta, the paper."""

    small: GrayImage
    rings: F64
    mm: F64
    sheet: SheetMeta
    quads: list[list[tuple[float, float]]]
    tol_px: float


def _prefer(fit_a: _Fit, fit_b: _Fit, cues: _Cues) -> tuple[int, list[str]]:
    """Which placement the card supports: ``+1`` for ``a``, ``-1`` for ``b``, ``0`` when no cue tells them
    apart or two cues disagree; and the cues that spoke. The cues: one matches clearly more bubbles
    (the other fewer than ``CLEARLY_FEWER`` of it), printed rings where only one expects a bubble, the
    paper's edges, the timing marks (:mod:`omr.orient`)."""
    (na, _ea, _ma, a), (nb, _eb, _mb, b) = fit_a, fit_b
    votes: dict[str, int] = {"bubbles matched": 1 if nb < CLEARLY_FEWER * na else -1 if na < CLEARLY_FEWER * nb else 0}
    ra, rb = ring_evidence(cues.rings, cues.mm, a, b, tol_px=cues.tol_px)
    votes["rings"] = 1 if proves(ra, rb) else -1 if proves(rb, ra) else 0
    ea, eb = _edge_error_mm(a, cues.quads, cues.sheet), _edge_error_mm(b, cues.quads, cues.sheet)
    votes["paper edges"] = (1 if ea <= EDGE_AGREE_MM and eb >= ea + EDGE_MARGIN_MM
                            else -1 if eb <= EDGE_AGREE_MM and ea >= eb + EDGE_MARGIN_MM else 0)
    if cues.sheet.timing_bars:
        ta, tb = timing_evidence(cues.small, cues.sheet.timing_bars, a, b)
        votes["timing marks"] = 1 if proves(ta, tb) else -1 if proves(tb, ta) else 0
    said = {v for v in votes.values() if v}
    return (said.pop() if len(said) == 1 else 0), [c for c, v in votes.items() if v]


def _orient(chosen: _Fit, others: list[_Fit], cues: _Cues, scale: F64) -> _Fit:
    """The placement that beats every rival on asymmetric print (:func:`_prefer`), or ``alignment_failed``.

    A rival is any other fitted placement matching at least ``RIVAL_MATCHED`` of the chosen one's
    bubbles and placing some bubble elsewhere; one that the print prefers replaces the chosen one.
    """
    pool = [chosen, *others]
    for _ in range(len(pool)):
        n = chosen[0]
        here = cv2.perspectiveTransform(cues.mm[None], chosen[3])[0]
        rivals = [o for o in pool if o is not chosen and o[0] >= RIVAL_MATCHED * n
                  and np.hypot(*(cv2.perspectiveTransform(cues.mm[None], o[3])[0] - here).T).max() > cues.tol_px]
        verdicts = [(_prefer(chosen, o, cues), o) for o in rivals]
        better = [o for (v, _c), o in verdicts if v < 0]
        if better:
            chosen = max(better, key=lambda o: (o[0], -o[1]))
            continue
        open_ = [o for (v, _c), o in verdicts if v == 0]
        if open_:
            turns = sorted({_rotation(np.asarray(np.linalg.inv(scale @ o[3]), np.float64)) for o in [chosen, *open_]})
            what = " and ".join(map(str, turns)) + (" degrees" if len(turns) > 1 else " degrees in two placements")
            raise AlignmentError("alignment_failed", f"the bubble layout fits {what} and neither the rings beyond the "
                                 "grid, the paper's edges nor the timing marks tell them apart: orientation unknown")
        return chosen
    raise AlignmentError("alignment_failed", "the print keeps preferring another placement of the bubbles: orientation unknown")


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


def warp_registered(gray: GrayImage, reg: Registration, sheet: SheetMeta, px_per_mm: float) -> GrayImage:
    """Warp ``gray`` into the template frame at ``px_per_mm`` (white outside the photo)."""
    out_w, out_h = round(sheet.page_w_mm * px_per_mm), round(sheet.page_h_mm * px_per_mm)
    m_out = np.diag([px_per_mm, px_per_mm, 1.0]) @ reg.h_img_to_mm
    return np.asarray(cv2.warpPerspective(gray, m_out, (out_w, out_h), flags=cv2.INTER_LINEAR,
                                          borderMode=cv2.BORDER_CONSTANT, borderValue=255), np.uint8)


def page_from_meta(gray: GrayImage, meta: SheetMeta | Mapping[str, Any], mode: str = "auto",
                   *, px_per_mm: float = 6.0) -> Any:
    """:func:`register` then warp: an :class:`omr.warp.WarpedPage` the readers can use.

    ``alignment`` carries ``method`` (``outline``/``page_bounds``/``bubble_grid``),
    ``rotation``, ``fit_error_mm`` (the rings' RMS residual), ``model``,
    ``markers_found`` (0), ``rings_matched``, ``rings_expected`` and ``phase``
    (``proven`` / ``uncertain``, :class:`Registration`).
    """
    from omr.warp import WarpedPage

    sheet = as_sheet_meta(meta)
    reg = register(gray, sheet, mode=mode)
    page = warp_registered(gray, reg, sheet, px_per_mm)
    gh, gw = gray.shape
    quad = cv2.perspectiveTransform(
        np.array([[[0.0, 0.0], [gw - 1.0, 0.0], [gw - 1.0, gh - 1.0], [0.0, gh - 1.0]]]), reg.h_img_to_mm)[0]
    alignment = {"method": reg.method, "rotation": reg.rotation, "fit_error_mm": reg.fit_error_mm,
                 "model": reg.model, "markers_found": 0, "rings_matched": reg.matched,
                 "rings_expected": reg.expected, "phase": reg.phase}
    return WarpedPage(page, px_per_mm, alignment, [[round(float(x), 2), round(float(y), 2)] for x, y in quad])
