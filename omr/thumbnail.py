"""Comparing a page hypothesis with the template on small high-passed thumbnails.

A candidate page (a homography from the detection image to template mm) is
warped to a ``THUMB_PX_PER_MM`` thumbnail and correlated with the template's
own thumbnail, both high-passed (light gradients and paper grain removed) and
normalised: the normalised cross-correlation is near 1 for the right page in
the right orientation, low for a wrong quad or a half turn (the hollow marker
and the printed content break the page's symmetry).

Frames: "detection px" are pixels of the detection image (the photo shrunk by
an integer factor); ``tf`` shrinks that further to at most
``THUMB_SRC_LONG_PX`` (the *thumbnail source*); thumbnail px are
``THUMB_PX_PER_MM`` per template mm.

Examples:
    >>> from omr.meta import as_sheet_meta
    >>> from omr.template import build_template, render_sheet
    >>> sheet = as_sheet_meta(build_template(10))
    >>> tmpl = template_thumbnail(sheet)
    >>> page = render_sheet(sheet.raw, dpi=2 * 25.4)  # 2 px/mm: a perfect "photo"
    >>> upright = correlate(page, 1.0, np.diag([0.5, 0.5, 1.0]), tmpl)
    >>> upside_down = correlate(page, 1.0, np.array([[-0.5, 0, 297], [0, -0.5, 210], [0, 0, 1.0]]), tmpl)
    >>> round(upright, 1), round(upside_down, 1)
    (0.9, 0.4)
"""

from __future__ import annotations

from typing import Any

import cv2
import numpy as np
import numpy.typing as npt

from omr.types import GrayImage, SheetMeta

__all__ = [
    "THUMB_PX_PER_MM",
    "THUMB_SRC_LONG_PX",
    "correlate",
    "highpass",
    "orient",
    "template_thumbnail",
]

F64 = npt.NDArray[np.float64]

THUMB_PX_PER_MM = 1.5
"""Thumbnail resolution: markers, header and bubble blocks are still distinct; cheap to warp."""
THUMB_SRC_LONG_PX = 640
"""The detection image is shrunk to this long side before warping thumbnails from it."""
HIGHPASS_SIGMA_PX = 6.0
"""Light gradients and shadows wider than this (thumbnail px, 4 mm) are removed."""
SMOOTH_SIGMA_PX = 0.8
"""Paper grain and JPEG noise finer than this are removed."""


def highpass(img: npt.NDArray[Any]) -> F64:
    """Band-passed, zero-mean, unit-norm copy of ``img`` (so a dot product is a correlation)."""
    f = img.astype(np.float32)
    hp = np.asarray(f - cv2.GaussianBlur(f, (0, 0), HIGHPASS_SIGMA_PX), np.float32)
    hp = np.asarray(cv2.GaussianBlur(hp, (0, 0), SMOOTH_SIGMA_PX), np.float32)
    hp -= hp.mean()
    n = float(np.sqrt((hp * hp).sum())) or 1.0
    return (hp / n).astype(np.float64)


def template_thumbnail(sheet: SheetMeta) -> F64:
    """The template raster at ``THUMB_PX_PER_MM``, high-passed (kept by :mod:`omr.compiled`)."""
    from omr.template import render_sheet

    return highpass(render_sheet(sheet.raw, dpi=THUMB_PX_PER_MM * 25.4))


def correlate(tsrc: GrayImage, tf: float, h_small_to_mm: F64, tmpl: F64) -> float:
    """Correlation of the page that ``h_small_to_mm`` (detection px -> mm) finds with the template.

    Args:
        tsrc: The thumbnail source (detection image scaled by ``tf``).
        tf: Its scale relative to the detection image.
        h_small_to_mm: 3x3 homography, detection px -> template mm.
        tmpl: :func:`template_thumbnail` of the sheet.

    Returns:
        Normalised cross-correlation in [-1, 1].
    """
    th, tw = tmpl.shape
    s = THUMB_PX_PER_MM
    h_t = np.diag([s, s, 1.0]) @ h_small_to_mm @ np.diag([1.0 / tf, 1.0 / tf, 1.0])
    thumb = cv2.warpPerspective(tsrc, h_t, (tw, th), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    return float((highpass(thumb) * tmpl).sum())


def orient(tsrc: GrayImage, tf: float, quad_px: list[tuple[float, float]], dst_mm: list[tuple[float, float]],
           tmpl: F64) -> tuple[float, F64]:
    """Best cyclic assignment of ``quad_px`` (clockwise, detection px) to ``dst_mm`` (TL, TR, BR, BL).

    Args:
        tsrc: The thumbnail source (detection image scaled by ``tf``).
        tf: Its scale relative to the detection image.
        quad_px: Four page corners in the detection image, clockwise.
        dst_mm: The template points they may be (page corners, TL first).
        tmpl: :func:`template_thumbnail` of the sheet.

    Returns:
        ``(correlation, h_small_to_mm)`` of the best of the 4 assignments:
        the homography maps detection px to template mm.
    """
    th, tw = tmpl.shape
    s = THUMB_PX_PER_MM
    dst = np.array(dst_mm, np.float32) * s
    best_corr, best_h = -2.0, np.eye(3)
    for k in range(4):
        src = np.array([quad_px[(i + k) % 4] for i in range(4)], np.float32)
        hmat = cv2.getPerspectiveTransform(src, dst)
        h_t = hmat @ np.diag([1.0 / tf, 1.0 / tf, 1.0])
        thumb = cv2.warpPerspective(tsrc, h_t, (tw, th), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
        corr = float((highpass(thumb) * tmpl).sum())
        if corr > best_corr:
            best_corr, best_h = corr, hmat.astype(np.float64)
    return best_corr, np.diag([1 / s, 1 / s, 1.0]) @ best_h
