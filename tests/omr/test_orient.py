"""omr/orient.py and the orientation proof in omr/register.py: a grid that looks the same turned half way."""

from __future__ import annotations

from typing import Any

import cv2
import numpy as np
import pytest

from omr.errors import AlignmentError
from omr.meta import load_meta
from omr.orient import proves, ring_evidence
from omr.register import _Cues, _orient, register

PX_PER_MM = 8.0


def _symmetric_card(timing: bool) -> tuple[dict[str, Any], np.ndarray]:
    """A 10 x 5 grid of rings (the same turned half way), black timing bars left of each row, on a white
    flatbed that is larger than the card and as light as it (the paper's edges do not show)."""
    rows, cols, pitch_x, pitch_y, x0, y0 = 10, 5, 6.0, 7.0, 30.0, 20.0
    questions: list[dict[str, Any]] = [{"question_number": r + 1, "choices": [
        {"label": str(c + 1), "center": {"x": x0 + c * pitch_x, "y": y0 + r * pitch_y}, "r": 1.5}
        for c in range(cols)]} for r in range(rows)]
    meta: dict[str, Any] = {"version": "objective_v1", "units": "mm", "page": {"size": {"width": 80.0, "height": 100.0}},
                            "markers": [], "questions": questions}
    bars: list[dict[str, Any]] = [{"center": {"x": 12.0, "y": y0 + r * pitch_y}, "width": 5.0, "height": 1.8} for r in range(rows)]
    if timing:
        meta["timing"] = {"side": "left", "bars": bars}
    card = np.full((round(100 * PX_PER_MM), round(80 * PX_PER_MM)), 250, np.uint8)
    for q in questions:
        for c in q["choices"]:
            centre = (round(c["center"]["x"] * PX_PER_MM), round(c["center"]["y"] * PX_PER_MM))
            cv2.circle(card, centre, round(1.5 * PX_PER_MM), 60, 2)
    for b in bars:
        x, y = b["center"]["x"], b["center"]["y"]
        cv2.rectangle(card, (round((x - 2.5) * PX_PER_MM), round((y - 0.9) * PX_PER_MM)),
                      (round((x + 2.5) * PX_PER_MM), round((y + 0.9) * PX_PER_MM)), 10, -1)
    glass = np.full((card.shape[0] + 300, card.shape[1] + 260), 250, np.uint8)
    glass[120:120 + card.shape[0], 90:90 + card.shape[1]] = card
    return meta, glass


@pytest.mark.parametrize("turned", [False, True])
def test_timing_marks_tell_a_symmetric_grid_upright_from_turned(turned: bool) -> None:
    meta, scan = _symmetric_card(timing=True)
    if turned:
        scan = np.ascontiguousarray(scan[::-1, ::-1])
    reg = register(scan, meta, mode="scan")
    assert reg.rotation == (180 if turned else 0) and reg.matched == reg.expected


def test_without_timing_marks_the_same_card_is_refused_not_guessed() -> None:
    meta, scan = _symmetric_card(timing=False)
    with pytest.raises(AlignmentError) as info:
        register(scan, meta, mode="scan")
    assert info.value.reason_code == "alignment_failed" and "orientation unknown" in info.value.message


def test_timing_bars_are_validated() -> None:
    meta, _ = _symmetric_card(timing=True)
    assert len(load_meta(meta).timing_bars) == 10
    meta["timing"]["bars"][0]["center"]["x"] = 50.0  # among the bubbles, not left of them
    with pytest.raises(Exception, match="not left of the bubbles"):
        load_meta(meta)
    meta["timing"] = {"side": "up", "bars": []}
    with pytest.raises(Exception, match="meta_invalid"):
        load_meta(meta)


def test_a_wrong_half_turn_that_matched_most_bubbles_is_replaced_by_the_placement_the_rings_prefer() -> None:
    """The known gap: a poor first scale left only the wrong half turn, 100 of 116 bubbles matched."""
    mm = np.array([(x * 5.0, y * 7.0) for x in range(10) for y in range(10)]
                  + [(x * 5.0, -7.0) for x in range(8)] + [(x * 5.0, -14.0) for x in range(8)], np.float64)
    right = np.diag([6.0, 6.0, 1.0]) @ np.array([[1, 0, 20.0], [0, 1, 30.0], [0, 0, 1]])
    rings = cv2.perspectiveTransform(mm[None], right)[0]
    cx, cy = 22.5, 31.5  # the 10 x 10 block's centre: the half turn keeps it, moves the 16 above it below
    wrong = right @ np.array([[-1.0, 0, 2 * cx], [0, -1.0, 2 * cy], [0, 0, 1]])
    sheet = load_meta({"version": "objective_v1", "units": "mm", "page": {"size": {"width": 100.0, "height": 120.0}},
                       "markers": [], "questions": [{"question_number": 1, "choices": [
                           {"label": str(i), "center": {"x": 60.0 + 5 * i, "y": 60.0}, "r": 1.5} for i in (1, 2)]}]})
    cues = _Cues(np.full((900, 900), 255, np.uint8), rings, mm, sheet, [], 0.25 * 5.0 * 6.0)
    assert ring_evidence(rings, mm, right, wrong, tol_px=cues.tol_px) == (16, 0) and proves(16, 0)
    chosen = _orient((100, 0.1, "bubble_grid", wrong), [(116, 0.1, "bubble_grid", right)], cues, np.eye(3))
    assert chosen[3] is right
    with pytest.raises(AlignmentError):  # a rival that nothing tells apart (here: the same one turned) refuses
        _orient((116, 0.1, "bubble_grid", right), [(116, 0.1, "bubble_grid", right @ np.diag([1.0, 1.0, 1.0]) @
                 np.array([[-1.0, 0, 45.0], [0, -1.0, 49.0], [0, 0, 1]]))], _Cues(cues.small, rings[:0], mm, sheet,
                 [], cues.tol_px), np.eye(3))
