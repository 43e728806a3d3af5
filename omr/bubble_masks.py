"""The sampling pattern of :mod:`omr.measure`: fixed pixel offsets around every bubble.

:func:`bubble_masks` builds a :class:`BubbleMasks` once per template, bubble set
(:data:`Which`) and resolution (kept in the compiled sheet, :mod:`omr.compiled`):
the inner disc (radius ``r - INNER_MARGIN_MM``), the paper annulus
(``r + ANNULUS_MM``) and the printed label glyph from the template raster
(``PRINT_INK_GRAY``), which the fill leaves out.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import cv2
import numpy as np
import numpy.typing as npt

from omr.types import GrayImage, SheetMeta

Which = Literal["answers", "identifier"]
"""The two bubble sets of a sheet: answer choices (question order, choice order) and the ID grid (meta order)."""

INNER_MARGIN_MM = 0.65
"""The disc sampled stops this far inside the bubble radius: clear of the printed ring with ~0.4 mm misalignment."""
ANNULUS_MM = (0.45, 1.1)
"""The paper annulus, beyond the radius: past the ring's outer edge, short of the neighbours."""
PRINT_INK_GRAY = 200
"""Template raster pixels darker than this are printed label (left out of the fill)."""
MIN_LABEL_FREE_PX = 8
"""A bubble whose label leaves fewer free disc pixels keeps its whole disc."""
DEFAULT_R_MM = 2.4
"""Radius assumed for an empty bubble set (no bubbles: nothing is sampled)."""


@dataclass(frozen=True)
class BubbleMasks:
    """Pixel sampling pattern of a set of bubbles (same radius) on the warped page.

    Attributes:
        flat_inner: ``(n, m)`` flat indices of inner-disc pixels per bubble.
        keep: ``(n, m)`` bool, False where the printed label is.
        flat_ann: ``(n, k)`` flat indices of the paper annulus per bubble.
        centers_px: ``(n, 2)`` integer centres (x, y).
        centers_exact_px: ``(n, 2)`` float32 centres (x, y) before rounding (sub-pixel
            sampling of printed labels the template does not show).
        inner_off: ``(m, 2)`` inner-disc offsets (dy, dx) in px.
        ann_off: ``(k, 2)`` annulus offsets (dy, dx) in px.
        label_group: ``(n,)`` index of the bubble's printed label (bubbles with the
            same label share an empty-print baseline).
    """

    flat_inner: npt.NDArray[np.intp]
    keep: npt.NDArray[np.bool_]
    flat_ann: npt.NDArray[np.intp]
    centers_px: npt.NDArray[np.intp]
    inner_off: npt.NDArray[np.float32]
    ann_off: npt.NDArray[np.float32]
    label_group: npt.NDArray[np.intp]
    centers_exact_px: npt.NDArray[np.float32]


def _offsets(r0_px: float, r1_px: float) -> npt.NDArray[np.intp]:
    R = int(np.ceil(r1_px))
    yy, xx = np.mgrid[-R:R + 1, -R:R + 1]
    d = np.hypot(xx, yy)
    sel = (d >= r0_px) & (d <= r1_px)
    return np.stack([yy[sel], xx[sel]], axis=1).astype(np.intp)


def _oval_offsets(inner_ab: tuple[float, float], outer_ab: tuple[float, float], rotation_deg: float
                  ) -> npt.NDArray[np.intp]:
    """``(k, 2)`` pixel offsets (dy, dx) inside the ellipse of half axes ``outer_ab`` (px, along x and y
    before turning) and outside the one of ``inner_ab``, both turned by ``rotation_deg``.

    Examples:
        >>> _oval_offsets((0, 0), (1.2, 2.2), 0.0)[:, 0].max(), _oval_offsets((0, 0), (1.2, 2.2), 0.0)[:, 1].max()
        (np.int64(2), np.int64(1))
        >>> _oval_offsets((0, 0), (1.2, 2.2), 90.0)[:, 1].max()
        np.int64(2)
    """
    R = int(np.ceil(max(outer_ab)))
    yy, xx = np.mgrid[-R:R + 1, -R:R + 1]
    t = np.deg2rad(rotation_deg)
    u = xx * np.cos(t) + yy * np.sin(t)  # along the oval's own width
    v = -xx * np.sin(t) + yy * np.cos(t)  # along its height

    def inside(ab: tuple[float, float]) -> npt.NDArray[np.bool_]:
        a, b = max(ab[0], 1e-6), max(ab[1], 1e-6)
        return np.asarray((u / a) ** 2 + (v / b) ** 2 <= 1.0)

    sel = inside(outer_ab) & ~(inside(inner_ab) if min(inner_ab) > 0 else np.zeros_like(xx, bool))
    return np.stack([yy[sel], xx[sel]], axis=1).astype(np.intp)


def _centers(sheet: SheetMeta, which: Which) -> tuple[list[tuple[float, float]], float, list[str]]:
    if which == "answers":
        pts = [(c.x_mm, c.y_mm) for q in sheet.questions for c in q.choices]
        rs = [c.r_mm for q in sheet.questions for c in q.choices]
        labels = [c.label for q in sheet.questions for c in q.choices]
    else:
        pts = [(b.x_mm, b.y_mm) for b in sheet.id_bubbles]
        rs = [b.r_mm for b in sheet.id_bubbles]
        labels = [str(b.number) for b in sheet.id_bubbles]
    return pts, (float(np.median(rs)) if rs else DEFAULT_R_MM), labels


def bubble_masks(sheet: SheetMeta, printed: GrayImage, px_per_mm: float, which: Which) -> BubbleMasks:
    """The sampling pattern of the bubbles ``which`` on a page at ``px_per_mm``.

    Built once per template and resolution (:class:`omr.compiled.CompiledSheet`
    keeps it).

    Args:
        sheet: The sheet meta.
        printed: The template raster (``omr.template.render_sheet``) at about
            ``px_per_mm``: where the labels are printed. Resized to the page if
            its shape differs.
        px_per_mm: Resolution of the pages to measure.
        which: ``"answers"`` (question order, choice order) or ``"identifier"`` (meta order).

    Returns:
        The :class:`BubbleMasks`.
    """
    pts, r_mm, labels = _centers(sheet, which)
    h = round(sheet.page_h_mm * px_per_mm)
    w = round(sheet.page_w_mm * px_per_mm)
    if printed.shape != (h, w):
        printed = np.asarray(cv2.resize(printed, (w, h), interpolation=cv2.INTER_AREA), np.uint8)
    ink = cv2.dilate((printed < PRINT_INK_GRAY).astype(np.uint8), np.ones((3, 3), np.uint8))
    shape = sheet.bubble
    if shape is not None and shape.shape == "oval":
        # the oval as printed, not its inscribed circle: the inner oval and a paper ring that follows it
        half = (shape.w_mm / 2 * px_per_mm, shape.h_mm / 2 * px_per_mm)

        def grown(mm: float) -> tuple[float, float]:
            return (max(1.0, half[0] + mm * px_per_mm), max(1.0, half[1] + mm * px_per_mm))

        inner = _oval_offsets((0.0, 0.0), grown(-INNER_MARGIN_MM), shape.rotation_deg)
        ann = _oval_offsets(grown(ANNULUS_MM[0]), grown(ANNULUS_MM[1]), shape.rotation_deg)
        reach_mm = max(shape.w_mm, shape.h_mm) / 2
    else:
        inner = _offsets(0.0, max(1.0, (r_mm - INNER_MARGIN_MM) * px_per_mm))
        ann = _offsets((r_mm + ANNULUS_MM[0]) * px_per_mm, (r_mm + ANNULUS_MM[1]) * px_per_mm)
        reach_mm = r_mm
    exact = np.array([[x * px_per_mm, y * px_per_mm] for x, y in pts], np.float32).reshape(-1, 2)
    c = np.array([[round(x * px_per_mm), round(y * px_per_mm)] for x, y in pts], np.intp).reshape(-1, 2)
    pad = int(np.ceil((reach_mm + ANNULUS_MM[1]) * px_per_mm)) + 1
    c[:, 0] = np.clip(c[:, 0], pad, w - 1 - pad)
    c[:, 1] = np.clip(c[:, 1], pad, h - 1 - pad)
    exact = np.clip(exact, c - 0.5, c + 0.5).astype(np.float32)
    iy = c[:, 1:2] + inner[None, :, 0]
    ix = c[:, 0:1] + inner[None, :, 1]
    flat_inner = iy * w + ix
    keep = ink.reshape(-1)[flat_inner] == 0
    # a bubble whose label covers (almost) everything keeps the whole disc
    keep[keep.sum(axis=1) < MIN_LABEL_FREE_PX] = True
    flat_ann = (c[:, 1:2] + ann[None, :, 0]) * w + (c[:, 0:1] + ann[None, :, 1])
    names = sorted(set(labels))
    group = np.array([names.index(lab) for lab in labels], np.intp)
    return BubbleMasks(flat_inner, keep, flat_ann, c, inner.astype(np.float32), ann.astype(np.float32), group,
                       exact)
