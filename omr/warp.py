"""Locate the sheet in an image and warp it into the template frame.

Pipeline (all on a grayscale image, see ``docs/omr.md``):

1. *Candidates*: on a copy downscaled to <= 1400 px, an adaptive threshold
   finds dark, square, isolated blobs (the fiducials have quiet zones).
2. *Quad*: every 4-subset of the best candidates is scored against the page
   geometry (convex, similar marker sizes, marker size vs. spacing, aspect).
3. *Orientation*: for each of the 4 cyclic corner assignments the image is
   warped to a 1.5 px/mm thumbnail and correlated (high-passed) with the
   rendered template; the hollow top-left marker and the header make exactly
   one assignment match. A low best correlation rejects the quad.
4. *Refine*: every marker (corners + mid-edge) is re-located at full
   resolution around its predicted position; the final transform is fitted
   by least squares (homography for photos, affine for scans) and its RMS
   residual in mm is ``fit_error_mm``.
5. *Fallbacks*: the paper outline (largest bright quadrilateral), then (scan
   mode) the image bounds. If nothing correlates: ``AlignmentError``.

The page is then warped *once* to ``px_per_mm`` (default 6).

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
from typing import Any

import cv2
import numpy as np
import numpy.typing as npt

from omr.errors import AlignmentError, ImageError, OptionError
from omr.fiducials import (
    STRICT_OFFSET,
    find_candidates,
    match_markers,
    merge_candidates,
    underdetermined,
)
from omr.meta import as_sheet_meta
from omr.refine import APPLY_MIN_MM, SEARCH_MM, Offsets, ShiftField, fit_field, measure_offsets
from omr.types import GrayImage, Marker, SheetMeta

__all__ = ["PX_PER_MM", "WarpedPage", "warp_page"]

PX_PER_MM = 6.0
DETECT_LONG_PX = 1000
THUMB_PX_PER_MM = 1.5
MIN_CORR = 0.30
MAX_MARKER_RMS_MM = 2.0  # a marker fit worse than this is a wrong page hypothesis, not a bent page
THUMB_SRC_LONG_PX = 640
REMAP_STEP_PX = 8
MAX_SHIFT_MM = 3.0
UNVERIFIED_FIT_MM = 0.9
REFINE_PASSES = 2
ALIAS_SHIFT_MM = 2.9
"""A correction this large (the bubble pitch is 6.2-6.4 mm) cannot rule out a one-bubble slip."""
ALIAS_FIT_MM = 1.0
SECOND_PASS_MM = 0.15

F64 = npt.NDArray[np.float64]


@dataclass
class WarpedPage:
    """A sheet warped into the template frame.

    Attributes:
        page: ``(round(page_h_mm * px_per_mm), round(page_w_mm * px_per_mm))``
            uint8 grayscale; pixel (x, y) is at (x / px_per_mm, y / px_per_mm) mm.
        px_per_mm: Resolution of ``page``.
        alignment: ``{"method": "fiducials"|"outline"|"page_bounds",
            "rotation": 0|90|180|270, "fit_error_mm": float, "model":
            "homography"|"affine", "markers_found": int, "correlation": float}``.
        source_quad_mm: The source image's border mapped into the template
            frame (4 ``[x_mm, y_mm]``); bubbles outside it were not photographed.
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


_THUMBS: dict[str, F64] = {}


def _thumb_template(meta_hash: str, sheet: SheetMeta) -> F64:
    hit = _THUMBS.get(meta_hash)
    if hit is None:
        from omr.template import render_sheet

        if len(_THUMBS) > 32:
            _THUMBS.clear()
        hit = _THUMBS[meta_hash] = _highpass(render_sheet(sheet.raw, dpi=THUMB_PX_PER_MM * 25.4))
    return hit


def _highpass(img: npt.NDArray[Any]) -> F64:
    f = img.astype(np.float32)
    hp = np.asarray(f - cv2.GaussianBlur(f, (0, 0), 6.0), np.float32)
    hp = np.asarray(cv2.GaussianBlur(hp, (0, 0), 0.8), np.float32)
    hp -= hp.mean()
    n = float(np.sqrt((hp * hp).sum())) or 1.0
    return (hp / n).astype(np.float64)


def _cyclic(pts: list[tuple[float, float]]) -> list[int] | None:
    """Indices of 4 points in clockwise order (image coords, y down), or None if not convex."""
    cx = sum(p[0] for p in pts) / 4
    cy = sum(p[1] for p in pts) / 4
    order = sorted(range(4), key=lambda i: math.atan2(pts[i][1] - cy, pts[i][0] - cx))
    for k in range(4):
        a, b, c = (pts[order[(k + j) % 4]] for j in range(3))
        cross = (b[0] - a[0]) * (c[1] - b[1]) - (b[1] - a[1]) * (c[0] - b[0])
        if cross <= 0:
            return None
    return order


def _orient(tsrc: npt.NDArray[Any], tf: float, quad_px: list[tuple[float, float]], dst_mm: list[tuple[float, float]],
            sheet: SheetMeta) -> tuple[float, int, F64]:
    """Best cyclic assignment of ``quad_px`` (clockwise) to ``dst_mm`` (TL,TR,BR,BL).

    ``tsrc`` is the detection image scaled by ``tf``; the returned homography maps
    detection-image pixels to thumbnail pixels (``THUMB_PX_PER_MM``).
    """
    tmpl = _thumb_template(sheet.meta_hash, sheet)
    th, tw = tmpl.shape
    s = THUMB_PX_PER_MM
    dst = np.array(dst_mm, np.float32) * s
    best = (-2.0, 0, np.eye(3))
    for k in range(4):
        src = np.array([quad_px[(i + k) % 4] for i in range(4)], np.float32)
        hmat = cv2.getPerspectiveTransform(src, dst)
        h_t = hmat @ np.diag([1.0 / tf, 1.0 / tf, 1.0])
        thumb = cv2.warpPerspective(tsrc, h_t, (tw, th), flags=cv2.INTER_LINEAR,
                                    borderMode=cv2.BORDER_REPLICATE)
        corr = float((_highpass(thumb) * tmpl).sum())
        if corr > best[0]:
            best = (corr, k, hmat.astype(np.float64))
    return best


def _correlate(tsrc: npt.NDArray[Any], tf: float, h_small_to_mm: F64, sheet: SheetMeta) -> float:
    """Normalised high-pass correlation of the page warped by ``h_small_to_mm`` with the template."""
    tmpl = _thumb_template(sheet.meta_hash, sheet)
    th, tw = tmpl.shape
    s = THUMB_PX_PER_MM
    h_t = np.diag([s, s, 1.0]) @ h_small_to_mm @ np.diag([1.0 / tf, 1.0 / tf, 1.0])
    thumb = cv2.warpPerspective(tsrc, h_t, (tw, th), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    return float((_highpass(thumb) * tmpl).sum())


def _rotation(h_img_to_mm: F64) -> int:
    inv = np.linalg.inv(h_img_to_mm)
    p = cv2.perspectiveTransform(np.array([[[0.0, 0.0], [100.0, 0.0]]]), inv)[0]
    ang = math.degrees(math.atan2(p[1][1] - p[0][1], p[1][0] - p[0][0]))
    return int(round(ang / 90.0)) % 4 * 90


def _refine_markers(gray: GrayImage, h_img_to_mm: F64, sheet: SheetMeta) -> list[tuple[Marker, float, float]]:
    """Re-locate every marker around its predicted position at full resolution.

    Otsu inside a window ~2 marker sides wide picks the dark component nearest
    the prediction; its centre is the darkness-weighted centroid over the
    component grown by 2 px (sub-pixel, symmetric for the hollow marker).
    """
    inv = np.linalg.inv(h_img_to_mm)
    found = []
    gh, gw = gray.shape
    for m in sheet.markers:
        s = m.size_mm / 2
        ring = [(m.x_mm + dx * s, m.y_mm + dy * s) for dx, dy in ((-1, -1), (1, -1), (1, 1), (-1, 1))]
        pts = cv2.perspectiveTransform(np.array([[[m.x_mm, m.y_mm], *ring]], np.float64), inv)[0]
        cx, cy = pts[0]
        side = float(np.linalg.norm(pts[1:] - pts[0], axis=1).mean()) * math.sqrt(2.0)
        half = max(1.1 * side, 6.0)
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
        # the box of a square turned by up to 45 degrees is up to sqrt(2) sides wide
        ok = (ext >= 0.6 * side) & (ext <= 1.6 * side) & (area <= 1.5 * side * side) & (d <= 0.5 * side)
        if m.kind != "hollow":
            ok &= dens >= 0.45
        if not ok.any():
            continue
        i = 1 + int(np.argmin(np.where(ok, d, np.inf)))
        mask = cv2.dilate((lab == i).astype(np.uint8), np.ones((5, 5), np.uint8)).astype(bool)
        paper, ink = np.percentile(blur, [90, 5])
        wgt = np.clip((paper - win.astype(np.float32)) / max(paper - ink, 1.0), 0.0, 1.0) * mask
        tot = float(wgt.sum())
        if tot <= 0:
            continue
        ys, xs = np.mgrid[0:win.shape[0], 0:win.shape[1]]
        found.append((m, float(x0 + (wgt * xs).sum() / tot), float(y0 + (wgt * ys).sum() / tot)))
    return found


def _fit(found: list[tuple[Marker, float, float]], model: str
         ) -> tuple[F64, float, list[tuple[Marker, float, float]]] | None:
    """Least-squares fit image px -> mm; one gross outlier (> 0.6 mm) is dropped when >= 5 markers.

    Returns ``(h_img_to_mm, rms_residual_mm, markers_used)``.
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
        if len(found) > need and res[worst] > 0.6:
            found.pop(worst)
            continue
        break
    err = float(np.sqrt((res ** 2).mean()))
    return hmat.astype(np.float64), err, found


def _outline_quad(small: npt.NDArray[Any]) -> list[tuple[float, float]] | None:
    blur = cv2.GaussianBlur(small, (5, 5), 0)
    _, bw = cv2.threshold(blur, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    bw = cv2.morphologyEx(bw, cv2.MORPH_CLOSE, np.ones((9, 9), np.uint8))
    contours, _ = cv2.findContours(bw, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    if not contours:
        return None
    c = max(contours, key=cv2.contourArea)
    if cv2.contourArea(c) < 0.15 * small.shape[0] * small.shape[1]:
        return None
    hull = cv2.convexHull(c)
    peri = cv2.arcLength(hull, True)
    for eps in (0.01, 0.02, 0.03, 0.05):
        approx = cv2.approxPolyDP(hull, eps * peri, True)
        if len(approx) == 4:
            pts = [(float(p[0][0]), float(p[0][1])) for p in approx]
            order = _cyclic(pts)
            return None if order is None else [pts[i] for i in order]
    return None


def _remap(gray: GrayImage, h_img_to_mm: F64, fields: list[ShiftField], px_per_mm: float,
           out_wh: tuple[int, int]) -> GrayImage:
    """Resample the page from ``gray`` through ``H^-1(p + d(p))`` (one interpolation).

    ``fields`` are applied last-measured first: ``[d2, d1]`` maps ``p`` to
    ``q = p + d2(p)``, then to ``q + d1(q)``.

    The source map is computed on a coarse grid (every ``REMAP_STEP_PX`` page px,
    at the sample positions ``cv2.resize`` interpolates from) and upsampled
    bilinearly: both the homography and the smooth field are near-linear over
    a cell, so the error is far below a pixel.
    """
    out_w, out_h = out_wh
    step = REMAP_STEP_PX
    nx, ny = -(-out_w // step), -(-out_h // step)
    xs = ((np.arange(nx) + 0.5) * step - 0.5) / px_per_mm
    ys = ((np.arange(ny) + 0.5) * step - 0.5) / px_per_mm
    xm, ym = np.meshgrid(xs, ys)
    for f in fields:
        dx, dy = f(xm, ym)
        lim = np.minimum(1.0, MAX_SHIFT_MM / np.maximum(np.hypot(dx, dy), 1e-9))  # tame it far from the bubbles
        xm, ym = xm + dx * lim, ym + dy * lim
    pts = np.stack([xm, ym], axis=-1).reshape(1, -1, 2)
    src = cv2.perspectiveTransform(pts, np.linalg.inv(h_img_to_mm))[0].reshape(ny, nx, 2).astype(np.float32)
    big = np.ascontiguousarray(cv2.resize(src, (nx * step, ny * step), interpolation=cv2.INTER_LINEAR)[:out_h, :out_w])
    map1, map2 = cv2.convertMaps(big, np.empty((0, 0), np.float32), cv2.CV_16SC2)
    return np.asarray(cv2.remap(gray, map1, map2, cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT,
                                borderValue=255), np.uint8)


def _misalignment_mm(off: Offsets) -> float:
    """RMS anchor misalignment: trusted anchors by their offset, anchors on the window edge at ``SEARCH_MM``."""
    d = np.concatenate([np.hypot(*off.d_mm[off.ok].T), np.full(int(off.clipped.sum()), SEARCH_MM)])
    return float(np.sqrt((d ** 2).mean())) if len(d) else float("nan")


def _verify_and_correct(gray: GrayImage, page: GrayImage, h_img_to_mm: F64, sheet: SheetMeta,
                        px_per_mm: float, marker_err: float | None
                        ) -> tuple[GrayImage, float, dict[str, Any]]:
    """Check the warp on the printed bubble blocks, remove smooth residual shifts.

    Returns ``(page, fit_error_mm, extra alignment keys)``. ``fit_error_mm`` is
    the RMS misalignment of the anchor blocks measured on the page returned
    (after the correction, when one was applied): the misalignment the readers
    see. Without enough measurable anchors (fewer than a third, or 3) it is the
    marker residual (>= 5 markers) or ``UNVERIFIED_FIT_MM``.
    """
    off = measure_offsets(page, sheet, px_per_mm)
    n = len(off.ok)
    fit = fit_field(off) if n else None
    used_n = 0 if fit is None else int(fit[2].sum())
    if fit is None or used_n < max(3, n // 3):
        err = marker_err if marker_err is not None else UNVERIFIED_FIT_MM
        return page, err, {"refined": False, "anchors": n, "anchors_used": used_n}
    sfield, _res, used = fit
    before = _misalignment_mm(off)
    shift = float(np.hypot(*sfield(off.center_mm[used, 0], off.center_mm[used, 1])).max())
    extra: dict[str, Any] = {"refined": False, "anchors": n, "anchors_used": used_n,
                             "ring_rms_mm": round(before, 3), "max_shift_mm": round(shift, 3)}
    if shift < APPLY_MIN_MM:
        return page, before, extra
    fields = [sfield]
    best = (before, page, 0)
    for _ in range(REFINE_PASSES):
        fixed = _remap(gray, h_img_to_mm, fields, px_per_mm, (page.shape[1], page.shape[0]))
        off = measure_offsets(fixed, sheet, px_per_mm)
        after = _misalignment_mm(off)
        if not after < best[0]:  # no better (also when nothing is measurable now)
            break
        best = (after, fixed, len(fields))
        extra["refined"] = True
        fit = fit_field(off) if after > SECOND_PASS_MM else None
        if fit is None or int(fit[2].sum()) < max(3, n // 3):
            break
        fields.insert(0, fit[0])
    err, page, applied = best
    if applied:
        cx, cy = off.center_mm[:, 0].copy(), off.center_mm[:, 1].copy()
        x, y = cx, cy
        for f in fields[len(fields) - applied:]:
            dx, dy = f(x, y)
            x, y = x + dx, y + dy
        total = float(np.hypot(x - cx, y - cy).max())
        extra["max_shift_mm"] = round(total, 3)
        if total > ALIAS_SHIFT_MM:  # near half the bubble pitch: may have locked onto the neighbour
            err = max(err, ALIAS_FIT_MM)
    return page, err, extra


def _first_consistent(gray: GrayImage, options: list[tuple[float, str, F64]], sheet: SheetMeta, model: str,
                      scale_up: F64, try_affine: bool) -> tuple[float, str, F64, list[tuple[Marker, float, float]], float, str] | None:
    """The best-correlated page hypothesis whose markers, re-located at full
    resolution, fit the template (RMS <= ``MAX_MARKER_RMS_MM``).

    ``options`` are ``(correlation, method, detection px -> mm)``, best first;
    with ``try_affine`` (``auto`` mode) >= 5 markers fitting an affine map
    within 0.25 mm switch to it.
    Returns ``(correlation, method, h_img_to_mm, markers_used, marker_rms_mm, model)``;
    the RMS is NaN when no marker could be fitted (outline / page bounds only).
    None when every hypothesis re-locates markers that contradict it.
    """
    for corr, method, h_small_to_mm in options:
        h_img_to_mm = h_small_to_mm @ np.linalg.inv(scale_up)
        found = _refine_markers(gray, h_img_to_mm, sheet)
        fit = _fit(found, model)
        if fit is not None and len(found) < len(sheet.markers):
            found2 = _refine_markers(gray, fit[0], sheet)
            fit2 = _fit(found2, model)
            if fit2 is not None and len(found2) > len(found):
                found, fit = found2, fit2
        if fit is None:  # too few or collinear markers: keep the detection fit, unverified
            return corr, method, h_img_to_mm, found, float("nan"), model
        h_fit, err, used = fit
        if err > MAX_MARKER_RMS_MM:
            continue
        fit_model = model
        if try_affine and len(used) >= 5:
            aff = _fit(used, "affine")
            if aff is not None and aff[1] < 0.25 and len(aff[2]) == len(used):
                h_fit, err, fit_model = aff[0], aff[1], "affine"
        return corr, method, h_fit, used, err, fit_model
    return None


def warp_page(gray: GrayImage, meta: SheetMeta | Mapping[str, Any], mode: str = "auto",
              *, px_per_mm: float = PX_PER_MM, refine: bool = True) -> WarpedPage:
    """Find the sheet in ``gray`` and warp it into the template frame.

    Args:
        gray: ``(H, W)`` uint8 grayscale photo or scan, any rotation.
        meta: Sheet meta (dict or :class:`SheetMeta`).
        mode: ``"photo"`` (perspective), ``"scan"`` (flat page, affine model,
            may fall back to the image bounds) or ``"auto"`` (perspective fit;
            affine when the page is flat enough).
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
    if mode not in ("auto", "photo", "scan"):
        raise OptionError("mode_invalid", f"mode must be auto, photo or scan, got {mode!r}")
    sheet = as_sheet_meta(meta)
    if not isinstance(gray, np.ndarray) or gray.ndim != 2 or gray.dtype != np.uint8:
        raise ImageError("image_invalid", "expected a 2-D uint8 grayscale image")
    gh, gw = gray.shape
    k = max(1, round(max(gh, gw) / DETECT_LONG_PX))  # integer factor: INTER_AREA's fast path
    f = 1.0 / k
    small = cv2.resize(gray, (gw // k, gh // k), interpolation=cv2.INTER_AREA) if k > 1 else gray
    scale_up = np.diag([1.0 / f, 1.0 / f, 1.0]) if f < 1 else np.eye(3)

    tf = min(1.0, THUMB_SRC_LONG_PX / max(small.shape))
    tsrc = cv2.resize(small, None, fx=tf, fy=tf, interpolation=cv2.INTER_AREA) if tf < 1 else small
    options: list[tuple[float, str, F64]] = []  # (correlation, method, detection px -> mm)
    if len(sheet.markers) >= 4:
        half_turn = np.array([[-1.0, 0.0, sheet.page_w_mm], [0.0, -1.0, sheet.page_h_mm], [0.0, 0.0, 1.0]])
        small_u8 = np.asarray(small, np.uint8)
        cands = find_candidates(small_u8)
        hyps = match_markers(cands, sheet)
        if not hyps or hyps[0].support < len(sheet.markers):
            # a marker on a shadow edge merges with the shadow side: look again, stricter
            more = merge_candidates(cands, find_candidates(small_u8, offset=STRICT_OFFSET))
            if len(more.xy) > len(cands.xy) or not np.array_equal(more.xy, cands.xy):
                hyps2 = match_markers(more, sheet)
                if hyps2 and (not hyps or hyps2[0].support > hyps[0].support):
                    hyps = hyps2
        for hyp in hyps:
            # the geometry is symmetric under a half turn: the hollow marker and the
            # printed content (template correlation) pick the orientation
            for h_mm in (hyp.h_mm_to_img, hyp.h_mm_to_img @ half_turn):
                h_small_to_mm = np.linalg.inv(h_mm)
                corr = _correlate(tsrc, tf, h_small_to_mm, sheet)
                if corr >= MIN_CORR:
                    options.append((corr, "fiducials", h_small_to_mm))
            if options and max(o[0] for o in options) > 0.5 and hyp.support >= 5:
                break
    options.sort(key=lambda o: -o[0])
    model = "affine" if mode == "scan" else "homography"
    chosen = _first_consistent(gray, options, sheet, model, scale_up, mode == "auto")
    if chosen is None:
        outlines: list[tuple[float, str, F64]] = []
        tried: list[tuple[str, list[tuple[float, float]]]] = []
        outline = _outline_quad(small)
        if outline is not None:
            tried.append(("outline", outline))
        if mode == "scan":
            sh, sw = small.shape
            tried.append(("page_bounds", [(0.0, 0.0), (sw - 1.0, 0.0), (sw - 1.0, sh - 1.0), (0.0, sh - 1.0)]))
        page_corners = [(0.0, 0.0), (sheet.page_w_mm, 0.0), (sheet.page_w_mm, sheet.page_h_mm),
                        (0.0, sheet.page_h_mm)]
        for method, quad in tried:
            corr, _k, hmat_thumb = _orient(tsrc, tf, quad, page_corners, sheet)
            if corr >= MIN_CORR:
                to_mm = np.diag([1 / THUMB_PX_PER_MM, 1 / THUMB_PX_PER_MM, 1.0])
                outlines.append((corr, method, to_mm @ hmat_thumb))
        outlines.sort(key=lambda o: -o[0])
        chosen = _first_consistent(gray, outlines, sheet, model, scale_up, mode == "auto")
    if chosen is None:
        raise AlignmentError("alignment_failed", "could not find the answer sheet in the image (no fiducials or page outline matched)")
    corr, method, h_img_to_mm, found, fit_err, model = chosen
    if not math.isfinite(fit_err):
        fit_err = 1.0  # unrefined (outline/page bounds only): assume ~1 mm
    out_w, out_h = round(sheet.page_w_mm * px_per_mm), round(sheet.page_h_mm * px_per_mm)
    m_out = np.diag([px_per_mm, px_per_mm, 1.0]) @ h_img_to_mm
    page: GrayImage = np.asarray(cv2.warpPerspective(gray, m_out, (out_w, out_h), flags=cv2.INTER_LINEAR,
                                                     borderMode=cv2.BORDER_CONSTANT, borderValue=255), np.uint8)
    marker_err = fit_err
    check: dict[str, Any] = {}
    if refine:
        page, fit_err, check = _verify_and_correct(gray, page, h_img_to_mm, sheet, px_per_mm,
                                                   marker_err if len(found) >= 5 else None)
    src_quad = np.array([[[0.0, 0.0], [gw - 1.0, 0.0], [gw - 1.0, gh - 1.0], [0.0, gh - 1.0]]])
    quad_mm = cv2.perspectiveTransform(src_quad, h_img_to_mm)[0]
    alignment = {
        "method": method,
        "rotation": _rotation(h_img_to_mm),
        "fit_error_mm": round(fit_err, 3),
        "model": model,
        "markers_found": len(found),
        "correlation": round(corr, 3),
        "marker_rms_mm": round(marker_err, 3),
        **check,
    }
    return WarpedPage(page, px_per_mm, alignment, [[round(float(x), 2), round(float(y), 2)] for x, y in quad_mm])
