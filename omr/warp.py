"""Locate the sheet in an image and warp it into the template frame.

:func:`warp_page` runs these steps on a grayscale photo or scan (details and
figures in ``docs/omr.md``, section "Warp"):

1. :func:`_detection_images`: the image shrunk by an integer factor to about
   ``DETECT_LONG_PX`` (the *detection image*), and a smaller copy of it for
   thumbnails.
2. :func:`_fiducial_hypotheses`: marker candidates and the geometric search of
   :mod:`omr.fiducials` give page homographies; each one and its half-turn
   twin are scored by correlating a thumbnail with the template's
   (:mod:`omr.thumbnail`); those at ``MIN_CORR`` or more are kept, best first.
   First, cheaper: :func:`_window_hypotheses`, the same search in windows
   where the image bounds (a scan) or the paper outline (a photo) put the
   markers, kept only when it is conclusive (then it is what the whole-image
   search finds too).
3. :func:`_first_consistent`: the best hypothesis whose markers, re-located at
   full resolution (:func:`_relocate_markers`), fit the template within
   ``MAX_MARKER_RMS_MM`` (least squares: homography, or affine for scans and
   flat pages in ``auto``); a worse fit is a wrong page, and the next one is tried.
4. :func:`_outline_hypotheses`: only when no marker hypothesis holds (legacy
   metas without markers, a hidden page): the paper outline and, in ``scan``
   mode, the image bounds, in their best-correlated orientation, checked the
   same way.
4b. :func:`_from_bubbles`: no markers in the meta, or none matched (a sheet
   somebody else printed): :func:`omr.register.register` finds the page from the meta's
   bubble centres alone (outline, whole image or the printed bubble grid,
   verified on the rings; no refine pass). Nothing left:
   :class:`~omr.errors.AlignmentError`.
5. One ``warpPerspective`` to ``px_per_mm`` (:func:`_warp_once`).
6. :func:`omr.refine.verify_and_correct`: printed ring blocks are located on that page
   (:mod:`omr.refine`); a smooth residual shift is removed by resampling once
   more from the source image, and the misalignment left is ``fit_error_mm``.

Frames: "image px" are pixels of ``gray``; "detection px" of the detection
image; template mm as in the meta; "page px" of the warped page
(``px_per_mm`` per mm).

Examples:
    >>> import numpy as np
    >>> from omr.template import build_template, render_sheet
    >>> meta = build_template(10)
    >>> wp = warp_page(render_sheet(meta, dpi=150), meta, mode="scan")
    >>> wp.page.shape, wp.alignment["method"], wp.alignment["rotation"]
    ((1260, 1782), 'fiducials', 0)
    >>> wp.alignment["fit_error_mm"] < 0.3
    True
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import cv2
import numpy as np
import numpy.typing as npt

from aicore.page.outline import bright_quad
from omr.compiled import PX_PER_MM, CompiledSheet, compile_sheet
from omr.dropout import DropoutImage
from omr.errors import AlignmentError, ImageError, OptionError
from omr.fiducials import (
    DARK_OFFSET,
    STRICT_OFFSET,
    Candidates,
    find_candidates,
    local_scale,
    match_markers,
    merge_candidates,
    underdetermined,
)
from omr.markers import find_l_candidates, has_l_corners, marker_shapes, orientation_agrees
from omr.meta import as_sheet_meta
from omr.refine import Correction, verify_and_correct
from omr.register import register
from omr.thumbnail import THUMB_SRC_LONG_PX, correlate, orient
from omr.types import GrayImage, Marker, SheetMeta

__all__ = ["MODES", "PX_PER_MM", "WarpedPage", "warp_page"]

MODES = ("auto", "photo", "scan")
"""``photo``: perspective; ``scan``: flat page (affine, may fall back to the image
bounds); ``auto``: perspective, affine when the page is flat enough."""
DETECT_LONG_PX = 1000
"""Long side of the detection image: an 8 mm marker stays >= 20 px on a page filling a third of the frame."""
MIN_CORR = 0.30
"""A page hypothesis whose thumbnail correlates less with the template is not the sheet."""
GOOD_CORR = 0.5
"""A hypothesis correlating better than this with ``GOOD_SUPPORT`` markers ends the search."""
GOOD_SUPPORT = 5
ORIENT_MARGIN = 0.05
SHAPED_KEEP = 24
"""Marker hypotheses examined for markers of other shapes (4 markers fit many blob quads exactly)."""
MAX_SCALE_RATIO = 1.8
"""Largest over smallest px/mm across the markers of a plausible photo (a steeper tilt is not read)."""
"""Markers of other shapes, symmetric under a half turn: the better twin must correlate this much better."""
MAX_MARKER_RMS_MM = 2.0
"""A marker fit worse than this is a wrong page hypothesis, not a bent page."""
AFFINE_RMS_MM = 0.25
"""In ``auto`` mode, an affine fit of >= ``MIN_MARKERS_TRUSTED`` markers within this replaces the homography."""
MIN_MARKERS_TRUSTED = 5
"""With this many markers the marker residual says something (4 fit a homography exactly)."""
OUTLIER_MM = 0.6
"""A marker this far off the least-squares fit is dropped once (a thumb edge, a stain)."""
UNREFINED_FIT_MM = 1.0
"""``fit_error_mm`` assumed for a page found without any fitted marker (outline, image bounds)."""
WINDOW_SIDES = 1.1
"""A marker is searched within this many of its sides around its predicted centre..."""
MIN_WINDOW_HALF_PX = 6.0
"""...and never within less than this (a tiny marker in a low-resolution image)."""
EXTENT_SIDES = (0.6, 1.6)
"""A marker component's bounding box, in marker sides (a square turned 45 degrees is 1.41)."""
MAX_AREA_SIDES2 = 1.5
"""A marker component's area is at most this many side^2 (not merged with a shadow)."""
MAX_OFFSET_SIDES = 0.5
"""A marker component's centroid lies within this many sides of the prediction."""
MIN_SOLID_DENSITY = 0.45
"""A solid marker fills at least this much of its bounding box (the hollow one need not)."""
PAPER_PCT, INK_PCT = 90, 5
"""Percentiles of the marker window taken as paper and ink for the darkness-weighted centroid."""
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


class MarkerHit(NamedTuple):
    """A marker re-located in the image: its meta entry and its centre in image px."""

    marker: Marker
    x_px: float
    y_px: float


class MarkerFit(NamedTuple):
    """Least-squares fit of re-located markers: image px -> mm, its RMS residual (mm), the markers used."""

    h_img_to_mm: F64
    rms_mm: float
    used: list[MarkerHit]


class ChosenPage(NamedTuple):
    """The hypothesis the warp uses.

    Attributes:
        correlation: Thumbnail correlation with the template.
        method: ``"fiducials"``, ``"outline"`` or ``"page_bounds"``.
        h_img_to_mm: 3x3 homography, image px -> template mm.
        markers: The markers it rests on (empty for outline / page bounds).
        marker_rms_mm: Their RMS residual; NaN when no marker fit was possible.
        model: ``"homography"`` or ``"affine"``.
    """

    correlation: float
    method: str
    h_img_to_mm: F64
    markers: list[MarkerHit]
    marker_rms_mm: float
    model: str


@dataclass
class WarpedPage:
    """A sheet warped into the template frame.

    Attributes:
        page: ``(round(page_h_mm * px_per_mm), round(page_w_mm * px_per_mm))``
            uint8 grayscale; pixel (x, y) is at (x / px_per_mm, y / px_per_mm) mm.
        px_per_mm: Resolution of ``page``.
        alignment: ``{"method": "fiducials"|"outline"|"page_bounds",
            "rotation": 0|90|180|270, "fit_error_mm": float, "model":
            "homography"|"affine", "markers_found": int, "correlation": float,
            "marker_rms_mm": float}`` and, after the ring check, ``refined``,
            ``anchors``, ``anchors_used`` (and ``ring_rms_mm``, ``max_shift_mm``
            when measured); see ``docs/omr.md``.
        source_quad_mm: The source image's border mapped into the template
            frame (4 ``[x_mm, y_mm]``); bubbles outside it were not photographed.
        cache: Measurements taken on this page (``omr.answers.measured``), so
            the identifier and answer steps measure once.
    """

    page: GrayImage
    px_per_mm: float
    alignment: dict[str, Any]
    source_quad_mm: list[list[float]] = field(default_factory=list)
    cache: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    def to_bytes(self) -> tuple[bytes, dict[str, Any]]:
        """Serialise cheaply as (raw pixel bytes, small JSON header); no encoding.

        Examples:
            >>> wp = WarpedPage(np.zeros((2, 3), np.uint8), 6.0, {"method": "x"})
            >>> data, header = wp.to_bytes()
            >>> WarpedPage.from_bytes(data, header).page.shape
            (2, 3)
        """
        header = {
            "shape": list(self.page.shape), "px_per_mm": self.px_per_mm,
            "alignment": self.alignment, "source_quad_mm": self.source_quad_mm,
        }
        return np.ascontiguousarray(self.page).tobytes(), header

    @classmethod
    def from_bytes(cls, data: bytes, header: Mapping[str, Any]) -> WarpedPage:
        """Inverse of :meth:`to_bytes` (zero-copy, read-only view on ``data``)."""
        h, w = (int(v) for v in header["shape"])
        page = np.frombuffer(data, np.uint8, count=h * w).reshape(h, w)
        return cls(page, float(header["px_per_mm"]), dict(header["alignment"]),
                   [list(p) for p in header.get("source_quad_mm") or []])


def warp_page(gray: GrayImage | DropoutImage, meta: SheetMeta | Mapping[str, Any], mode: str = "auto",
              *, px_per_mm: float = PX_PER_MM, refine: bool = True) -> WarpedPage:
    """Find the sheet in ``gray`` and warp it into the template frame.

    Args:
        gray: ``(H, W)`` uint8 grayscale photo or scan, any rotation; or a
            :class:`~omr.dropout.DropoutImage` (a card printed in a drop-out
            colour): the page is found in its ``print_gray`` and, when it is
            registered from its bubbles (:mod:`omr.register`), warped from its
            ``marks_gray`` (print gone, marks kept). Sheets found by our
            fiducials are read in ``print_gray``.
        meta: Sheet meta (dict or :class:`SheetMeta`).
        mode: One of :data:`MODES`.
        px_per_mm: Resolution of the output page.
        refine: Verify the warp on the printed bubble blocks and correct smooth
            residual shifts (:mod:`omr.refine`); ``fit_error_mm`` then is the
            misalignment left after that correction.

    Returns:
        The :class:`WarpedPage`.

    Raises:
        AlignmentError: ``alignment_failed`` when no page can be found.
        OptionError: ``mode_invalid`` for an unknown ``mode``.
        ImageError: ``image_invalid`` when ``gray`` is not a 2-D uint8 array.
    """
    marks = None
    if isinstance(gray, DropoutImage):  # a drop-out print: rings found in one view, marks read in the other
        gray, marks = gray
    _check_inputs(gray, mode)
    compiled = compile_sheet(as_sheet_meta(meta), px_per_mm)
    det = _detection_images(gray)
    fiducial = _window_hypotheses(det, compiled)
    chosen = _first_consistent(gray, fiducial, compiled.sheet, det, mode) if fiducial else None
    if chosen is None:  # not a page filling the image, or not conclusive there: the whole image
        fiducial = _fiducial_hypotheses(det, compiled)
        chosen = _first_consistent(gray, fiducial, compiled.sheet, det, mode)
    if chosen is None:
        chosen = _first_consistent(gray, _outline_hypotheses(det, compiled, mode), compiled.sheet, det, mode)
    if chosen is None and not fiducial:  # no markers in the meta, or none matched
        return _from_bubbles(gray, compiled, mode, marks=marks)
    if chosen is not None and chosen.method == "fiducials" and _shaped(compiled.sheet):
        # markers of other shapes found the page; its printed bubbles (not our ring blocks) verify it
        return _from_bubbles(gray, compiled, mode, chosen, marks=marks)
    if chosen is None:
        raise AlignmentError("alignment_failed",
                             "could not find the answer sheet in the image (no fiducials or page outline matched)")
    marker_err = chosen.marker_rms_mm if math.isfinite(chosen.marker_rms_mm) else UNREFINED_FIT_MM
    page = _warp_once(gray, chosen.h_img_to_mm, compiled)
    fixed = Correction(page, marker_err, {})
    if refine:
        trusted = marker_err if len(chosen.markers) >= MIN_MARKERS_TRUSTED else None
        fixed = verify_and_correct(gray, page, chosen.h_img_to_mm, compiled, trusted)
    return WarpedPage(fixed.page, px_per_mm, _alignment(chosen, marker_err, fixed),
                      _source_quad_mm(gray, chosen.h_img_to_mm))


def _shaped(sheet: SheetMeta) -> bool:
    """True when a marker of ``sheet`` has another shape than our squares (:mod:`omr.markers`)."""
    return any(s.shape != "square" for s in marker_shapes(sheet))


def _from_bubbles(gray: GrayImage, compiled: CompiledSheet, mode: str,
                  chosen: ChosenPage | None = None, *, marks: GrayImage | None = None) -> WarpedPage:
    """The page from the meta's bubbles (:mod:`omr.register`): alone when nothing of ours
    matched, or starting from ``chosen`` (markers of other shapes), whose orientation it keeps.
    ``marks`` (a drop-out print's marks view) is what the page is warped from, when given."""
    try:
        reg = register(gray, compiled.sheet, mode=mode,
                       hint_h_img_to_mm=None if chosen is None else chosen.h_img_to_mm)
    except AlignmentError as exc:
        what = ("the markers matched, but the printed bubbles do not fit them" if chosen is not None
                else "no fiducials or page outline matched; from the bubbles alone")
        raise AlignmentError("alignment_failed", f"could not find the answer sheet in the image ({what}: "
                             f"{exc.message})") from None
    alignment = {"method": reg.method, "rotation": reg.rotation, "fit_error_mm": reg.fit_error_mm,
                 "model": reg.model, "markers_found": 0 if chosen is None else len(chosen.markers),
                 "rings_matched": reg.matched, "rings_expected": reg.expected, "phase": reg.phase}
    return WarpedPage(_warp_once(gray if marks is None else marks, reg.h_img_to_mm, compiled),
                      compiled.px_per_mm, alignment,
                      _source_quad_mm(gray, reg.h_img_to_mm))


def _check_inputs(gray: GrayImage, mode: str) -> None:
    if mode not in MODES:
        raise OptionError("mode_invalid", f"mode must be auto, photo or scan, got {mode!r}")
    if not isinstance(gray, np.ndarray) or gray.ndim != 2 or gray.dtype != np.uint8:
        raise ImageError("image_invalid", "expected a 2-D uint8 grayscale image")


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
    hyps = match_markers(find_candidates(det.small, windows=windows), sheet)
    if not hyps or hyps[0].support < len(sheet.markers):
        return []
    half_turn = np.array([[-1.0, 0.0, sheet.page_w_mm], [0.0, -1.0, sheet.page_h_mm], [0.0, 0.0, 1.0]])
    options = []
    for h_mm in (hyps[0].h_mm_to_img, hyps[0].h_mm_to_img @ half_turn):
        h_small_to_mm = np.linalg.inv(h_mm)
        corr = correlate(det.tsrc, det.tf, h_small_to_mm, compiled.thumbnail)
        if corr >= MIN_CORR:
            options.append(PageHypothesis(corr, "fiducials", h_small_to_mm))
    if not options or max(o.correlation for o in options) <= GOOD_CORR:
        return []
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


def _first_consistent(gray: GrayImage, options: list[PageHypothesis], sheet: SheetMeta, det: Detection,
                      mode: str) -> ChosenPage | None:
    """The best-correlated page hypothesis whose markers, re-located at full
    resolution, fit the template (RMS <= ``MAX_MARKER_RMS_MM``).

    In ``auto`` mode, >= ``MIN_MARKERS_TRUSTED`` markers fitting an affine map
    within ``AFFINE_RMS_MM`` switch to it. A hypothesis with too few or
    collinear markers keeps its detection fit, unverified (``marker_rms_mm``
    NaN). None when every hypothesis re-locates markers that contradict it.
    """
    model = "affine" if mode == "scan" else "homography"
    for corr, method, h_small_to_mm in options:
        h_img_to_mm = h_small_to_mm @ np.linalg.inv(det.to_image)
        found = _relocate_markers(gray, h_img_to_mm, sheet)
        fit = _fit(found, model)
        if fit is not None and len(found) < len(sheet.markers):
            found2 = _relocate_markers(gray, fit.h_img_to_mm, sheet)
            fit2 = _fit(found2, model)
            if fit2 is not None and len(found2) > len(found):
                found, fit = found2, fit2
        if fit is None:
            return ChosenPage(corr, method, h_img_to_mm, found, float("nan"), model)
        if fit.rms_mm > MAX_MARKER_RMS_MM:
            continue
        if mode == "auto" and len(fit.used) >= MIN_MARKERS_TRUSTED:
            aff = _fit(fit.used, "affine")
            if aff is not None and aff.rms_mm < AFFINE_RMS_MM and len(aff.used) == len(fit.used):
                return ChosenPage(corr, method, aff.h_img_to_mm, fit.used, aff.rms_mm, "affine")
        return ChosenPage(corr, method, fit.h_img_to_mm, fit.used, fit.rms_mm, model)
    return None


def _warp_once(gray: GrayImage, h_img_to_mm: F64, compiled: CompiledSheet) -> GrayImage:
    """``gray`` warped into the template frame at ``compiled.px_per_mm`` (paper white outside the photo)."""
    px_per_mm, sheet = compiled.px_per_mm, compiled.sheet
    out_w, out_h = round(sheet.page_w_mm * px_per_mm), round(sheet.page_h_mm * px_per_mm)
    m_out = np.diag([px_per_mm, px_per_mm, 1.0]) @ h_img_to_mm
    return np.asarray(cv2.warpPerspective(gray, m_out, (out_w, out_h), flags=cv2.INTER_LINEAR,
                                          borderMode=cv2.BORDER_CONSTANT, borderValue=255), np.uint8)


def _alignment(chosen: ChosenPage, marker_err: float, fixed: Correction) -> dict[str, Any]:
    """The ``alignment`` dict of the result (keys in ``docs/omr.md``)."""
    return {
        "method": chosen.method,
        "rotation": _rotation(chosen.h_img_to_mm),
        "fit_error_mm": round(fixed.fit_error_mm, 3),
        "model": chosen.model,
        "markers_found": len(chosen.markers),
        "correlation": round(chosen.correlation, 3),
        "marker_rms_mm": round(marker_err, 3),
        **fixed.extra,
    }


def _source_quad_mm(gray: GrayImage, h_img_to_mm: F64) -> list[list[float]]:
    """The image border in template mm (bubbles outside it were not photographed)."""
    gh, gw = gray.shape
    src_quad = np.array([[[0.0, 0.0], [gw - 1.0, 0.0], [gw - 1.0, gh - 1.0], [0.0, gh - 1.0]]])
    quad_mm = cv2.perspectiveTransform(src_quad, h_img_to_mm)[0]
    return [[round(float(x), 2), round(float(y), 2)] for x, y in quad_mm]


def _rotation(h_img_to_mm: F64) -> int:
    inv = np.linalg.inv(h_img_to_mm)
    p = cv2.perspectiveTransform(np.array([[[0.0, 0.0], [100.0, 0.0]]]), inv)[0]
    ang = math.degrees(math.atan2(p[1][1] - p[0][1], p[1][0] - p[0][0]))
    return int(round(ang / 90.0)) % 4 * 90


def _relocate_markers(gray: GrayImage, h_img_to_mm: F64, sheet: SheetMeta) -> list[MarkerHit]:
    """Re-locate every marker around its predicted position at full resolution.

    Otsu inside a window ``2 * WINDOW_SIDES`` marker sides wide picks the dark
    component nearest the prediction whose extent and area fit a marker; its
    centre is the darkness-weighted centroid over the component grown by 2 px
    (sub-pixel, symmetric for the hollow marker). Markers outside the image or
    not found are left out.
    """
    inv = np.linalg.inv(h_img_to_mm)
    found = []
    gh, gw = gray.shape
    for m, shape in zip(sheet.markers, marker_shapes(sheet), strict=True):
        s = m.size_mm / 2
        ring = [(m.x_mm + dx * s, m.y_mm + dy * s) for dx, dy in ((-1, -1), (1, -1), (1, 1), (-1, 1))]
        pts = cv2.perspectiveTransform(np.array([[[m.x_mm, m.y_mm], *ring]], np.float64), inv)[0]
        cx, cy = pts[0]
        side = float(np.linalg.norm(pts[1:] - pts[0], axis=1).mean()) * math.sqrt(2.0)
        half = max(WINDOW_SIDES * side, MIN_WINDOW_HALF_PX)
        x0, y0 = int(cx - half), int(cy - half)
        x1, y1 = int(cx + half) + 1, int(cy + half) + 1
        if x0 < 0 or y0 < 0 or x1 > gw or y1 > gh:
            continue
        win = gray[y0:y1, x0:x1]
        blur = cv2.GaussianBlur(win, (3, 3), 0)
        _, bw = cv2.threshold(blur, 0, 255, cv2.THRESH_BINARY_INV + cv2.THRESH_OTSU)
        n, lab, stats, cents = cv2.connectedComponentsWithStats(bw, connectivity=8)
        if n < 2:
            continue
        ext = np.maximum(stats[1:, cv2.CC_STAT_WIDTH], stats[1:, cv2.CC_STAT_HEIGHT]).astype(np.float64)
        dens = stats[1:, cv2.CC_STAT_AREA] / np.maximum(stats[1:, cv2.CC_STAT_WIDTH] * stats[1:, cv2.CC_STAT_HEIGHT], 1)
        d = np.hypot(cents[1:, 0] + x0 - cx, cents[1:, 1] + y0 - cy)
        area = stats[1:, cv2.CC_STAT_AREA].astype(np.float64)
        ok = ((ext >= EXTENT_SIDES[0] * side) & (ext <= EXTENT_SIDES[1] * side)
              & (area <= MAX_AREA_SIDES2 * side * side) & (d <= MAX_OFFSET_SIDES * side))
        if m.kind != "hollow" and shape.shape not in ("circle", "l_corner"):  # a ring or an L is thin
            ok &= dens >= MIN_SOLID_DENSITY
        if shape.shape == "l_corner":  # centred on its spanned square, not on its ink
            d = np.hypot(stats[1:, cv2.CC_STAT_LEFT] + stats[1:, cv2.CC_STAT_WIDTH] / 2 + x0 - cx,
                         stats[1:, cv2.CC_STAT_TOP] + stats[1:, cv2.CC_STAT_HEIGHT] / 2 + y0 - cy)
            ok = ((ext >= EXTENT_SIDES[0] * side) & (ext <= EXTENT_SIDES[1] * side)
                  & (d <= MAX_OFFSET_SIDES * side))
        if not ok.any():
            continue
        i = 1 + int(np.argmin(np.where(ok, d, np.inf)))
        if shape.shape == "l_corner":
            pts_l = cv2.findNonZero((lab == i).astype(np.uint8))
            (rx, ry), _, _ = cv2.minAreaRect(pts_l)
            found.append(MarkerHit(m, float(x0 + rx), float(y0 + ry)))
            continue
        mask = cv2.dilate((lab == i).astype(np.uint8), np.ones((5, 5), np.uint8)).astype(bool)
        paper, ink = np.percentile(blur, [PAPER_PCT, INK_PCT])
        wgt = np.clip((paper - win.astype(np.float32)) / max(paper - ink, 1.0), 0.0, 1.0) * mask
        tot = float(wgt.sum())
        if tot <= 0:
            continue
        ys, xs = np.arange(win.shape[0])[:, None], np.arange(win.shape[1])[None, :]  # broadcast, as mgrid's
        found.append(MarkerHit(m, float(x0 + (wgt * xs).sum() / tot), float(y0 + (wgt * ys).sum() / tot)))
    return found


def _fit(found: list[MarkerHit], model: str) -> MarkerFit | None:
    """Least-squares fit image px -> mm; one gross outlier (> ``OUTLIER_MM``) is
    dropped when there are more markers than the model needs.

    None when too few markers, or markers that cannot pin ``model``.
    """
    found = list(found)
    need = 4 if model == "homography" else 3
    for _ in range(2):
        if len(found) < need:
            return None
        src = np.array([[x, y] for _, x, y in found], np.float64)
        dst = np.array([[m.x_mm, m.y_mm] for m, _, _ in found], np.float64)
        if underdetermined(dst, model):
            return None
        if model == "homography":
            hmat, _ = cv2.findHomography(src, dst, 0)
            if hmat is None:
                return None
        else:
            a, _ = cv2.estimateAffine2D(src, dst, method=cv2.LMEDS)
            if a is None:
                return None
            hmat = np.vstack([a, [0.0, 0.0, 1.0]])
        proj = cv2.perspectiveTransform(src[None], hmat)[0]
        res = np.sqrt(((proj - dst) ** 2).sum(axis=1))
        worst = int(np.argmax(res))
        if len(found) > need and res[worst] > OUTLIER_MM:
            found.pop(worst)
            continue
        break
    err = float(np.sqrt((res ** 2).mean()))
    return MarkerFit(hmat.astype(np.float64), err, found)
