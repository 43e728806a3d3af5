import warnings

import cv2
import numpy as np
import pytest

from omr.fiducials import Candidates, find_candidates, match_markers, merge_candidates
from omr.grade import grade_image
from omr.marks import decide_group
from omr.meta import as_sheet_meta
from omr.template import render_sheet
from omr.warp import PX_PER_MM, warp_page


def test_blank_page_has_no_candidates() -> None:
    assert len(find_candidates(np.full((600, 800), 230, np.uint8)).xy) == 0


def test_all_markers_matched(meta10) -> None:
    sheet = as_sheet_meta(meta10)
    hyps = match_markers(find_candidates(render_sheet(meta10, dpi=80)), sheet)
    assert hyps and hyps[0].support == len(sheet.markers)


@pytest.mark.parametrize("corner", ["tl", "tr", "br", "bl"])
def test_hidden_corner_marker(meta10, sheet_factory, photo_factory, corner: str) -> None:
    """A thumb over one corner marker: 3 corners + 2 mid-edge markers still pin the page."""
    page = sheet_factory(meta10, {1: ["2"], 3: ["4"]}, "12345678").copy()
    m = next(m for m in meta10["markers"] if m["id"] == corner)
    ppm = page.shape[1] / 297.0
    x, y, s = m["center"]["x"] * ppm, m["center"]["y"] * ppm, 6.0 * ppm
    cv2.circle(page, (round(x), round(y)), round(s), 255, -1)
    gray = photo_factory(page, rotation=90, seed=3)
    wp = warp_page(gray, meta10, "photo")
    assert wp.alignment["rotation"] == 90
    assert wp.alignment["markers_found"] == 5
    assert wp.alignment["fit_error_mm"] < 0.5
    assert wp.page.shape == (round(210 * PX_PER_MM), round(297 * PX_PER_MM))


def test_blank_sheet_reads_blank(meta10) -> None:
    png = cv2.imencode(".png", render_sheet(meta10, dpi=150))[1].tobytes()
    r = grade_image(png, meta10, mode="scan")
    assert {a["status"] for a in r["answers"]} == {"blank"}
    assert r["identifier"]["status"] == "blank"


@pytest.mark.parametrize(
    ("fill", "peak", "cover", "status"),
    [
        ([0.0, 0.0, 0.0], [0.0, 0.0, 0.0], [0.0, 0.0, 0.0], "blank"),
        ([0.7, 0.0, 0.0], [0.72, 0.0, 0.0], [1.0, 0.0, 0.0], "ok"),
        ([0.36, 0.0, 0.0], [0.8, 0.0, 0.0], [0.55, 0.0, 0.0], "ambiguous"),  # X over an empty bubble
        ([0.7, 0.36, 0.0], [0.72, 0.8, 0.0], [1.0, 0.55, 0.0], "ambiguous"),  # X next to the new mark
        ([0.06, 0.0, 0.0], [0.2, 0.0, 0.0], [0.2, 0.0, 0.0], "ambiguous"),  # tiny dot in the bubble
        ([0.03, 0.0, 0.0], [0.06, 0.0, 0.0], [0.05, 0.0, 0.0], "blank"),  # erased residue
    ],
)
def test_decision_rules(fill, peak, cover, status: str) -> None:
    f32 = lambda v: np.array(v, np.float32)  # noqa: E731
    assert decide_group(f32(fill), f32(peak), 0.7, cover=f32(cover))["status"] == status


def test_collinear_candidates_do_not_divide_by_zero() -> None:
    """Regression (bench scan_00185, 200 dpi; the exact candidates of its
    detection image): some 4-subsets of the small print blobs give a singular
    closed-form homography, local scale 0, and the size check divided by zero."""
    from omr.fiducials import Candidates
    from omr.template import build_template

    xy = np.array([[68.98896932092381, 581.0110306790762], [833.0110306790762, 576.9889693209237],
                   [830.0110306790762, 55.988969320923815], [451.0, 579.0], [448.0, 58.0],
                   [65.643, 60.00566666666666], [104.61764705882354, 90.90686274509802],
                   [277.4179894179894, 244.62962962962962], [277.1454545454545, 191.6848484848485],
                   [306.87254901960785, 90.40196078431372], [277.5259259259259, 261.58518518518514]])
    size = np.array([21.988633427296023, 21.988633427296023, 21.988633427296023, 14.0, 14.0, 22.360679774997898,
                     5.830951894845301, 5.612486080160912, 5.244044240850758, 4.123105625617661,
                     4.743416490252569])
    hollow = np.array([0, 0, 0, 0, 0, 0.24, 0.12, 0.13, 0.07, 0, 0.18])
    quality = np.array([1, 1, 1, 1, 1, 0.95, 0.95, 0.64, 0.63, 0.6, 0.56])
    sheet = as_sheet_meta(build_template(20))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        hyps = match_markers(Candidates(xy, size, hollow, quality), sheet)
    assert hyps and hyps[0].support == 6 and hyps[0].residual < 0.05


def test_marker_on_a_shadow_edge_with_a_hidden_corner(meta10, sheet_factory, photo_factory) -> None:
    """bl under a thumb and a soft shadow edge through bc: at the first threshold the
    shadow side merges with bc (not square), leaving tl, tc, tr, br (3 collinear); the
    stricter second pass separates bc, so the right half-page + tl pin the page."""
    page = sheet_factory(meta10, {1: ["2"], 3: ["4"]}, "12345678").copy()
    ppm = page.shape[1] / 297.0
    ms = {m["id"]: m for m in meta10["markers"]}
    bl, bc = ms["bl"]["center"], ms["bc"]["center"]
    cv2.circle(page, (round(bl["x"] * ppm), round(bl["y"] * ppm)), round(6.0 * ppm), 255, -1)
    shadow = np.zeros(page.shape, np.float32)
    shadow[round(120 * ppm):, round(bc["x"] * ppm):] = 1.0
    shadow = cv2.GaussianBlur(shadow, (0, 0), 3.0 * ppm)  # penumbra ~3 mm
    page = (page * (1.0 - 0.5 * shadow)).astype(np.uint8)
    wp = warp_page(photo_factory(page, rotation=90, seed=3), meta10, "photo")
    assert wp.alignment["rotation"] == 90
    assert wp.alignment["markers_found"] == 5
    assert wp.alignment["fit_error_mm"] < 0.5


def test_merge_candidates_keeps_one_of_each_blob() -> None:
    a = Candidates(np.array([[10.0, 10.0]]), np.array([8.0]), np.zeros(1), np.array([0.9]))
    b = Candidates(np.array([[12.0, 11.0], [50.0, 50.0]]), np.array([8.0, 8.0]), np.zeros(2), np.array([0.95, 0.7]))
    assert merge_candidates(a, b).xy.tolist() == [[10.0, 10.0], [50.0, 50.0]]
    assert merge_candidates(a, Candidates(np.zeros((0, 2)), np.zeros(0), np.zeros(0), np.zeros(0))) is a
