"""Fiducial markers: candidate detection and a geometric consistency search.

Works on the detection image (the photo shrunk by an integer factor to about
1000 px, see :mod:`omr.warp`). Two stages:

1. :func:`find_candidates`: adaptive threshold (local mean, so shadows and
   uneven light cancel; a pixel is dark ``DARK_OFFSET`` grey levels below it),
   then outer contours that are solid (area / convex hull >= ``MIN_SOLIDITY``),
   square-ish (area / minimum-area rectangle >= ``MIN_RECT_FILL``, aspect <=
   2.5) and have a clean quiet zone (dark fraction of a band around the blob
   <= ``QUIET_MAX_DARK``, from an integral image). Each candidate has a centre,
   a size (sqrt of area), a ``hollow`` ratio (largest hole / area; the top-left
   marker has a hole) and a quality; the best ``MAX_CANDIDATES`` are kept.
   :func:`merge_candidates` adds those of a stricter pass (``STRICT_OFFSET``)
   for a marker that merged with a shadow edge.
2. :func:`match_markers`: every convex 4-subset of candidates, in each of its
   4 cyclic orders, is mapped onto each *model quad* (the 4 corners, and the
   left and right half-pages made of 2 corners + the 2 mid-edge markers) by an
   exact homography (closed form, all hypotheses at once in numpy). Each
   hypothesis predicts every marker's centre and size; a marker is
   *supported* by a candidate within ``MATCH_TOL_SIDES`` of its side whose
   size agrees (``MATCH_SIZE_RANGE``, after one common scale factor). The best
   supported ones are refitted by least squares on all their matches and
   re-matched until stable (:func:`_refit`, same tolerances). A thumb over one
   corner still leaves a half-page quad + the far corners (5 markers).

The page is symmetric under a 180 degree turn except for the hollow marker
and the printed content, so the caller scores each hypothesis and its half-turn
twin against the template (:mod:`omr.thumbnail`).

Examples:
    >>> from omr.template import build_template, render_sheet
    >>> from omr.meta import as_sheet_meta
    >>> sheet = as_sheet_meta(build_template(10))
    >>> img = render_sheet(sheet.raw, dpi=80)
    >>> cands = find_candidates(img)
    >>> len(cands.xy) >= 6
    True
    >>> hyps = match_markers(cands, sheet)
    >>> hyps[0].support
    6
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import cv2
import numpy as np
import numpy.typing as npt

from omr.markers import effective_sizes_mm
from omr.types import GrayImage, Marker, SheetMeta

__all__ = [
    "DARK_OFFSET",
    "MATCH_SIZE_RANGE",
    "MATCH_TOL_MIN_PX",
    "MATCH_TOL_SIDES",
    "MAX_CANDIDATES",
    "STRICT_OFFSET",
    "Candidates",
    "Hypothesis",
    "corner_markers",
    "find_candidates",
    "local_scale",
    "match_markers",
    "merge_candidates",
    "underdetermined",
]

F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]

MAX_CANDIDATES = 14
"""Candidates kept, best first (the search is O(n^4) in them: 14 -> 1001 quads)."""
QUIET_MAX_DARK = 0.12
"""A marker's quiet zone (the band ``QUIET_BAND_SIZES`` around it) is at most this dark."""
QUIET_BAND_SIZES = (0.8, 1.15)
"""The quiet-zone band, as half-widths in blob sizes (sqrt of area) around the centre."""
MIN_MARKER_FRACTION = 220.0
"""The smallest blob is 1/this of the image's long side (an 8 mm marker on a page filling a third of it)."""
MAX_MARKER_FRACTION = 10.0
"""The largest blob is 1/this of the long side."""
MIN_RECT_FILL = 0.72
"""A blob fills at least this much of its minimum-area rectangle (a square, not a blot)."""
MIN_SOLIDITY = 0.88
"""A blob's area over its convex hull's (no notches)."""
DARK_OFFSET = 12
"""Grey levels below the local mean that count as dark (first pass)."""
STRICT_OFFSET = 24
"""Second pass: a marker on a shadow edge touches the shadow side, darker than the
local mean by ~DARK_OFFSET but far lighter than ink; twice the offset cuts it off."""
MIN_PX_PER_MM = 0.05
"""A page map scaling less than this is degenerate (far below any page find_candidates admits:
an 8 mm marker is >= long side / 220 px)."""
MATCH_TOL_SIDES = 0.45
"""A predicted marker is matched by a candidate within this many of its predicted sides..."""
MATCH_TOL_MIN_PX = 2.0
"""...or within this many detection px, whichever is larger (tiny markers)."""
REL_SIZE_RANGE = (0.5, 2.0)
"""Blob size over the size a hypothesis predicts, over its 4 quad markers (the threshold's
blob is larger or smaller than the printed square, but not by more)."""
MATCH_SIZE_RANGE = (0.72, 1.38)
"""A candidate's size over the predicted marker size must lie in this open range
(a 5 mm edge marker cannot stand in for an 8 mm corner one)."""


@dataclass(frozen=True)
class Candidates:
    """Marker candidates in detection-image pixels.

    Attributes:
        xy: ``(n, 2)`` centres (x, y) px.
        size: ``(n,)`` sqrt(area) px.
        hollow: ``(n,)`` largest hole area / outer area.
        quality: ``(n,)`` in [0, 1], higher is more marker-like.
    """

    xy: F64
    size: F64
    hollow: F64
    quality: F64


@dataclass(frozen=True)
class Hypothesis:
    """One consistent assignment of candidates to markers.

    Attributes:
        match: ``(n_markers,)`` candidate index per marker (meta order), -1 if unseen.
        h_mm_to_img: 3x3 homography, template mm -> detection-image px.
        support: Number of matched markers.
        residual: Mean match distance relative to the tolerance (lower is better).
    """

    match: I64
    h_mm_to_img: F64
    support: int
    residual: float


def corner_markers(sheet: SheetMeta) -> list[int] | None:
    """Indices (meta order) of the markers nearest the TL, TR, BR, BL page corners.

    Examples:
        >>> from omr.template import build_template
        >>> from omr.meta import as_sheet_meta
        >>> corner_markers(as_sheet_meta(build_template(10)))
        [0, 1, 2, 3]
    """
    ms = sheet.markers
    if len(ms) < 4:
        return None
    out = []
    for cx, cy in ((0.0, 0.0), (sheet.page_w_mm, 0.0), (sheet.page_w_mm, sheet.page_h_mm), (0.0, sheet.page_h_mm)):
        out.append(min(range(len(ms)), key=lambda i: (ms[i].x_mm - cx) ** 2 + (ms[i].y_mm - cy) ** 2))
    return out if len(set(out)) == 4 else None


def _box_sums(integral: npt.NDArray[Any], cx: F64, cy: F64, half: F64) -> tuple[F64, F64]:
    h, w = integral.shape[0] - 1, integral.shape[1] - 1
    x0 = np.clip(np.round(cx - half).astype(np.int64), 0, w)
    x1 = np.clip(np.round(cx + half).astype(np.int64) + 1, 0, w)
    y0 = np.clip(np.round(cy - half).astype(np.int64), 0, h)
    y1 = np.clip(np.round(cy + half).astype(np.int64) + 1, 0, h)
    s = integral[y1, x1] - integral[y0, x1] - integral[y1, x0] + integral[y0, x0]
    area = np.maximum((x1 - x0) * (y1 - y0), 1)
    return np.asarray(s, np.float64), np.asarray(area, np.float64)


def find_candidates(small: GrayImage, max_count: int = MAX_CANDIDATES, *, offset: int = DARK_OFFSET,
                    windows: Sequence[tuple[int, int, int, int]] | None = None) -> Candidates:
    """Dark, solid, square-ish blobs with a clean quiet zone.

    Args:
        small: ``(H, W)`` uint8 detection image (long side ~1000-1400 px).
        max_count: Keep at most this many, best quality first.
        offset: A pixel is dark when this many grey levels below its local mean.
            ``STRICT_OFFSET`` separates a marker from a shadow edge it sits on
            (the shadow side is dark at ``DARK_OFFSET`` and merges with it).
        windows: Look only inside these ``(x0, y0, x1, y1)`` boxes (detection
            px): blobs wholly inside one, not touching a side that is not the
            image's. Each such blob gets exactly the contour, and so the
            centre, size and quality, that the whole-image search gives it
            (the threshold is the whole image's; contours are traced per box
            in image coordinates).

    Returns:
        The :class:`Candidates` (possibly empty).

    Examples:
        >>> from omr.template import build_template, render_sheet
        >>> img = render_sheet(build_template(10), dpi=80)
        >>> full = find_candidates(img)
        >>> corner = find_candidates(img, windows=[(0, 0, 120, 120)])
        >>> len(corner.xy), bool((full.xy == corner.xy[0]).all(axis=1).any())
        (1, True)
    """
    h, w = small.shape
    long_px = max(h, w)
    block = max(31, (long_px // 16) | 1)
    bw = cv2.adaptiveThreshold(small, 1, cv2.ADAPTIVE_THRESH_MEAN_C, cv2.THRESH_BINARY_INV, block, offset)
    empty = np.zeros((0, 2)), np.zeros(0), np.zeros(0), np.zeros(0)
    min_area = (long_px / MIN_MARKER_FRACTION) ** 2
    max_area = (long_px / MAX_MARKER_FRACTION) ** 2
    min_len = int(np.sqrt(min_area))
    boxes = [(0, 0, w, h)] if windows is None else _clip_windows(windows, w, h)
    xs, ys, sizes, hollows, fills = [], [], [], [], []
    seen: set[tuple[int, int, int, int]] = set()
    for x0, y0, x1, y1 in boxes:
        contours, hier_arr = cv2.findContours(bw[y0:y1, x0:x1], cv2.RETR_CCOMP, cv2.CHAIN_APPROX_SIMPLE,
                                              offset=(x0, y0))
        if hier_arr is None:
            continue
        hier = hier_arr[0]
        for i in _plausible(contours, hier, min_len, (min_area, max_area), (x0, y0, x1, y1), (w, h)):
            c = contours[i]
            x, y, bwd, bht = cv2.boundingRect(c)
            a = cv2.contourArea(c)
            if not min_area <= a <= max_area or a < 0.4 * bwd * bht or (x, y, bwd, bht) in seen:
                continue
            (_, _), (rw, rh), _ = cv2.minAreaRect(c)
            if min(rw, rh) < 3 or max(rw, rh) / min(rw, rh) > 2.5:
                continue
            fill = a / (rw * rh)
            if fill < MIN_RECT_FILL:
                continue
            hull_area = cv2.contourArea(cv2.convexHull(c))
            if hull_area <= 0 or a / hull_area < MIN_SOLIDITY:
                continue
            seen.add((x, y, bwd, bht))
            hole = 0.0
            ch = int(hier[i][2])
            while ch != -1:
                hole = max(hole, cv2.contourArea(contours[ch]))
                ch = int(hier[ch][0])
            m = cv2.moments(c)
            xs.append(m["m10"] / m["m00"])
            ys.append(m["m01"] / m["m00"])
            sizes.append(np.sqrt(a))
            hollows.append(hole / a)
            fills.append(fill)
    if not xs:
        return Candidates(*empty)
    cx, cy, size = np.array(xs), np.array(ys), np.array(sizes)
    integral = cv2.integral(bw)
    s_out, a_out = _box_sums(integral, cx, cy, QUIET_BAND_SIZES[1] * size)
    s_in, a_in = _box_sums(integral, cx, cy, QUIET_BAND_SIZES[0] * size)
    band = (s_out - s_in) / np.maximum(a_out - a_in, 1.0)
    ok = band <= QUIET_MAX_DARK
    quality = (1.0 - band / QUIET_MAX_DARK) * 0.5 + np.clip((np.array(fills) - MIN_RECT_FILL) / 0.25, 0, 1) * 0.5
    idx = np.flatnonzero(ok)
    idx = idx[np.argsort(-quality[idx] - 1e-4 * size[idx])][:max_count]
    return Candidates(np.stack([cx[idx], cy[idx]], 1), size[idx], np.array(hollows)[idx], quality[idx])


def _clip_windows(windows: Sequence[tuple[int, int, int, int]], w: int, h: int) -> list[tuple[int, int, int, int]]:
    """``windows`` clipped to a ``w`` x ``h`` image; empty ones dropped."""
    out = []
    for x0, y0, x1, y1 in windows:
        box = (max(0, int(x0)), max(0, int(y0)), min(w, int(x1)), min(h, int(y1)))
        if box[2] > box[0] and box[3] > box[1]:
            out.append(box)
    return out


def _plausible(contours: Sequence[npt.NDArray[Any]], hier: npt.NDArray[Any], min_len: int,
               area_range: tuple[float, float], box: tuple[int, int, int, int],
               image_wh: tuple[int, int]) -> list[int]:
    """Indices of the outer contours whose bounding box could be a marker's, in order.

    The cheap tests of :func:`find_candidates` for all contours at once: an
    outer boundary of >= 4 points whose box is at least ``0.7 * min_len`` on
    its short side and at most 2.6 times longer than wide (``cv2.boundingRect``
    of integer points: min to max, inclusive), whose area (``cv2.contourArea``'s
    shoelace sum, in integers) lies in ``area_range`` and fills >= 40 % of the
    box. A box touching a side of ``box`` that is not the image's is cut by the
    window: left out.
    """
    if not contours:
        return []
    lengths = np.fromiter((len(c) for c in contours), np.int64, len(contours))
    pts = np.concatenate(contours).reshape(-1, 2).astype(np.int64)
    starts = np.concatenate([[0], np.cumsum(lengths)[:-1]])
    lo = np.minimum.reduceat(pts, starts, axis=0)
    hi = np.maximum.reduceat(pts, starts, axis=0)
    bw_, bh_ = hi[:, 0] - lo[:, 0] + 1, hi[:, 1] - lo[:, 1] + 1
    short, long_ = np.minimum(bw_, bh_), np.maximum(bw_, bh_)
    # cv2.contourArea: the shoelace sum, exact in integers
    nxt = np.arange(1, len(pts) + 1)
    nxt[starts + lengths - 1] = starts
    cross = pts[:, 0] * pts[nxt, 1] - pts[nxt, 0] * pts[:, 1]
    area = np.abs(np.add.reduceat(cross, starts)) / 2.0
    ok = ((hier[:, 3] == -1) & (lengths >= 4) & ~(short < min_len * 0.7) & ~(long_ > 2.6 * short)
          & (area >= area_range[0]) & (area <= area_range[1]) & ~(area < 0.4 * bw_ * bh_))
    x0, y0, x1, y1 = box
    iw, ih = image_wh
    if x0 > 0:
        ok &= lo[:, 0] > x0
    if y0 > 0:
        ok &= lo[:, 1] > y0
    if x1 < iw:
        ok &= hi[:, 0] < x1 - 1
    if y1 < ih:
        ok &= hi[:, 1] < y1 - 1
    return [int(i) for i in np.flatnonzero(ok)]


def merge_candidates(a: Candidates, b: Candidates, max_count: int = MAX_CANDIDATES) -> Candidates:
    """Union of two candidate sets; a blob in both (centres closer than half its
    size) is kept once, from ``a``. Best quality first, at most ``max_count``.

    Examples:
        >>> a = Candidates(np.array([[10.0, 10.0]]), np.array([8.0]), np.zeros(1), np.array([0.9]))
        >>> b = Candidates(np.array([[11.0, 10.0], [50.0, 50.0]]), np.array([8.0, 8.0]), np.zeros(2),
        ...                np.array([0.5, 0.7]))
        >>> merge_candidates(a, b).xy.tolist()
        [[10.0, 10.0], [50.0, 50.0]]
    """
    if len(b.xy) == 0:
        return a
    if len(a.xy):
        d = np.linalg.norm(b.xy[:, None, :] - a.xy[None, :, :], axis=2)
        new = (d >= 0.5 * np.maximum(b.size[:, None], a.size[None, :])).all(axis=1)
    else:
        new = np.ones(len(b.xy), bool)
    xy = np.concatenate([a.xy, b.xy[new]])
    size = np.concatenate([a.size, b.size[new]])
    hollow = np.concatenate([a.hollow, b.hollow[new]])
    quality = np.concatenate([a.quality, b.quality[new]])
    idx = np.argsort(-quality - 1e-4 * size, kind="stable")[:max_count]
    return Candidates(xy[idx], size[idx], hollow[idx], quality[idx])


def _quads(n: int) -> I64:
    """All 4-subsets of ``range(n)`` as an ``(k, 4)`` array."""
    idx = np.arange(n)
    a, b, c, d = np.meshgrid(idx, idx, idx, idx, indexing="ij")
    q = np.stack([a.ravel(), b.ravel(), c.ravel(), d.ravel()], 1)
    return q[(q[:, 0] < q[:, 1]) & (q[:, 1] < q[:, 2]) & (q[:, 2] < q[:, 3])]


def _square_to_quad(p: F64) -> F64:
    """Homographies mapping the unit square (0,0),(1,0),(1,1),(0,1) onto quads ``p`` (k, 4, 2)."""
    x0, x1, x2, x3 = (p[:, i, 0] for i in range(4))
    y0, y1, y2, y3 = (p[:, i, 1] for i in range(4))
    dx1, dx2, dx3 = x1 - x2, x3 - x2, x0 - x1 + x2 - x3
    dy1, dy2, dy3 = y1 - y2, y3 - y2, y0 - y1 + y2 - y3
    den = dx1 * dy2 - dx2 * dy1
    den = np.where(np.abs(den) < 1e-12, 1e-12, den)
    g = (dx3 * dy2 - dx2 * dy3) / den
    h = (dx1 * dy3 - dx3 * dy1) / den
    out = np.zeros((len(p), 3, 3))
    out[:, 0] = np.stack([x1 - x0 + g * x1, x3 - x0 + h * x3, x0], 1)
    out[:, 1] = np.stack([y1 - y0 + g * y1, y3 - y0 + h * y3, y0], 1)
    out[:, 2] = np.stack([g, h, np.ones_like(g)], 1)
    return out


def _tolerance(scale: F64, side_mm: F64) -> F64:
    """Match radius (px) of markers of side ``side_mm`` where the page map scales by ``scale`` px/mm."""
    return np.asarray(np.maximum(MATCH_TOL_SIDES * scale * side_mm, MATCH_TOL_MIN_PX), np.float64)


def _match(pred: F64, exp_size: F64, cands: Candidates, tol: F64) -> tuple[I64, F64]:
    """Nearest size-compatible candidate per prediction, within ``tol``.

    Args:
        pred: ``(h, m, 2)`` predicted marker centres (h hypotheses, m markers), detection px.
        exp_size: ``(h, m)`` expected candidate sizes (sqrt of area), px.
        cands: The candidates.
        tol: ``(h, m)`` match radius, px (:func:`_tolerance`).

    Returns:
        ``(j, dn)``: ``(h, m)`` candidate index per prediction (-1 when none is
        within ``tol`` with a size ratio in ``MATCH_SIZE_RANGE``) and the
        distance in units of ``tol``.
    """
    d = np.linalg.norm(pred[:, :, None, :] - cands.xy[None, None, :, :], axis=3)  # (h, m, n)
    ratio = cands.size[None, None, :] / np.maximum(exp_size[:, :, None], 1e-6)
    d = np.where((ratio > MATCH_SIZE_RANGE[0]) & (ratio < MATCH_SIZE_RANGE[1]), d, np.inf)
    j = np.argmin(d, axis=2)
    dmin = np.take_along_axis(d, j[:, :, None], axis=2)[:, :, 0] / tol
    j = np.where(dmin <= 1.0, j, -1)
    return j.astype(np.int64), dmin


def _local_scale(h: F64, pts_mm: F64) -> F64:
    """px per mm of homographies ``h`` ((3, 3) or (k, 3, 3), mm -> px) at ``pts_mm`` (m, 2)."""
    hh = h.reshape(-1, 3, 3)
    x, y = pts_mm[None, :, 0], pts_mm[None, :, 1]
    wz = hh[:, 2, 0:1] * x + hh[:, 2, 1:2] * y + hh[:, 2, 2:3]
    det = np.abs(np.linalg.det(hh))[:, None] / np.maximum(np.abs(wz), 1e-9) ** 3
    out = np.sqrt(det)
    return np.asarray(out[0] if h.ndim == 2 else out, np.float64)


def local_scale(h: F64, pts_mm: F64) -> F64:
    """px per mm of a homography ``h`` (3, 3), mm -> px, at each of ``pts_mm`` (m, 2).

    Examples:
        >>> local_scale(np.diag([2.0, 2.0, 1.0]), np.array([[0.0, 0.0], [10.0, 5.0]])).tolist()
        [2.0, 2.0]
    """
    return _local_scale(h, pts_mm)


def _model_quads(sheet: SheetMeta, corners: list[int]) -> list[list[int]]:
    """Marker index quads (clockwise) whose homography pins the page: the 4
    corners, and with mid-edge markers the left and right halves (so one
    hidden corner still leaves a full quad)."""
    tl, tr, br, bl = corners
    quads = [[tl, tr, br, bl]]
    ms = sheet.markers
    mids = [i for i in range(len(ms)) if i not in corners]
    top = [i for i in mids if ms[i].y_mm < sheet.page_h_mm / 2]
    bot = [i for i in mids if ms[i].y_mm >= sheet.page_h_mm / 2]
    if len(top) == 1 and len(bot) == 1:
        quads += [[tl, top[0], bot[0], bl], [top[0], tr, br, bot[0]]]
    return quads


def match_markers(cands: Candidates, sheet: SheetMeta, *, keep: int = 4) -> list[Hypothesis]:
    """Consistent marker assignments, best first (at most ``keep``, distinct).

    Every convex 4-subset of candidates, in each of its 4 cyclic orders, is
    mapped onto each model quad (:func:`_model_quads`) by an exact homography
    (closed form, all at once); the homography predicts every marker's centre
    and size, and a prediction is *supported* by a candidate within 45% of
    the marker's side whose size agrees. A hypothesis needs >= 4 supported
    markers of the 4 quad ones; it is then refitted by least squares on all
    its matches.

    Args:
        cands: Output of :func:`find_candidates`.
        sheet: Sheet meta with >= 4 markers.
        keep: Number of distinct hypotheses to return.

    Returns:
        Hypotheses sorted by (support desc, residual asc); empty when none.
    """
    corners = corner_markers(sheet)
    n = len(cands.xy)
    if corners is None or n < 4:
        return []
    mk: list[Marker] = list(sheet.markers)
    model = np.array([[m.x_mm, m.y_mm] for m in mk], np.float64)
    msize = effective_sizes_mm(sheet)  # sqrt(area) in mm: the side for squares
    quads = _quads(n)
    p = cands.xy[quads]  # (k, 4, 2)
    c = p.mean(axis=1, keepdims=True)
    order = np.argsort(np.arctan2(p[:, :, 1] - c[:, :, 1], p[:, :, 0] - c[:, :, 0]), axis=1)
    quads = np.take_along_axis(quads, order, axis=1)
    p = cands.xy[quads]
    e = np.roll(p, -1, axis=1) - p
    cross = e[:, :, 0] * np.roll(e, -1, axis=1)[:, :, 1] - e[:, :, 1] * np.roll(e, -1, axis=1)[:, :, 0]
    sz = cands.size[quads]
    ok = (cross > 0).all(axis=1) & (sz.max(axis=1) / sz.min(axis=1) < 4.0)
    quads, p = quads[ok], p[ok]
    if len(quads) == 0:
        return []
    # every (model quad, cyclic shift) pairing at once: one row per candidate quad and pairing,
    # pairing-major, so ``found`` keeps the order of a loop over the pairings
    mqs = np.array([mq for mq in _model_quads(sheet, corners) for _shift in range(4)], np.int64)  # (p, 4)
    inv_models = [np.linalg.inv(_square_to_quad(model[mq][None])[0]) for mq in mqs[::4].tolist()]
    k = len(quads)
    q = np.concatenate([np.roll(quads, -shift, axis=1) for _mq in inv_models for shift in range(4)])
    mq_rows = np.repeat(mqs, k, axis=0)  # (p * k, 4)
    inv_rows = np.repeat(np.stack([inv for inv in inv_models for _shift in range(4)]), k, axis=0)
    h = _square_to_quad(cands.xy[q]) @ inv_rows  # (p * k, 3, 3) mm -> px
    mh = np.concatenate([model, np.ones((len(model), 1))], 1)
    w = np.einsum("kij,mj->kmi", h, mh)
    wz = w[:, :, 2:3]
    sc = _local_scale(h, model)  # (p * k, m)
    # a nearly collinear candidate quad gives a singular map (scale 0) or
    # one that sends part of the page beyond the horizon: not a page
    sane = (np.isfinite(sc).all(axis=1) & (sc > MIN_PX_PER_MM).all(axis=1)
            & ((wz[:, :, 0] > 0).all(axis=1) | (wz[:, :, 0] < 0).all(axis=1)))
    if not sane.all():
        q, w, wz, sc, mq_rows = q[sane], w[sane], wz[sane], sc[sane], mq_rows[sane]
    found: list[tuple[int, float, I64]] = []
    if len(q):
        pred = w[:, :, :2] / np.where(np.abs(wz) < 1e-9, 1e-9, wz)
        rel = np.median(cands.size[q] / (np.take_along_axis(sc, mq_rows, axis=1) * msize[mq_rows]), axis=1)
        exp = rel[:, None] * sc * msize
        j, dn = _match(pred, exp, cands, _tolerance(sc, msize))
        quad_ok = ((np.take_along_axis(j, mq_rows, axis=1) == q).all(axis=1)
                   & (rel > REL_SIZE_RANGE[0]) & (rel < REL_SIZE_RANGE[1]))
        support = (j >= 0).sum(axis=1)
        srt = np.sort(np.where(j >= 0, j, -np.arange(1, j.shape[1] + 1)), axis=1)
        uniq = (np.diff(srt, axis=1) != 0).all(axis=1)
        good = np.flatnonzero(quad_ok & uniq)
        if len(good):
            res = np.where(j[good] >= 0, dn[good], 0).sum(axis=1) / support[good]
            found.extend((int(support[g]), float(r), j[g]) for g, r in zip(good, res, strict=True))
    found.sort(key=lambda t: (-t[0], t[1]))
    out: list[Hypothesis] = []
    seen: set[tuple[int, ...]] = set()
    for _support, _res, j in found:
        key = tuple(int(v) for v in j)
        if key in seen:
            continue
        seen.add(key)
        refined = _refit(j, model, msize, cands)
        if refined is None:
            continue
        out.append(refined)
        if len(out) >= keep:
            break
    out.sort(key=lambda hy: (-hy.support, hy.residual))
    return out


def underdetermined(pts_mm: F64, model: str = "homography") -> bool:
    """True when ``pts_mm`` ``(n, 2)`` cannot pin a ``model`` map.

    A homography needs 4 points no 3 of them collinear (with >= 5 of the page
    markers some 4 always are); an affine map needs 3 points not on one line.
    Points within 1 mm^2 of triangle area count as collinear.

    Examples:
        >>> corners = np.array([[12.0, 12.0], [285.0, 12.0], [285.0, 198.0], [12.0, 198.0]])
        >>> underdetermined(corners)
        False
        >>> underdetermined(np.array([[12.0, 12.0], [148.5, 12.0], [285.0, 12.0], [148.5, 198.0]]))
        True
        >>> underdetermined(np.array([[12.0, 12.0], [148.5, 12.0], [285.0, 12.0]]), "affine")
        True
    """
    def flat(a: F64, b: F64, c: F64) -> bool:
        return bool(abs((b[0] - a[0]) * (c[1] - a[1]) - (b[1] - a[1]) * (c[0] - a[0])) < 1.0)

    n = len(pts_mm)
    if model == "affine":
        return n < 3 or all(flat(pts_mm[0], pts_mm[i], pts_mm[j]) for i in range(1, n) for j in range(i + 1, n))
    if n >= 5:
        return False
    if n < 4:
        return True
    return any(flat(pts_mm[i], pts_mm[j], pts_mm[k]) for i, j, k in ((0, 1, 2), (0, 1, 3), (0, 2, 3), (1, 2, 3)))


def _refit(j: I64, model: F64, msize: F64, cands: Candidates) -> Hypothesis | None:
    """Least-squares homography on all matches, re-matched until stable."""
    hmat: F64 | None = None
    dn = np.zeros(len(j))
    for _ in range(3):
        sel = j >= 0
        if sel.sum() < 4 or underdetermined(model[sel]):
            return None
        hm, _ = cv2.findHomography(model[sel], cands.xy[j[sel]], 0)
        if hm is None:
            return None
        hmat = np.asarray(hm, np.float64)
        pred = cv2.perspectiveTransform(model[None], hmat)[0]
        sc = _local_scale(hmat, model)
        if not (np.isfinite(sc).all() and (sc > MIN_PX_PER_MM).all()):
            return None
        rel = float(np.median(cands.size[j[sel]] / (sc[sel] * msize[sel])))
        j2, dn2 = _match(pred[None], (rel * sc * msize)[None], cands, _tolerance(sc, msize)[None])
        j2, dn = j2[0], dn2[0]
        vals = j2[j2 >= 0]
        if len(set(vals.tolist())) != len(vals) or np.array_equal(j2, j):
            break
        j = j2
    sel = j >= 0
    if sel.sum() < 4 or hmat is None:
        return None
    return Hypothesis(j.copy(), hmat, int(sel.sum()), float(dn[sel].mean()))
