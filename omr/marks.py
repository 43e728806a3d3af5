"""Fill measurement of bubbles on a warped page (vectorised, masks cached per template).

For every bubble we gather, at fixed pixel offsets from its centre on the
warped page (template frame):

* the *inner disc* (radius ``r - 0.65 mm``: inside the printed ring even with
  ~0.4 mm misalignment) minus the printed label glyph (from the template
  render, dilated by one pixel);
* a *paper annulus* (``r + 0.45 .. r + 1.1 mm``) whose 75th percentile is the
  local paper brightness (robust to shadows, uneven light and overflowing fills).

``fill`` is the mean darkness of the inner disc relative to that paper,
``(paper - I) / paper`` in [0, 1]; ``peak`` is its 92nd percentile (catches
small but dark ink inside the bubble). Erased residue stays faint in both;
marks outside the ring never enter the disc.

Examples:
    >>> from omr.template import build_template, render_sheet
    >>> meta = build_template(10)
    >>> page = render_sheet(meta, dpi=6 * 25.4)
    >>> fills, peaks, cover = measure(page, 6.0, as_sheet_meta(meta), "answers")
    >>> fills.shape, float(fills.max()) < 0.05
    ((50,), True)
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import cv2
import numpy as np
import numpy.typing as npt

from omr.meta import as_sheet_meta
from omr.types import GrayImage, SheetMeta

__all__ = ["BubbleMasks", "bubble_masks", "measure"]

INNER_MARGIN_MM = 0.65
ANNULUS_MM = (0.45, 1.1)
PEAK_PERCENTILE = 92
INK_LEVEL = 0.2

F32 = npt.NDArray[np.float32]


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
            ) -> tuple[F32, F32, F32]:
    """Fill and peak darkness of every bubble of ``which``.

    Args:
        page: Warped page (template frame) at ``px_per_mm``.
        px_per_mm: Resolution of ``page``.
        meta: The sheet meta.
        which: ``"answers"`` or ``"identifier"``.

    Returns:
        ``(fill, peak, cover)``: float32 arrays, one value per bubble in meta
        order, in [0, 1]. ``cover`` is the fraction of the disc darker than
        ``INK_LEVEL`` above the label's empty baseline (how much of the disc
        carries ink, whatever its darkness).
    """
    sheet = as_sheet_meta(meta)
    m = bubble_masks(sheet, px_per_mm, which)
    if m.flat_inner.size == 0:
        return np.zeros(0, np.float32), np.zeros(0, np.float32), np.zeros(0, np.float32)
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
    for g in range(int(m.label_group.max()) + 1 if m.label_group.size else 0):
        sel = m.label_group == g
        if sel.sum() >= 5:
            base[sel] = min(float(np.median(fill[sel])), 0.08)
            base_p[sel] = min(float(np.median(peak[sel])), 0.12)
    inked = (dark - base[:, None] > INK_LEVEL) & keep
    cover = inked.sum(axis=1) / n_keep
    fill = np.clip(fill - base, 0.0, 1.0)
    peak = np.clip(peak - base_p, 0.0, 1.0)
    return fill.astype(np.float32), peak.astype(np.float32), cover.astype(np.float32)


def _paper_plane(ann: F32, ann_off: F32, inner_off: F32) -> F32:
    """Local paper brightness at every inner-disc pixel: a plane fitted to the annulus.

    A plane (not one level) follows shadow edges and light gradients across the
    bubble. Ink in the annulus (overflowing fills) is excluded: pixels darker
    than 80% of the annulus median, then pixels more than 10% below the fitted
    plane (two reweighted passes).

    Args:
        ann: ``(n, k)`` annulus intensities; ``ann_off`` ``(k, 2)`` their (dy, dx).
        inner_off: ``(m, 2)`` disc offsets (dy, dx).

    Returns:
        ``(n, m)`` float32 paper brightness (>= 24).
    """
    a = np.stack([np.ones(len(ann_off), np.float32), ann_off[:, 1], ann_off[:, 0]], 1)  # (k, 3)
    w = (ann >= 0.8 * np.median(ann, axis=1, keepdims=True)).astype(np.float32)
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
            disc inked (any darkness) is *questionable* (tiny fills, ticks).
        stroke_ratio: A bubble over the bar whose ``fill < stroke_ratio * peak``
            has dark ink on only part of its disc (an X, a tick, a scrawl): it
            is *questionable*, never a mark. Solid fills have fill ~ peak;
            an X over an empty bubble has fill ~ 0.35-0.55 x peak.
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
                 cover: F32 | None = None) -> dict[str, Any]:
    """Decide one question (or ID digit) from its bubbles' fill and peak.

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
    stroke = (fill >= bar) & (fill < th.stroke_ratio * peak)
    is_marked = (fill >= bar) & ~stroke
    marked = [int(i) for i in np.flatnonzero(is_marked)]
    questionable = [int(i) for i in np.flatnonzero(
        ~is_marked & ((fill >= th.blank_fill) | (peak >= th.peak_ink) | (cov >= th.cover_ink)))]
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
        elif top < bar + th.margin:
            status = "low_confidence"
        else:
            status = "ok"
        conf = min(1.0, 0.5 + 0.5 * min((top - bar) / max(bar, 1e-6), (gap - th.min_gap) / 0.3 + 0.4))
    return {"marked": marked, "questionable": questionable, "status": status,
            "confidence": round(float(np.clip(conf, 0.0, 1.0)), 3), "bar": round(bar, 3)}
