"""Fill measurement of bubbles on a warped page (vectorised, masks cached per template).

For every bubble we gather, at fixed pixel offsets from its centre on the
warped page (template frame):

* the *inner disc* (radius ``r - 0.65 mm``: inside the printed ring even with
  ~0.4 mm misalignment) minus the printed label glyph (from the template
  render, dilated by one pixel);
* a *paper annulus* (``r + 0.45 .. r + 1.1 mm``) to which a plane is fitted,
  ink (below 80% of its 75th percentile, then below the plane) excluded: the
  local paper brightness (robust to shadows, uneven light and overflowing fills).

``fill`` is the mean darkness of the inner disc relative to that paper,
``(paper - I) / paper`` in [0, 1]; ``peak`` is its 92nd percentile (catches
small but dark ink inside the bubble). Erased residue stays faint in both;
marks outside the ring never enter the disc.

Examples:
    >>> from omr.template import build_template, render_sheet
    >>> meta = build_template(10)
    >>> page = render_sheet(meta, dpi=6 * 25.4)
    >>> m = measure(page, 6.0, as_sheet_meta(meta), "answers")
    >>> m.fill.shape, float(m.fill.max()) < 0.05, float(m.cover.max()) < 0.05
    ((50,), True, True)
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, NamedTuple

import cv2
import numpy as np
import numpy.typing as npt

from omr.meta import as_sheet_meta
from omr.types import GrayImage, SheetMeta

__all__ = ["BubbleMasks", "Measures", "bubble_masks", "measure"]

INNER_MARGIN_MM = 0.65
ANNULUS_MM = (0.45, 1.1)
PEAK_PERCENTILE = 92
INK_LEVEL = 0.2
SOLID_MM = 1.2
GAP_FRAC = 0.04
CLEAR_REL = 0.25
CLEAR_MIN = 0.06
CLEAR_JUDGED = 0.1  # cover below which a disc's largest clear circle is not computed (below cover_ink)
PAPER_PCT = 75

F32 = npt.NDArray[np.float32]


class Measures(NamedTuple):
    """Per-bubble measurements, float32 ``(n,)`` arrays in meta order, all in [0, 1].

    Attributes:
        fill: Mean darkness of the disc above the empty-print baseline.
        peak: Its 92nd-percentile darkness above the baseline.
        cover: Fraction of the label-free disc darker than ``INK_LEVEL`` above the
            baseline (how much of the bubble is filled: the mark rules).
        solid: Fraction of the disc covered by ink regions at least ``SOLID_MM``
            across (a fill is solid, the strokes of an X or a tick are not).
        gaps: Number of separate ink-free regions of the disc, each at least
            ``GAP_FRAC`` of it (an X leaves four between its arms).
        ink: Like ``cover`` over the whole disc, the printed label included: on
            the label, ink is what absorbs more than ``INK_LEVEL`` of the light
            this sheet's own empty print of that label lets through. A small mark
            on the number is not missed (the rule for *questionable* ink).
        clear: Fraction of the label-free disc that is clear paper: darker than
            the empty print by less than ``CLEAR_REL`` of the bubble's own peak
            ink (at least ``CLEAR_MIN``).
        label_ink: Mean darkness of the printed label above the median of the
            bubbles that share it (0 where fewer than 5 do). A dot on the
            number, small beside the disc, darkens most of the label.
        clear_room_mm: Radius in mm of the largest clear-paper circle inside the
            disc. An X leaves clear wedges between its arms (0.45-0.6 mm here);
            hatching, even inside a traced circle, leaves only slivers that
            the photo blurs grey (<= 0.33 mm).
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


@dataclass(frozen=True)
class BubbleMasks:
    """Pixel sampling pattern of a set of bubbles (same radius) on the warped page.

    Attributes:
        flat_inner: ``(n, m)`` flat indices of inner-disc pixels per bubble.
        keep: ``(n, m)`` bool, False where the printed label is.
        flat_ann: ``(n, k)`` flat indices of the paper annulus per bubble.
        centers_px: ``(n, 2)`` integer centres (x, y).
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


def _offsets(r0_px: float, r1_px: float) -> npt.NDArray[np.intp]:
    R = int(np.ceil(r1_px))
    yy, xx = np.mgrid[-R:R + 1, -R:R + 1]
    d = np.hypot(xx, yy)
    sel = (d >= r0_px) & (d <= r1_px)
    return np.stack([yy[sel], xx[sel]], axis=1).astype(np.intp)


_CACHE: dict[tuple[str, float, str], BubbleMasks] = {}


def _centers(sheet: SheetMeta, which: str) -> tuple[list[tuple[float, float]], float, list[str]]:
    if which == "answers":
        pts = [(c.x_mm, c.y_mm) for q in sheet.questions for c in q.choices]
        rs = [c.r_mm for q in sheet.questions for c in q.choices]
        labels = [c.label for q in sheet.questions for c in q.choices]
    else:
        pts = [(b.x_mm, b.y_mm) for b in sheet.id_bubbles]
        rs = [b.r_mm for b in sheet.id_bubbles]
        labels = [str(b.number) for b in sheet.id_bubbles]
    return pts, (float(np.median(rs)) if rs else 2.4), labels


def bubble_masks(sheet: SheetMeta, px_per_mm: float, which: str) -> BubbleMasks:
    """Sampling masks for ``which`` = ``"answers"`` (question order, choice order)
    or ``"identifier"`` (meta order); cached by meta hash and resolution."""
    key = (sheet.meta_hash, px_per_mm, which)
    hit = _CACHE.get(key)
    if hit is not None:
        return hit
    from omr.template import render_sheet

    pts, r_mm, labels = _centers(sheet, which)
    h = round(sheet.page_h_mm * px_per_mm)
    w = round(sheet.page_w_mm * px_per_mm)
    printed = render_sheet(sheet.raw, dpi=px_per_mm * 25.4)
    if printed.shape != (h, w):
        printed = np.asarray(cv2.resize(printed, (w, h), interpolation=cv2.INTER_AREA), np.uint8)
    ink = cv2.dilate((printed < 200).astype(np.uint8), np.ones((3, 3), np.uint8))
    inner = _offsets(0.0, max(1.0, (r_mm - INNER_MARGIN_MM) * px_per_mm))
    ann = _offsets((r_mm + ANNULUS_MM[0]) * px_per_mm, (r_mm + ANNULUS_MM[1]) * px_per_mm)
    c = np.array([[round(x * px_per_mm), round(y * px_per_mm)] for x, y in pts], np.intp).reshape(-1, 2)
    pad = int(np.ceil((r_mm + ANNULUS_MM[1]) * px_per_mm)) + 1
    c[:, 0] = np.clip(c[:, 0], pad, w - 1 - pad)
    c[:, 1] = np.clip(c[:, 1], pad, h - 1 - pad)
    iy = c[:, 1:2] + inner[None, :, 0]
    ix = c[:, 0:1] + inner[None, :, 1]
    flat_inner = iy * w + ix
    keep = ink.reshape(-1)[flat_inner] == 0
    # a bubble whose label covers (almost) everything keeps the whole disc
    keep[keep.sum(axis=1) < 8] = True
    flat_ann = (c[:, 1:2] + ann[None, :, 0]) * w + (c[:, 0:1] + ann[None, :, 1])
    names = sorted(set(labels))
    group = np.array([names.index(lab) for lab in labels], np.intp)
    masks = BubbleMasks(flat_inner, keep, flat_ann, c, inner.astype(np.float32), ann.astype(np.float32), group)
    if len(_CACHE) > 64:
        _CACHE.clear()
    _CACHE[key] = masks
    return masks


def measure(page: GrayImage, px_per_mm: float, meta: SheetMeta | dict[str, Any], which: str
            ) -> Measures:
    """Fill, peak, ink cover and solid ink of every bubble of ``which``.

    Args:
        page: Warped page (template frame) at ``px_per_mm``.
        px_per_mm: Resolution of ``page``.
        meta: The sheet meta.
        which: ``"answers"`` or ``"identifier"``.

    Returns:
        :class:`Measures`: float32 arrays, one value per bubble in meta order,
        in [0, 1]. ``cover`` is the fraction of the disc darker than
        ``INK_LEVEL`` above the label's empty baseline (how much of the disc
        carries ink, whatever its darkness); ``solid`` the part of it in
        regions at least ``SOLID_MM`` wide.
    """
    sheet = as_sheet_meta(meta)
    m = bubble_masks(sheet, px_per_mm, which)
    if m.flat_inner.size == 0:
        z = np.zeros(0, np.float32)
        return Measures(z, z, z, z, np.zeros(0, np.intp), z, z, z, z)
    flat = page.reshape(-1)
    inner = flat[m.flat_inner].astype(np.float32)
    paper_in = _paper_plane(flat[m.flat_ann].astype(np.float32), m.ann_off, m.inner_off)
    dark = np.clip((paper_in - inner) / paper_in, 0.0, 1.0)
    keep = m.keep
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
    glyph = np.zeros_like(dark)  # per-pixel empty print: the label glyph as this sheet shows it
    has_glyph = np.zeros(len(dark), bool)
    # the label's mean darkness above that of the other bubbles with the same
    # label: a sum, so the sub-pixel phase of each glyph's print cancels out
    n_label = (~keep).sum(axis=1)
    label_mean = (dark * ~keep).sum(axis=1) / np.maximum(n_label, 1)
    label_ink = np.zeros_like(fill)
    for g in range(int(m.label_group.max()) + 1 if m.label_group.size else 0):
        sel = m.label_group == g
        if sel.sum() >= 5:
            base[sel] = min(float(np.median(fill[sel])), 0.08)
            base_p[sel] = min(float(np.median(peak[sel])), 0.12)
            glyph[sel] = np.median(dark[sel], axis=0)
            has_glyph[sel] = True
            printed = sel & (n_label > 0)
            if printed.sum() >= 5:
                label_ink[printed] = label_mean[printed] - float(np.median(label_mean[printed]))
    # ink over the printed label counts too (a small mark often sits on the number):
    # a glyph pixel under ink of absorption a reads 1 - (1 - glyph) * (1 - a), so
    # a = (dark - glyph) / (1 - glyph), the glyph being this sheet's own empty print
    # (known when at least 5 bubbles share the label; otherwise the label is left out)
    ink_label = (dark - glyph) / np.maximum(1.0 - glyph, 0.1)
    label = ~keep & has_glyph[:, None]
    inked = (dark - base[:, None] > INK_LEVEL) & keep
    cover = inked.sum(axis=1) / n_keep
    ink = (inked.sum(axis=1) + (label & (ink_label > INK_LEVEL)).sum(axis=1)) / (n_keep + label.sum(axis=1))
    # stroke widths are judged at half the bubble's own ink darkness (full width at
    # half maximum: blur does not fatten a stroke); on the label, ink is what darkens
    # the printed glyph by that fraction of its own brightness
    half = np.maximum(INK_LEVEL, 0.5 * (peak - base_p))[:, None]
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
    return Measures(fill.astype(np.float32), peak.astype(np.float32), cover.astype(np.float32),
                    np.clip(solid, 0.0, 1.0).astype(np.float32), gaps, ink.astype(np.float32), clear.astype(np.float32), clear_room.astype(np.float32),
                    label_ink.astype(np.float32))


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
    than 80% of the annulus' ``PAPER_PCT`` (75th) percentile, then pixels more
    than 10% below the fitted plane (two reweighted passes). Ink only darkens,
    so paper is the bright side of the annulus: a sloppy fill overflowing
    more than half of it no longer drags the reference (a median would) and
    its darkness is not underestimated.

    Args:
        ann: ``(n, k)`` annulus intensities; ``ann_off`` ``(k, 2)`` their (dy, dx).
        inner_off: ``(m, 2)`` disc offsets (dy, dx).

    Returns:
        ``(n, m)`` float32 paper brightness (>= 24).
    """
    a = np.stack([np.ones(len(ann_off), np.float32), ann_off[:, 1], ann_off[:, 0]], 1)  # (k, 3)
    w = (ann >= 0.8 * np.percentile(ann, PAPER_PCT, axis=1, keepdims=True)).astype(np.float32)
    coef = np.zeros((len(ann), 3), np.float32)
    for _ in range(2):
        ata = np.einsum("ki,nk,kj->nij", a, w, a) + np.eye(3, dtype=np.float32) * 1e-3
        atb = np.einsum("ki,nk->ni", a, w * ann)
        coef = np.linalg.solve(ata, atb[:, :, None])[:, :, 0]
        fit = coef @ a.T
        w = w * (ann >= 0.9 * fit)
    b = np.stack([np.ones(len(inner_off), np.float32), inner_off[:, 1], inner_off[:, 0]], 0)  # (3, m)
    return np.maximum(coef @ b, 24.0).astype(np.float32)


@dataclass(frozen=True)
class Thresholds:
    """Decision thresholds on fill/peak darkness (fractions of local paper brightness).

    Attributes:
        blank_fill: Below this fill (and below ``peak_ink``) a bubble is clean.
        mark_min: A bubble is *marked* at ``fill >= clip(mark_rel * typical,
            mark_min, mark_max)``, where ``typical`` is this sheet's median fill of
            clear marks (so light pencil sheets get a lower bar than pen sheets).
        mark_rel: See ``mark_min``.
        mark_max: See ``mark_min``.
        peak_ink: A bubble below the mark bar whose 92nd-percentile darkness
            reaches this has real ink in it: it is *questionable* (review).
        min_gap: Minimum fill gap between the darkest and second darkest bubble of
            a group for a single mark to be ``ok``.
        margin: A single mark within this of the bar is ``low_confidence``.
        cover_ink: A bubble below the bar with at least this fraction of its
            disc inked (``ink``: any darkness, label included) is *questionable*
            (tiny fills, ticks).
        stroke_ratio: Only when ``solid`` is not measured: a bubble over the
            bar whose ``fill < stroke_ratio * peak`` is treated as strokes.
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
            number, which a blurred photo spreads thin over the disc).

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
    stroke_ratio: float = 0.62
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


DEFAULT_THRESHOLDS = Thresholds()


def typical_fill(groups: list[F32]) -> float:
    """Median of each group's top fill among groups that are clearly marked (>= 0.25).

    Examples:
        >>> typical_fill([np.array([0.7, 0.0], np.float32), np.array([0.0, 0.01], np.float32)])
        0.5
        >>> round(typical_fill([np.array([0.7, 0.0], np.float32)] * 3), 2)
        0.7
    """
    tops = [float(g.max()) for g in groups if g.size and float(g.max()) >= 0.25]
    if len(tops) < 3:
        return 0.5
    return float(np.median(tops))


def decide_group(fill: F32, peak: F32, typical: float, th: Thresholds = DEFAULT_THRESHOLDS,
                 cover: F32 | None = None, solid: F32 | None = None,
                 gaps: npt.NDArray[np.intp] | None = None, ink: F32 | None = None,
                 clear: F32 | None = None, clear_room_mm: F32 | None = None,
                 label_ink: F32 | None = None) -> dict[str, Any]:
    """Decide one question (or ID digit) from its bubbles' measurements.

    ``cover``, ``solid``, ``gaps``, ``ink``, ``clear`` and ``clear_room_mm`` are
    :class:`Measures` fields; without ``solid`` the stroke test falls back to
    ``fill < stroke_ratio * peak``; without ``ink`` the questionable test uses
    ``cover``; without ``clear`` no bubble counts as hatched; ``label_ink``
    adds ink on the printed number to the questionable test.

    Returns:
        ``{"marked": [i...], "questionable": [i...], "status": ok|blank|multi|
        ambiguous|low_confidence, "confidence": float}`` (indices into the group).

    Examples:
        >>> f = np.array([0.02, 0.65, 0.03, 0.01], np.float32)
        >>> decide_group(f, f, 0.6)["status"], decide_group(f, f, 0.6)["marked"]
        ('ok', [1])
        >>> decide_group(np.zeros(4, np.float32), np.zeros(4, np.float32), 0.6)["status"]
        'blank'
        >>> f = np.array([0.6, 0.65, 0.0, 0.0], np.float32)
        >>> decide_group(f, f, 0.6)["status"]
        'multi'
        >>> f = np.array([0.15, 0.0, 0.0, 0.0], np.float32)
        >>> decide_group(f, f, 0.6)["status"]
        'ambiguous'

        An X over an empty bubble: dark strokes (peak) over a thinly covered disc (fill):

        >>> f, p = np.array([0.34, 0.0, 0.0], np.float32), np.array([0.8, 0.0, 0.0], np.float32)
        >>> decide_group(f, p, 0.6)["status"]
        'ambiguous'
    """
    bar = float(np.clip(th.mark_rel * typical, th.mark_min, th.mark_max))
    cov = np.zeros_like(fill) if cover is None else cover
    if solid is None:
        stroke = (fill >= bar) & (fill < th.stroke_ratio * peak)
        is_marked = (fill >= bar) & ~stroke
    else:
        n_gaps = np.zeros(fill.shape, np.intp) if gaps is None else gaps
        # strokes leave paper between them, so their mean darkness is well below
        # the 92nd percentile; an even fill (light pencil near the ink level,
        # where thresholding cuts random holes into it) is not strokes
        even = fill >= th.even_ratio * peak
        hatched = np.zeros(fill.shape, bool)
        if clear is not None and clear_room_mm is not None:
            hatched = ((clear < th.hatch_clear) & (clear_room_mm < th.hatch_room_mm)
                       & (peak >= th.dark_rel * typical))
        stroke = (cov >= th.cover_ink) & ~even & ~hatched & (
            (solid < th.solid_ratio * cov) | ((n_gaps >= th.stroke_gaps) & (solid < th.solid_fill)))
        is_marked = ((fill >= bar) | (cov >= th.mark_cover)) & ~stroke
    marked = [int(i) for i in np.flatnonzero(is_marked)]
    inked = cov if ink is None else np.maximum(cov, ink)
    on_label = np.zeros(fill.shape, bool) if label_ink is None else label_ink >= th.label_ink
    questionable = [int(i) for i in np.flatnonzero(
        ~is_marked & ((fill >= th.blank_fill) | (peak >= th.peak_ink) | (inked >= th.cover_ink) | on_label))]
    order = np.argsort(-fill)
    top = float(fill[order[0]]) if fill.size else 0.0
    second = float(fill[order[1]]) if fill.size > 1 else 0.0
    if len(marked) >= 2:
        status = "multi"
        conf = min(1.0, float(np.sort(fill)[-2]) / bar - 0.5) if bar > 0 else 1.0
    elif questionable:
        status = "ambiguous"
        worst = max(float(fill[i]) for i in questionable)
        conf = 0.5 * (1.0 - min(1.0, abs(worst - (th.blank_fill + bar) / 2) / max(bar, 1e-6)))
    elif not marked:
        status = "blank"
        conf = 1.0 - min(1.0, top / th.blank_fill) * 0.5
    else:
        gap = top - second
        if gap < th.min_gap:
            status = "ambiguous"
        elif (top < bar + th.margin and float(cov[marked[0]]) < th.mark_cover + th.cover_margin
              and not (float(cov[marked[0]]) >= th.mark_cover
                       and float(peak[marked[0]]) >= th.dark_rel * typical)):
            status = "low_confidence"
        else:
            status = "ok"
        above = max((top - bar) / max(bar, 1e-6), (float(cov[marked[0]]) - th.mark_cover) / th.mark_cover)
        conf = min(1.0, 0.5 + 0.5 * min(above, (gap - th.min_gap) / 0.3 + 0.4))
    return {"marked": marked, "questionable": questionable, "status": status,
            "confidence": round(float(np.clip(conf, 0.0, 1.0)), 3), "bar": round(bar, 3)}
