"""Answer statuses on sheets drawn on the template and photographed."""

from typing import Any

import cv2
import numpy as np
import pytest

from omr.answers import read_answers
from omr.template import build_template, render_sheet
from omr.warp import WarpedPage, warp_page
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
    assert [(a["status"], a["detected"]) for a in res] == [("ok", ["3"])] * 10


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
    got = _read(meta10, page)[6]
    assert (got["status"], got["detected"]) == ("multi", ["1", "4"])


def test_error_outside_photo(meta10) -> None:
    """Only the top 60 mm of the page was photographed: questions 5-10 (rows at y >= 59.2 mm) are errors."""
    page = render_sheet(meta10, dpi=150)
    wp = warp_page(page, meta10, "scan")
    cut = WarpedPage(wp.page, wp.px_per_mm, wp.alignment, [[0, 0], [297, 0], [297, 60], [0, 60]])
    res = read_answers(cut, meta10)
    assert [a["status"] for a in res] == ["blank"] * 4 + ["error"] * 6
    # the fills of the photographed part of a row are read from anti-aliased print
    # (0.001 or 0.0 depending on the OpenCV release): near zero, not exactly it;
    # 0.01 is far below blank_fill (0.085), so any ink read there still fails
    assert res[4] == {"question_id": 5, "detected": [], "marking": "blank", "confidence": 0.0, "status": "error",
                      "fills": {k: pytest.approx(0.0, abs=0.01) for k in "12345"}, "reason": "outside_photo"}


def _strokes_page(meta: dict[str, Any], draw: dict[tuple[int, str], str], dpi: int = 300,
                  blur_px: float = 1.2, step_mm: float = 0.55, width_mm: float = 0.35,
                  dot_r: float = 0.3, dot_gray: int = 85) -> np.ndarray:
    """Fills in pen on most questions, and pencil strokes of the kind ``draw`` names on some bubbles.

    ``hatch``: a circle traced on the ring, then zigzag hatching inside it;
    ``x``: an X over the bubble; ``dot``: a small dot on the printed number.
    The page is drawn at ``dpi`` and blurred (a phone photo), then graded as a scan.
    """
    import cv2

    page = render_sheet(meta, dpi=dpi)
    s = dpi / 25.4
    pencil = 85
    for q in meta["questions"]:
        for c in q["choices"]:
            x, y, r = c["center"]["x"] * s, c["center"]["y"] * s, c["r"] * s
            kind = draw.get((q["question_number"], c["label"]))
            if kind is None and c["label"] == "5" and not any(k[0] == q["question_number"] for k in draw):
                cv2.circle(page, (round(x), round(y)), round(0.95 * r), pencil, -1, cv2.LINE_AA)
            elif kind == "hatch":
                w = max(2, round(width_mm * s))
                cv2.circle(page, (round(x), round(y)), round(0.98 * r), pencil, w, cv2.LINE_AA)
                step = step_mm * s
                pts = []
                for i, yy in enumerate(np.arange(y - r, y + r, step)):
                    half = np.sqrt(max(r * r - (yy - y) ** 2, 0.0)) * 0.95
                    pts.append((round(x - half if i % 2 else x + half), round(yy)))
                cv2.polylines(page, [np.array(pts, np.int32)], False, pencil, w, cv2.LINE_AA)
            elif kind == "x":
                w = max(2, round(0.4 * s))
                for dx in (-1, 1):
                    cv2.line(page, (round(x - r), round(y - dx * r)), (round(x + r), round(y + dx * r)),
                             pencil, w, cv2.LINE_AA)
            elif kind == "dot":
                cv2.circle(page, (round(x), round(y)), round(dot_r * r), dot_gray, -1, cv2.LINE_AA)
    return np.asarray(cv2.GaussianBlur(page, (0, 0), blur_px), np.uint8)


def test_hatched_fill_inside_a_traced_circle_is_a_mark(meta10) -> None:
    """Zigzag hatching leaves slivers, not the clear wedges of an X: it is a fill."""
    from dataclasses import replace

    from omr.decide import DEFAULT_THRESHOLDS

    page = _strokes_page(meta10, {(3, "2"): "hatch", (6, "4"): "hatch"}, step_mm=0.65)
    wp = warp_page(page, meta10, "scan")
    res = read_answers(wp, meta10)
    assert (res[2]["status"], res[2]["detected"]) == ("ok", ["2"]), res[2]
    assert (res[5]["status"], res[5]["detected"]) == ("ok", ["4"]), res[5]
    # without the hatch rule the same marks read as strokes (what it fixes)
    strict = read_answers(wp, meta10, thresholds=replace(DEFAULT_THRESHOLDS, hatch_clear=0.0))
    assert strict[2]["status"] == "ambiguous"


def test_x_over_an_empty_bubble_stays_flagged(meta10) -> None:
    page = _strokes_page(meta10, {(2, "3"): "x", (7, "1"): "x", (7, "4"): "hatch"}, step_mm=0.65)
    res = _read(meta10, page)
    assert res[1]["status"] == "ambiguous"  # X alone: never a mark
    assert res[6]["status"] == "ambiguous" and res[6]["detected"] == ["4"]  # X beside the answer


def test_dot_on_the_printed_number_is_flagged(meta10) -> None:
    """A small dot on the label, spread thin by blur, is questionable, never a clean blank."""
    from dataclasses import replace

    from omr.decide import DEFAULT_THRESHOLDS

    page = _strokes_page(meta10, {(4, "2"): "dot"}, blur_px=2.5, dot_r=0.2, dot_gray=60)
    wp = warp_page(page, meta10, "scan")
    assert read_answers(wp, meta10)[3]["status"] == "ambiguous"
    # the label's own darkness is what catches it (the disc measures see almost nothing)
    no_label_rule = replace(DEFAULT_THRESHOLDS, label_ink=9.0)
    assert read_answers(wp, meta10, thresholds=no_label_rule)[3]["status"] == "blank"


@pytest.mark.parametrize(
    ("draws", "status", "detected"),
    [
        ([], "blank", []),
        ([(draw_fill, "2")], "ok", ["2"]),
        ([(draw_half, "4")], "ok", ["4"]),  # partial fill: one solid region, one empty side
        ([(draw_x, "3")], "ambiguous", ["3"]),  # X over an empty bubble: flagged, never ok
        ([(draw_tick, "1")], "ambiguous", ["1"]),  # a tick in the bubble
        ([(draw_dot_on_label, "2")], "ambiguous", ["2"]),  # small mark on the number: flagged, never blank
        ([(draw_erased, "3")], "blank", []),  # erased residue is not a mark
        ([(draw_x, "1"), (draw_fill, "5")], "ambiguous", None),  # crossed out, new answer: review
        ([(draw_fill, "1"), (draw_x, "1"), (draw_fill, "5")], "multi", ["1", "5"]),  # X over a filled bubble
    ],
)
def test_drawn_marks(draws: list[tuple[Draw, str]], status: str, detected: list[str] | None) -> None:
    meta = build_template(5)
    page = render_sheet(meta, dpi=S * 25.4)
    for draw, label in draws:
        draw(page, *centre(meta, 2, label))
    res = read_answers(WarpedPage(page, S, {}), meta)
    assert res[1]["status"] == status, res[1]
    if detected is not None:
        assert res[1]["detected"] == detected
    assert all(a["status"] == "blank" for i, a in enumerate(res) if i != 1)


def _sloppy_light(page: np.ndarray, x: int, y: int, r: float) -> None:
    # light pencil (absorbs 35%) overflowing the ring on most sides, blurred
    mask = np.zeros_like(page)
    cv2.circle(mask, (x + round(0.15 * r), y), round(r * 1.4), 255, -1)
    page[mask > 0] = (page[mask > 0] * 0.65).astype(np.uint8)
    page[:] = cv2.GaussianBlur(page, (0, 0), 2.0)


def test_sloppy_light_fill_overflowing_the_ring_is_ok() -> None:
    meta = build_template(5)
    page = render_sheet(meta, dpi=S * 25.4)
    _sloppy_light(page, *centre(meta, 2, "3"))
    res = read_answers(WarpedPage(page, S, {}), meta)
    assert res[1]["status"] == "ok" and res[1]["detected"] == ["3"], res[1]


def _tape(page: np.ndarray, meta: dict[str, Any], q: int, label: str, covered: float) -> None:
    """Correction tape over the bubble: an opaque light patch (its paper-white edges a shade darker),
    its top edge slipped down so that the top ``1 - covered`` of the bubble still shows."""
    s = 150 / 25.4
    c = next(c for c in meta["questions"][q - 1]["choices"] if c["label"] == label)
    r = c["r"] + 0.8
    x0, x1 = round((c["center"]["x"] - r) * s), round((c["center"]["x"] + r) * s)
    y0 = round((c["center"]["y"] - r + 2 * r * (1 - covered)) * s)
    y1 = round((c["center"]["y"] + r) * s)
    page[y0:y1, x0:x1] = 252
    page[y0:y1, x0:x0 + 2] = page[y0:y1, x1 - 2:x1] = 215


@pytest.mark.parametrize(("covered", "flagged"), [(1.0, False), (0.45, True)])
def test_correction_tape(meta10, covered: float, flagged: bool) -> None:
    """Tape over an old mark hides it (not marked); tape that slipped and leaves half of the old mark
    beside the new one leaves the decision open: flagged, never read as the new mark alone."""
    page = render_sheet(meta10, dpi=150)
    _fill(page, meta10, 3, "2")
    _tape(page, meta10, 3, "2", covered)
    _fill(page, meta10, 3, "4")
    a = _read(meta10, page)[2]
    if flagged:
        assert a["status"] in ("multi", "ambiguous"), a
    else:
        assert (a["status"], a["detected"]) == ("ok", ["4"]), a
        assert a["fills"]["2"] < 0.05, a
