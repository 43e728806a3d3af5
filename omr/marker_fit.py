"""Markers re-located at full resolution and fitted, for :func:`omr.warp.warp_page`.

:func:`_relocate_markers` searches each meta marker in a window around where
a page hypothesis puts it (``WINDOW_SIDES`` of its side, at least
``MIN_WINDOW_HALF_PX``), keeps the dark component of a marker's extent, area,
place and density, and takes its darkness-weighted centroid
(:class:`MarkerHit`, image px); :func:`_fit` fits them to the template by
least squares (homography or affine), dropping one outlier beyond
``OUTLIER_MM`` (:class:`MarkerFit`).
"""

from __future__ import annotations

import math
from typing import NamedTuple

import cv2
import numpy as np
import numpy.typing as npt

from omr.fiducials import (
    underdetermined,
)
from omr.markers import marker_shapes
from omr.types import GrayImage, Marker, SheetMeta

F64 = npt.NDArray[np.float64]

OUTLIER_MM = 0.6
"""A marker this far off the least-squares fit is dropped once (a thumb edge, a stain)."""
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
