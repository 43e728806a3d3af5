"""omr/register.py, omr/phase.py: a periodic grid fits itself one step off; registration must prove its phase or say so."""

from __future__ import annotations

from typing import Any

import cv2
import numpy as np
import pytest

from omr.errors import AlignmentError
from omr.grade import grade_image
from omr.meta import as_sheet_meta
from omr.phase import SHIFTS, _grid_ends, _grid_step_mm, _phase, _shift
from omr.register import register
from omr.rings import _bubble_centres

PX = 7.0  # px per mm of the drawn test images (no downscaling for ring detection)
R_MM, PITCH_X, PITCH_Y = 2.0, 6.0, 7.0
BLOCKS = ((20.0, 30.0, 10, 5), (60.0, 30.0, 6, 5), (110.0, 30.0, 4, 4))  # x0, y0, rows, columns (mm)


def _meta(blocks: tuple[tuple[float, float, int, int], ...] = BLOCKS) -> dict[str, Any]:
    qs, n = [], 0
    for x0, y0, rows, cols in blocks:
        for r in range(rows):
            n += 1
            qs.append({"question_number": n, "choices": [
                {"label": str(c + 1), "center": {"x": x0 + c * PITCH_X, "y": y0 + r * PITCH_Y}, "r": R_MM}
                for c in range(cols)]})
    return {"version": "objective_v1", "units": "mm", "page": {"size": {"width": 170, "height": 120}},
            "markers": [], "questions": qs}


def _draw(extra_rows: int = 0, extra_cols: int = 0, fill: dict[int, int] | None = None) -> np.ndarray:
    """The blocks printed with ``extra_rows`` more rows below and ``extra_cols`` more columns right, on a
    white area larger than the page (a flatbed with white all round: no paper edge to go by)."""
    img = np.full((round(160 * PX), round(200 * PX)), 250, np.uint8)
    off = np.array([25.0, 20.0])
    q = 0
    for x0, y0, rows, cols in BLOCKS:
        for r in range(rows + extra_rows):
            q += r < rows
            for c in range(cols + extra_cols):
                x, y = (np.array([x0 + c * PITCH_X, y0 + r * PITCH_Y]) + off) * PX
                cv2.circle(img, (round(x), round(y)), round(R_MM * PX), 90, 2, cv2.LINE_AA)
                if fill and r < rows and c < cols and fill.get(q) == c:
                    cv2.circle(img, (round(x), round(y)), round(R_MM * PX * 0.9), 30, -1, cv2.LINE_AA)
    return img


def test_the_printed_grid_as_described_is_proven() -> None:
    reg = register(_draw(), _meta(), mode="scan")
    assert reg.phase == "proven" and reg.matched == reg.expected and reg.phase_unproven == ()
    centre = cv2.perspectiveTransform(np.array([[[20.0, 30.0]]]), np.linalg.inv(reg.h_img_to_mm))[0, 0]
    assert np.allclose(centre / PX, [45.0, 50.0], atol=0.5)  # the first bubble, not one a step away


@pytest.mark.parametrize(("rows", "cols"), [(1, 0), (0, 1), (1, 1)])
def test_a_grid_that_continues_beyond_the_meta_is_uncertain_not_silent(rows: int, cols: int) -> None:
    """One more printed row (or column) than the meta: the meta fits two placements a step apart."""
    try:
        reg = register(_draw(rows, cols), _meta(), mode="scan")
    except AlignmentError:
        return  # refused is not silent
    assert reg.phase == "uncertain" and reg.phase_unproven


def test_grade_image_flags_an_unproven_phase() -> None:
    fill = {q: (q * 3) % 4 for q in range(1, 21)}
    img = _draw(1, 0, fill)
    result = grade_image(img, _meta(), mode="scan")
    assert result["alignment"]["phase"] == "uncertain"
    assert "alignment_uncertain" in result["review"]["reasons"] and result["review"]["needed"]
    ok = grade_image(_draw(0, 0, fill), _meta(), mode="scan")
    assert ok["alignment"]["phase"] == "proven" and "alignment_uncertain" not in ok["review"]["reasons"]
    assert [a["detected"] for a in ok["answers"][:4]] == [[str(fill[q] + 1)] for q in range(1, 5)]


@pytest.mark.parametrize("shift", SHIFTS)
def test_a_placement_one_step_off_is_caught_and_the_right_one_preferred(shift: tuple[int, int]) -> None:
    """The fit of a placement shifted by one row, column or both is as good; the rings beyond the ends are not."""
    meta = _meta()
    reg = register(_draw(), meta, mode="scan")
    mm, _r = _bubble_centres(as_sheet_meta(meta))
    step = _grid_step_mm(mm)
    assert step == pytest.approx((PITCH_X, PITCH_Y))
    h = np.asarray(np.linalg.inv(reg.h_img_to_mm), np.float64)
    off = h @ _shift(shift[0] * step[0], shift[1] * step[1])
    rings = cv2.perspectiveTransform(mm[None], h)[0]  # every printed ring is found
    unproven, preferred = _phase(rings, mm, off, PITCH_X * PX, _grid_ends(mm, step))
    assert shift in unproven or unproven  # the shifted placement is not proven ...
    back = (-shift[0], -shift[1])
    assert preferred and preferred[0] == back  # ... and the rings point back to the true one
    assert _phase(rings, mm, h, PITCH_X * PX, _grid_ends(mm, step)) == ([], [])


def test_a_placement_leaving_visible_bubbles_without_rings_is_uncertain() -> None:
    """A card fitted by part of its meta (a cut-off card placed a whole block over matched 172 of
    285 bubbles, phase "proven", 24 marks wrong): the meta's bubbles that land inside the image with
    no ring there make the placement unproven. Here the pink card photo of ``test_dropout.py`` with
    two rows of 20 bubbles the card does not print, below its grid: the best placement of that meta
    (155 of 200 matched) leaves 22 of the 140 bubbles it puts inside the photo without a ring."""
    import json
    from pathlib import Path

    assets = Path(__file__).parent / "assets" / "korean_card"
    meta = json.loads((assets / "meta.json").read_text("utf-8"))
    data = (assets / "pink_photo.jpg").read_bytes()
    assert grade_image(data, meta)["alignment"]["phase"] == "proven"
    extra = [{"question_number": 100 + 4 * row + i, "choices": [
        {"label": str(c + 1), "center": {"x": round(18.0 + (5 * i + c) * 4.2, 2), "y": y}, "r": 1.25}
        for c in range(5)]} for row, y in enumerate((111.0, 116.5)) for i in range(4)]
    r = grade_image(data, {**meta, "questions": meta["questions"] + extra})
    assert r["alignment"]["phase"] == "uncertain"
    assert "alignment_uncertain" in r["review"]["reasons"]
