"""Bubble measurements and the decision rules of ``omr.marks`` on drawn bubbles."""

from collections.abc import Callable

import cv2
import numpy as np
import pytest

from omr.answers import read_answers
from omr.marks import decide_group
from omr.template import build_template, render_sheet
from omr.warp import WarpedPage

S = 6.0  # px per mm of the warped page


def _centre(meta: dict, q: int, label: str) -> tuple[int, int, float]:
    c = next(c for c in meta["questions"][q - 1]["choices"] if c["label"] == label)
    return round(c["center"]["x"] * S), round(c["center"]["y"] * S), float(c["r"]) * S


def _x(page: np.ndarray, x: int, y: int, r: float) -> None:
    d = round(r * 0.8)
    cv2.line(page, (x - d, y - d), (x + d, y + d), 40, 4, cv2.LINE_AA)
    cv2.line(page, (x - d, y + d), (x + d, y - d), 40, 4, cv2.LINE_AA)


def _fill(page: np.ndarray, x: int, y: int, r: float) -> None:
    cv2.circle(page, (x, y), round(r * 0.95), 60, -1, cv2.LINE_AA)


def _half(page: np.ndarray, x: int, y: int, r: float) -> None:
    mask = np.zeros_like(page)
    cv2.circle(mask, (x, y), round(r * 0.95), 255, -1)
    mask[: y - round(0.2 * r)] = 0  # lower ~60% of the disc
    page[mask > 0] = np.minimum(page[mask > 0], 70)


def _tick(page: np.ndarray, x: int, y: int, r: float) -> None:
    pts = np.array([[x - 0.6 * r, y], [x - 0.1 * r, y + 0.5 * r], [x + 0.7 * r, y - 0.6 * r]], np.int32)
    cv2.polylines(page, [pts], False, 40, 3, cv2.LINE_AA)


def _dot_on_label(page: np.ndarray, x: int, y: int, r: float) -> None:
    # a small pencil mark (absorbs 40%), most of it over the printed number
    mask = np.zeros_like(page)
    cv2.circle(mask, (x, y), round(r * 0.35), 255, -1)
    page[mask > 0] = (page[mask > 0] * 0.6).astype(np.uint8)


def _erased(page: np.ndarray, x: int, y: int, r: float) -> None:
    # erased residue: a faint smudge (~5% absorption) over the whole disc
    mask = np.zeros_like(page)
    cv2.circle(mask, (x, y), round(r * 0.9), 255, -1)
    page[mask > 0] = np.minimum(page[mask > 0], 242)


Draw = Callable[[np.ndarray, int, int, float], None]


@pytest.mark.parametrize(
    ("draws", "status", "detected"),
    [
        ([], "blank", []),
        ([(_fill, "2")], "ok", ["2"]),
        ([(_half, "4")], "ok", ["4"]),  # partial fill: one solid region, one empty side
        ([(_x, "3")], "ambiguous", ["3"]),  # X over an empty bubble: flagged, never ok
        ([(_tick, "1")], "ambiguous", ["1"]),  # a tick in the bubble
        ([(_dot_on_label, "2")], "ambiguous", ["2"]),  # small mark on the number: flagged, never blank
        ([(_erased, "3")], "blank", []),  # erased residue is not a mark
        ([(_x, "1"), (_fill, "5")], "ambiguous", None),  # crossed out, new answer: review
        ([(_fill, "1"), (_x, "1"), (_fill, "5")], "multi", ["1", "5"]),  # X over a filled bubble
    ],
)
def test_drawn_marks(draws: list[tuple[Draw, str]], status: str, detected: list[str] | None) -> None:
    meta = build_template(5)
    page = render_sheet(meta, dpi=S * 25.4)
    for draw, label in draws:
        draw(page, *_centre(meta, 2, label))
    res = read_answers(WarpedPage(page, S, {}), meta)
    assert res[1]["status"] == status, res[1]
    if detected is not None:
        assert res[1]["detected"] == detected
    assert all(a["status"] == "blank" for i, a in enumerate(res) if i != 1)


def test_strokes_are_never_marks() -> None:
    f32 = lambda v: np.array(v, np.float32)  # noqa: E731
    # dark, well covered but thin (solid << cover) or cut into wedges (gaps >= 3)
    thin = decide_group(f32([0.4, 0.0]), f32([0.8, 0.0]), 0.7, cover=f32([0.6, 0.0]),
                        solid=f32([0.1, 0.0]), gaps=np.array([1, 1]))
    wedges = decide_group(f32([0.4, 0.0]), f32([0.8, 0.0]), 0.7, cover=f32([0.6, 0.0]),
                          solid=f32([0.5, 0.0]), gaps=np.array([4, 1]))
    assert thin["status"] == wedges["status"] == "ambiguous"
    assert thin["marked"] == wedges["marked"] == []


def test_partial_fill_below_bar_is_ok_when_it_covers_the_disc() -> None:
    f32 = lambda v: np.array(v, np.float32)  # noqa: E731
    d = decide_group(f32([0.2, 0.0, 0.0]), f32([0.6, 0.0, 0.0]), 0.7, cover=f32([0.6, 0.0, 0.0]),
                     solid=f32([0.55, 0.0, 0.0]), gaps=np.array([1, 1, 1]))
    assert d["status"] == "ok" and d["marked"] == [0]


def test_solid_fill_with_holes_is_a_mark() -> None:
    f32 = lambda v: np.array(v, np.float32)  # noqa: E731
    # textured light pencil: the disc mostly solid ink, a few holes read as gaps
    d = decide_group(f32([0.28, 0.0]), f32([0.36, 0.0]), 0.35, cover=f32([0.8, 0.0]),
                     solid=f32([0.85, 0.0]), gaps=np.array([3, 1]))
    assert d["status"] == "ok" and d["marked"] == [0]


@pytest.mark.parametrize(("peak", "status"), [(0.3, "low_confidence"), (0.5, "ok")])
def test_half_fill_near_the_bar_is_ok_in_the_sheets_own_ink(peak: float, status: str) -> None:
    f32 = lambda v: np.array(v, np.float32)  # noqa: E731
    # half the disc covered, mean darkness just over the bar (0.45 * 0.5): ok only when
    # the ink is as dark as the sheet's clear marks (typical 0.5), else low_confidence
    d = decide_group(f32([0.23, 0.0]), f32([peak, 0.0]), 0.5, cover=f32([0.44, 0.0]),
                     solid=f32([0.42, 0.0]), gaps=np.array([1, 1]))
    assert d["status"] == status and d["marked"] == [0]


def test_even_light_fill_cut_into_holes_is_a_mark() -> None:
    f32 = lambda v: np.array(v, np.float32)  # noqa: E731
    # blurred light pencil whose darkness sits at the ink level: the threshold cuts
    # random holes (gaps 3, solid < 0.6) but the disc is evenly dark (fill ~ peak)
    d = decide_group(f32([0.224, 0.0]), f32([0.214, 0.0]), 0.32, cover=f32([0.69, 0.0]),
                     solid=f32([0.546, 0.0]), gaps=np.array([3, 1]))
    assert d["status"] == "ok" and d["marked"] == [0]


def _sloppy_light(page: np.ndarray, x: int, y: int, r: float) -> None:
    # light pencil (absorbs 35%) overflowing the ring on most sides, blurred
    mask = np.zeros_like(page)
    cv2.circle(mask, (x + round(0.15 * r), y), round(r * 1.4), 255, -1)
    page[mask > 0] = (page[mask > 0] * 0.65).astype(np.uint8)
    page[:] = cv2.GaussianBlur(page, (0, 0), 2.0)


def test_sloppy_light_fill_overflowing_the_ring_is_ok() -> None:
    meta = build_template(5)
    page = render_sheet(meta, dpi=S * 25.4)
    _sloppy_light(page, *_centre(meta, 2, "3"))
    res = read_answers(WarpedPage(page, S, {}), meta)
    assert res[1]["status"] == "ok" and res[1]["detected"] == ["3"], res[1]
