"""Measuring the bubbles of a warped page: darkness, ink cover and ink shape.

For every bubble, at fixed pixel offsets from its centre on the warped page
(template frame), :func:`measure` samples:

* the *inner disc* (radius ``r - INNER_MARGIN_MM``: inside the printed ring
  even with ~0.4 mm misalignment), the printed label glyph (from the template
  raster, dilated by one pixel) kept apart;
* a *paper annulus* (``r + ANNULUS_MM[0] .. r + ANNULUS_MM[1]``) to which a
  plane is fitted, ink excluded: the local paper brightness (robust to
  shadows, uneven light and overflowing fills).

Darkness is ``(paper - I) / paper`` in [0, 1], measured above this sheet's
own empty print of each label (the median of the bubbles that share it).
From it come the :class:`Measures` fields; :mod:`omr.decide` turns them into
marks. The sampling pattern (:class:`BubbleMasks`) is built once per template
and resolution by :func:`bubble_masks` and kept in the compiled sheet
(:mod:`omr.compiled`).

This module holds the measures (:class:`Measures`) and the sampling pass
(:func:`measure`, :func:`measure_masks`); the pieces it composes live beside
it: the sampling pattern in :mod:`omr.bubble_masks`, the paper plane in
:mod:`omr.paper_plane`, the label subtraction (each label's empty print,
print the template does not show, black-print alignment) in
:mod:`omr.labels`, the ink's shape (solid, gaps, room) in
:mod:`omr.ink_shape`. Their public names are re-exported here.

Examples:
    >>> from omr.compiled import compile_sheet
    >>> from omr.meta import as_sheet_meta
    >>> from omr.template import build_template, render_sheet
    >>> meta = build_template(10)
    >>> page = render_sheet(meta, dpi=6 * 25.4)
    >>> m = measure(page, compile_sheet(as_sheet_meta(meta), 6.0), "answers")
    >>> m.fill.shape, float(m.fill.max()) < 0.05, float(m.cover.max()) < 0.05
    ((50,), True, True)
"""

from __future__ import annotations

from typing import TYPE_CHECKING, NamedTuple

import numpy as np
import numpy.typing as npt

from omr.bubble_masks import (
    ANNULUS_MM,
    INNER_MARGIN_MM,
    BubbleMasks,
    Which,
    bubble_masks,
)
from omr.ink_shape import GAP_FRAC, SOLID_MM, _gaps, _room, _solid
from omr.labels import (
    ALIGN_REACH_PX,
    ALIGN_STEP_PX,
    INK_LEVEL,
    MARKED_MEAN,
    PRINT_MIN_LIGHT,
    PRINTED_DARK,
    PRINTED_INKED,
    _aligned_dark,
    _group_medians,
    _print_unpredicted,
    _printed_labels,
    group_medians,
)
from omr.paper_plane import _paper_plane
from omr.types import GrayImage

if TYPE_CHECKING:
    from omr.compiled import CompiledSheet

__all__ = [
    "ANNULUS_MM",
    "CLEAR_JUDGED",
    "CLEAR_MIN",
    "CLEAR_REL",
    "GAP_FRAC",
    "ALIGN_REACH_PX",
    "ALIGN_STEP_PX",
    "INK_LEVEL",
    "MARKED_MEAN",
    "INNER_MARGIN_MM",
    "PEAK_PERCENTILE",
    "PRINT_MIN_LIGHT",
    "PRINTED_DARK",
    "PRINTED_INKED",
    "SOLID_MM",
    "BubbleMasks",
    "Measures",
    "Which",
    "bubble_masks",
    "measure",
    "measure_masks",
]

PEAK_PERCENTILE = 92
"""``peak`` is this percentile of the disc's darkness: small but dark ink inside the bubble."""
CLEAR_REL = 0.25
"""Clear paper: darker than the empty print by less than this fraction of the bubble's own peak ink..."""
CLEAR_MIN = 0.06
"""...or than this, whichever is larger (a faint bubble's noise is not ink)."""
CLEAR_JUDGED = 0.1
"""Cover below which a disc's largest clear circle is not computed (below ``cover_ink``: never judged)."""
MIN_SIBLINGS = 5
"""A label's empty-print baseline needs this many bubbles sharing it (most of them empty)."""
BASE_FILL_MAX = 0.08
"""The empty-print baseline of ``fill`` is capped here: a sheet where most bubbles of a label are marked
must not make marks its baseline."""
BASE_PEAK_MAX = 0.12
"""The same cap for ``peak``."""
GLYPH_MIN_LIGHT = 0.1
"""Ink over the label is judged as if the glyph let through at least this much light (a solid glyph hides ink)."""
STROKE_HALF_MAX = 0.5
"""Stroke widths are judged at this fraction of the bubble's own ink darkness (full width at half
maximum: blur does not fatten a stroke)."""

F32 = npt.NDArray[np.float32]


class Measures(NamedTuple):
    """Per-bubble measurements, ``(n,)`` arrays in meta order, all in [0, 1] unless stated.

    Attributes:
        fill: Mean darkness of the disc above the empty-print baseline.
        peak: Its ``PEAK_PERCENTILE`` darkness above the baseline.
        cover: Fraction of the label-free disc darker than ``INK_LEVEL`` above the
            baseline (how much of the bubble is filled: the mark rules).
        solid: Fraction of the disc covered by ink regions at least ``SOLID_MM``
            across (a fill is solid, the strokes of an X or a tick are not).
        gaps: Number of separate ink-free regions of the disc, each at least
            ``GAP_FRAC`` of it (an X leaves four between its arms); integers.
        ink: Like ``cover`` over the whole disc, the printed label included: on
            the label, ink is what absorbs more than ``INK_LEVEL`` of the light
            this sheet's own empty print of that label lets through. A small mark
            on the number is not missed (the rule for *questionable* ink).
        clear: Fraction of the label-free disc that is clear paper: darker than
            the empty print by less than ``CLEAR_REL`` of the bubble's own peak
            ink (at least ``CLEAR_MIN``).
        clear_room_mm: Radius in mm of the largest clear-paper circle inside the
            disc. An X leaves clear wedges between its arms (0.45-0.6 mm here);
            hatching, even inside a traced circle, leaves only slivers that
            the photo blurs grey (<= 0.33 mm).
        label_ink: Mean darkness of the printed label above the median of the
            bubbles that share it (0 where fewer than ``MIN_SIBLINGS`` do); may
            be negative. A dot on the number, small beside the disc, darkens
            most of the label.
    """

    fill: F32
    peak: F32
    cover: F32
    solid: F32
    gaps: npt.NDArray[np.intp]
    ink: F32
    clear: F32
    clear_room_mm: F32
    label_ink: F32

    def take(self, idx: slice | npt.NDArray[np.intp] | list[int]) -> Measures:
        """The measures of the bubbles ``idx`` (a slice or indices), in that order.

        Examples:
            >>> z = np.arange(4, dtype=np.float32)
            >>> m = Measures(z, z, z, z, np.arange(4), z, z, z, z)
            >>> m.take(slice(1, 3)).fill.tolist(), m.take([3, 0]).gaps.tolist()
            ([1.0, 2.0], [3, 0])
        """
        return Measures._make(f[idx] for f in self)


def measure(page: GrayImage, compiled: CompiledSheet, which: Which) -> Measures:
    """Every :class:`Measures` field of every bubble of ``which``.

    Args:
        page: Warped page (template frame) at ``compiled.px_per_mm``.
        compiled: The compiled sheet (its masks at the page's resolution).
        which: ``"answers"`` or ``"identifier"``.

    Returns:
        :class:`Measures`: float32 arrays, one value per bubble in meta order,
        in [0, 1]. ``cover`` is the fraction of the disc darker than
        ``INK_LEVEL`` above the label's empty baseline (how much of the disc
        carries ink, whatever its darkness); ``solid`` the part of it in
        regions at least ``SOLID_MM`` wide.
    """
    return measure_masks(page, compiled.masks(which), compiled.px_per_mm)


def measure_masks(page: GrayImage, m: BubbleMasks, px_per_mm: float) -> Measures:
    """:func:`measure` on any :class:`BubbleMasks` (bubbles that are no question nor ID digit:
    :mod:`omr.extra_ovals`)."""
    if m.flat_inner.size == 0:
        z = np.zeros(0, np.float32)
        return Measures(z, z, z, z, np.zeros(0, np.intp), z, z, z, z)
    flat = page.reshape(-1)
    inner = flat[m.flat_inner].astype(np.float32)
    paper_in = _paper_plane(flat[m.flat_ann].astype(np.float32), m.ann_off, m.inner_off)
    dark = np.clip((paper_in - inner) / paper_in, 0.0, 1.0)
    groups = [(g, sel) for g in range(int(m.label_group.max()) + 1 if m.label_group.size else 0)
              if (sel := m.label_group == g).sum() >= MIN_SIBLINGS]
    # the label glyph as this sheet shows it: per pixel, the median of the
    # bubbles that share the label (most of them empty)
    glyph = _group_medians(dark, groups)
    keep = m.keep
    if _print_unpredicted(keep, glyph, groups):
        # a card's own digits: black print moves by whole grey levels with a third of a
        # pixel, so each bubble is sampled where its glyph best meets its siblings'
        dark = _aligned_dark(page, m, paper_in, groups)
        glyph = _group_medians(dark, groups, unmarked=True)
        keep, dark, glyph = _printed_labels(keep, dark, glyph, groups)
    n_keep = keep.sum(axis=1)
    fill = (dark * keep).sum(axis=1) / n_keep
    srt = np.sort(np.where(keep, dark, -1.0), axis=1)
    idx = (keep.shape[1] - n_keep) + np.floor(PEAK_PERCENTILE / 100.0 * (n_keep - 1)).astype(np.intp)
    peak = np.take_along_axis(srt, idx[:, None], axis=1)[:, 0]
    # most bubbles with the same printed label are empty: their median is this
    # sheet's empty-print baseline for that label (glyph blur, paper texture);
    # marks are measured above it
    base = np.zeros_like(fill)
    base_p = np.zeros_like(peak)
    has_glyph = np.zeros(len(dark), bool)
    # the label's mean darkness above that of the other bubbles with the same
    # label: a sum, so the sub-pixel phase of each glyph's print cancels out
    n_label = (~keep).sum(axis=1)
    label_mean = (dark * ~keep).sum(axis=1) / np.maximum(n_label, 1)
    label_ink = np.zeros_like(fill)
    # per group, in one median call per group size (group_medians: the same numbers as a loop)
    for _g, sel in groups:
        has_glyph[sel] = True
    base[has_glyph] = np.minimum(group_medians(fill, groups)[has_glyph], BASE_FILL_MAX)
    base_p[has_glyph] = np.minimum(group_medians(peak, groups)[has_glyph], BASE_PEAK_MAX)
    printed_groups = [(g, printed) for g, sel in groups
                      if (printed := sel & (n_label > 0)).sum() >= MIN_SIBLINGS]
    printed_any = np.zeros(len(dark), bool)
    for _g, printed in printed_groups:
        printed_any |= printed
    label_ink[printed_any] = (label_mean - group_medians(label_mean, printed_groups))[printed_any]
    # ink over the printed label counts too (a small mark often sits on the number):
    # a glyph pixel under ink of absorption a reads 1 - (1 - glyph) * (1 - a), so
    # a = (dark - glyph) / (1 - glyph), the glyph being this sheet's own empty print
    # (known when MIN_SIBLINGS bubbles share the label; otherwise the label is left out)
    ink_label = (dark - glyph) / np.maximum(1.0 - glyph, GLYPH_MIN_LIGHT)
    label = ~keep & has_glyph[:, None]
    inked = (dark - base[:, None] > INK_LEVEL) & keep
    cover = inked.sum(axis=1) / n_keep
    ink = (inked.sum(axis=1) + (label & (ink_label > INK_LEVEL)).sum(axis=1)) / (n_keep + label.sum(axis=1))
    # stroke widths are judged at half the bubble's own ink darkness (full width at
    # half maximum: blur does not fatten a stroke); on the label, ink is what darkens
    # the printed glyph by that fraction of its own brightness
    half = np.maximum(INK_LEVEL, STROKE_HALF_MAX * (peak - base_p))[:, None]
    on_label = ~keep & (ink_label > half)
    strong = ((dark - base[:, None] > half) & keep) | on_label
    solid = _solid(strong, keep, m.inner_off, px_per_mm)
    gaps = _gaps(strong, m.inner_off)
    # clear paper: darker than the empty print by less than a quarter of this
    # bubble's own ink (an X leaves clear wedges; hatching only grey slivers)
    clear_px = ((dark - base[:, None]) < np.maximum(CLEAR_REL * (peak - base_p), CLEAR_MIN)[:, None]) & keep
    clear = clear_px.sum(axis=1) / n_keep
    # the largest clear circle only matters where there is ink to judge (the
    # stroke rule); an (almost) empty disc keeps its full radius
    clear_room = np.full(len(fill), float(np.abs(m.inner_off).max()), np.float32)
    judged = np.flatnonzero(cover >= CLEAR_JUDGED)
    if judged.size:
        clear_room[judged] = _room(~clear_px[judged], m.inner_off)
    clear_room /= px_per_mm
    fill = np.clip(fill - base, 0.0, 1.0)
    peak = np.clip(peak - base_p, 0.0, 1.0)
    return Measures(fill=fill.astype(np.float32), peak=peak.astype(np.float32), cover=cover.astype(np.float32),
                    solid=np.clip(solid, 0.0, 1.0).astype(np.float32), gaps=gaps, ink=ink.astype(np.float32),
                    clear=clear.astype(np.float32), clear_room_mm=clear_room.astype(np.float32),
                    label_ink=label_ink.astype(np.float32))

