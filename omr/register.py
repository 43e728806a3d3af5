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

This module holds the steps' order (:func:`register`), the hypotheses, the
placement fit and the orientation choice (:func:`_orient`);
:mod:`omr.rings` holds the ring detection and matching (steps 1 and 3, the
``bubble_grid`` vote); :mod:`omr.phase` the grid's one-step shifts and
half-turn twins and the proofs that rule them out (step 4, the phase proof).

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
from omr.phase import (
    RIVAL_MATCHED,
    _edge_error_mm,
    _edges_prove,
    _Ends,
    _grid_ends,
    _grid_step_mm,
    _grid_steps,
    _half_turn_about,
    _half_turn_centres,
    _page_corners,
    _phase,
    _shift,
    _visible_unmatched,
)
from omr.rings import (
    MATCH_PITCH,
    MIN_MATCHED,
    MIN_MATCHED_COUNT,
    _bubble_centres,
    _bubble_rings,
    _count,
    _grid_angle,
    _NearestRing,
    _pitch,
    _refine,
    _similarity,
    _vote_translation,
    find_ring_blobs,
    find_rings,
)
from omr.types import GrayImage, SheetMeta

__all__ = ["Registration", "find_rings", "page_from_meta", "register", "warp_registered"]

F64 = npt.NDArray[np.float64]

#: Rings are found on a copy this long: a 2 mm bubble on A4 is still ~13 px across.
DETECT_LONG_PX = 1600
#: Of the bubble-sized rings (:data:`omr.rings.SIZE_TOLERANCE`), the ones whose long side is within this factor of the group's median count for the orientation
#: proof (an oval's height: question numbers and glyphs are as wide as an oval, not as tall).
SHAPE_TOLERANCE = 1.25
#: The scale from the rings' spacing replaces the one from their size when the two agree within this factor.
PITCH_SCALE_AGREE = 1.15
#: Blobs up to this many bubble diameters can answer a bubble when matching (rings, labels in them).
MAX_CANDIDATE = 2.2
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
#: A placement the rings prove to be off is moved a step at a time, at most this many steps.
MAX_PHASE_MOVES = 4
#: The placement itself is unproven when more than this fraction of the meta's bubbles that land inside the
#: image (clear of its edge by a bubble pitch) has no printed blob there: a placement matching only part of
#: the card (a partly cut-off card fitted a whole block over: 0.27) leaves rings missing where it expects
#: them; right placements of 100 independent Korean cards (photos and scans) leave at most 0.044.
VISIBLE_UNMATCHED = 0.1


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
