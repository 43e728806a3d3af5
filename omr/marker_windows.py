"""The marker-window search for :func:`omr.warp.warp_page`: markers sought where the page's frame puts them.

Cheaper than the whole-image search (:func:`omr.page_hypotheses._fiducial_hypotheses`),
run first: the image bounds (a scan whose aspect is the page's, ``BOUNDS_ASPECT_TOL``)
or the paper outline (a photo, ``OUTLINE_ASPECT_TOL``) predict each marker, and
:func:`_window_hypotheses` searches only within ``BOUNDS_WINDOW_MM`` /
``OUTLINE_WINDOW_MM`` of those predictions (:func:`_quad_windows`). Its
hypotheses are kept only when conclusive; then they are what the whole-image
search finds too (``tests/omr/test_warp.py``).
"""

from __future__ import annotations

import math

import cv2
import numpy as np

from aicore.page.outline import bright_quad
from omr.compiled import CompiledSheet
from omr.fiducials import (
    Candidates,
    Hypothesis,
    find_candidates,
    match_markers,
)
from omr.page_hypotheses import (
    GOOD_CORR,
    GOOD_SUPPORT,
    MIN_CORR,
    MIN_OUTLINE_AREA,
    OUTLINE_EPS,
    Detection,
    PageHypothesis,
    _shaped,
)
from omr.thumbnail import correlate
from omr.types import SheetMeta

BOUNDS_ASPECT_TOL = 0.05
"""An image whose aspect is within this of the page's (either way round) may be the page itself (a scan)..."""
BOUNDS_WINDOW_MM = 25.0
"""...and its markers are first searched within this of where the image bounds put them (plus a marker
side): a scan's lid margin, shift, 6 % print scale and 2 degrees of skew move them up to ~20 mm."""
OUTLINE_ASPECT_TOL = 0.3
"""Otherwise the paper outline, when its sides keep the page's aspect within this (a tilted photo
foreshortens one way)..."""
OUTLINE_WINDOW_MM = 15.0
"""...and its markers are first searched within this of where the outline puts them (print offset,
curl and a rounded outline corner)."""
HOLLOW_MIN = 0.1
"""A candidate whose largest hole is this much of its area is the hollow marker (ours read 0.16-0.25
on the accuracy bench's photos and scans)..."""
SOLID_MAX = 0.05
"""...and one whose hole is under this much is solid (ours read 0.0): the two settle the orientation."""
TWIN_TOL_MM = 1.0
"""The marker a half turn puts the hollow one on lies within this of its place (a symmetric layout)."""


def _settled_twin(hyp: Hypothesis, cands: Candidates, sheet: SheetMeta) -> int | None:
    """Which of ``hyp`` (0) and its half-turn twin (1) the hollow marker says is upright; None when it says nothing.

    The hollow marker's candidate must be hollow and the candidate of the
    marker the half turn puts in its place solid (``HOLLOW_MIN``,
    ``SOLID_MAX``), both matched; then the other twin's thumbnail need not be
    correlated (on our sheets it correlates 0.3-0.4 lower).

    Examples:
        >>> from omr.meta import as_sheet_meta
        >>> from omr.template import build_template
        >>> sheet = as_sheet_meta(build_template(10))
        >>> match = np.arange(len(sheet.markers))
        >>> hollow = np.zeros(len(sheet.markers)); hollow[0] = 0.2
        >>> cands = Candidates(np.zeros((len(match), 2)), np.ones(len(match)), hollow, np.ones(len(match)))
        >>> _settled_twin(Hypothesis(match, np.eye(3), len(match), 0.0), cands, sheet)
        0
        >>> _settled_twin(Hypothesis(match[[2, 1, 0, 3, 4, 5]], np.eye(3), len(match), 0.0), cands, sheet)
        1
        >>> cands.hollow[2] = 0.2  # both hollow: nothing settled
        >>> _settled_twin(Hypothesis(match, np.eye(3), len(match), 0.0), cands, sheet) is None
        True
    """
    hollow = [i for i, m in enumerate(sheet.markers) if m.kind == "hollow"]
    if len(hollow) != 1:
        return None
    h = hollow[0]
    mk = sheet.markers
    tx, ty = sheet.page_w_mm - mk[h].x_mm, sheet.page_h_mm - mk[h].y_mm
    t = min(range(len(mk)), key=lambda i: (mk[i].x_mm - tx) ** 2 + (mk[i].y_mm - ty) ** 2)
    if math.hypot(mk[t].x_mm - tx, mk[t].y_mm - ty) > TWIN_TOL_MM or hyp.match[h] < 0 or hyp.match[t] < 0:
        return None
    at_h, at_t = float(cands.hollow[hyp.match[h]]), float(cands.hollow[hyp.match[t]])
    if at_h >= HOLLOW_MIN and at_t < SOLID_MAX:
        return 0
    if at_t >= HOLLOW_MIN and at_h < SOLID_MAX:
        return 1
    return None


def _quad_windows(quad: list[tuple[float, float]], sheet: SheetMeta, aspect_tol: float,
                  margin_mm: float) -> list[tuple[int, int, int, int]]:
    """Where the markers are, in detection px, if ``quad`` (4 clockwise corners) is the page.

    Each cyclic assignment of the quad's corners to the page's whose sides keep
    the page's aspect within ``aspect_tol`` predicts every marker (a
    homography); each prediction gets a box ``margin_mm`` plus the marker's
    side around it (at the quad's mean scale). Boxes shared by twins (a layout
    symmetric under a half turn) are kept once. Empty when no assignment fits.
    """
    pw, ph = sheet.page_w_mm, sheet.page_h_mm
    q = np.array(quad, np.float64)
    sides = np.linalg.norm(np.roll(q, -1, axis=0) - q, axis=1)  # top, right, bottom, left for order 0
    page_mm = np.array([[0.0, 0.0], [pw, 0.0], [pw, ph], [0.0, ph]], np.float32)
    pts_mm = np.array([[[m.x_mm, m.y_mm] for m in sheet.markers]], np.float64)
    out: list[tuple[int, int, int, int]] = []
    for k in range(4):
        across = (sides[k % 4] + sides[(k + 2) % 4]) / 2 / pw
        down = (sides[(k + 1) % 4] + sides[(k + 3) % 4]) / 2 / ph
        if not abs(across / down - 1.0) <= aspect_tol:
            continue
        h_mm = cv2.getPerspectiveTransform(page_mm, np.roll(q, -k, axis=0).astype(np.float32))
        scale = (across + down) / 2
        for m, (x, y) in zip(sheet.markers, cv2.perspectiveTransform(pts_mm, h_mm)[0], strict=True):
            half = (margin_mm + m.size_mm) * scale
            box = (math.floor(x - half), math.floor(y - half), math.ceil(x + half) + 1, math.ceil(y + half) + 1)
            if not any(max(abs(a - b) for a, b in zip(box, o, strict=True)) <= 2 for o in out):
                out.append(box)
    return out


def _window_hypotheses(det: Detection, compiled: CompiledSheet) -> list[PageHypothesis]:
    """The fast path: :func:`_fiducial_hypotheses` on marker windows only, when that is conclusive.

    The windows come from where the page should be: the image bounds when
    the image has the page's aspect (a scan, ``BOUNDS_ASPECT_TOL``,
    ``BOUNDS_WINDOW_MM``), else the paper outline (a photo,
    ``OUTLINE_ASPECT_TOL``, ``OUTLINE_WINDOW_MM``). Conclusive: the best
    hypothesis is supported by every marker and one of its twins correlates
    above ``GOOD_CORR``. Those are the hypotheses the search of the whole
    image starts with and stops at (the same blobs give the same contours,
    fits and correlations), so the page is the same, found at a fraction of
    the cost. Otherwise (a hidden marker, a page the windows miss): empty,
    and the whole image is searched.
    """
    sheet = compiled.sheet
    if len(sheet.markers) < max(4, GOOD_SUPPORT) or _shaped(sheet):
        return []
    h, w = det.small.shape
    windows = _quad_windows([(0.0, 0.0), (w - 1.0, 0.0), (w - 1.0, h - 1.0), (0.0, h - 1.0)], sheet,
                            BOUNDS_ASPECT_TOL, BOUNDS_WINDOW_MM)
    if not windows:  # the outline at half the detection scale is close enough to place windows
        half = cv2.resize(det.small[:h // 2 * 2, :w // 2 * 2], (w // 2, h // 2), interpolation=cv2.INTER_AREA)
        outline = bright_quad(half, min_area=MIN_OUTLINE_AREA, eps=OUTLINE_EPS)
        if outline is None:
            return []
        windows = _quad_windows([(2 * x + 0.5, 2 * y + 0.5) for x, y in outline], sheet,
                                OUTLINE_ASPECT_TOL, OUTLINE_WINDOW_MM)
    if not windows:
        return []
    cands = find_candidates(det.small, windows=windows)
    hyps = match_markers(cands, sheet)
    if not hyps or hyps[0].support < len(sheet.markers):
        return []
    half_turn = np.array([[-1.0, 0.0, sheet.page_w_mm], [0.0, -1.0, sheet.page_h_mm], [0.0, 0.0, 1.0]])
    twins = [hyps[0].h_mm_to_img, hyps[0].h_mm_to_img @ half_turn]
    settled = _settled_twin(hyps[0], cands, sheet)
    options = []
    for h_mm in twins if settled is None else twins[settled:settled + 1]:
        h_small_to_mm = np.linalg.inv(h_mm)
        corr = correlate(det.tsrc, det.tf, h_small_to_mm, compiled.thumbnail)
        if corr >= MIN_CORR:
            options.append(PageHypothesis(corr, "fiducials", h_small_to_mm))
    if not options or max(o.correlation for o in options) <= GOOD_CORR:
        return []
    options.sort(key=lambda o: -o.correlation)
    return options
