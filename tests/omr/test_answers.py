"""Answer statuses on sheets drawn on the template and photographed."""

from typing import Any

import numpy as np
import pytest

from omr.answers import read_answers
from omr.template import render_sheet
from omr.warp import WarpedPage, warp_page


def _read(meta: dict[str, Any], page: np.ndarray, photo_factory: Any = None) -> list[dict[str, Any]]:
    gray = photo_factory(page) if photo_factory else page
    return read_answers(warp_page(gray, meta, "photo" if photo_factory else "scan"), meta)


def test_blank_sheet_all_blank(meta10) -> None:
    res = _read(meta10, render_sheet(meta10, dpi=150))
    assert [a["status"] for a in res] == ["blank"] * 10
    assert all(a["detected"] == [] and a["marking"] == "blank" for a in res)


def test_ok_single_marks_photo(meta10, sheet_factory, photo_factory) -> None:
    answers = {q: [str((q % 5) + 1)] for q in range(1, 11)}
    res = _read(meta10, sheet_factory(meta10, answers, "12345678"), photo_factory)
    for a in res:
        assert a["status"] == "ok", a
        assert a["detected"] == answers[a["question_id"]]
        assert 0.0 <= a["confidence"] <= 1.0


def test_pencil_light_marks(meta10, sheet_factory, photo_factory) -> None:
    answers = {q: ["3"] for q in range(1, 11)}
    res = _read(meta10, sheet_factory(meta10, answers, None, gray=140), photo_factory)
    assert all(a["detected"] == ["3"] and a["status"] in ("ok", "low_confidence") for a in res)


def test_multi(meta10, sheet_factory) -> None:
    res = _read(meta10, sheet_factory(meta10, {1: ["1", "4"]}, None))
    assert res[0]["status"] == "multi" and res[0]["detected"] == ["1", "4"] and res[0]["marking"] == "multi"


def _fill(page: np.ndarray, meta: dict[str, Any], q: int, label: str, **kw: Any) -> None:
    import cv2

    s = 150 / 25.4
    c = next(c for c in meta["questions"][q - 1]["choices"] if c["label"] == label)
    x, y, r = c["center"]["x"], c["center"]["y"], c["r"]
    frac = kw.get("frac", 1.0)
    mask = np.zeros_like(page)
    cv2.circle(mask, (round(x * s), round(y * s)), round(r * 0.95 * s), 255, -1)
    mask[:, round((x - r + 2 * r * frac) * s):] = 0
    page[mask > 0] = np.minimum(page[mask > 0], kw.get("gray", 40))


def test_ambiguous_tiny_fill(meta10) -> None:
    page = render_sheet(meta10, dpi=150)
    _fill(page, meta10, 2, "3", frac=0.22)
    res = _read(meta10, page)
    assert res[1]["status"] == "ambiguous"


def test_low_confidence_just_above_bar() -> None:
    from omr.marks import DEFAULT_THRESHOLDS as th
    from omr.marks import decide_group

    f = np.array([0.01, th.mark_min + th.margin / 2, 0.0, 0.02], np.float32)
    d = decide_group(f, f, typical=0.2)
    assert d["status"] == "low_confidence" and d["marked"] == [1]


def test_erased_residue_and_stray_marks_do_not_count(meta10) -> None:
    import cv2

    page = render_sheet(meta10, dpi=150)
    _fill(page, meta10, 5, "1", gray=245)  # erased pencil: ~4% darker than paper
    s = 150 / 25.4
    c = meta10["questions"][5]["choices"][2]
    x, y = round(c["center"]["x"] * s), round((c["center"]["y"] + 3.3) * s)
    cv2.line(page, (x - 12, y), (x + 12, y), 30, 2)  # a tick under the bubble, outside the ring
    res = _read(meta10, page)
    assert res[4]["status"] == "blank" and res[5]["status"] == "blank"


def test_crossed_out_is_flagged(meta10) -> None:
    """An X over a filled bubble plus another fill: multi -> reviewed (the crossed-out rule)."""
    import cv2

    page = render_sheet(meta10, dpi=150)
    _fill(page, meta10, 7, "1")
    _fill(page, meta10, 7, "4")
    s = 150 / 25.4
    c = meta10["questions"][6]["choices"][0]
    x, y, r = c["center"]["x"] * s, c["center"]["y"] * s, c["r"] * 1.1 * s
    cv2.line(page, (round(x - r), round(y - r)), (round(x + r), round(y + r)), 20, 3)
    cv2.line(page, (round(x - r), round(y + r)), (round(x + r), round(y - r)), 20, 3)
    assert _read(meta10, page)[6]["status"] in ("multi", "ambiguous")


def test_error_outside_photo(meta10) -> None:
    page = render_sheet(meta10, dpi=150)
    wp = warp_page(page, meta10, "scan")
    cut = WarpedPage(wp.page, wp.px_per_mm, wp.alignment, [[150, 0], [297, 0], [297, 210], [150, 210]])
    res = read_answers(cut, meta10)
    assert res[0]["status"] == "error"


@pytest.mark.parametrize("status", ["ok", "blank", "multi", "ambiguous", "low_confidence", "error"])
def test_status_vocabulary(status: str) -> None:
    from omr import answers

    assert status in (answers.__doc__ or "")
