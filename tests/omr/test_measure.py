"""``omr.measure`` on marks drawn at 6 px/mm: every field of the measured bubble.

The drawings are deterministic (no noise); the values document what each
measure sees in each kind of mark. They are compared within ``MEASURE_ABS``,
not exactly: the page's labels and the marks are anti-aliased by OpenCV, whose
rasteriser moves a few edge pixels between releases (5.0.0.93 -> 5.1.0.95
moved ``cover`` of a dot on the label by 0.019, ``solid`` of an X by 0.020).
"""

import numpy as np
import pytest

from omr.compiled import compile_sheet
from omr.measure import Measures, bubble_masks, measure
from omr.meta import as_sheet_meta, meta_from_legacy_questions
from omr.template import build_template, render_sheet
from tests.omr._draw import (
    Draw,
    S,
    centre,
    draw_dot_on_label,
    draw_erased,
    draw_fill,
    draw_half,
    draw_tick,
    draw_x,
)

FIELDS = ("fill", "peak", "cover", "solid", "gaps", "ink", "clear", "clear_room_mm", "label_ink")
MEASURE_ABS = 0.03
"""Tolerance of the fractions (of the disc, or of paper brightness). 0.03 of a
2.4 mm disc at 6 px/mm is about 20 pixels: a changed disc mask (one pixel more
or less of radius is about 14% of the disc), a changed ink threshold or a
measure computed on the wrong pixels moves these values by more; an OpenCV
release's anti-aliasing moved them by at most 0.020."""


def test_degenerate_sheet_without_id_grid_measures_no_id_bubbles() -> None:
    qs = [{"question_id": 1, "choices": [{"label": lab, "center": {"x": x, "y": 50}, "r": 2.4}
                                         for lab, x in (("1", 100), ("2", 107))]}]
    sheet = meta_from_legacy_questions(qs)
    page = render_sheet(sheet.raw, dpi=S * 25.4)
    m = measure(page, compile_sheet(sheet, S), "identifier")
    assert all(len(f) == 0 for f in m)
    assert m.gaps.dtype == np.intp


@pytest.mark.parametrize(("draw", "expected"), [
    (None, (0.0, 0.0, 0.0, 0.0, 1, 0.0, 1.0, 1.667, 0.0)),
    (draw_fill, (0.765, 0.765, 1.0, 1.0, 0, 0.971, 0.0, 0.0, 0.538)),
    (draw_half, (0.485, 0.725, 0.668, 0.637, 1, 0.659, 0.332, 0.5, 0.409)),  # one solid region, one clear side
    (draw_x, (0.338, 0.843, 0.387, 0.043, 4, 0.516, 0.613, 0.5, 0.538)),  # thin strokes, four wedges
    (draw_tick, (0.3, 0.843, 0.387, 0.082, 2, 0.424, 0.613, 0.5, 0.332)),
    (draw_dot_on_label, (0.02, 0.0, 0.051, 0.039, 1, 0.192, 0.949, 1.667, 0.214)),  # seen on the label
    (draw_erased, (0.051, 0.051, 0.0, 0.0, 1, 0.0, 1.0, 1.667, 0.022)),  # faint everywhere, no ink
])
def test_measures_of_one_drawn_mark(draw: Draw | None, expected: tuple[float, ...]) -> None:
    meta = build_template(5)
    page = render_sheet(meta, dpi=S * 25.4)
    if draw is not None:
        draw(page, *centre(meta, 2, "3"))
    every = measure(page, compile_sheet(as_sheet_meta(meta), S), "answers")
    assert isinstance(every, Measures) and every.fill.shape == (25,)
    got = every.take(slice(7, 8))  # question 2, choice "3"
    want = dict(zip(FIELDS, expected, strict=True))
    # gaps is a count of separate empty regions (an X leaves four wedges): exact,
    # the drawings leave no region near a pixel of closing; clear_room_mm is a
    # distance on the 6 px/mm grid: within one pixel
    tolerance = {"gaps": 0.0, "clear_room_mm": 1 / S + 1e-3}
    assert {k: float(getattr(got, k)[0]) for k in FIELDS} == {
        k: pytest.approx(v, abs=tolerance.get(k, MEASURE_ABS)) for k, v in want.items()}
    others = every.take(np.r_[0:7, 8:25])
    assert float(others.fill.max()) < 0.02 and float(others.cover.max()) == 0.0


def test_bubble_masks_follow_the_meta_order() -> None:
    sheet = as_sheet_meta(build_template(3, choices=4))
    printed = render_sheet(sheet.raw, dpi=S * 25.4)
    m = bubble_masks(sheet, printed, S, "answers")
    first = sheet.questions[0].choices[0]
    assert m.centers_px.shape == (12, 2)
    assert m.centers_px[0].tolist() == [round(first.x_mm * S), round(first.y_mm * S)]
    assert m.label_group.tolist() == [0, 1, 2, 3] * 3
    assert m.keep.shape == m.flat_inner.shape and not m.keep.all()  # the printed labels are left out
    ident = bubble_masks(sheet, printed, S, "identifier")
    assert ident.centers_px.shape == (80, 2)


def test_paper_plane_normal_equations_are_exact_integer_sums() -> None:
    """The plane's normal equations by matmul equal the einsum they replace to the bit:
    0/1 weights times integer offsets and grey levels sum exactly in float32."""
    from omr.bubble_masks import _offsets

    rng = np.random.default_rng(3)
    off = _offsets(20.0, 27.0).astype(np.float32)  # an annulus of a large bubble at 6 px/mm
    a = np.stack([np.ones(len(off), np.float32), off[:, 1], off[:, 0]], 1)
    ann = rng.integers(0, 256, (50, len(off))).astype(np.float32)
    w = (rng.random((50, len(off))) > 0.3).astype(np.float32)
    aa = (a[:, :, None] * a[:, None, :]).reshape(len(a), 9)
    assert np.array_equal((w @ aa).reshape(-1, 3, 3), np.einsum("ki,nk,kj->nij", a, w, a))
    assert np.array_equal((w * ann) @ a, np.einsum("ki,nk->ni", a, w * ann))
