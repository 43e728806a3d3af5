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

Steps 1, 2 (the whole-image search) and 4 live in :mod:`omr.page_hypotheses`,
the windowed search of step 2 in :mod:`omr.marker_windows`, the re-location
and fit of step 3 in :mod:`omr.marker_fit`; this module holds the order of the
steps (:func:`warp_page`), the choice among hypotheses
(:func:`_first_consistent`), the fallback to :mod:`omr.register` and the warp
itself (:class:`WarpedPage`).

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

from omr.compiled import PX_PER_MM, CompiledSheet, compile_sheet
from omr.dropout import DropoutImage
from omr.errors import AlignmentError, ImageError, OptionError
from omr.marker_fit import MarkerHit, _fit, _relocate_markers
from omr.marker_windows import _window_hypotheses
from omr.meta import as_sheet_meta
from omr.page_hypotheses import (
    Detection,
    PageHypothesis,
    _detection_images,
    _fiducial_hypotheses,
    _outline_hypotheses,
    _shaped,
)
from omr.refine import Correction, verify_and_correct
from omr.register import register
from omr.types import GrayImage, SheetMeta

__all__ = ["MODES", "PX_PER_MM", "WarpedPage", "warp_page"]

F64 = npt.NDArray[np.float64]

MODES = ("auto", "photo", "scan")
"""``photo``: perspective; ``scan``: flat page (affine, may fall back to the image
bounds); ``auto``: perspective, affine when the page is flat enough."""
MAX_MARKER_RMS_MM = 2.0
"""A marker fit worse than this is a wrong page hypothesis, not a bent page."""
AFFINE_RMS_MM = 0.25
"""In ``auto`` mode, an affine fit of >= ``MIN_MARKERS_TRUSTED`` markers within this replaces the homography."""
MIN_MARKERS_TRUSTED = 5
"""With this many markers the marker residual says something (4 fit a homography exactly)."""
UNREFINED_FIT_MM = 1.0
"""``fit_error_mm`` assumed for a page found without any fitted marker (outline, image bounds)."""


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
    if m_out[2, 0] == 0.0 and m_out[2, 1] == 0.0 and m_out[2, 2] == 1.0:
        # an affine fit (scans, flat pages): warpAffine gives the same pixels (OpenCV 5 computes
        # the source coordinates alike; tests/omr/test_warp.py checks), ~10 % cheaper
        return np.asarray(cv2.warpAffine(gray, m_out[:2], (out_w, out_h), flags=cv2.INTER_LINEAR,
                                         borderMode=cv2.BORDER_CONSTANT, borderValue=255), np.uint8)
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

