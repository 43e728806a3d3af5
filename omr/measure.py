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

from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal, NamedTuple

import cv2
import numpy as np
import numpy.typing as npt

from omr.types import GrayImage, SheetMeta

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

Which = Literal["answers", "identifier"]
"""The two bubble sets of a sheet: answer choices (question order, choice order) and the ID grid (meta order)."""

INNER_MARGIN_MM = 0.65
"""The disc sampled stops this far inside the bubble radius: clear of the printed ring with ~0.4 mm misalignment."""
ANNULUS_MM = (0.45, 1.1)
"""The paper annulus, beyond the radius: past the ring's outer edge, short of the neighbours."""
PEAK_PERCENTILE = 92
"""``peak`` is this percentile of the disc's darkness: small but dark ink inside the bubble."""
INK_LEVEL = 0.2
"""A pixel this much darker than the empty print is ink (``cover``, ``ink``)."""
SOLID_MM = 1.2
"""Ink regions at least this wide are solid (a fill); pen and pencil strokes are 0.3-0.8 mm."""
GAP_FRAC = 0.04
"""An ink-free region of the disc counts as a gap (``gaps``) from this fraction of it."""
CLEAR_REL = 0.25
"""Clear paper: darker than the empty print by less than this fraction of the bubble's own peak ink..."""
CLEAR_MIN = 0.06
"""...or than this, whichever is larger (a faint bubble's noise is not ink)."""
CLEAR_JUDGED = 0.1
"""Cover below which a disc's largest clear circle is not computed (below ``cover_ink``: never judged)."""
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
PRINT_INK_GRAY = 200
"""Template raster pixels darker than this are printed label (left out of the fill)."""
MIN_LABEL_FREE_PX = 8
"""A bubble whose label leaves fewer free disc pixels keeps its whole disc."""
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
PRINTED_DARK = 0.075
"""Bubbles whose empty print (the median of the bubbles sharing a label) darkens the label-free disc by this
much on average, for the median label of the sheet, carry print the template does not show (another printer's
digits inside its ovals: 0.09-0.19 in gray on pink cards); our own sheets' blurred labels stay below 0.055."""
PRINTED_INKED = 0.08
"""...or whose empty print alone reads as ink over this fraction of the label-free disc (two thirds of the
least ink :class:`omr.decide.Thresholds` ``cover_ink`` questions: 0.12). Our own sheets' labels leave
0.004-0.044 (seed 1, 12 photos and 12 scans), pink cards 0.22-0.5; thin black letters that cover little
of the disc on average reach it."""
DEFAULT_R_MM = 2.4
"""Radius assumed for an empty bubble set (no bubbles: nothing is sampled)."""

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


@dataclass(frozen=True)
class BubbleMasks:
    """Pixel sampling pattern of a set of bubbles (same radius) on the warped page.

    Attributes:
        flat_inner: ``(n, m)`` flat indices of inner-disc pixels per bubble.
        keep: ``(n, m)`` bool, False where the printed label is.
        flat_ann: ``(n, k)`` flat indices of the paper annulus per bubble.
        centers_px: ``(n, 2)`` integer centres (x, y).
        centers_exact_px: ``(n, 2)`` float32 centres (x, y) before rounding (sub-pixel
            sampling of printed labels the template does not show).
        inner_off: ``(m, 2)`` inner-disc offsets (dy, dx) in px.
        ann_off: ``(k, 2)`` annulus offsets (dy, dx) in px.
        label_group: ``(n,)`` index of the bubble's printed label (bubbles with the
            same label share an empty-print baseline).
    """

    flat_inner: npt.NDArray[np.intp]
    keep: npt.NDArray[np.bool_]
    flat_ann: npt.NDArray[np.intp]
    centers_px: npt.NDArray[np.intp]
    inner_off: npt.NDArray[np.float32]
    ann_off: npt.NDArray[np.float32]
    label_group: npt.NDArray[np.intp]
    centers_exact_px: npt.NDArray[np.float32]


def _offsets(r0_px: float, r1_px: float) -> npt.NDArray[np.intp]:
    R = int(np.ceil(r1_px))
    yy, xx = np.mgrid[-R:R + 1, -R:R + 1]
    d = np.hypot(xx, yy)
    sel = (d >= r0_px) & (d <= r1_px)
    return np.stack([yy[sel], xx[sel]], axis=1).astype(np.intp)


def _oval_offsets(inner_ab: tuple[float, float], outer_ab: tuple[float, float], rotation_deg: float
                  ) -> npt.NDArray[np.intp]:
    """``(k, 2)`` pixel offsets (dy, dx) inside the ellipse of half axes ``outer_ab`` (px, along x and y
    before turning) and outside the one of ``inner_ab``, both turned by ``rotation_deg``.

    Examples:
        >>> _oval_offsets((0, 0), (1.2, 2.2), 0.0)[:, 0].max(), _oval_offsets((0, 0), (1.2, 2.2), 0.0)[:, 1].max()
        (np.int64(2), np.int64(1))
        >>> _oval_offsets((0, 0), (1.2, 2.2), 90.0)[:, 1].max()
        np.int64(2)
    """
    R = int(np.ceil(max(outer_ab)))
    yy, xx = np.mgrid[-R:R + 1, -R:R + 1]
    t = np.deg2rad(rotation_deg)
    u = xx * np.cos(t) + yy * np.sin(t)  # along the oval's own width
    v = -xx * np.sin(t) + yy * np.cos(t)  # along its height

    def inside(ab: tuple[float, float]) -> npt.NDArray[np.bool_]:
        a, b = max(ab[0], 1e-6), max(ab[1], 1e-6)
        return np.asarray((u / a) ** 2 + (v / b) ** 2 <= 1.0)

    sel = inside(outer_ab) & ~(inside(inner_ab) if min(inner_ab) > 0 else np.zeros_like(xx, bool))
    return np.stack([yy[sel], xx[sel]], axis=1).astype(np.intp)


def _centers(sheet: SheetMeta, which: Which) -> tuple[list[tuple[float, float]], float, list[str]]:
    if which == "answers":
        pts = [(c.x_mm, c.y_mm) for q in sheet.questions for c in q.choices]
        rs = [c.r_mm for q in sheet.questions for c in q.choices]
        labels = [c.label for q in sheet.questions for c in q.choices]
    else:
        pts = [(b.x_mm, b.y_mm) for b in sheet.id_bubbles]
        rs = [b.r_mm for b in sheet.id_bubbles]
        labels = [str(b.number) for b in sheet.id_bubbles]
    return pts, (float(np.median(rs)) if rs else DEFAULT_R_MM), labels


def bubble_masks(sheet: SheetMeta, printed: GrayImage, px_per_mm: float, which: Which) -> BubbleMasks:
    """The sampling pattern of the bubbles ``which`` on a page at ``px_per_mm``.

    Built once per template and resolution (:class:`omr.compiled.CompiledSheet`
    keeps it).

    Args:
        sheet: The sheet meta.
        printed: The template raster (``omr.template.render_sheet``) at about
            ``px_per_mm``: where the labels are printed. Resized to the page if
            its shape differs.
        px_per_mm: Resolution of the pages to measure.
        which: ``"answers"`` (question order, choice order) or ``"identifier"`` (meta order).

    Returns:
        The :class:`BubbleMasks`.
    """
    pts, r_mm, labels = _centers(sheet, which)
    h = round(sheet.page_h_mm * px_per_mm)
    w = round(sheet.page_w_mm * px_per_mm)
    if printed.shape != (h, w):
        printed = np.asarray(cv2.resize(printed, (w, h), interpolation=cv2.INTER_AREA), np.uint8)
    ink = cv2.dilate((printed < PRINT_INK_GRAY).astype(np.uint8), np.ones((3, 3), np.uint8))
    shape = sheet.bubble
    if shape is not None and shape.shape == "oval":
        # the oval as printed, not its inscribed circle: the inner oval and a paper ring that follows it
        half = (shape.w_mm / 2 * px_per_mm, shape.h_mm / 2 * px_per_mm)

        def grown(mm: float) -> tuple[float, float]:
            return (max(1.0, half[0] + mm * px_per_mm), max(1.0, half[1] + mm * px_per_mm))

        inner = _oval_offsets((0.0, 0.0), grown(-INNER_MARGIN_MM), shape.rotation_deg)
        ann = _oval_offsets(grown(ANNULUS_MM[0]), grown(ANNULUS_MM[1]), shape.rotation_deg)
        reach_mm = max(shape.w_mm, shape.h_mm) / 2
    else:
        inner = _offsets(0.0, max(1.0, (r_mm - INNER_MARGIN_MM) * px_per_mm))
        ann = _offsets((r_mm + ANNULUS_MM[0]) * px_per_mm, (r_mm + ANNULUS_MM[1]) * px_per_mm)
        reach_mm = r_mm
    exact = np.array([[x * px_per_mm, y * px_per_mm] for x, y in pts], np.float32).reshape(-1, 2)
    c = np.array([[round(x * px_per_mm), round(y * px_per_mm)] for x, y in pts], np.intp).reshape(-1, 2)
    pad = int(np.ceil((reach_mm + ANNULUS_MM[1]) * px_per_mm)) + 1
    c[:, 0] = np.clip(c[:, 0], pad, w - 1 - pad)
    c[:, 1] = np.clip(c[:, 1], pad, h - 1 - pad)
    exact = np.clip(exact, c - 0.5, c + 0.5).astype(np.float32)
    iy = c[:, 1:2] + inner[None, :, 0]
    ix = c[:, 0:1] + inner[None, :, 1]
    flat_inner = iy * w + ix
    keep = ink.reshape(-1)[flat_inner] == 0
    # a bubble whose label covers (almost) everything keeps the whole disc
    keep[keep.sum(axis=1) < MIN_LABEL_FREE_PX] = True
    flat_ann = (c[:, 1:2] + ann[None, :, 0]) * w + (c[:, 0:1] + ann[None, :, 1])
    names = sorted(set(labels))
    group = np.array([names.index(lab) for lab in labels], np.intp)
    return BubbleMasks(flat_inner, keep, flat_ann, c, inner.astype(np.float32), ann.astype(np.float32), group,
                       exact)


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
    for _g, sel in groups:
        base[sel] = min(float(np.median(fill[sel])), BASE_FILL_MAX)
        base_p[sel] = min(float(np.median(peak[sel])), BASE_PEAK_MAX)
        has_glyph[sel] = True
        printed = sel & (n_label > 0)
        if printed.sum() >= MIN_SIBLINGS:
            label_ink[printed] = label_mean[printed] - float(np.median(label_mean[printed]))
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
    glyph = np.zeros_like(dark)
    for _g, sel in groups:
        members = dark[sel]
        if unmarked:
            means = members.mean(axis=1)
            light = float(np.median(np.sort(means)[:max(1, (len(means) + 1) // 2)]))
            members = members[means <= light + MARKED_MEAN]
        glyph[sel] = np.median(members, axis=0)
    return glyph


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
