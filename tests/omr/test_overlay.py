"""``omr.overlay.render_overlay``: which colour goes where, pixel by pixel."""

import numpy as np

from omr.grade import grade_image_with_page
from omr.meta import as_sheet_meta
from omr.overlay import BLUE, GRAY, GREEN, ORANGE, RED, render_overlay
from omr.template import render_sheet
from omr.warp import WarpedPage

S = 6.0


def _px(img: np.ndarray, x_mm: float, y_mm: float) -> tuple[int, ...]:
    return tuple(int(v) for v in img[round(y_mm * S), round(x_mm * S)])


def test_colours_by_status(meta10) -> None:
    sheet = as_sheet_meta(meta10)
    page = WarpedPage(render_sheet(meta10, dpi=S * 25.4), S, {"method": "fiducials"})
    result = {
        "answers": [{"question_id": 1, "detected": ["2"], "status": "ok"},
                    {"question_id": 2, "detected": ["1", "3"], "status": "multi"},
                    {"question_id": 3, "detected": [], "status": "blank"}],
        "identifier": {"digits": [{"digit_index": 1, "value": 4, "status": "ok"},
                                  {"digit_index": 2, "value": None, "status": "multi"}]},
        "alignment": {"method": "fiducials", "rotation": 0, "fit_error_mm": 0.1},
        "review": {"needed": True},
    }
    img = render_overlay(page, result, meta10)
    assert img.shape == (1260, 1782, 3) and img.dtype == np.uint8
    q1, q2, q3 = (q.choices for q in sheet.questions[:3])
    assert _px(img, q1[1].x_mm, q1[1].y_mm) == GREEN  # the ok mark: filled green
    left = img[round((q1[0].y_mm - 2.5) * S):round((q1[0].y_mm + 2.5) * S), round((q1[0].x_mm - 2.5) * S):round((q1[0].x_mm + 2.5) * S)]
    assert (left == page.page[round((q1[0].y_mm - 2.5) * S):round((q1[0].y_mm + 2.5) * S),
                              round((q1[0].x_mm - 2.5) * S):round((q1[0].x_mm + 2.5) * S), None]).all()  # untouched
    assert [_px(img, c.x_mm, c.y_mm) for c in (q2[0], q2[2])] == [RED, RED]  # flagged: marks filled red
    ring_r = q2[1].r_mm + 0.6
    assert _px(img, q2[1].x_mm + ring_r, q2[1].y_mm) == RED  # and every bubble ringed red
    assert _px(img, q3[0].x_mm - 5, q3[0].y_mm) == GRAY  # blank: a gray dash before the row
    d1 = next(b for b in sheet.id_bubbles if b.digit_index == 1 and b.number == 4)
    assert _px(img, d1.x_mm, d1.y_mm) == BLUE
    d2 = [b for b in sheet.id_bubbles if b.digit_index == 2]
    assert {_px(img, b.x_mm + b.r_mm + 0.6, b.y_mm) for b in d2} == {ORANGE}  # a multi digit: all ringed
    assert ORANGE not in {_px(img, b.x_mm, b.y_mm) for b in d2}  # none filled
    untouched = img[round(150 * S):round(190 * S), round(200 * S):round(280 * S)]
    assert (untouched == 255).all()  # nothing drawn where there is nothing to say


def test_overlay_of_a_graded_sheet(meta10, sheet_factory) -> None:
    page = sheet_factory(meta10, {1: ["2"], 2: ["1", "3"]}, "12345678")
    result, wp = grade_image_with_page(page, meta10, mode="scan")
    assert [a["status"] for a in result["answers"][:3]] == ["ok", "multi", "blank"]
    img = render_overlay(wp, result, meta10)
    sheet = as_sheet_meta(meta10)
    c = sheet.questions[0].choices[1]
    assert _px(img, c.x_mm, c.y_mm) == GREEN
    assert [_px(img, x.x_mm, x.y_mm) for x in (sheet.questions[1].choices[0], sheet.questions[1].choices[2])] == [
        RED, RED]
    ids = [b for b in sheet.id_bubbles if (b.digit_index, b.number) in {(1, 1), (8, 8)}]
    assert [_px(img, b.x_mm, b.y_mm) for b in ids] == [BLUE, BLUE]
