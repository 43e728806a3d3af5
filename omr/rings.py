"""Printed rings for :mod:`omr.register`: detection, and matching them to the meta's bubbles.

* :func:`find_ring_blobs` / :func:`find_rings`: dark blobs of a bubble's size and shape on the
  detection copy (step 1, *Rings*, of :mod:`omr.register`);
* :func:`_bubble_rings`, :func:`_grid_angle`, :func:`_similarity`, :func:`_vote_translation`: the
  ``bubble_grid`` hypothesis from the rings alone (size, angle, a vote for the translation);
* :class:`_NearestRing`, :func:`_refine`, :func:`_match_and_fit`, :func:`_count`: the meta's bubbles
  matched to the nearest ring and the map refitted on the matches (step 3, *Fit*).

Frames as in :mod:`omr.register`: image pixels ``(x, y)`` of the detection copy, template mm.
"""

from __future__ import annotations

import math

import cv2
import numpy as np
import numpy.typing as npt

from omr.types import GrayImage, SheetMeta

F64 = npt.NDArray[np.float64]

#: Adaptive threshold window (px on the detection copy) and offset (grey levels below the local mean).
THRESH_BLOCK_PX = 31
THRESH_OFFSET = 10
#: A blob is a ring candidate when its short side is this many px or more (noise below).
MIN_RING_PX = 5
#: Its long side may be this many times its short side (the meta's ovals are ~2:1).
MAX_RING_ASPECT = 2.6
#: Two blob centres closer than this fraction of the short side are one ring (outer and inner contour) ...
SAME_RING = 0.5
#: ... when the inner one is at least 1/this of the outer: a ring's hole or the letter printed in it,
#: not the rings inside a block's frame (those are 1/5 of it or smaller).
INSIDE_RATIO = 4.0
#: Rings within this factor of the most common size are bubbles; the rest is text, lines, scribbles.
SIZE_TOLERANCE = 1.35
#: A meta bubble matches a ring within this fraction of the bubble pitch (first pass; then halved twice).
MATCH_PITCH = 0.45
#: The widest matching window is repeated up to this many times while it gains bubbles.
GROW_PASSES = 4
#: Refuse unless this fraction of the meta's bubbles is matched.
MIN_MATCHED = 0.6
#: ... and at least this many (a homography needs 4; a handful could match by chance).
MIN_MATCHED_COUNT = 8


def _bubble_centres(sheet: SheetMeta) -> tuple[F64, float]:
    """All bubble centres ``(N, 2)`` in mm and the median bubble radius in mm."""
    pts = [(c.x_mm, c.y_mm, c.r_mm) for q in sheet.questions for c in q.choices]
    pts += [(b.x_mm, b.y_mm, b.r_mm) for b in sheet.id_bubbles]
    arr = np.array(pts, np.float64)
    return arr[:, :2], float(np.median(arr[:, 2]))


def _pitch(xy: F64) -> float:
    """Median nearest-neighbour distance of a point set."""
    if len(xy) < 2:
        return 1.0
    d = np.hypot(xy[:, None, 0] - xy[None, :, 0], xy[:, None, 1] - xy[None, :, 1])
    np.fill_diagonal(d, np.inf)
    return float(np.median(d.min(axis=1)))


def find_rings(small: GrayImage) -> tuple[F64, F64]:
    """Dark blob centres ``(N, 2)`` and short sides ``(N,)`` in ``small``'s pixels.

    Examples:
        >>> img = np.full((100, 100), 255, np.uint8)
        >>> _ = cv2.circle(img, (30, 40), 8, 0, 2); _ = cv2.circle(img, (70, 40), 8, 0, -1)
        >>> xy, size = find_rings(img)
        >>> sorted((round(x), round(y)) for x, y in xy), bool((size > 14).all())
        ([(30, 40), (70, 40)], True)
    """
    return find_ring_blobs(small)[:2]


def find_ring_blobs(small: GrayImage) -> tuple[F64, F64, F64]:
    """:func:`find_rings`, with each blob's long side ``(N,)`` too (an oval's height)."""
    bw = cv2.adaptiveThreshold(small, 255, cv2.ADAPTIVE_THRESH_MEAN_C, cv2.THRESH_BINARY_INV,
                               THRESH_BLOCK_PX, THRESH_OFFSET)
    contours, _ = cv2.findContours(bw, cv2.RETR_LIST, cv2.CHAIN_APPROX_SIMPLE)
    xy: list[tuple[float, float]] = []
    size: list[float] = []
    longs: list[float] = []
    for c in contours:
        if len(c) < 5:
            continue
        (cx, cy), (w, h), _ang = cv2.minAreaRect(c)
        short, long_ = min(w, h), max(w, h)
        if short < MIN_RING_PX or long_ > MAX_RING_ASPECT * short:
            continue
        xy.append((cx, cy))
        size.append(short)
        longs.append(long_)
    if not xy:
        return np.zeros((0, 2)), np.zeros(0), np.zeros(0)
    pts, sz = np.array(xy, np.float64), np.array(size, np.float64)
    keep = np.ones(len(pts), bool)
    order = np.argsort(-sz)  # the outer contour of a ring wins over its inner one
    for i in order:
        if not keep[i]:
            continue
        # the ring's inner contour, or a letter printed inside it; a block's frame around rings is not
        close = (np.hypot(*(pts - pts[i]).T) < SAME_RING * sz[i]) & (sz * INSIDE_RATIO >= sz[i])
        close[i] = False
        keep &= ~close
    return pts[keep], sz[keep], np.array(longs, np.float64)[keep]


def _bubble_rings(xy: F64, size: F64, r_mm: float, pitch_mm: float) -> tuple[npt.NDArray[np.bool_], float]:
    """Which blobs are the bubbles (a mask), and the implied px per mm.

    Blobs are grouped by size (within ``SIZE_TOLERANCE``); the bubbles are the
    group whose size and spacing agree with the meta: its short side gives
    px/mm (``2 r``), and its members' nearest-neighbour distance must then be
    about one bubble pitch. Text and scribbles are many but do not agree.
    """
    if len(size) == 0:
        return np.zeros(0, bool), 0.0
    logs = np.log(size)
    width = math.log(SIZE_TOLERANCE)
    best: tuple[float, npt.NDArray[np.bool_], float] = (math.inf, np.zeros(len(xy), bool), 0.0)
    for centre in np.unique(np.round(logs / (width / 2))) * (width / 2):
        sel = np.abs(logs - centre) <= width
        if sel.sum() < MIN_MATCHED_COUNT:
            continue
        px_per_mm = float(np.exp(np.median(logs[sel]))) / (2.0 * r_mm)
        spacing = _pitch(xy[sel]) / (pitch_mm * px_per_mm)
        miss = abs(math.log(spacing)) - 0.05 * math.log(int(sel.sum()))  # ties: the bigger group
        if miss < best[0]:
            best = (miss, sel, px_per_mm)
    return best[1], best[2]


def _grid_angle(xy: F64) -> float:
    """Dominant direction (radians, modulo 90 degrees) of the nearest-neighbour steps."""
    d = np.hypot(xy[:, None, 0] - xy[None, :, 0], xy[:, None, 1] - xy[None, :, 1])
    np.fill_diagonal(d, np.inf)
    j = d.argmin(axis=1)
    v = xy[j] - xy
    a = np.arctan2(v[:, 1], v[:, 0])
    return float(np.angle(np.exp(4j * a).sum()) / 4.0)


def _similarity(scale: float, angle: float, t: tuple[float, float]) -> F64:
    c, s = math.cos(angle) * scale, math.sin(angle) * scale
    return np.array([[c, -s, t[0]], [s, c, t[1]], [0.0, 0.0, 1.0]])


def _vote_translation(rings: F64, mm: F64, a: F64, pitch_px: float, extent_px: float) -> tuple[float, float] | None:
    """The translation most (ring, bubble) pairs agree on, for the linear part ``a`` (mm -> px).

    Every pair votes for ``ring - a @ bubble`` in cells of a quarter pitch
    (one ``bincount``); translations that would put the page more than two
    image lengths away are not counted.
    """
    proj = mm @ a[:2, :2].T
    t = (rings[:, None, :] - proj[None, :, :]).reshape(-1, 2)
    cell = 0.25 * pitch_px
    lo = -2.0 * extent_px
    n = int(math.ceil(5.0 * extent_px / cell))
    keys = np.floor((t - lo) / cell).astype(np.int64)
    inside = ((keys >= 0) & (keys < n)).all(axis=1)
    if not inside.any():
        return None
    flat = keys[inside, 0] * n + keys[inside, 1]
    votes = np.bincount(flat, minlength=n * n)
    best = int(np.argmax(votes))
    sel = flat == best
    ts = t[inside][sel]
    return float(np.median(ts[:, 0])), float(np.median(ts[:, 1]))


class _NearestRing:
    """Nearest ring to any pixel of the detection copy in O(1): one distance transform with labels."""

    def __init__(self, rings: F64, shape_hw: tuple[int, int]) -> None:
        h, w = shape_hw
        self.margin = 8
        seeds = np.full((h + 2 * self.margin, w + 2 * self.margin), 255, np.uint8)
        ij = np.round(rings).astype(np.int64) + self.margin
        ij[:, 0] = np.clip(ij[:, 0], 0, seeds.shape[1] - 1)
        ij[:, 1] = np.clip(ij[:, 1], 0, seeds.shape[0] - 1)
        seeds[ij[:, 1], ij[:, 0]] = 0
        self.dist, labels = cv2.distanceTransformWithLabels(seeds, cv2.DIST_L2, 5, labelType=cv2.DIST_LABEL_PIXEL)
        lut = np.full(int(labels.max()) + 1, -1, np.int64)
        lut[labels[ij[:, 1], ij[:, 0]]] = np.arange(len(rings))
        self.index = lut[labels]
        self.rings = rings

    def query(self, pts: F64) -> tuple[npt.NDArray[np.int64], F64]:
        """Index of the nearest ring and the distance to it (inf off the copy)."""
        h, w = self.index.shape
        x = np.round(pts[:, 0]).astype(np.int64) + self.margin
        y = np.round(pts[:, 1]).astype(np.int64) + self.margin
        on = (x >= 0) & (x < w) & (y >= 0) & (y < h)
        j = np.full(len(pts), -1, np.int64)
        j[on] = self.index[y[on], x[on]]
        d = np.full(len(pts), np.inf)
        ok = j >= 0
        d[ok] = np.hypot(*(self.rings[j[ok]] - pts[ok]).T)
        return j, d


def _refine(near: _NearestRing, mm: F64, h_mm_to_px: F64, pitch_px: float, model: str, *, grow: bool = False
            ) -> tuple[F64, F64, F64] | None:
    """Match projected bubbles to rings and refit; returns ``(H mm->px, mm_used, px_used)``.

    With ``grow`` the widest window is repeated while it gains bubbles (from a similarity start on a
    tilted photo it reaches only the bubbles near the middle at first); then it is narrowed twice.
    """
    fit: tuple[F64, F64, F64] = (h_mm_to_px, np.zeros((0, 2)), np.zeros((0, 2)))
    for frac, passes in ((MATCH_PITCH, GROW_PASSES if grow else 1), (MATCH_PITCH / 2, 1), (MATCH_PITCH / 4, 1)):
        for i in range(passes):
            step = _match_and_fit(near, mm, fit[0], frac * pitch_px, 0.2 * pitch_px, model)
            if step is None:
                return None
            gained = len(step[1]) > len(fit[1])
            fit = step
            if i and not gained:
                break
    return np.asarray(fit[0], np.float64), fit[1], fit[2]


def _match_and_fit(near: _NearestRing, mm: F64, hmat: F64, window_px: float, ransac_px: float,
                   model: str) -> tuple[F64, F64, F64] | None:
    """One pass: each projected bubble takes the nearest ring within ``window_px``; the map is refitted."""
    proj = cv2.perspectiveTransform(mm[None], hmat)[0]
    j, d = near.query(proj)
    ok = d <= window_px
    # one ring answers one bubble
    _, first = np.unique(j[ok], return_index=True)
    idx = np.flatnonzero(ok)[first]
    if len(idx) < max(4, MIN_MATCHED_COUNT // 2):
        return None
    used_mm, used_px = mm[idx], near.rings[j[idx]]
    if model == "affine":
        a, _ = cv2.estimateAffine2D(used_mm, used_px, method=cv2.RANSAC, ransacReprojThreshold=ransac_px)
        if a is None:
            return None
        return np.vstack([a, [0.0, 0.0, 1.0]]), used_mm, used_px
    hm, _ = cv2.findHomography(used_mm, used_px, cv2.RANSAC, ransac_px)
    if hm is None:
        return None
    return np.asarray(hm, np.float64), used_mm, used_px


def _count(near: _NearestRing, mm: F64, h_mm_to_px: F64, pitch_px: float) -> int:
    """Meta bubbles within a quarter pitch of a ring under ``h_mm_to_px``."""
    _j, d = near.query(cv2.perspectiveTransform(mm[None], h_mm_to_px)[0])
    return int((d <= MATCH_PITCH / 2 * pitch_px).sum())
