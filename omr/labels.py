"""Label subtraction for :mod:`omr.measure`: this sheet's own empty print of each label.

Bubbles that share a printed label (``A``, ``3``) show the same glyph when
empty; the median of the label's bubbles (:func:`_group_medians`) is the
baseline that darkness is measured above. This module also holds the print
the template raster does not show (another printer's labels:
:func:`_print_unpredicted`, :func:`_printed_labels`) and the sub-pixel
alignment of each bubble to its label's print (:func:`_aligned_dark`, black
print).
"""

from __future__ import annotations

from typing import TypeVar

import cv2
import numpy as np
import numpy.typing as npt

from omr.bubble_masks import BubbleMasks
from omr.types import GrayImage

F32 = npt.NDArray[np.float32]
FloatT = TypeVar("FloatT", np.float32, np.float64)

INK_LEVEL = 0.2
"""A pixel this much darker than the empty print is ink (``cover``, ``ink``)."""
PRINTED_DARK = 0.075
"""Bubbles whose empty print (the median of the bubbles sharing a label) darkens the label-free disc by this
much on average, for the median label of the sheet, carry print the template does not show (another printer's
digits inside its ovals: 0.09-0.19 in gray on pink cards); our own sheets' blurred labels stay below 0.055."""
PRINTED_INKED = 0.08
"""...or whose empty print alone reads as ink over this fraction of the label-free disc (two thirds of the
least ink :class:`omr.decide.Thresholds` ``cover_ink`` questions: 0.12). Our own sheets' labels leave
0.004-0.044 (seed 1, 12 photos and 12 scans), pink cards 0.22-0.5; thin black letters that cover little
of the disc on average reach it."""
Groups = list[tuple[int, npt.NDArray[np.bool_]]]
"""``(group, (n,) selection)`` of the label groups with ``MIN_SIBLINGS`` bubbles."""


def _group_medians(dark: F32, groups: Groups, *, unmarked: bool = False) -> F32:
    """Each bubble's label glyph as this sheet shows it: per pixel, the median of the
    bubbles that share its label (most of them empty); 0 outside ``groups``.

    With ``unmarked``, the bubbles clearly marked are left out first: those whose mean
    darkness exceeds the median of the lighter half's by ``MARKED_MEAN``. An ID grid
    has only one bubble per digit column for each label, and an ID such as 044406
    marks three of the six "4"s, whose plain median would be half a mark.

    Examples:
        >>> dark = np.array([[0.2, 0.2], [0.9, 0.9], [0.9, 0.9], [0.2, 0.3]], np.float32)
        >>> everyone = [(0, np.ones(4, bool))]
        >>> _group_medians(dark, everyone)[0].tolist(), _group_medians(dark, everyone, unmarked=True)[0].tolist()
        ([0.550000011920929, 0.6000000238418579], [0.20000000298023224, 0.25])
    """
    if not unmarked:
        return group_medians(dark, groups)
    glyph = np.zeros_like(dark)
    for _g, sel in groups:
        members = dark[sel]
        means = members.mean(axis=1)
        light = float(np.median(np.sort(means)[:max(1, (len(means) + 1) // 2)]))
        members = members[means <= light + MARKED_MEAN]
        glyph[sel] = np.median(members, axis=0)
    return glyph


def group_medians(values: npt.NDArray[FloatT], groups: Groups) -> npt.NDArray[FloatT]:
    """Each row of ``values`` replaced by the median of its group's rows; 0 outside ``groups``.

    The same numbers as ``np.median(values[sel], axis=0)`` per group, to the bit
    (the same partition and the same mean of the two middle values), in one
    ``np.median`` call per group size instead of one per group: a sheet's label
    groups are usually all one size (5 groups of 20 answer bubbles, 10 of 8
    ID bubbles), and the per-call overhead was most of the cost.

    Args:
        values: ``(n,)`` or ``(n, m)`` float array, one row per bubble.
        groups: Disjoint ``(group, (n,) selection)`` pairs.

    Returns:
        An array shaped and typed like ``values``.

    Examples:
        >>> v = np.array([0.1, 0.5, 0.3, 0.9, 0.7, 2.0], np.float32)
        >>> g = [(0, np.array([1, 1, 1, 0, 0, 0], bool)), (1, np.array([0, 0, 0, 1, 1, 0], bool))]
        >>> [round(float(x), 6) for x in group_medians(v, g)]
        [0.3, 0.3, 0.3, 0.8, 0.8, 0.0]
    """
    out = np.zeros_like(values)
    by_size: dict[int, list[npt.NDArray[np.intp]]] = {}
    for _g, sel in groups:
        rows = np.flatnonzero(sel)
        if rows.size:
            by_size.setdefault(rows.size, []).append(rows)
    for stacked in by_size.values():
        idx = np.stack(stacked)  # (G, k): every group of this size at once
        out[idx] = np.median(values[idx], axis=1, keepdims=True)
    return out


def _print_unpredicted(keep: npt.NDArray[np.bool_], glyph: F32, groups: Groups) -> bool:
    """Whether the sheet prints inside its bubbles what the template raster does not show.

    Each label group's empty print (``glyph``) is looked at over its
    label-free disc; when, for the median group, it darkens the disc by
    ``PRINTED_DARK`` or more on average, or reads as ink (darker than
    ``INK_LEVEL``) over ``PRINTED_INKED`` of it or more, something is printed
    there (another printer's digits or letters, in another font and place).
    Our own sheets' labels are where the template puts them.

    Examples:
        >>> keep, glyph = np.ones((6, 25), bool), np.zeros((6, 25), np.float32)
        >>> _print_unpredicted(keep, glyph, [(0, np.ones(6, bool))])
        False
        >>> glyph[:, 8:16] = 0.5
        >>> _print_unpredicted(keep, glyph, [(0, np.ones(6, bool))]), _print_unpredicted(keep, glyph, [])
        (True, False)
        >>> glyph[:] = 0.0
        >>> glyph[:, :3] = 0.5  # a letter's stroke: light on average, ink where it lies
        >>> _print_unpredicted(keep, glyph, [(0, np.ones(6, bool))])
        True
    """
    if not groups:
        return False
    rows = [int(np.flatnonzero(sel)[0]) for _g, sel in groups]
    shown = [float(glyph[i][keep[i]].mean()) for i in rows]
    inked = [float((glyph[i][keep[i]] > INK_LEVEL).mean()) for i in rows]
    return float(np.median(shown)) >= PRINTED_DARK or float(np.median(inked)) >= PRINTED_INKED


PRINT_MIN_LIGHT = 0.3
"""Under another printer's label, ink is judged as if the print let through at least this much light:
under black letters (85-90 % absorbed) a 0.03 misfit of the print would otherwise read as ink."""
MARKED_MEAN = 0.15
"""A bubble whose mean darkness exceeds its label's lighter half's by this much is marked (a felt-tip
fill adds 0.3-0.7), left out of the label's print; tape and paper grain stay well below it."""
ALIGN_REACH_PX = 0.75
"""How far (px) a bubble's samples may move to meet its label's print: a third of a pixel of centre
rounding plus the registration's residual (fit errors up to ~0.1 mm, 0.6 px at 6 px/mm)."""
ALIGN_STEP_PX = 0.25
"""Step of that search (black print: a quarter pixel moves an edge by a fifth of its contrast)."""


def _aligned_dark(page: GrayImage, m: BubbleMasks, paper_in: F32, groups: Groups) -> F32:
    """The discs' darkness sampled where each bubble's printed label meets its siblings'.

    The discs are sampled at their exact (unrounded) centres by cubic
    interpolation, then each bubble of a label group moves by up to
    ``ALIGN_REACH_PX`` (``ALIGN_STEP_PX`` steps) to where its disc differs
    least from the group's median print. Integer centres put one column of
    a grid a third of a pixel left of its neighbour's glyph: on black print,
    whose digits absorb ~70 % of the light, that left a sliver of every edge
    as "ink" above the median (a printed "7" read as a 0.06 fill). A mark
    differs from the median wherever it moves; only the empty print aligns.

    Args:
        page: The warped page (template frame).
        m: The bubbles' masks (``centers_exact_px``, ``inner_off``).
        paper_in: ``(n, m)`` paper brightness at each disc pixel.
        groups: The label groups.

    Returns:
        ``(n, m)`` float32 darkness in [0, 1].
    """
    src = page.astype(np.float32)
    ox, oy = m.inner_off[None, :, 1], m.inner_off[None, :, 0]

    def sample(shift: F32) -> F32:
        mx = (m.centers_exact_px[:, 0:1] + shift[:, 0:1] + ox).astype(np.float32)
        my = (m.centers_exact_px[:, 1:2] + shift[:, 1:2] + oy).astype(np.float32)
        v = np.asarray(cv2.remap(src, mx, my, cv2.INTER_CUBIC, borderMode=cv2.BORDER_REPLICATE), np.float32)
        return np.clip((paper_in - v) / paper_in, 0.0, 1.0).astype(np.float32)

    n = len(paper_in)
    zero = np.zeros((n, 2), np.float32)
    dark = sample(zero)
    glyph = _group_medians(dark, groups, unmarked=True)
    steps = np.arange(-ALIGN_REACH_PX, ALIGN_REACH_PX + 1e-6, ALIGN_STEP_PX, dtype=np.float32)
    best = ((dark - glyph) ** 2).sum(axis=1)
    grouped = np.any([sel for _g, sel in groups], axis=0)
    for dy in steps:
        for dx in steps:
            if dx == 0 and dy == 0:
                continue
            d = sample(zero + np.array([dx, dy], np.float32))
            err = ((d - glyph) ** 2).sum(axis=1)
            better = (err < best) & grouped
            best[better] = err[better]
            dark[better] = d[better]
    return dark


def _printed_labels(keep: npt.NDArray[np.bool_], dark: F32, glyph: F32,
                    groups: Groups) -> tuple[npt.NDArray[np.bool_], F32, F32]:
    """Take out the print the template did not predict: a card's own digits inside its ovals.

    Called when :func:`_print_unpredicted`. Every group's bubbles are
    measured above their own print (``glyph``, the per-pixel median of the
    bubbles sharing the label), pixel by pixel: the darkness of a pixel
    becomes the absorption of what lies over the glyph, ``(dark - glyph) /
    (1 - glyph)`` (ink over print reads ``1 - (1 - glyph)(1 - a)``; at least
    ``PRINT_MIN_LIGHT`` of light assumed), and the whole disc is sampled (the
    card's digit fills most of a small oval). Empty bubbles read as clean
    paper, like an empty ring.

    Args:
        keep: ``(n, m)`` False on the template's printed label.
        dark: ``(n, m)`` darkness of the disc pixels.
        glyph: ``(n, m)`` each bubble's group median darkness (0 outside ``groups``).
        groups: The label groups with ``MIN_SIBLINGS`` bubbles.

    Returns:
        ``(keep, dark, glyph)``: for the bubbles of the groups, the whole disc
        kept, the darkness above the glyph, and a zero glyph.

    Examples:
        >>> keep = np.ones((6, 25), bool)
        >>> dark = np.zeros((6, 25), np.float32)
        >>> dark[:, 8:16] = 0.5  # a printed digit in the middle of every disc
        >>> dark[0] = 0.9  # the first bubble is filled
        >>> glyph = np.median(dark, axis=0, keepdims=True).repeat(6, 0)
        >>> k, d, g = _printed_labels(keep, dark, glyph, [(0, np.ones(6, bool))])
        >>> float(d[1].max()), round(float(d[0, 12]), 2), round(float(d[0, 0]), 2)
        (0.0, 0.8, 0.9)
    """
    if not groups:
        return keep, dark, glyph
    hit = np.any([sel for _g, sel in groups], axis=0)
    keep, dark, glyph = keep.copy(), dark.copy(), glyph.copy()
    dark[hit] = np.clip((dark[hit] - glyph[hit]) / np.maximum(1.0 - glyph[hit], PRINT_MIN_LIGHT), 0.0, 1.0)
    glyph[hit] = 0.0
    keep[hit] = True
    return keep, dark, glyph
