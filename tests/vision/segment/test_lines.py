"""Lines of a column: a block of rows too tall for one line is split where its start parts (issue 16.5, (a) full frame).

A photo that fills the frame keeps its keystone and some tilt: across a wide
column two lines slope into each other, their rows join into one tall block
and the anchor on it was never read (``[17]`` of (a) seed 1002, two columns).
"""

from __future__ import annotations

import numpy as np

from vision.segment.layout import analyse_layout
from vision.segment.lines import _lines_in, _split_tall
from vision.synth.exam import render_exam_page
from vision.synth.photo import map_box, map_points, to_photo


def _sloped_lines(slope: float, n: int = 2, text_px: int = 20, width: int = 600) -> np.ndarray:
    """``n`` text-like lines (dashes ``text_px`` tall) one and a half text heights apart, sloping down by ``slope``."""
    mask = np.zeros((200, width + 40), bool)
    for k in range(n):
        for x in range(10, 10 + width, 14):  # glyphs 10 px wide, 4 px apart
            y = int(30 + k * 1.5 * text_px + slope * x)
            mask[y : y + text_px, x : x + 10] = True
    return mask


def test_sloped_lines_joined_across_the_column_are_split_at_their_start() -> None:
    mask = _sloped_lines(0.03)  # 18 px of slope over the width: the 10 px gap between the lines closes
    rows = np.flatnonzero(mask.any(axis=1))
    assert rows[-1] - rows[0] + 1 == rows.size  # one block of rows across the column
    lines = _lines_in(mask, 0, mask.shape[1], (0, mask.shape[0]), 20.0, 0)
    assert len(lines) == 2
    assert all(18 <= ln.y1 - ln.y0 <= 50 for ln in lines)


def test_a_tall_block_that_does_not_part_into_lines_stays_whole() -> None:
    mask = np.zeros((200, 400), bool)
    mask[20:120, 10:300] = True  # a figure: no line gap at its start
    assert _split_tall(mask, 20, 120, 20.0) == [(20, 120)]
    level = _sloped_lines(0.0)
    rows = np.flatnonzero(level.any(axis=1))
    assert _split_tall(level, int(rows[0]), int(rows[0]) + 20, 20.0) == [(int(rows[0]), int(rows[0]) + 20)]  # one line: as is


def test_full_frame_photo_keeps_every_question() -> None:
    # (a) seed 1002, two columns, photographed and cropped to 2 % inside the page (the bench's "full" kind)
    page = render_exam_page(1002, columns=2, lang="ko")
    photo, H = to_photo(page.image, 1002)
    h, w = page.image.shape[:2]
    q = map_points([[0, 0], [w, 0], [w, h], [0, h]], H)
    x0, y0 = int(max(q[0, 0], q[3, 0]) + 0.02 * w), int(max(q[0, 1], q[1, 1]) + 0.02 * h)
    x1, y1 = int(min(q[1, 0], q[2, 0]) - 0.02 * w), int(min(q[2, 1], q[3, 1]) - 0.02 * h)
    found = analyse_layout(photo[y0:y1, x0:x1])[0]
    assert [f.number for f in found] == [t.number for t in page.questions]
    for f, t in zip(found, page.questions, strict=True):
        bx, by, bw, bh = map_box(t.box_xywh, H)
        truth = (bx - x0, by - y0, bw, bh)
        ix = max(0, min(f.box_xywh[0] + f.box_xywh[2], truth[0] + truth[2]) - max(f.box_xywh[0], truth[0]))
        iy = max(0, min(f.box_xywh[1] + f.box_xywh[3], truth[1] + truth[3]) - max(f.box_xywh[1], truth[1]))
        inter = ix * iy
        assert inter / (f.box_xywh[2] * f.box_xywh[3] + truth[2] * truth[3] - inter) >= 0.5
