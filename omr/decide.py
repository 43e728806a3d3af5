"""Deciding a question (or an ID digit) from its bubbles' measurements.

:func:`decide_group` reads one group of bubbles (the choices of a question,
the ten numbers of an ID column) measured by :func:`omr.measure.measure` and
returns a :class:`GroupDecision`: which bubbles are *marked*, which carry ink
that is neither a mark nor clean paper (*questionable*), and a status:

* ``ok``: exactly one clear mark;
* ``blank``: no ink in any bubble;
* ``multi``: two or more marks;
* ``ambiguous``: questionable ink (a partial or tiny fill, erased-but-visible
  pencil, an X or a tick over a bubble, a dot on the printed number), or two
  marks too close in darkness to tell apart;
* ``low_confidence``: a single mark just above the bar.

Every number the rules use is a field of :class:`Thresholds` (with the reason
for it) or a named constant below. Darkness values are fractions of the local
paper brightness (see :mod:`omr.measure`).

Examples:
    >>> m = measures_of(fill=[0.02, 0.65, 0.03, 0.01])
    >>> d = decide_group(m, typical=0.6)
    >>> d.status, d.marked, d.confidence
    ('ok', (1,), 1.0)
    >>> decide_group(measures_of(fill=[0.0] * 4), 0.6).status
    'blank'
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from omr.measure import Measures

__all__ = [
    "DEFAULT_THRESHOLDS",
    "DEFAULT_TYPICAL_FILL",
    "STATUSES",
    "TYPICAL_MIN_GROUPS",
    "TYPICAL_MIN_TOP",
    "GroupDecision",
    "Thresholds",
    "decide_group",
    "measures_of",
    "typical_fill",
]

F32 = npt.NDArray[np.float32]

STATUSES = ("ok", "blank", "multi", "ambiguous", "low_confidence")
"""Every status :func:`decide_group` returns."""

TYPICAL_MIN_TOP = 0.25
"""A group counts towards the sheet's typical mark when its darkest bubble reaches this."""
TYPICAL_MIN_GROUPS = 3
"""Fewer clearly marked groups than this say nothing about the student's ink."""
DEFAULT_TYPICAL_FILL = 0.5
"""The typical mark darkness assumed without enough marked groups (a pencil fill)."""

CONF_SPLIT = 0.5
"""Confidences of decided statuses start from this midpoint (ambiguous ones stay below it)."""
CONF_GAP_SPAN = 0.3
"""A single mark's lead over the runner-up, beyond ``min_gap``, that adds full confidence."""
CONF_GAP_OFFSET = 0.4
"""Confidence credit a lead of exactly ``min_gap`` already earns (in ``CONF_GAP_SPAN`` units)."""
TINY = 1e-6
"""Guards divisions by a zero bar."""
MULTI_MIN_REL = 0.5
"""Two marks are ``multi`` only when the lighter reaches this fraction of the darker's fill; below it
(a shadow corner or a smudge beside a clear fill: fills 0.88 and 0.18) the question is ``ambiguous``:
a second mark that much lighter than the first must be looked at, not reported."""


@dataclass(frozen=True)
class Thresholds:
    """Decision thresholds on fill/peak darkness (fractions of local paper brightness).

    Attributes:
        blank_fill: Below this fill (and below ``peak_ink``) a bubble is clean.
        mark_min: A bubble is *marked* at ``fill >= clip(mark_rel * typical,
            mark_min, mark_max)`` (the *bar*), where ``typical`` is this sheet's
            median fill of clear marks (so light pencil sheets get a lower bar
            than pen sheets).
        mark_rel: See ``mark_min``.
        mark_max: See ``mark_min``.
        peak_ink: A bubble below the bar whose 92nd-percentile darkness
            reaches this has real ink in it: it is *questionable* (review).
        min_gap: Minimum fill gap between the darkest and second darkest bubble of
            a group for a single mark to be ``ok``.
        margin: A single mark within this of the bar is ``low_confidence``.
        cover_ink: A bubble below the bar with at least this fraction of its
            disc inked (``ink``: any darkness, label included) is *questionable*
            (tiny fills, ticks); also the least ink the stroke rules judge.
        mark_cover: A bubble whose disc is inked over at least this fraction
            (and is not strokes) is *marked* even below the fill bar: a partial
            or light fill covers most of the disc.
        cover_margin: A single mark below ``bar + margin`` is still ``ok`` when
            its cover reaches ``mark_cover + cover_margin``.
        solid_ratio: A bubble with ink (``cover >= cover_ink``) whose solid part
            is below ``solid_ratio * cover`` is made of strokes (an X, a tick).
        stroke_gaps: A bubble with ink that leaves this many separate empty
            regions of its disc is strokes (an X leaves four wedges), unless
            ``solid_fill`` of it is solid ink.
        solid_fill: A disc at least this much covered by solid ink is filled,
            whatever strokes or holes it shows (an X's arms cannot cover it; an X
            over a filled bubble reads as filled).
        dark_rel: A single mark near the bar is still ``ok`` when it covers
            ``mark_cover`` of the disc with ink at least this fraction as dark
            (``peak``) as the sheet's clear marks (``typical``): a half-filled
            bubble in the student's own ink, not a faint trace.
        even_ratio: A bubble whose mean darkness (``fill``) reaches this fraction
            of its 92nd percentile (``peak``) is evenly dark over the whole disc:
            a fill, never strokes, whatever holes the ink threshold cuts into it
            (an X leaves paper between its arms: fill/peak 0.3-0.6).
        hatch_clear: A bubble with less than this fraction of clear paper left
            (``clear``), no clear spot of radius ``hatch_room_mm`` or more, and
            ink as dark as the sheet's clear marks (``peak >= dark_rel *
            typical``) is *hatched*: filled by strokes (zigzag, a traced circle
            then hatching), not an X or a tick, however many slivers its
            strokes leave. (A blurred X also loses its clear wedges, but its
            strokes then lose their darkness too.)
        hatch_room_mm: See ``hatch_clear`` (2.24 px at 6 px/mm passes, 2.83 px does not).
        label_ink: A bubble below the bar whose printed label is this much
            darker than its siblings' is *questionable* (a small dot on the
            number, which a blurred photo spreads thin over the disc), unless
            the label is no darker than ``residue_label_rel`` times the disc's
            own ``peak`` (an even wash over disc and label: erased residue).
        residue_peak: A bubble whose ink stays below this darkness everywhere
            (``peak``, and ``label_ink``) and inks less than ``cover_ink`` of its
            disc is *faint*: the grainy residue of an erased pencil mark
            (absorbing up to ~12% of the light). The lightest pencil a student
            marks with absorbs 38%, so a real mark, even a tiny one, reaches
            ``peak_ink`` or ``cover_ink``.
        residue_rel: A faint bubble is erased residue, neither a mark nor
            questionable, when its fill is below this fraction of the one clear
            mark of its group (the changed answer), or, with no mark in the group,
            of the sheet's typical mark (residue alone reads ``blank``).
        residue_fill: A faint bubble is residue only below this fill, whatever
            the marks (a wash this dark is looked at).
        residue_label_rel: See ``label_ink``.

    Strokes are *questionable*, never a mark (the crossed-out rule).
    """

    blank_fill: float = 0.085
    mark_min: float = 0.16
    mark_rel: float = 0.45
    mark_max: float = 0.34
    peak_ink: float = 0.26
    min_gap: float = 0.10
    margin: float = 0.025
    cover_ink: float = 0.12
    mark_cover: float = 0.4
    cover_margin: float = 0.08
    solid_ratio: float = 0.5
    stroke_gaps: int = 3
    solid_fill: float = 0.6
    dark_rel: float = 0.8
    even_ratio: float = 0.85
    hatch_clear: float = 0.3
    hatch_room_mm: float = 0.4
    label_ink: float = 0.08
    residue_peak: float = 0.2
    residue_rel: float = 0.4
    residue_fill: float = 0.15
    residue_label_rel: float = 1.25


DEFAULT_THRESHOLDS = Thresholds()


@dataclass(frozen=True)
class GroupDecision:
    """What one group of bubbles says.

    Attributes:
        marked: Indices (into the group) of the marked bubbles, ascending.
        questionable: Indices of bubbles with ink that is neither a mark nor
            clean paper (unmarked ones only), ascending.
        status: One of :data:`STATUSES`.
        confidence: In [0, 1], rounded to 3 decimals; ``ok``/``blank``/``multi``
            are >= 0.5 unless barely so, ``ambiguous`` <= 0.5.
        bar: The fill a bubble needed to count as marked on this sheet
            (``clip(mark_rel * typical, mark_min, mark_max)``), rounded to 3 decimals.
    """

    marked: tuple[int, ...]
    questionable: tuple[int, ...]
    status: str
    confidence: float
    bar: float


def typical_fill(groups: Sequence[F32]) -> float:
    """Median of each group's top fill among groups that are clearly marked.

    A group counts when its darkest bubble reaches ``TYPICAL_MIN_TOP``; with
    fewer than ``TYPICAL_MIN_GROUPS`` such groups, ``DEFAULT_TYPICAL_FILL``.

    Examples:
        >>> typical_fill([np.array([0.7, 0.0], np.float32), np.array([0.0, 0.01], np.float32)])
        0.5
        >>> round(typical_fill([np.array([0.7, 0.0], np.float32)] * 3), 2)
        0.7
    """
    tops = [float(g.max()) for g in groups if g.size and float(g.max()) >= TYPICAL_MIN_TOP]
    if len(tops) < TYPICAL_MIN_GROUPS:
        return DEFAULT_TYPICAL_FILL
    return float(np.median(tops))


def decide_group(m: Measures, typical: float, th: Thresholds = DEFAULT_THRESHOLDS) -> GroupDecision:
    """Decide one question (or ID digit) from its bubbles' measurements.

    Args:
        m: The group's :class:`~omr.measure.Measures` (one value per bubble,
            in choice order; :meth:`~omr.measure.Measures.take` cuts them out
            of a sheet's).
        typical: The sheet's typical clear-mark darkness (:func:`typical_fill`).
        th: The thresholds.

    Returns:
        The :class:`GroupDecision`.

    Examples:
        >>> decide_group(measures_of(fill=[0.6, 0.65, 0.0, 0.0]), 0.6).status
        'multi'

        A clear fill beside a bubble a shadow corner covers (marked by its cover, far lighter):

        >>> d = decide_group(measures_of(fill=[0.88, 0.18, 0.0], cover=[1, 0.9, 0]), 0.8)
        >>> d.status, d.marked, d.confidence < 0.5
        ('ambiguous', (0, 1), True)
        >>> decide_group(measures_of(fill=[0.15, 0.0, 0.0, 0.0]), 0.6).status
        'ambiguous'

        An X over an empty bubble: dark strokes over a third of the disc, little of
        it solid, four clear wedges (clear paper with room for a 0.5 mm circle):

        >>> x = measures_of(fill=[0.34, 0, 0], peak=[0.8, 0, 0], cover=[0.35, 0, 0], solid=[0.05, 0, 0],
        ...                 gaps=[4, 0, 0], clear=[0.6, 1, 1], clear_room_mm=[0.5, 2, 2])
        >>> d = decide_group(x, 0.6)
        >>> d.status, d.marked, d.questionable
        ('ambiguous', (), (0,))
    """
    fill, peak, cov = m.fill, m.peak, m.cover
    bar = float(np.clip(th.mark_rel * typical, th.mark_min, th.mark_max))
    # strokes leave paper between them, so their mean darkness is well below
    # the 92nd percentile; an even fill (light pencil near the ink level,
    # where thresholding cuts random holes into it) is not strokes
    even = fill >= th.even_ratio * peak
    hatched = (m.clear < th.hatch_clear) & (m.clear_room_mm < th.hatch_room_mm) & (peak >= th.dark_rel * typical)
    stroke = (cov >= th.cover_ink) & ~even & ~hatched & (
        (m.solid < th.solid_ratio * cov) | ((m.gaps >= th.stroke_gaps) & (m.solid < th.solid_fill)))
    is_marked = ((fill >= bar) | (cov >= th.mark_cover)) & ~stroke
    marked = tuple(int(i) for i in np.flatnonzero(is_marked))
    inked = np.maximum(cov, m.ink)
    # erased residue: a faint, even wash over disc and label (grainy graphite
    # left in the paper's tooth), far lighter than the group's clear mark
    faint = (~is_marked & ~stroke & (peak < th.residue_peak) & (m.label_ink < th.residue_peak)
             & (inked < th.cover_ink) & (fill < th.residue_fill))
    ref = float(fill[marked[0]]) if len(marked) == 1 else (typical if not marked else 0.0)
    residue = faint & (fill < th.residue_rel * ref) & (m.label_ink <= th.residue_label_rel * np.maximum(peak, fill))
    on_label = (m.label_ink >= th.label_ink) & ~residue
    questionable = tuple(int(i) for i in np.flatnonzero(~is_marked & ~residue & (
        (fill >= th.blank_fill) | (peak >= th.peak_ink) | (inked >= th.cover_ink) | on_label)))
    order = np.argsort(-fill)
    top = float(fill[order[0]]) if fill.size else 0.0
    second = float(fill[order[1]]) if fill.size > 1 else 0.0
    marked_fills = np.sort(fill[list(marked)]) if marked else fill[:0]
    if len(marked) >= 2 and float(marked_fills[0]) < MULTI_MIN_REL * float(marked_fills[-1]):
        status = "ambiguous"
        conf = CONF_SPLIT * float(marked_fills[0]) / max(float(marked_fills[-1]), TINY)
    elif len(marked) >= 2:
        status = "multi"
        conf = min(1.0, float(np.sort(fill)[-2]) / bar - CONF_SPLIT) if bar > 0 else 1.0
    elif questionable:
        status = "ambiguous"
        worst = max(float(fill[i]) for i in questionable)
        conf = CONF_SPLIT * (1.0 - min(1.0, abs(worst - (th.blank_fill + bar) / 2) / max(bar, TINY)))
    elif not marked:
        status = "blank"
        conf = 1.0 - min(1.0, top / th.blank_fill) * CONF_SPLIT
    else:
        gap = top - second
        i = marked[0]
        if gap < th.min_gap:
            status = "ambiguous"
        elif (top < bar + th.margin and float(cov[i]) < th.mark_cover + th.cover_margin
              and not (float(cov[i]) >= th.mark_cover and float(peak[i]) >= th.dark_rel * typical)):
            status = "low_confidence"
        else:
            status = "ok"
        above = max((top - bar) / max(bar, TINY), (float(cov[i]) - th.mark_cover) / th.mark_cover)
        conf = min(1.0, CONF_SPLIT + CONF_SPLIT * min(above, (gap - th.min_gap) / CONF_GAP_SPAN + CONF_GAP_OFFSET))
    return GroupDecision(marked, questionable, status, round(float(np.clip(conf, 0.0, 1.0)), 3), round(bar, 3))


def measures_of(fill: Sequence[float], **fields: Sequence[float]) -> Measures:
    """:class:`~omr.measure.Measures` of a group from plain lists (tests, examples).

    Fields not given are those of a clean fill of darkness ``fill``: ``peak =
    fill``, ``cover = ink = solid = 1`` where ``fill >= 0.25`` (else 0),
    ``clear = 1 - cover``, no gaps, ``clear_room_mm = 0`` under ink (else 2),
    no label ink.

    Examples:
        >>> measures_of([0.7, 0.0]).cover.tolist(), measures_of([0.7, 0.0], cover=[0.5, 0]).cover.tolist()
        ([1.0, 0.0], [0.5, 0.0])
    """
    f = np.asarray(fill, np.float32)
    inked = (f >= TYPICAL_MIN_TOP).astype(np.float32)
    base: dict[str, npt.NDArray[Any]] = {"fill": f, "peak": f, "cover": inked, "solid": inked, "gaps": np.zeros(len(f), np.intp),
            "ink": inked, "clear": 1 - inked, "clear_room_mm": 2 * (1 - inked),
            "label_ink": np.zeros(len(f), np.float32)}
    for name, values in fields.items():
        if name not in base:
            raise TypeError(f"unknown measure {name!r}")
        base[name] = np.asarray(values, np.intp if name == "gaps" else np.float32)
    return Measures(**base)
