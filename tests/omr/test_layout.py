"""The sheet layout, and the raster drawn from it (pinned pixel for pixel).

The raster is what alignment and the label masks compare photos against: the
hashes below are those of the renderer before it was rebuilt over
``omr.layout`` (commit 618f50e), so a layout edit that moves one pixel fails
here, not silently in grading.
"""

import hashlib

import pytest

from omr.layout import (
    INK,
    PAPER,
    PRINT_GRAY,
    RING_W_MM,
    FilledRect,
    RectOutline,
    Ring,
    Text,
    sheet_layout,
)
from omr.meta import as_sheet_meta, meta_from_legacy_questions
from omr.refine import _render_rings
from omr.template import build_template, render_sheet


def _sha(img) -> str:
    return hashlib.sha256(img.tobytes()).hexdigest()[:16]


@pytest.mark.parametrize("questions,choices,title,dpi,sha", [
    (10, 5, None, 150.0, "f4d4fa03b07fca67"),
    (20, 5, None, 6 * 25.4, "2c8de6e4bd8915f8"),
    (20, 4, "Quiz", 300.0, "aa7c1d78f2d42467"),
    (50, 5, "A long title", 1.5 * 25.4, "3d4e1ba503eeb44e"),
    (100, 4, None, 200.0, "08340cd8c603d7e6"),
    (30, 5, None, 100.0, "869ed539d3c86777"),
])
def test_raster_is_pixel_identical_to_the_pinned_render(questions, choices, title, dpi, sha) -> None:
    assert _sha(render_sheet(build_template(questions, choices, title), dpi=dpi)) == sha


def test_legacy_meta_raster_is_pinned() -> None:
    qs = [{"question_id": i + 1, "choices": [{"label": str(k + 1), "center": {"x": 100 + 7 * k, "y": 40 + 8 * i},
                                              "r": 2.4} for k in range(4)]} for i in range(5)]
    assert _sha(render_sheet(meta_from_legacy_questions(qs).raw, dpi=150)) == "dea50d7d02e61a2f"


@pytest.mark.parametrize("questions,choices,px_per_mm,sha", [
    (20, 5, 6.0, "d226d70f8679962e"),
    (40, 4, 3.0, "fa8693a848a8b45b"),
])
def test_ring_template_is_pinned(questions, choices, px_per_mm, sha) -> None:
    assert _sha(_render_rings(as_sheet_meta(build_template(questions, choices)), px_per_mm)) == sha


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
