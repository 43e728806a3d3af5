"""Verify a marker warp against the printed bubble rings and correct local shifts.

:func:`verify_and_correct` is the last step of :func:`omr.warp.warp_page`.

The marker homography is exact at the markers only: page curl, lens
distortion or a photocopier's uneven feed move the bubble grid between them.
After the first warp, small *anchor* blocks of printed bubbles (~2 question
rows, or a 2 x 2 patch of the ID grid cells) are located by normalised
cross-correlation of the warped page against the rendered template in a
+-``SEARCH_MM`` window (sub-pixel by a parabola through the peak). A smooth
field (quadratic, affine or a translation, by how many anchors agree) is fitted
to the anchor offsets with one robust re-weighting; when it moves some bubble
by more than ``APPLY_MIN_MM`` the page is resampled once more straight from the
source image through ``H^-1(p + d(p))``, so readers need no change.

Frames: "page px" are pixels of the warped page (``px_per_mm`` per mm, origin
at the template origin); offsets ``d`` are in mm: the printed content that
belongs at template point ``p`` was found at ``p + d`` in the first warp.

Examples:
    >>> from omr.meta import as_sheet_meta
    >>> from omr.template import build_template, render_sheet
    >>> sheet = as_sheet_meta(build_template(10))
    >>> page = render_sheet(sheet.raw, dpi=6 * 25.4)
    >>> shifted = np.asarray(cv2.warpAffine(page, np.float32([[1, 0, 3], [0, 1, -2]]),
    ...                      page.shape[::-1], borderValue=255), np.uint8)
    >>> from omr.compiled import compile_sheet
    >>> off = measure_offsets(shifted, compile_sheet(sheet, 6.0))
    >>> bool(np.allclose(np.median(off.d_mm[off.ok], axis=0), [0.5, -0.333], atol=0.05))
    True
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, NamedTuple

import cv2
import numpy as np
import numpy.typing as npt

from omr.layout import Ring, sheet_layout
from omr.template import render_layout
from omr.types import GrayImage, SheetMeta

if TYPE_CHECKING:
    from omr.compiled import CompiledSheet

__all__ = ["APPLY_MIN_MM", "SEARCH_MM", "WORK_PX_PER_MM", "Anchor", "Correction", "Offsets", "FieldFit", "ShiftField", "anchors",
           "fit_field", "measure_offsets", "ring_template", "verify_and_correct", "work_shrink"]

F64 = npt.NDArray[np.float64]
F32 = npt.NDArray[np.float32]

SEARCH_MM = 3.0
"""Half-width of the search window around each anchor's expected place (under half the
6.2-6.4 mm bubble pitch, so a block cannot lock onto its neighbour)."""
APPLY_MIN_MM = 0.12
"""Smallest correction (max over the anchors) worth a second resampling."""
KERNEL_MM = 14.0
"""Reach of an anchor's residual beyond the polynomial (about one anchor spacing)."""
KERNEL_SHRINK = 0.25
"""Kernel weight of "no residual": far from every anchor the polynomial alone remains."""
MIN_NCC = 0.35
"""Anchors whose best normalised correlation is lower are not trusted."""
WORK_PX_PER_MM = 3.0
"""Resolution the anchors are correlated at (the page is shrunk by an integer factor)."""
CELL_W_MM = 32.0
CELL_H_MM = 13.0
"""Anchor blocks group the bubbles of one grid cell this size (~2 question rows, a 2 x 2 patch of ID cells)."""
MARGIN_MM = 1.2
"""An anchor's template patch reaches this far past its bubbles' rings."""
MIN_ANCHOR_BUBBLES = 3
"""A cell with fewer bubbles is no anchor (too little print to lock onto)."""
REMAP_STEP_PX = 8
"""The resampling map is computed every this many page px and upsampled (near-linear over a cell)."""
MAX_SHIFT_MM = 3.0
"""The correction field is clipped to this far from the bubbles (where nothing measured it)."""
UNVERIFIED_FIT_MM = 0.9
"""``fit_error_mm`` of a page whose ring blocks could not be measured and whose markers say nothing."""
MIN_ANCHORS = 3
MIN_ANCHORS_SHARE = 3
"""A ring check needs ``MIN_ANCHORS`` blocks and at least 1 in ``MIN_ANCHORS_SHARE`` of them fitted."""
REFINE_PASSES = 2
ALIAS_SHIFT_MM = 2.9
"""A correction this large (the bubble pitch is 6.2-6.4 mm) cannot rule out a one-bubble slip."""
ALIAS_FIT_MM = 1.0
"""``fit_error_mm`` reported (at least) after such a correction: the review flags it."""
SECOND_PASS_MM = 0.15
"""Misalignment left after a correction that is worth a second pass."""


@dataclass(frozen=True)
class Anchor:
    """A block of printed bubbles used to measure the local shift.

    Attributes:
        box_mm: ``(x0, y0, x1, y1)`` of the template patch, mm.
        center_mm: ``(x, y)`` centre of the block's bubbles, mm.
    """

    box_mm: tuple[float, float, float, float]
    center_mm: tuple[float, float]


@dataclass(frozen=True)
class Offsets:
    """Measured anchor offsets.

    Attributes:
        center_mm: ``(N, 2)`` anchor centres, template mm.
        d_mm: ``(N, 2)`` where each anchor's print was found minus where it
            belongs, mm (0 for anchors not measured).
        score: ``(N,)`` peak normalised correlation (-1 when not measured).
        ok: ``(N,)`` bool, measured and trusted (peak high, not on the window edge).
        clipped: ``(N,)`` bool, peak on the window edge (shift >= ``SEARCH_MM``).
    """

    center_mm: F64
    d_mm: F64
    score: F64
    ok: npt.NDArray[np.bool_]
    clipped: npt.NDArray[np.bool_]


@dataclass(frozen=True)
class ShiftField:
    """A smooth offset field ``d(x, y)`` in mm, polynomial in centred coordinates.

    Attributes:
        coef: ``(K, 2)`` coefficients for the terms of :func:`_terms`.
        degree: 0 (translation), 1 (affine) or 2 (quadratic).
        center_mm: Normalisation centre ``(x, y)``.
        scale_mm: Normalisation scale.
    """

    coef: F64
    degree: int
    center_mm: tuple[float, float]
    scale_mm: float
    knots_mm: F64 = field(default_factory=lambda: np.zeros((0, 2)))
    knot_resid_mm: F64 = field(default_factory=lambda: np.zeros((0, 2)))

    def __call__(self, x_mm: F64, y_mm: F64) -> tuple[F64, F64]:
        """Evaluate at any broadcastable ``x_mm``, ``y_mm``; returns ``(dx_mm, dy_mm)``.

        The polynomial plus the anchors' residuals spread by a Gaussian kernel
        (``KERNEL_MM``), shrunk towards 0 away from the anchors.
        """
        t = _terms((x_mm - self.center_mm[0]) / self.scale_mm, (y_mm - self.center_mm[1]) / self.scale_mm,
                   self.degree)
        dx = np.asarray(sum(c * v for c, v in zip(self.coef[:, 0], t, strict=True)), np.float64)
        dy = np.asarray(sum(c * v for c, v in zip(self.coef[:, 1], t, strict=True)), np.float64)
        if len(self.knots_mm):
            wsum = np.zeros(np.broadcast(x_mm, y_mm).shape)
            rx, ry = np.zeros_like(wsum), np.zeros_like(wsum)
            for (kx, ky), (ex, ey) in zip(self.knots_mm, self.knot_resid_mm, strict=True):
                w = np.exp(-((x_mm - kx) ** 2 + (y_mm - ky) ** 2) / (2 * KERNEL_MM ** 2))
                wsum += w
                rx += w * ex
                ry += w * ey
            dx = dx + rx / (wsum + KERNEL_SHRINK)
            dy = dy + ry / (wsum + KERNEL_SHRINK)
        return dx, dy


def _terms(u: F64, v: F64, degree: int) -> list[F64]:
    one = np.ones_like(u * v)
    if degree == 0:
        return [one]
    if degree == 1:
        return [one, u + 0 * v, v + 0 * u]
    return [one, u + 0 * v, v + 0 * u, u * u + 0 * v, u * v, v * v + 0 * u]


def anchors(sheet: SheetMeta) -> list[Anchor]:
    """Bubble blocks of ``sheet``: bubbles grouped by a ``CELL_W_MM x CELL_H_MM`` grid.

    Question bubbles and ID bubbles are grouped separately (a block never spans
    the gap between the ID grid and the answers). Built once per template
    (:class:`omr.compiled.CompiledSheet` keeps them).

    Examples:
        >>> from omr.meta import as_sheet_meta
        >>> from omr.template import build_template
        >>> len(anchors(as_sheet_meta(build_template(20)))) >= 10
        True
    """
    groups: list[list[tuple[float, float, float]]] = [
        [(b.x_mm, b.y_mm, b.r_mm) for q in sheet.questions for b in q.choices],
        [(b.x_mm, b.y_mm, b.r_mm) for b in sheet.id_bubbles],
    ]
    out: list[Anchor] = []
    for pts in groups:
        if not pts:
            continue
        arr = np.array(pts, np.float64)
        x0, y0 = arr[:, 0].min(), arr[:, 1].min()
        cells: dict[tuple[int, int], list[int]] = {}
        for i, (x, y, _r) in enumerate(pts):
            cells.setdefault((int((x - x0) // CELL_W_MM), int((y - y0) // CELL_H_MM)), []).append(i)
        for idx in cells.values():
            if len(idx) < MIN_ANCHOR_BUBBLES:
                continue
            sub = arr[idx]
            r = float(sub[:, 2].max()) + MARGIN_MM
            box = (float(sub[:, 0].min()) - r, float(sub[:, 1].min()) - r,
                   float(sub[:, 0].max()) + r, float(sub[:, 1].max()) + r)
            out.append(Anchor(box, (float(sub[:, 0].mean()), float(sub[:, 1].mean()))))
    return out


def work_shrink(px_per_mm: float) -> int:
    """The integer factor a page at ``px_per_mm`` is shrunk by to about ``WORK_PX_PER_MM``.

    Examples:
        >>> work_shrink(6.0), work_shrink(2.0)
        (2, 1)
    """
    return max(1, int(round(px_per_mm / WORK_PX_PER_MM)))


def ring_template(sheet: SheetMeta, px_per_mm: float) -> F32:
    """The bubble rings at ``px_per_mm``, shrunk by :func:`work_shrink` (INTER_AREA), band-passed.

    Built once per template and resolution (:class:`omr.compiled.CompiledSheet` keeps it).
    """
    shrink = work_shrink(px_per_mm)
    img = _render_rings(sheet, px_per_mm)
    if shrink > 1:
        h, w = img.shape
        img = np.asarray(cv2.resize(img, (w // shrink, h // shrink), interpolation=cv2.INTER_AREA), np.uint8)
    return _bandpass(img, px_per_mm / shrink)


def _render_rings(sheet: SheetMeta, px_per_mm: float) -> GrayImage:
    """Only the printed bubble rings of the sheet's layout, no labels.

    Glyph placement differs between the raster render, the PDF and a
    printer's fonts; ring centres are pure geometry.
    """
    rings = [p for p in sheet_layout(sheet.raw) if isinstance(p, Ring)]
    return render_layout(rings, sheet.page_w_mm, sheet.page_h_mm, px_per_mm)


def _bandpass(img: GrayImage, px_per_mm: float) -> F32:
    """Difference of Gaussians (0.2 mm - 1 mm): keeps rings and glyphs, drops light gradients and grain."""
    f = img.astype(np.float32)
    return np.asarray(cv2.GaussianBlur(f, (0, 0), 0.2 * px_per_mm) - cv2.GaussianBlur(f, (0, 0), px_per_mm),
                      np.float32)


def _subpixel(r: npt.NDArray[np.float32], iy: int, ix: int) -> tuple[float, float]:
    def vertex(a: float, b: float, c: float) -> float:
        den = a - 2 * b + c
        return 0.0 if den >= 0 else float(np.clip(0.5 * (a - c) / den, -0.5, 0.5))

    return (vertex(float(r[iy, ix - 1]), float(r[iy, ix]), float(r[iy, ix + 1])),
            vertex(float(r[iy - 1, ix]), float(r[iy, ix]), float(r[iy + 1, ix])))


def measure_offsets(page: GrayImage, compiled: CompiledSheet) -> Offsets:
    """Locate every anchor block of ``page`` (warped, template frame) around its expected place.

    Args:
        page: ``(H, W)`` uint8 warped page at ``compiled.px_per_mm`` (correlated
            after an integer shrink to about ``WORK_PX_PER_MM``).
        compiled: The compiled sheet (anchors and ring template).

    Returns:
        The :class:`Offsets` (one row per :func:`anchors` entry).
    """
    px_per_mm = compiled.px_per_mm
    k = work_shrink(px_per_mm)
    tmpl = compiled.ring_template
    if k > 1:  # the template went through the same shrink: same pixel-centre convention
        ph0, pw0 = page.shape
        page = np.asarray(cv2.resize(page, (pw0 // k, ph0 // k), interpolation=cv2.INTER_AREA), np.uint8)
        px_per_mm = px_per_mm / k
    anch = compiled.anchors
    n = len(anch)
    ph, pw = page.shape
    search = int(round(SEARCH_MM * px_per_mm))
    cen = np.array([a.center_mm for a in anch], np.float64).reshape(n, 2)
    d = np.zeros((n, 2), np.float64)
    score = np.full(n, -1.0)
    ok = np.zeros(n, bool)
    clipped = np.zeros(n, bool)
    for i, a in enumerate(anch):
        x0, y0 = int(round(a.box_mm[0] * px_per_mm)), int(round(a.box_mm[1] * px_per_mm))
        x1, y1 = int(round(a.box_mm[2] * px_per_mm)), int(round(a.box_mm[3] * px_per_mm))
        if x0 - search < 0 or y0 - search < 0 or x1 + search > pw or y1 + search > ph:
            continue
        t = tmpl[y0:y1, x0:x1]
        win = _bandpass(page[y0 - search:y1 + search, x0 - search:x1 + search], px_per_mm)
        r = np.asarray(cv2.matchTemplate(win, t, cv2.TM_CCOEFF_NORMED), np.float32)
        _, best, _, (ix, iy) = cv2.minMaxLoc(r)
        score[i] = best
        if not np.isfinite(best):
            continue
        edge = ix in (0, r.shape[1] - 1) or iy in (0, r.shape[0] - 1)
        if edge:
            clipped[i] = best >= MIN_NCC
            continue
        sx, sy = _subpixel(r, iy, ix)
        d[i] = ((ix + sx - search) / px_per_mm, (iy + sy - search) / px_per_mm)
        ok[i] = best >= MIN_NCC
    return Offsets(cen, d, score, ok, clipped)


class FieldFit(NamedTuple):
    """A :class:`ShiftField` fitted to anchor offsets.

    Attributes:
        field: The smooth offset field.
        residual_mm: ``(N,)`` distance of each anchor's offset from the field, mm.
        used: ``(N,)`` bool, the anchors the field was fitted to.
    """

    field: ShiftField
    residual_mm: F64
    used: npt.NDArray[np.bool_]


def fit_field(off: Offsets) -> FieldFit | None:
    """Fit a smooth :class:`ShiftField` to the trusted anchor offsets.

    Quadratic with >= 10 trusted anchors spread over both axes, affine with
    >= 4, else a translation. One robust pass drops anchors more than
    ``max(0.25 mm, 3 x median)`` off the first fit. With >= 6 anchors kept,
    their residuals are added back through a Gaussian kernel, so a local bend
    is followed too.

    Returns:
        The :class:`FieldFit`, or None with no trusted anchor.

    Examples:
        >>> c = np.array([[0.0, 0], [100, 0], [0, 100], [100, 100], [50, 50]])
        >>> d = np.tile([0.3, -0.2], (5, 1)); d[4] = [2.0, 2.0]  # one outlier
        >>> off = Offsets(c, d, np.ones(5), np.ones(5, bool), np.zeros(5, bool))
        >>> field, res, used = fit_field(off)
        >>> [round(float(v), 3) for v in field(np.array(20.0), np.array(80.0))], used.tolist()
        ([0.3, -0.2], [True, True, True, True, False])
    """
    used = off.ok.copy()
    if not used.any():
        return None
    c = off.center_mm
    cx, cy = (float(v) for v in c[used].mean(axis=0))
    scale = float(max(np.ptp(c[used, 0]), np.ptp(c[used, 1]), 1.0)) / 2
    sfield: ShiftField | None = None
    res = np.zeros(len(c))
    for it in range(2):
        k = int(used.sum())
        spread = min(np.ptp(c[used, 0]), np.ptp(c[used, 1])) if k else 0.0
        degree = 2 if k >= 10 and spread > 20 else 1 if k >= 4 and spread > 10 else 0
        t = np.stack(_terms((c[:, 0] - cx) / scale, (c[:, 1] - cy) / scale, degree), axis=1)
        coef, *_ = np.linalg.lstsq(t[used], off.d_mm[used], rcond=None)
        sfield = ShiftField(np.asarray(coef, np.float64), degree, (cx, cy), scale)
        res = np.hypot(*(off.d_mm - t @ coef).T)
        bad = used & (res > max(0.25, 3 * float(np.median(res[used]))))
        if it == 1 or not bad.any() or (used & ~bad).sum() < 1:
            break
        used &= ~bad
    assert sfield is not None
    if used.sum() >= 6:  # the bend between anchors that a quadratic misses (a curled page)
        t = np.stack(_terms((c[:, 0] - cx) / scale, (c[:, 1] - cy) / scale, sfield.degree), axis=1)
        resid = off.d_mm - t @ sfield.coef
        sfield = ShiftField(sfield.coef, sfield.degree, (cx, cy), scale, c[used].copy(), resid[used].copy())
        res = np.hypot(*(off.d_mm - np.stack(sfield(c[:, 0], c[:, 1]), axis=1)).T)
    return FieldFit(sfield, res, used)


class Correction(NamedTuple):
    """Outcome of the ring check: the page, its ``fit_error_mm`` and extra alignment keys."""

    page: GrayImage
    fit_error_mm: float
    extra: dict[str, Any]


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


def verify_and_correct(gray: GrayImage, page: GrayImage, h_img_to_mm: F64, compiled: CompiledSheet,
                        marker_err: float | None) -> Correction:
    """Check the warp on the printed bubble blocks, remove smooth residual shifts.

    Args:
        gray: The source image (``H, W`` uint8).
        page: ``gray`` warped by ``h_img_to_mm`` at ``compiled.px_per_mm``.
        h_img_to_mm: 3x3 homography, image px -> template mm.
        compiled: The compiled sheet.
        marker_err: The marker fit's RMS residual when it says something, else None.

    Returns:
        The :class:`Correction`. Its ``fit_error_mm`` is the RMS misalignment of
        the anchor blocks measured on the page returned (after the correction,
        when one was applied): the misalignment the readers see. Without enough
        measurable anchors (fewer than a third, or 3) it is the marker residual
        (``marker_err``) or ``UNVERIFIED_FIT_MM``.
    """
    px_per_mm = compiled.px_per_mm
    off = measure_offsets(page, compiled)
    n = len(off.ok)
    fit = fit_field(off) if n else None
    used_n = 0 if fit is None else int(fit.used.sum())
    if fit is None or used_n < max(MIN_ANCHORS, n // MIN_ANCHORS_SHARE):
        err = marker_err if marker_err is not None else UNVERIFIED_FIT_MM
        return Correction(page, err, {"refined": False, "anchors": n, "anchors_used": used_n})
    sfield, used = fit.field, fit.used
    before = _misalignment_mm(off)
    shift = float(np.hypot(*sfield(off.center_mm[used, 0], off.center_mm[used, 1])).max())
    extra: dict[str, Any] = {"refined": False, "anchors": n, "anchors_used": used_n,
                             "ring_rms_mm": round(before, 3), "max_shift_mm": round(shift, 3)}
    if shift < APPLY_MIN_MM:
        return Correction(page, before, extra)
    fields = [sfield]
    best = (before, page, 0)
    for _ in range(REFINE_PASSES):
        fixed = _remap(gray, h_img_to_mm, fields, px_per_mm, (page.shape[1], page.shape[0]))
        off = measure_offsets(fixed, compiled)
        after = _misalignment_mm(off)
        if not after < best[0]:  # no better (also when nothing is measurable now)
            break
        best = (after, fixed, len(fields))
        extra["refined"] = True
        fit = fit_field(off) if after > SECOND_PASS_MM else None
        if fit is None or int(fit.used.sum()) < max(MIN_ANCHORS, n // MIN_ANCHORS_SHARE):
            break
        fields.insert(0, fit.field)
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
    return Correction(page, err, extra)
