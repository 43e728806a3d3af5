"""The shape of the ink in a bubble for :mod:`omr.measure`: solid fill, stroke gaps, room left.

A tiling of the inner disc (:func:`_tile_layout`) on which :func:`_solid`
(the largest solidly inked square, ``SOLID_MM``), :func:`_gaps` (separate
empty tiles between strokes, ``GAP_FRAC``) and :func:`_room` (the largest
clear square) are measured: a filled bubble from a cross, a tick or a
scribble (:mod:`omr.decide`).
"""

from __future__ import annotations

import cv2
import numpy as np
import numpy.typing as npt

F32 = npt.NDArray[np.float32]

SOLID_MM = 1.2
"""Ink regions at least this wide are solid (a fill); pen and pencil strokes are 0.3-0.8 mm."""
GAP_FRAC = 0.04
"""An ink-free region of the disc counts as a gap (``gaps``) from this fraction of it."""


def _tile_layout(n: int, inner_off: F32, margin: int
                 ) -> tuple[tuple[int, int], npt.NDArray[np.intp], npt.NDArray[np.intp]]:
    """Where ``n`` disc patches go in one image, so a morphology or labelling
    runs once per page: the image shape and the ``(n, m)`` row and column of
    every disc pixel. ``margin`` px of background separate neighbouring discs.
    """
    R = int(np.abs(inner_off).max())
    cell = 2 * R + 1 + margin
    cols = int(np.ceil(np.sqrt(n)))
    rows = int(np.ceil(n / cols))
    oy = (np.arange(n) // cols) * cell + margin // 2 + R
    ox = (np.arange(n) % cols) * cell + margin // 2 + R
    yy = oy[:, None] + inner_off[None, :, 0].astype(np.intp)
    xx = ox[:, None] + inner_off[None, :, 1].astype(np.intp)
    return (rows * cell, cols * cell), yy, xx


def _solid(inked: npt.NDArray[np.bool_], keep: npt.NDArray[np.bool_], inner_off: F32,
           px_per_mm: float) -> F32:
    """Fraction of each disc covered by ink regions at least ``SOLID_MM`` across.

    The ink mask of every bubble is closed by one pixel (bridges the gaps of a
    scribble) and opened with a disc ``SOLID_MM`` wide: pen and pencil strokes
    (0.3-0.8 mm wide) vanish, solid areas of a fill remain. Ink over the
    printed label, and a label enclosed by ink (closing by the same disc),
    take part in the opening (a fill around the label stays solid) but are
    not counted. The bubbles' patches are tiled into one image
    so the morphology runs once per page.

    Args:
        inked: ``(n, m)`` ink mask of the inner-disc pixels (label pixels included).
        keep: ``(n, m)`` False on the printed label (not counted).
        inner_off: ``(m, 2)`` their (dy, dx) offsets in px.
        px_per_mm: Page resolution.

    Returns:
        ``(n,)`` float32: opened ink pixels / label-free disc pixels.
    """
    n = len(inked)
    if n == 0:
        return np.zeros(0, np.float32)
    dia = max(3, int(round(SOLID_MM * px_per_mm)) | 1)
    # a gap wider than the element: patches never interact
    shape, yy, xx = _tile_layout(n, inner_off, dia)
    tile = np.zeros(shape, np.uint8)
    disc = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (dia, dia))
    tile[yy, xx] = inked.astype(np.uint8)
    label = np.zeros_like(tile)
    label[yy, xx] = (~keep).astype(np.uint8)
    # a label enclosed by ink is under the fill (opaque ink may not darken the print)
    closed = np.asarray(cv2.morphologyEx(tile, cv2.MORPH_CLOSE, disc), np.uint8)
    tile |= closed & label
    tile = np.asarray(cv2.morphologyEx(tile, cv2.MORPH_CLOSE, np.ones((3, 3), np.uint8)), np.uint8)
    opened = (np.asarray(cv2.morphologyEx(tile, cv2.MORPH_OPEN, disc))[yy, xx] > 0) & keep
    return (opened.sum(axis=1) / np.maximum(keep.sum(axis=1), 1)).astype(np.float32)


def _gaps(inked: npt.NDArray[np.bool_], inner_off: F32, min_frac: float = GAP_FRAC) -> npt.NDArray[np.intp]:
    """Number of separate ink-free regions of each disc, each at least ``min_frac`` of it.

    An X leaves four empty wedges between its arms, a tick two or three; a fill
    leaves none, a partial fill one (the unshaded side).

    Args:
        inked: ``(n, m)`` ink mask of the inner-disc pixels (label pixels included).
        inner_off: ``(m, 2)`` their (dy, dx) offsets in px.
        min_frac: Smallest region counted, as a fraction of the disc.

    Returns:
        ``(n,)`` counts.
    """
    n, m = inked.shape
    if n == 0:
        return np.zeros(0, np.intp)
    shape, yy, xx = _tile_layout(n, inner_off, 2)
    tile = np.zeros(shape, np.uint8)
    tile[yy, xx] = (~inked).astype(np.uint8)
    _, lab, stats, _ = cv2.connectedComponentsWithStats(tile, connectivity=4)
    big = stats[:, cv2.CC_STAT_AREA] >= min_frac * m
    big[0] = False  # the background (and the ink) is label 0
    # patches are apart, so every region lies in one disc: count each big
    # region once, for the disc that holds it
    owner = np.zeros(len(big), np.intp)
    owner[lab[yy, xx].reshape(-1)] = np.repeat(np.arange(n), m)
    return np.bincount(owner[np.flatnonzero(big)], minlength=n).astype(np.intp)


def _room(inked: npt.NDArray[np.bool_], inner_off: F32) -> F32:
    """Radius (px) of the largest circle free of ``inked`` inside each disc.

    The disc's edge bounds it too (pixels outside the disc count as ink), so an
    empty bubble gives its own inner radius.
    """
    n = len(inked)
    if n == 0:
        return np.zeros(0, np.float32)
    shape, yy, xx = _tile_layout(n, inner_off, 2)
    tile = np.zeros(shape, np.uint8)
    tile[yy, xx] = (~inked).astype(np.uint8)
    dist = cv2.distanceTransform(tile, cv2.DIST_L2, 5)
    return np.asarray(dist[yy, xx].max(axis=1), np.float32)
