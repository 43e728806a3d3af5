"""Marker candidates and the geometric search of ``omr.fiducials``."""

import warnings

import numpy as np

from omr.fiducials import Candidates, find_candidates, match_markers, merge_candidates
from omr.meta import as_sheet_meta
from omr.template import render_sheet


def test_blank_page_has_no_candidates() -> None:
    assert len(find_candidates(np.full((600, 800), 230, np.uint8)).xy) == 0


def test_all_markers_matched(meta10) -> None:
    sheet = as_sheet_meta(meta10)
    hyps = match_markers(find_candidates(render_sheet(meta10, dpi=80)), sheet)
    assert hyps and hyps[0].support == len(sheet.markers)


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


def test_merge_candidates_keeps_one_of_each_blob() -> None:
    a = Candidates(np.array([[10.0, 10.0]]), np.array([8.0]), np.zeros(1), np.array([0.9]))
    b = Candidates(np.array([[12.0, 11.0], [50.0, 50.0]]), np.array([8.0, 8.0]), np.zeros(2), np.array([0.95, 0.7]))
    assert merge_candidates(a, b).xy.tolist() == [[10.0, 10.0], [50.0, 50.0]]
    assert merge_candidates(a, Candidates(np.zeros((0, 2)), np.zeros(0), np.zeros(0), np.zeros(0))) is a


def test_windows_give_the_whole_image_candidates_inside_them(meta10) -> None:
    """A window search returns exactly the whole-image candidates it holds (same
    centres, sizes, qualities to the bit); a marker cut by a window's side is left out."""
    img = render_sheet(meta10, dpi=80)
    h, w = img.shape
    full = find_candidates(img)
    corners = [(0, 0, 120, 120), (w - 120, h - 120, w, h)]
    win = find_candidates(img, windows=corners)
    inside = [(x0 <= x < x1 and y0 <= y < y1) for x, y in full.xy for x0, y0, x1, y1 in corners]
    expected = full.xy[np.array(inside).reshape(len(full.xy), len(corners)).any(axis=1)]
    assert len(win.xy) == len(expected) == 2
    for field in ("xy", "size", "hollow", "quality"):
        got, ref = getattr(win, field), getattr(full, field)
        assert all((ref == v).all(axis=-1).any() if ref.ndim > 1 else (ref == v).any() for v in got)
    tl = full.xy[np.argmin(full.xy.sum(axis=1))]
    cut = (0, 0, int(tl[0]), int(tl[1]) + 30)  # the window's right side runs through the marker
    assert not (find_candidates(img, windows=[cut]).xy == tl).all(axis=1).any()
    assert len(find_candidates(img, windows=[]).xy) == 0
