"""The local paper brightness of every bubble for :mod:`omr.measure`: a plane fitted to its annulus.

:func:`_paper_plane` fits ``a + b x + c y`` to the paper annulus of each bubble,
re-weighted ``PLANE_PASSES`` times so that ink (a fill overflowing the ring, a
neighbour's mark) drops out: the paper under the disc, robust to shadows and
uneven light.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

F32 = npt.NDArray[np.float32]

PAPER_PCT = 75
"""The annulus' paper level is read at this percentile (ink only darkens)."""
PAPER_INK_REL = 0.8
"""Annulus pixels darker than this fraction of its paper level are ink, left out of the plane fit."""
PLANE_INK_REL = 0.9
"""After a fit, annulus pixels darker than this fraction of the plane are ink too."""
PLANE_PASSES = 2
"""Re-weighted plane fits per bubble."""
PLANE_RIDGE = 1e-3
"""Regularises the plane fit of an annulus that is all ink."""
MIN_PAPER_GRAY = 24.0
"""Paper is never taken darker than this (a black annulus would divide by ~0)."""


def _paper_plane(ann: F32, ann_off: F32, inner_off: F32) -> F32:
    """Local paper brightness at every inner-disc pixel: a plane fitted to the annulus.

    A plane (not one level) follows shadow edges and light gradients across the
    bubble. Ink in the annulus (overflowing fills) is excluded: pixels darker
    than ``PAPER_INK_REL`` of the annulus' ``PAPER_PCT`` percentile, then pixels
    below ``PLANE_INK_REL`` of the fitted plane (``PLANE_PASSES`` reweighted passes). Ink only darkens,
    so paper is the bright side of the annulus: a sloppy fill overflowing
    more than half of it no longer drags the reference (a median would) and
    its darkness is not underestimated.

    Args:
        ann: ``(n, k)`` annulus intensities; ``ann_off`` ``(k, 2)`` their (dy, dx).
        inner_off: ``(m, 2)`` disc offsets (dy, dx).

    Returns:
        ``(n, m)`` float32 paper brightness (>= ``MIN_PAPER_GRAY``).
    """
    a = np.stack([np.ones(len(ann_off), np.float32), ann_off[:, 1], ann_off[:, 0]], 1)  # (k, 3)
    w = (ann >= PAPER_INK_REL * np.percentile(ann, PAPER_PCT, axis=1, keepdims=True)).astype(np.float32)
    coef = np.zeros((len(ann), 3), np.float32)
    # weights are 0/1, offsets and grey levels integers: both products are integer
    # sums (< 2**24), exact in float32 whatever the order, so BLAS computes them
    aa = (a[:, :, None] * a[:, None, :]).reshape(len(a), 9)
    for _ in range(PLANE_PASSES):
        ata = (w @ aa).reshape(-1, 3, 3) + np.eye(3, dtype=np.float32) * PLANE_RIDGE
        atb = (w * ann) @ a
        coef = np.linalg.solve(ata, atb[:, :, None])[:, :, 0]
        fit = coef @ a.T
        w = w * (ann >= PLANE_INK_REL * fit)
    b = np.stack([np.ones(len(inner_off), np.float32), inner_off[:, 1], inner_off[:, 0]], 0)  # (3, m)
    return np.maximum(coef @ b, MIN_PAPER_GRAY).astype(np.float32)
