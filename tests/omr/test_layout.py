"""The sheet layout, and the raster drawn from it (its geometry, and a golden within a bound).

The raster is what alignment and the label masks compare photos against, so a
layout edit that moves a ring or a box must fail here, not silently in
grading. Nothing below is pinned bit for bit: rings and labels are drawn
anti-aliased by OpenCV, whose rasteriser moves edge pixels between releases
(5.0.0.93 -> 5.1.0.95 shifted Hershey glyphs by a pixel: 0.4-2.2% of the page's
pixels changed, up to 255 levels, rings and boxes not at all). Instead:

* every ring and box is found in the raster and compared with the layout in mm
  (:func:`test_drawn_geometry_matches_the_layout`), within ``GEOMETRY_MM``;
* every text's ink is found where the layout anchors it, as tall as its cap
  height (the same test; font-agnostic, since glyph advances change);
* the page is compared with a committed golden within stated bounds
  (:func:`test_raster_matches_the_golden`): outside the texts nothing is missing,
  added, moved or regrayed; texts are left to the font-agnostic check.

The goldens under ``tests/omr/assets/layout/`` were drawn with OpenCV 5.0.0.93
(the lock's). After a deliberate layout or font change, redraw them with
``PYTHONPATH=. python tests/omr/test_layout.py`` and look at them before committing.
"""

from __future__ import annotations

import math
import sys
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pytest

from omr.layout import (
    INK,
    PAPER,
    PRINT_GRAY,
    RING_W_MM,
    FilledRect,
    Primitive,
    RectOutline,
    Ring,
    Text,
    sheet_layout,
)
from omr.meta import as_sheet_meta, meta_from_legacy_questions
from omr.refine import _render_rings
from omr.template import build_template, render_sheet

GOLDEN_DIR = Path(__file__).parent / "assets" / "layout"

GEOMETRY_MM = 0.1
"""Rings' centres and radii, boxes' edges: within 0.1 mm of the layout (or half a
pixel where a pixel is coarser than 0.2 mm: the raster cannot place an edge finer
than its grid). Catches a primitive moved or resized by one pixel at >= 150 dpi
(1 px = 0.17 mm), a wrong mm -> px scale, or a ring drawn outside its radius."""

DIFF_GRAY = 32
"""Outside the texts, a pixel "differs" from the golden when it is this many gray
levels off: an eighth of the range. Print is gray 70 so that pencil (85-110) reads
darker; print more than 32 levels lighter would blur that line."""
MAX_DIFFERING_MM2 = 2.0
"""Outside the texts, the differing pixels may cover at most this much paper (70 px
at 150 dpi). OpenCV 5.1.0.95 changed none of them (its changes are all in glyphs,
see ``_check_text``). Catches a ring added or removed (a ring is 3 mm² of ink), a
ring, box or marker moved by a pixel (5 mm² or more), print drawn in another gray."""
MAX_MEAN_DIFF = 2.0
"""Mean absolute difference over the whole page, texts included, in gray levels
(5.1.0.95: 0.95 at worst, all of it in glyphs). Catches a page drawn at another
scale or offset, or inverted, which the texts' own bounds could miss."""
TEXT_CAP = (0.8, 1.15)
"""A text's ink rises this many cap heights above its baseline (centred labels: is
this many cap heights tall). Hershey capitals and digits measure 0.87-1.02 with
both OpenCV releases; a text drawn at another size, or not at all, is outside."""
TEXT_ANCHOR_CAP = (-0.1, 0.4)
"""How far a text's ink starts after its anchor (left-aligned) or ends before it
(right-aligned), in cap heights: a glyph's side bearing, 0.03-0.3 measured (5.1.0.95
changed the advances). Text aligned the wrong way is off by its whole width."""
TEXT_CENTRE_CAP = 0.25
"""A centred label's ink centre is within this many cap heights of the layout's
point (measured: up to 0.19 below it, 0.13 beside it)."""
TEXT_DESCENT_CAP = 0.35
"""Ink below the baseline: descenders (g, p, y, Q's tail) reach 0.28 cap."""
TEXT_BASELINE_CAP = 0.1
"""Text without descenders ends on its baseline within this many cap heights
(measured: 0.04): a number drawn 0.45 mm too low or high is caught at 150 dpi."""
DESCENDERS = set("gjpqyQ,;()")

SHEETS = [  # questions, choices, title, dpi
    (10, 5, None, 150.0),
    (20, 5, None, 6 * 25.4),
    (20, 4, "Quiz", 300.0),
    (50, 5, "A long title", 1.5 * 25.4),
    (100, 4, None, 200.0),
    (30, 5, None, 100.0),
]
GOLDENS = {  # golden file -> (meta, dpi): a few resolutions, small files
    "sheet_q10_c5_150dpi.png": (build_template(10, 5, None), 150.0),
    "sheet_q50_c5_title_38dpi.png": (build_template(50, 5, "A long title"), 1.5 * 25.4),
    "sheet_q30_c5_100dpi.png": (build_template(30, 5, None), 100.0),
}


def _legacy_meta() -> dict[str, Any]:
    qs = [{"question_id": i + 1, "choices": [{"label": str(k + 1), "center": {"x": 100 + 7 * k, "y": 40 + 8 * i},
                                              "r": 2.4} for k in range(4)]} for i in range(5)]
    return dict(meta_from_legacy_questions(qs).raw)


GOLDENS["legacy_q5_150dpi.png"] = (_legacy_meta(), 150.0)


def _tolerance_mm(px_per_mm: float) -> float:
    return max(GEOMETRY_MM, 0.5 / px_per_mm)


def _ring_found(img: np.ndarray, ring: Ring, s: float, rings: list[Ring]) -> tuple[float, float, float, float]:
    """Centre, mean radius and line width (mm) of the ink in an annulus around ``ring``.

    Ink is weighted by its darkness relative to the ring's gray, so
    anti-aliased edge pixels count for the part of them that is covered;
    pixels nearer another of ``rings`` (ID rings nearly touch) are left out.
    """
    half_mm = ring.line_mm / 2 + 1.5 / s  # the line, and its anti-aliased fringe
    x0, x1 = math.floor((ring.x_mm - ring.r_mm - half_mm) * s), math.ceil((ring.x_mm + ring.r_mm + half_mm) * s)
    y0, y1 = math.floor((ring.y_mm - ring.r_mm - half_mm) * s), math.ceil((ring.y_mm + ring.r_mm + half_mm) * s)
    win = img[y0:y1 + 1, x0:x1 + 1].astype(np.float64)
    ys, xs = np.mgrid[y0:y1 + 1, x0:x1 + 1]
    xs_mm, ys_mm = xs / s, ys / s  # OpenCV's frame: pixel i is centred on i / s mm
    dist = np.hypot(xs_mm - ring.x_mm, ys_mm - ring.y_mm)
    mine = np.abs(dist - ring.r_mm) <= half_mm
    for other in rings:
        if other is not ring and math.hypot(other.x_mm - ring.x_mm, other.y_mm - ring.y_mm) < 2 * ring.r_mm + 1:
            mine &= np.abs(np.hypot(xs_mm - other.x_mm, ys_mm - other.y_mm) - other.r_mm) > np.abs(dist - ring.r_mm)
    w = np.clip((PAPER - win) / (PAPER - ring.gray), 0, 1) * mine
    total = float(w.sum())
    assert total > 0, f"no ink for the ring at ({ring.x_mm}, {ring.y_mm}) mm"
    cx, cy = float((w * xs_mm).sum() / total), float((w * ys_mm).sum() / total)
    r = float((w * np.hypot(xs_mm - cx, ys_mm - cy)).sum() / total)
    return cx, cy, r, total / s**2 / (2 * math.pi * r)


# Frames. Rings are drawn by OpenCV, which puts a point at x_mm * px_per_mm on
# pixel centres (pixel i is centred on i / s mm, as omr.compiled places bubbles);
# boxes are numpy slices [round(x_mm * s), round((x_mm + w_mm) * s)), so pixel i
# spans [i, i + 1) / s mm. The two frames differ by half a pixel (0.085 mm at
# 150 dpi); each primitive is measured in the frame it is drawn in.


def _run(line: np.ndarray, at: int, gray: int) -> tuple[int, int]:
    """The run of ``gray`` pixels in ``line`` that holds index ``at``: ``[start, stop)``."""
    assert line[at] == gray, f"expected gray {gray} at {at}, found {line[at]}"
    start, stop = at, at + 1
    while start > 0 and line[start - 1] == gray:
        start -= 1
    while stop < len(line) and line[stop] == gray:
        stop += 1
    return start, stop


def _rect_found(img: np.ndarray, x_mm: float, y_mm: float, w_mm: float, h_mm: float, gray: int,
                inset_mm: float, s: float) -> tuple[float, float, float, float]:
    """Left, top, right, bottom edges (mm) of the ``gray`` run through a point ``inset_mm``
    inside each edge (through the middle of a side under 4 px)."""

    def probes(lo_mm: float, size_mm: float) -> tuple[int, int]:
        if size_mm * s < 4:
            mid = int((lo_mm + size_mm / 2) * s)
            return mid, mid
        return int((lo_mm + inset_mm) * s), int((lo_mm + size_mm - inset_mm) * s)

    row = img[int((y_mm + h_mm / 2) * s)]
    col = img[:, int((x_mm + w_mm / 2) * s)]
    (x0, x1), (y0, y1) = probes(x_mm, w_mm), probes(y_mm, h_mm)
    left, right = _run(row, x0, gray)[0], _run(row, x1, gray)[1]
    top, bottom = _run(col, y0, gray)[0], _run(col, y1, gray)[1]
    return left / s, top / s, right / s, bottom / s


def _drawn_rects(prims: tuple[Primitive, ...], s: float) -> list[tuple[FilledRect | RectOutline, float]]:
    """Boxes to measure, with how far inside each edge to probe: the hollow marker's
    hole is measured inside the marker, lines thinner than 2 px are not measured
    (a 0.3 mm line is one pixel or none at 38 dpi)."""
    out: list[tuple[FilledRect | RectOutline, float]] = []
    for p in prims:
        if isinstance(p, FilledRect) and min(p.w_mm, p.h_mm) * s >= 2:
            out.append((p, min(p.w_mm, p.h_mm) / 8))
        elif isinstance(p, RectOutline) and p.line_mm * s >= 2:
            out.append((p, p.line_mm / 2))
    return out


@pytest.mark.parametrize("questions,choices,title,dpi", SHEETS + [(0, 0, "legacy", 150.0)])
def test_drawn_geometry_matches_the_layout(questions: int, choices: int, title: str | None, dpi: float) -> None:
    meta = _legacy_meta() if title == "legacy" else build_template(questions, choices, title)
    img, s = render_sheet(meta, dpi=dpi), dpi / 25.4
    tol = _tolerance_mm(s)
    prims = sheet_layout(meta)
    rings = [p for p in prims if isinstance(p, Ring)]
    assert rings
    if 2.4 * s >= 8:  # below ~85 dpi a bubble is a blur of ring and label: nothing to measure
        for ring in rings:
            cx, cy, r, line = _ring_found(img, ring, s, rings)
            where = f"ring at ({ring.x_mm}, {ring.y_mm}) mm"
            assert abs(cx - ring.x_mm) <= GEOMETRY_MM and abs(cy - ring.y_mm) <= GEOMETRY_MM, (where, cx, cy)
            assert abs(r - ring.r_mm) <= GEOMETRY_MM, (where, r)
            # OpenCV draws an anti-aliased circle of thickness t >= 2 px about 2t - 1 px
            # wide: 0.46 mm at 300 dpi for the layout's 0.25 mm (the PDF's). Bounded,
            # not pinned: at least half the layout's width, at most twice it and a
            # pixel of fringe; a disc drawn filled or a width in the wrong unit is not
            assert ring.line_mm / 2 <= line <= 2 * ring.line_mm + 1 / s, (where, line)
    lines = _rings_and_boxes_mask(prims, img.shape, s)
    for t in prims:
        if isinstance(t, Text) and t.cap_mm * s >= 8:  # smaller text is a few pixels of anti-aliasing
            _check_text(img, t, s, lines)
    for rect, inset in _drawn_rects(prims, s):
        got = _rect_found(img, rect.x_mm, rect.y_mm, rect.w_mm, rect.h_mm, rect.gray, inset, s)
        want = (rect.x_mm, rect.y_mm, rect.x_mm + rect.w_mm, rect.y_mm + rect.h_mm)
        assert got == pytest.approx(want, abs=tol), rect


@pytest.mark.parametrize("questions,choices,px_per_mm", [(20, 5, 6.0), (40, 4, 3.0)])
def test_ring_template_matches_the_layout(questions: int, choices: int, px_per_mm: float) -> None:
    """``omr.refine``'s ring template: every ring, where the layout draws it, and nothing else."""
    meta = build_template(questions, choices)
    img = _render_rings(as_sheet_meta(meta), px_per_mm)
    rings = [p for p in sheet_layout(meta) if isinstance(p, Ring)]
    assert len(rings) == 80 + questions * choices
    for ring in rings:
        cx, cy, r, _ = _ring_found(img, ring, px_per_mm, rings)
        assert (cx, cy, r) == pytest.approx((ring.x_mm, ring.y_mm, ring.r_mm), abs=GEOMETRY_MM), ring
    # nothing but rings: no ink outside them (labels, markers, boxes would be)
    ink = img < PAPER
    assert not (ink & ~_rings_and_boxes_mask(tuple(rings), img.shape, px_per_mm)).any()


def _ink(img: np.ndarray, gray: int) -> np.ndarray:
    return img < (PAPER + gray) // 2


def _text_window(t: Text, img: np.ndarray, s: float) -> tuple[slice, slice]:
    """Where ``t`` may put ink: its cap height above the baseline (and half below,
    descenders), as wide as 0.9 cap per character from where the layout anchors it."""
    width = 0.9 * t.cap_mm * len(t.text) + 1
    x0 = {"left": t.x_mm - 0.5, "right": t.x_mm - width, "center": t.x_mm - width / 2}[t.align]
    top = t.y_mm - (1.6 if t.align != "center" else 0.8) * t.cap_mm
    bottom = t.y_mm + (0.6 if t.align != "center" else 0.8) * t.cap_mm
    h, w = img.shape
    return (slice(max(0, int(top * s)), min(h, math.ceil(bottom * s))),
            slice(max(0, int(x0 * s)), min(w, math.ceil((x0 + width) * s))))


def _rings_and_boxes_mask(prims: tuple[Primitive, ...], shape: tuple[int, int], s: float) -> np.ndarray:
    """Pixels of rings and box lines (and a pixel around): left out of text windows."""
    mask = np.zeros(shape, np.uint8)
    for p in prims:
        if isinstance(p, Ring):
            cv2.circle(mask, (round(p.x_mm * s), round(p.y_mm * s)), round(p.r_mm * s), 1,
                       2 * max(1, round(p.line_mm * s)) + 3)  # see the ring width above
        elif isinstance(p, RectOutline):
            x0, y0 = round(p.x_mm * s) - 1, round(p.y_mm * s) - 1
            x1, y1 = round((p.x_mm + p.w_mm) * s) + 1, round((p.y_mm + p.h_mm) * s) + 1
            cv2.rectangle(mask, (x0, y0), (x1, y1), 1, max(1, round(p.line_mm * s)) + 2)
    return mask.astype(bool)


def _check_text(img: np.ndarray, t: Text, s: float, lines: np.ndarray) -> None:
    """``t``'s ink sits where the layout anchors it, as tall as its cap height.

    Font-agnostic on purpose: glyph shapes and advances change between OpenCV
    releases (5.1.0.95 draws "STUDENT ID" 3 px wider at 100 dpi) and with the font.
    """
    win = _text_window(t, img, s)
    ys, xs = np.nonzero(_ink(img, t.gray)[win] & ~lines[win])
    assert len(xs), f"no ink for {t.text!r}"
    px = 1 / s  # and a pixel of rounding on every bound
    left, right = (xs.min() + win[1].start) / s, (xs.max() + 1 + win[1].start) / s
    top, bottom = (ys.min() + win[0].start) / s, (ys.max() + 1 + win[0].start) / s
    lo, hi = TEXT_CAP
    if t.align == "center":
        assert lo * t.cap_mm - px <= bottom - top <= hi * t.cap_mm + px, (t, top, bottom)
        assert abs((left + right) / 2 - t.x_mm) <= TEXT_CENTRE_CAP * t.cap_mm + px, (t, left, right)
        assert abs((top + bottom) / 2 - t.y_mm) <= TEXT_CENTRE_CAP * t.cap_mm + px, (t, top, bottom)
        return
    assert lo * t.cap_mm - px <= t.y_mm - top <= hi * t.cap_mm + px, (t, top)
    assert bottom - t.y_mm <= TEXT_DESCENT_CAP * t.cap_mm + px, (t, bottom)
    if not DESCENDERS & set(t.text):
        assert abs(bottom - t.y_mm) <= TEXT_BASELINE_CAP * t.cap_mm + px, (t, bottom)
    bearing = left - t.x_mm if t.align == "left" else t.x_mm - right
    a, b = TEXT_ANCHOR_CAP
    assert a * t.cap_mm - px <= bearing <= b * t.cap_mm + px, (t, left, right)


def _golden(name: str) -> np.ndarray:
    img = cv2.imread(str(GOLDEN_DIR / name), cv2.IMREAD_UNCHANGED)
    assert img is not None, f"missing golden {name}: draw it with PYTHONPATH=. python {__file__}"
    return img


@pytest.mark.parametrize("name", sorted(GOLDENS))
def test_raster_matches_the_golden(name: str) -> None:
    meta, dpi = GOLDENS[name]
    img, golden = render_sheet(meta, dpi=dpi), _golden(name)
    assert img.shape == golden.shape and img.dtype == golden.dtype == np.uint8
    diff = np.abs(img.astype(np.int16) - golden.astype(np.int16))
    assert float(diff.mean()) < MAX_MEAN_DIFF, float(diff.mean())
    outside = np.ones(img.shape, bool)
    for t in sheet_layout(meta):
        if isinstance(t, Text):
            outside[_text_window(t, img, dpi / 25.4)] = False
    differing_mm2 = float((outside & (diff > DIFF_GRAY)).sum() / (dpi / 25.4) ** 2)
    assert differing_mm2 <= MAX_DIFFERING_MM2, f"{differing_mm2:.1f} mm² of the print differs from {name}"


def test_layout_of_a_ten_question_sheet() -> None:
    prims = sheet_layout(build_template(10, title="Quiz"))
    markers = [p for p in prims if isinstance(p, FilledRect) and p.gray == INK and p.w_mm == p.h_mm]
    assert [(m.x_mm, m.y_mm, m.w_mm) for m in markers] == [
        (8.0, 8.0, 8.0), (281.0, 8.0, 8.0), (281.0, 194.0, 8.0), (8.0, 194.0, 8.0),
        (146.0, 9.5, 5.0), (146.0, 195.5, 5.0)]
    holes = [p for p in prims if isinstance(p, FilledRect) and p.gray == PAPER]
    assert [(h.x_mm, h.y_mm, h.w_mm) for h in holes] == [(10.2, 10.2, 3.6)]
    rings = [p for p in prims if isinstance(p, Ring)]
    assert len(rings) == 80 + 50
    assert {(r.r_mm, r.gray, r.line_mm) for r in rings} == {(2.4 - RING_W_MM / 2, PRINT_GRAY, RING_W_MM)}
    assert sum(isinstance(p, RectOutline) for p in prims) == 8  # one box per ID digit
    texts = [p.text for p in prims if isinstance(p, Text)]
    assert texts[:4] == ["Quiz", "Name", texts[2], "STUDENT ID"]
    assert [p for p in prims if isinstance(p, Text) and p.bold] == [prims[len(markers) + 1]]


def test_legacy_layout_has_no_header_markers_or_id() -> None:
    qs = [{"question_id": 7, "choices": [{"label": lab, "center": {"x": x, "y": 50}, "r": 2.4}
                                         for lab, x in (("A", 100), ("B", 107))]}]
    prims = sheet_layout(meta_from_legacy_questions(qs).raw)
    assert [type(p).__name__ for p in prims] == ["Text", "Ring", "Text", "Ring", "Text"]
    assert [(p.text, p.align) for p in prims if isinstance(p, Text)] == [
        ("7", "right"), ("A", "center"), ("B", "center")]


if __name__ == "__main__":  # redraw the goldens (see the module docstring)
    GOLDEN_DIR.mkdir(parents=True, exist_ok=True)
    for file, (sheet, sheet_dpi) in GOLDENS.items():
        cv2.imwrite(str(GOLDEN_DIR / file), render_sheet(sheet, dpi=sheet_dpi), [cv2.IMWRITE_PNG_COMPRESSION, 9])
        print(GOLDEN_DIR / file, file=sys.stderr)
