"""Page hypotheses for :func:`omr.warp.warp_page`: where the sheet may lie in the image, best first.

* :func:`_detection_images`: the image shrunk to about ``DETECT_LONG_PX`` (the
  detection image) and the thumbnail source (:class:`Detection`);
* :func:`_fiducial_hypotheses`: marker candidates and the geometric search of
  :mod:`omr.fiducials` on the whole detection image, each placement and its
  half-turn twin scored by thumbnail correlation (:mod:`omr.thumbnail`);
  markers of other shapes (:func:`_shaped`, :func:`_shaped_hypotheses`);
* :func:`_outline_hypotheses`: the paper outline and the image bounds, when no
  marker hypothesis holds.

Each is a :class:`PageHypothesis` (detection px -> template mm); the windowed
search that runs first is :mod:`omr.marker_windows`, the check against the
markers re-located at full resolution :mod:`omr.marker_fit`. Frames as in
:mod:`omr.warp`.
"""

from __future__ import annotations

from typing import NamedTuple

import cv2
import numpy as np
import numpy.typing as npt

from aicore.page.outline import bright_quad
from omr.compiled import CompiledSheet
from omr.fiducials import (
    DARK_OFFSET,
    STRICT_OFFSET,
    Candidates,
    find_candidates,
    local_scale,
    match_markers,
    merge_candidates,
)
from omr.markers import find_l_candidates, has_l_corners, marker_shapes, orientation_agrees
from omr.thumbnail import THUMB_SRC_LONG_PX, correlate, orient
from omr.types import GrayImage, SheetMeta

DETECT_LONG_PX = 1000
"""Long side of the detection image: an 8 mm marker stays >= 20 px on a page filling a third of the frame."""
MIN_CORR = 0.30
"""A page hypothesis whose thumbnail correlates less with the template is not the sheet."""
GOOD_CORR = 0.5
"""A hypothesis correlating better than this with ``GOOD_SUPPORT`` markers ends the search."""
GOOD_SUPPORT = 5
ORIENT_MARGIN = 0.05
"""Markers of other shapes, symmetric under a half turn: the better twin must correlate this much better."""
SHAPED_KEEP = 24
"""Marker hypotheses examined for markers of other shapes (4 markers fit many blob quads exactly)."""
MAX_SCALE_RATIO = 1.8
"""Largest over smallest px/mm across the markers of a plausible photo (a steeper tilt is not read)."""
MIN_OUTLINE_AREA = 0.15
"""The paper outline must cover this fraction of the detection image."""
OUTLINE_EPS = (0.01, 0.02, 0.03, 0.05)
"""Polygon simplification tolerances tried (fractions of the outline's perimeter) to find 4 corners."""

F64 = npt.NDArray[np.float64]


class Detection(NamedTuple):
    """The images the page search works on.

    Attributes:
        small: The detection image (``gray`` shrunk by an integer factor).
        to_image: 3x3 scaling, detection px -> image px.
        tsrc: The thumbnail source (``small`` scaled by ``tf``).
        tf: Scale of ``tsrc`` relative to ``small`` (<= 1).
    """

    small: GrayImage
    to_image: F64
    tsrc: GrayImage
    tf: float


class PageHypothesis(NamedTuple):
    """A candidate page: ``correlation`` with the template, how it was found
    (``"fiducials"``, ``"outline"``, ``"page_bounds"``) and its homography,
    detection px -> template mm."""

    correlation: float
    method: str
    h_small_to_mm: F64


def _shaped(sheet: SheetMeta) -> bool:
    """True when a marker of ``sheet`` has another shape than our squares (:mod:`omr.markers`)."""
    return any(s.shape != "square" for s in marker_shapes(sheet))


def _detection_images(gray: GrayImage) -> Detection:
    gh, gw = gray.shape
    k = max(1, round(max(gh, gw) / DETECT_LONG_PX))  # integer factor: INTER_AREA's fast path
    f = 1.0 / k
    # cropped to a multiple of k first: the fast path needs an exact factor (a 2339 px side
    # took INTER_AREA's general path, 5x slower), and ``to_image`` is then exact too
    small = (cv2.resize(gray[:gh // k * k, :gw // k * k], (gw // k, gh // k), interpolation=cv2.INTER_AREA)
             if k > 1 else gray)
    to_image = np.diag([1.0 / f, 1.0 / f, 1.0]) if f < 1 else np.eye(3)
    tf = min(1.0, THUMB_SRC_LONG_PX / max(small.shape))
    tsrc = cv2.resize(small, None, fx=tf, fy=tf, interpolation=cv2.INTER_AREA) if tf < 1 else small
    return Detection(np.asarray(small, np.uint8), to_image, np.asarray(tsrc, np.uint8), tf)


def _fiducial_hypotheses(det: Detection, compiled: CompiledSheet) -> list[PageHypothesis]:
    """Marker-based page hypotheses correlating at ``MIN_CORR`` or more, best first."""
    sheet = compiled.sheet
    options: list[PageHypothesis] = []
    if len(sheet.markers) < 4:
        return options
    half_turn = np.array([[-1.0, 0.0, sheet.page_w_mm], [0.0, -1.0, sheet.page_h_mm], [0.0, 0.0, 1.0]])
    if _shaped(sheet):
        return _shaped_hypotheses(det, compiled, half_turn)
    cands = find_candidates(det.small)
    hyps = match_markers(cands, sheet)
    if not hyps or hyps[0].support < len(sheet.markers):
        # a marker on a shadow edge merges with the shadow side: look again, stricter
        more = merge_candidates(cands, find_candidates(det.small, offset=STRICT_OFFSET))
        if len(more.xy) > len(cands.xy) or not np.array_equal(more.xy, cands.xy):
            hyps2 = match_markers(more, sheet)
            if hyps2 and (not hyps or hyps2[0].support > hyps[0].support):
                hyps = hyps2
    for hyp in hyps:
        # the geometry is symmetric under a half turn: the hollow marker and the
        # printed content (template correlation) pick the orientation
        for h_mm in (hyp.h_mm_to_img, hyp.h_mm_to_img @ half_turn):
            h_small_to_mm = np.linalg.inv(h_mm)
            corr = correlate(det.tsrc, det.tf, h_small_to_mm, compiled.thumbnail)
            if corr >= MIN_CORR:
                options.append(PageHypothesis(corr, "fiducials", h_small_to_mm))
        if options and max(o.correlation for o in options) > GOOD_CORR and hyp.support >= GOOD_SUPPORT:
            break
    options.sort(key=lambda o: -o.correlation)
    return options


def _shaped_hypotheses(det: Detection, compiled: CompiledSheet, half_turn: F64) -> list[PageHypothesis]:
    """Page hypotheses from markers of other shapes (:mod:`omr.markers`), best first.

    Candidates: the solid blobs of :func:`omr.fiducials.find_candidates` (circles,
    filled squares) and, when the meta has L-corners, L-shaped blobs first
    (both passes, ``DARK_OFFSET`` and ``STRICT_OFFSET``). The template thumbnail
    is drawn by our own code, which such a sheet does not match, so a hypothesis
    supported by every marker (or all but one, >= 4) is kept whatever its
    correlation; the orientation is the one the L-corners point at, else the
    better-correlated twin when it is clearly better (``ORIENT_MARGIN``), else
    none (the page is refused rather than read upside down).
    """
    sheet = compiled.sheet
    shaped = has_l_corners(sheet)
    cands = find_candidates(det.small)
    l_xy, l_dir = np.zeros((0, 2)), np.zeros((0, 2))
    if shaped:
        found = [find_l_candidates(det.small, off) for off in (DARK_OFFSET, STRICT_OFFSET)]
        l_xy = np.concatenate([f[0] for f in found])
        l_size = np.concatenate([f[1] for f in found])
        l_dir = np.concatenate([f[2] for f in found])
        ls = Candidates(l_xy, l_size, np.zeros(len(l_xy)), np.full(len(l_xy), 2.0))
        cands = merge_candidates(ls, cands)  # Ls first (quality 2 > any blob's)
    else:
        cands = merge_candidates(cands, find_candidates(det.small, offset=STRICT_OFFSET))
    need = max(4, len(sheet.markers) - 1)
    model = np.array([[m.x_mm, m.y_mm] for m in sheet.markers], np.float64)
    options: list[PageHypothesis] = []
    for hyp in match_markers(cands, sheet, keep=SHAPED_KEEP):
        # 4 markers fit any 4 blobs exactly: only a plausible page (scale even across it) is a hypothesis
        sc = local_scale(hyp.h_mm_to_img, model)
        if hyp.support < need or not sc.min() > 0 or sc.max() / sc.min() > MAX_SCALE_RATIO:
            continue
        twins = []
        for h_mm in (hyp.h_mm_to_img, hyp.h_mm_to_img @ half_turn):
            if shaped and not orientation_agrees(h_mm, sheet, l_xy, l_dir):
                continue
            h_small_to_mm = np.asarray(np.linalg.inv(h_mm), np.float64)
            twins.append(PageHypothesis(correlate(det.tsrc, det.tf, h_small_to_mm, compiled.thumbnail),
                                        "fiducials", h_small_to_mm))
        twins.sort(key=lambda o: -o.correlation)
        if len(twins) == 2 and twins[0].correlation - twins[1].correlation < ORIENT_MARGIN:
            continue  # the markers and the page look the same turned 180 degrees
        options.extend(twins[:1])
    options.sort(key=lambda o: -o.correlation)
    return options


def _outline_hypotheses(det: Detection, compiled: CompiledSheet, mode: str) -> list[PageHypothesis]:
    """The paper outline and (``scan`` mode) the image bounds, best orientation each, best first."""
    sheet = compiled.sheet
    tried: list[tuple[str, list[tuple[float, float]]]] = []
    outline = bright_quad(det.small, min_area=MIN_OUTLINE_AREA, eps=OUTLINE_EPS)
    if outline is not None:
        tried.append(("outline", outline))
    if mode == "scan":
        sh, sw = det.small.shape
        tried.append(("page_bounds", [(0.0, 0.0), (sw - 1.0, 0.0), (sw - 1.0, sh - 1.0), (0.0, sh - 1.0)]))
    page_corners = [(0.0, 0.0), (sheet.page_w_mm, 0.0), (sheet.page_w_mm, sheet.page_h_mm), (0.0, sheet.page_h_mm)]
    out: list[PageHypothesis] = []
    for method, quad in tried:
        corr, h_small_to_mm = orient(det.tsrc, det.tf, quad, page_corners, compiled.thumbnail)
        if corr >= MIN_CORR:
            out.append(PageHypothesis(corr, method, h_small_to_mm))
    out.sort(key=lambda o: -o.correlation)
    return out
