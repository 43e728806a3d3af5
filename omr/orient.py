"""Which of two placements of the meta the printed card supports: orientation proof for symmetric grids.

A bubble grid often looks nearly the same turned half way (three blocks of
15 x 5 ovals, an ID grid of 10 rows), so a placement turned 180 degrees can
match most of the printed rings. The number of rings each placement matches
proves little: felt-tip fills, cut-off corners and a poor first scale move it
by as much as the difference. :mod:`omr.register` therefore asks this module
to compare the chosen placement with every rival (another orientation that
matched, and the chosen one's own half-turn twin, refitted) on *asymmetric*
evidence only:

* **Rings where only one placement expects a bubble** (:func:`ring_evidence`):
  the meta bubbles that one placement puts where the other has none. The
  right placement finds printed rings at nearly all of its own; the wrong one
  at few. Positions both placements share say nothing and are not counted.
* **Timing marks** (:func:`timing_evidence`, meta ``timing``): a black bar
  printed along one edge per row. Under the right placement each visible bar
  is a dark solid patch on lighter paper; turned half way, the bars land on
  the other edge, on blank paper or off the card.

The paper's edges are the third cue (:func:`omr.phase._edge_error_mm`).
One placement is *proven* over another by a cue when its count beats the
other's by ``MARGIN`` of its own and by at least ``MIN_COUNT``.

Frames:
    Placements are ``(3, 3)`` maps from template mm to the pixels of the
    detection copy (``h_mm_to_px``); ``gray`` is that copy.

Examples:
    >>> import numpy as np
    >>> mm = np.array([[x, 10.0] for x in range(0, 40, 5)], np.float64)
    >>> rings = mm[2:] * 4.0                           # printed rings at the last six
    >>> h = np.diag([4.0, 4.0, 1.0]); shifted = h @ np.array([[1, 0, -10.0], [0, 1, 0], [0, 0, 1]])
    >>> ring_evidence(rings, mm, h, shifted, tol_px=4.0)
    (2, 0)
    >>> proves(*ring_evidence(rings, mm, h, shifted, tol_px=4.0))
    False
"""

from __future__ import annotations

import cv2
import numpy as np
import numpy.typing as npt

from omr.types import GrayImage, TimingBar

__all__ = ["MARGIN", "MIN_COUNT", "proves", "ring_evidence", "timing_evidence"]

F64 = npt.NDArray[np.float64]

#: One placement beats another when its count exceeds the other's by this fraction of its own ...
MARGIN = 0.5
#: ... and by at least this many rings or bars (two or three prove nothing).
MIN_COUNT = 3
#: Two projected positions closer than this many tolerances are the same place.
SAME_PLACE = 1.0
#: A bar is sampled on its inner part (this fraction of its width and height) ...
BAR_INNER = 0.6
#: ... and its paper around it this many bar heights beyond each long side.
BAR_SURROUND = 0.9
#: A bar is there when its inside is darker than its surround by this many grey levels ...
BAR_CONTRAST = 40.0
#: ... and by this fraction of the surround (a dim photo has less of both).
BAR_CONTRAST_FRAC = 0.3


def proves(mine: int, other: int) -> bool:
    """True when a count ``mine`` beats ``other`` by ``MARGIN`` of itself and by ``MIN_COUNT``.

    Examples:
        >>> proves(16, 0), proves(5, 3), proves(3, 0), proves(2, 0)
        (True, False, True, False)
    """
    return mine - other >= max(MIN_COUNT, MARGIN * mine)


def _project(mm: F64, h_mm_to_px: F64) -> F64:
    return np.asarray(cv2.perspectiveTransform(mm[None], h_mm_to_px)[0], np.float64)


def _near(pts: F64, others: F64, tol_px: float) -> npt.NDArray[np.bool_]:
    """For each point, whether one of ``others`` lies within ``tol_px``."""
    if len(pts) == 0 or len(others) == 0:
        return np.zeros(len(pts), bool)
    d = np.hypot(pts[:, None, 0] - others[None, :, 0], pts[:, None, 1] - others[None, :, 1])
    return np.asarray(d.min(axis=1) <= tol_px)


def ring_evidence(rings: F64, mm: F64, h_a: F64, h_b: F64, *, tol_px: float) -> tuple[int, int]:
    """Printed rings at the positions only placement ``a`` expects, and at those only ``b`` expects.

    Args:
        rings: ``(N, 2)`` printed ring centres (bubble-sized blobs), detection px.
        mm: ``(M, 2)`` meta bubble centres, mm.
        h_a: Placement ``a``, mm -> px.
        h_b: Placement ``b``, mm -> px.
        tol_px: A ring within this distance of a position is there (a quarter of the pitch).

    Returns:
        ``(count_a, count_b)``.
    """
    pa, pb = _project(mm, h_a), _project(mm, h_b)
    only_a = pa[~_near(pa, pb, SAME_PLACE * tol_px)]
    only_b = pb[~_near(pb, pa, SAME_PLACE * tol_px)]
    return int(_near(only_a, rings, tol_px).sum()), int(_near(only_b, rings, tol_px).sum())


def _sample(gray: GrayImage, pts: F64) -> F64:
    """Grey levels at ``pts`` (nearest pixel); NaN off the image."""
    h, w = gray.shape
    x, y = np.round(pts[:, 0]).astype(np.int64), np.round(pts[:, 1]).astype(np.int64)
    on = (x >= 0) & (x < w) & (y >= 0) & (y < h)
    out = np.full(len(pts), np.nan)
    out[on] = gray[y[on], x[on]]
    return out


def _bars_present(gray: GrayImage, bars: tuple[TimingBar, ...], h_mm_to_px: F64) -> int:
    """How many timing bars are a dark solid patch under ``h_mm_to_px`` (those off the image count as absent)."""
    grid = np.linspace(-0.5, 0.5, 5)
    found = 0
    for b in bars:
        inner = np.array([(b.x_mm + u * BAR_INNER * b.w_mm, b.y_mm + v * BAR_INNER * b.h_mm)
                          for u in grid for v in grid[1:-1]])
        # paper beyond both long sides (a bar's short sides may touch the card's edge)
        off = (0.5 + BAR_SURROUND) * min(b.w_mm, b.h_mm)
        if b.w_mm >= b.h_mm:
            around = [(b.x_mm + u * b.w_mm * BAR_INNER, b.y_mm + s * off) for u in grid for s in (-1, 1)]
        else:
            around = [(b.x_mm + s * off, b.y_mm + v * b.h_mm * BAR_INNER) for v in grid for s in (-1, 1)]
        vin = _sample(gray, _project(inner, h_mm_to_px))
        vout = _sample(gray, _project(np.array(around), h_mm_to_px))
        if np.isnan(vin).any() or np.isnan(vout).any():
            continue
        paper, ink = float(np.median(vout)), float(np.median(vin))
        if paper - ink >= max(BAR_CONTRAST, BAR_CONTRAST_FRAC * paper):
            found += 1
    return found


def timing_evidence(gray: GrayImage, bars: tuple[TimingBar, ...], h_a: F64, h_b: F64) -> tuple[int, int]:
    """Timing bars found dark under placement ``a`` and under ``b`` (meta ``timing``).

    Examples:
        >>> from omr.types import TimingBar
        >>> img = np.full((200, 200), 230, np.uint8); img[20:28, 10:30] = 20; img[60:68, 10:30] = 20
        >>> img[100:108, 10:30] = 20
        >>> bars = tuple(TimingBar(2.0, y, 2.0, 0.8) for y in (2.4, 6.4, 10.4))
        >>> h = np.diag([10.0, 10.0, 1.0])
        >>> turned = np.array([[-10.0, 0, 200], [0, -10.0, 200], [0, 0, 1]])
        >>> timing_evidence(img, bars, h, turned)
        (3, 0)
    """
    return _bars_present(gray, bars, h_a), _bars_present(gray, bars, h_b)
