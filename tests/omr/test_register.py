"""omr/register.py: the page found from the meta's bubbles alone (no markers of ours)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from omr.answers import read_answers
from omr.errors import AlignmentError
from omr.image import decode_image
from omr.phase import _half_turn_centres
from omr.register import find_rings, page_from_meta, register
from omr.template import build_template, render_sheet

REAL = Path(__file__).parent / "assets" / "real"


def _no_markers(meta: dict[str, Any]) -> dict[str, Any]:
    return {**meta, "markers": []}


def test_blank_image_is_refused() -> None:
    with pytest.raises(AlignmentError) as info:
        register(np.full((800, 600), 230, np.uint8), _no_markers(build_template(10)))
    assert info.value.reason_code == "alignment_failed"


def test_find_rings_on_nothing() -> None:
    xy, size = find_rings(np.full((50, 50), 255, np.uint8))
    assert xy.shape == (0, 2) and size.shape == (0,)


@pytest.mark.parametrize("turns", [0, 1, 2, 3])
def test_our_sheet_without_its_markers_in_any_orientation(turns: int) -> None:
    meta = build_template(20)
    scan = np.ascontiguousarray(np.rot90(render_sheet(meta, dpi=120), -turns))  # clockwise
    reg = register(scan, _no_markers(meta), mode="scan")
    assert reg.rotation == 90 * turns
    assert reg.matched == reg.expected and reg.fit_error_mm < 0.3


def test_a_symmetric_grid_has_a_half_turn_centre() -> None:
    grid = np.array([(x, y) for x in range(5) for y in range(10)], np.float64) * 7.0
    centres = _half_turn_centres(grid, (7.0, 7.0))
    assert np.allclose(centres[0], (14.0, 31.5))


def test_real_photo_of_a_sheet_printed_by_someone_else() -> None:
    """erfantkerfan/bubble-sheet (MIT): oval bubbles, no ID grid, 70 filled questions (zigzag 1,2,3,4,3,2,...)."""
    meta = json.loads((REAL / "erfan_meta.json").read_text())
    page = page_from_meta(decode_image(REAL / "erfan_photo_1400.jpg"), meta)
    assert page.alignment["rotation"] == 0 and page.alignment["fit_error_mm"] < 0.5
    assert page.alignment["rings_matched"] >= 0.8 * page.alignment["rings_expected"]
    zigzag = ["1", "2", "3", "4", "3", "2", "1", "2", "3", "4"]
    answers = read_answers(page, meta)
    right = [a for a in answers if a["detected"] == [zigzag[(a["question_id"] - 1) % 10]]]
    silent = [a for a in answers if a not in right and a["status"] == "ok"]
    assert len(right) >= 68 and silent == []


def test_symmetric_layout_without_paper_edges_is_refused_not_guessed() -> None:
    """rbaron/omr (MIT): a 10x5 grid turned ~30 degrees on white: 0 and 180 degrees fit alike."""
    meta = json.loads((REAL / "rbaron_meta.json").read_text())
    with pytest.raises(AlignmentError) as info:
        register(decode_image(REAL / "rbaron_rotated.png"), meta)
    assert info.value.reason_code == "alignment_failed" and "orientation" in info.value.message


def test_grade_image_falls_back_to_the_bubbles_and_says_the_id_is_not_on_the_sheet() -> None:
    """warp_page calls omr.register when the meta has no markers; a meta with no ID grid is not a review reason."""
    from omr.grade import grade_image

    meta = json.loads((REAL / "erfan_meta.json").read_text())
    result = grade_image(REAL / "erfan_photo_1400.jpg", meta)
    assert result["alignment"]["method"] in ("outline", "page_bounds", "bubble_grid")
    assert result["alignment"]["rings_matched"] >= 0.8 * result["alignment"]["rings_expected"]
    assert result["identifier"]["identifier"] is None and result["identifier"]["status"] == "not_on_sheet"
    assert not any(r.startswith(("identifier_", "alignment_")) for r in result["review"]["reasons"])


def test_a_blank_page_is_still_refused_with_the_fallback() -> None:
    """No marker matched, so the bubbles are tried: none printed, refused."""
    from omr.grade import grade_image

    with pytest.raises(AlignmentError):
        grade_image(np.full((900, 1200), 235, np.uint8), build_template(10), mode="photo")
