"""Question segmentation by layout analysis (the ``opencv`` engine).

How a page is read:

1. A phone photo is flattened first (:mod:`vision.segment.rectify`); a page
   with no visible outline (a scan, a photo filling the frame) is levelled
   when its lines are skewed; boxes are mapped back to input pixels at the end.
2. Ink is found by a local (adaptive) threshold, which survives uneven light
   where a global Otsu threshold loses whole regions; specks are dropped.
3. Rules are split from text: page-wide horizontal rules (under the header,
   above the footer) and tall vertical rules (column dividers) are page
   furniture; shorter lines (passage frames, tables, figures) stay with their
   question but are left out when finding text lines.
4. Columns: a vertical band free of text near the middle of the page.
5. Lines: runs of text rows in each column; header lines (above the header
   rule) and the footer (page number, centred, at the bottom) are dropped.
6. Anchors: lines whose first word sits on the column's left margin are
   candidates; their first two words are read together in one Tesseract
   call (:mod:`vision.segment.anchors`); ``1.``, ``2)``, ``[3]``, ``문제 4`` open
   a question, ``[1~2]`` opens a shared passage, which joins the first
   question of its range (the crop of that question can be answered alone).
   Each line is read on three crops; which lines open questions, and their
   numbers, is then chosen as one consecutive sequence that best agrees with
   the reads (:mod:`vision.segment.sequence`): misreads are corrected, an
   unread anchor set apart fills a gap, a continuation line misread as a
   number is left out. A page without exam evidence (circled choices, a
   ``[a~b]`` instruction, two numbers read in sequence) keeps no questions,
   and a contents line (dot leader) is a heading (:mod:`vision.segment.evidence`).
7. A question runs from its anchor (or its passage) to the line before the
   next anchor in the same column; its box is the tight box of all its ink,
   frames, figures and tables included.

Frames:
    Input ``image`` is ``uint8`` grayscale ``(H, W)`` or BGR ``(H, W, 3)`` in
    page pixels; every box is ``(x, y, w, h)`` in those pixels. Tuning
    constants are in units of the text height ``text_px`` (the median height
    of a character), so the same rules hold at 150, 200 and 300 dpi.

Examples:
    >>> from vision.synth.exam import render_exam_page
    >>> page = render_exam_page(1, columns=1, lang="en")
    >>> found = segment_layout(page.image)
    >>> [q.number for q in found] == [q.number for q in page.questions]
    True
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import cv2
import numpy as np
import numpy.typing as npt

from vision.ocr.quality import denoise_sigma, measure
from vision.segment.anchors import (
    MAX_QUESTION_NUMBER,
    Anchor,
    is_heading,
    parse_anchor,
    read_anchor_texts,
)
from vision.segment.evidence import count_choice_marks, has_exam_evidence, is_contents_line
from vision.segment.rectify import deskew, estimate_skew_deg, find_page_quad, map_box_back, rectify
from vision.segment.sequence import Candidate, assign_numbers
from vision.segment.types import QuestionBox

__all__ = ["analyse_layout", "segment_layout"]

GrayImage = npt.NDArray[np.uint8]
Mask = npt.NDArray[np.bool_]

#: Adaptive threshold window as a fraction of the page width (a few characters wide).
THRESH_WINDOW = 0.025
#: Adaptive threshold offset in grey levels: ink is this much darker than its neighbourhood.
THRESH_OFFSET = 12
#: Components smaller than this many pixels are noise (JPEG, sensor), not ink.
SPECK_PX = 6
#: A horizontal run at least this many text heights long is a rule, not a letter.
HRULE_TEXT = 4.0
#: A vertical run at least this many text heights tall is a rule (frame side, table, divider).
VRULE_TEXT = 2.2
#: Rules are followed this many pixels across their direction (a slanted rule steps sideways).
RULE_SLANT_PX = 5
#: A horizontal rule wider than this fraction of the page is page furniture (header/footer rule).
PAGE_RULE_W = 0.55
#: A vertical rule taller than this fraction of the page is a column divider.
PAGE_RULE_H = 0.25
#: The header rule is searched in this top fraction of the page, the footer rule in the bottom one.
HEADER_BAND, FOOTER_BAND = 0.3, 0.2
#: A footer line (page number) is this narrow (fraction of page width) ...
FOOTER_MAX_W = 0.3
#: ... centred within this fraction of the page width, and in the bottom band.
FOOTER_CENTRE_TOL = 0.06
#: ... and set apart from the line above by at least this many text heights.
FOOTER_GAP_TEXT = 1.5
#: A column is at least this share of the text block's width (one to three columns, even or not).
MIN_COLUMN_SHARE = 0.2
#: A divider rule this close to a gutter (text heights) confirms it, whatever the rows say.
DIVIDER_TOL_TEXT = 1.0
#: Ink components smaller than this (text heights, both sides) with no other ink within
#: :data:`SPECK_REACH_TEXT` are grain or dust, not text (a period sits beside its word).
SPECK_TEXT, SPECK_REACH_TEXT = 0.3, 0.6
#: On a grainy page, a component of less than this many text heights squared in area is grain
#: even beside a letter (a period at 30 px text is ~25 px, grain after smoothing 2-10 px).
GRAIN_SPECK_TEXT = 0.12
#: ... and an isolated one (no letter within :data:`SPECK_REACH_TEXT`) up to this many text heights
#: on a side (grain clumps that smoothing merged).
GRAIN_SPECK_SIDE_TEXT = 0.45
#: Margin writing: ink in the outer share of the page width ...
MARGIN_ZONE = 0.15
#: ... not joined to a printed line across gaps narrower than this many text heights (word spacing) ...
MARGIN_GAP_TEXT = 0.6
#: ... and not set on a printed line beside it (a right-aligned "[3점]" is): within its rows,
#: give or take this many text heights ...
MARGIN_ROW_ALIGN = 0.25
#: ... found within this share of the page width beside it.
MARGIN_BESIDE = 0.3
#: In the left margin, a run this many text heights left of the text on its rows is writing
#: whatever its rows (a question number hangs closer to its stem).
MARGIN_FAR_TEXT = 2.0
#: A heading found by its place (an unnumbered line over a question) spans at most this share of its column.
HEADING_MAX_W = 0.6
#: A bare "제 N" is read again on a crop this many text heights long ("제 2 부 읽기" is a heading).
HEADING_CROP_TEXT = 7.0
#: The column margin is fitted through the leftmost line start of this many bands down the
#: column (a photo's keystone leans the margin: one page-long minimum misses its ends) ...
MARGIN_BINS = 5
#: ... leaning at most this much (x per y; ~3.4 degrees).
MAX_LEAN = 0.06
#: Two lines share a row when they overlap this much of the shorter one's height.
ROW_OVERLAP = 0.8
#: A "gutter" whose right-hand lines share their row with a left-hand line this often is inside one column.
ROW_SHARED = 0.85
#: A gutter column may hold ink on this fraction of the body's rows (a title run across it).
GUTTER_INK_ROWS = 0.02
#: A gutter is at least this many text heights wide.
GUTTER_MIN_TEXT = 1.0
#: Text rows separated by less than this many text heights belong to one line.
LINE_JOIN_TEXT = 0.15
#: Neighbours of a line: lines within this many text heights above or below it ...
NEIGHBOUR_TEXT = 4.0
#: ... which an anchor leads by at least this many text heights (its stem's hanging indent).
LEAD_TEXT = 0.7
#: A line starting within this many text heights of the column margin is an anchor candidate.
MARGIN_TOL_TEXT = 0.5
#: The anchor is searched in this many text heights at the start of a line.
ANCHOR_MAX_W_TEXT = 6.0
#: Blank runs narrower than this (text heights) are inside a glyph or a word, not gaps.
MIN_GAP_TEXT = 0.25
#: At most this many margin lines are read (two columns of ~60 lines; noise must not cost minutes).
MAX_CANDIDATES = 120
#: Crops read per candidate line (anchor alone, one word more, to the next wide gap).
N_READS = 3
#: The anchor ends at the first gap at least this share of the widest gap near the line start.
ANCHOR_GAP_SHARE = 0.75
#: Border of a flattened photo left out, as a fraction of its side (desk remnants at the edge).
FLAT_BORDER = 0.015
#: A page with no outline (a scan, or a photo filling the frame) is levelled when skewed this much (degrees).
MIN_SKEW_DEG = 0.3
#: Pages are analysed at most this wide (a 300 dpi page is scaled down: same result, less work).
WORK_WIDTH_PX = 1800
#: A guessed passage range is set apart from the line above by this many text heights (a line gap is ~0.6).
RANGE_GAP_TEXT = 1.2
#: Scores: a number read and in sequence, read but out of sequence, inferred from its neighbours.
SCORE_READ, SCORE_ODD, SCORE_INFERRED = 0.95, 0.6, 0.5


@dataclass
class _Line:
    y0: int
    y1: int
    x0: int
    x1: int
    column: int
    anchor: Anchor | None = None
    gap_above: int = 0
    options: tuple[int, ...] = ()
    reads: tuple[str, ...] = ()


def _gray(image: npt.NDArray[np.uint8]) -> GrayImage:
    if image.ndim == 3:
        return np.asarray(cv2.cvtColor(image, cv2.COLOR_BGR2GRAY), dtype=np.uint8)
    return image


def _ink(gray: GrayImage, border_px: int = 0, outside: Mask | None = None) -> Mask:
    """Ink pixels; specks, and blobs reaching into the ``border_px`` frame (desk remnants), dropped;
    blobs touching ``outside`` (the corners a rotation laid in) dropped too."""
    window = max(15, int(gray.shape[1] * THRESH_WINDOW) | 1)
    binary = cv2.adaptiveThreshold(gray, 255, cv2.ADAPTIVE_THRESH_MEAN_C, cv2.THRESH_BINARY_INV, window, THRESH_OFFSET)
    n, labels, stats, _ = cv2.connectedComponentsWithStats(binary, connectivity=8)
    x, y, w, h, area = (stats[:, i] for i in range(5))
    H, W = gray.shape
    keep = area >= SPECK_PX
    if border_px:
        touches = (x <= 0) | (y <= 0) | (x + w >= W) | (y + h >= H)
        # reaching into the frame (a page edge's shadow or grain runs along it), not only wholly inside it
        inside_frame = (x < border_px) | (y < border_px) | (x + w > W - border_px) | (y + h > H - border_px)
        keep &= ~touches & ~inside_frame
    if outside is not None and outside.any():
        near = cv2.dilate(outside.astype(np.uint8), np.ones((2 * RULE_SLANT_PX + 1, 2 * RULE_SLANT_PX + 1), np.uint8)).astype(bool)
        keep[np.unique(labels[near])] = False
    keep[0] = False
    mask: Mask = keep[labels]
    return mask


def _drop_specks(ink: Mask, text_px: float, *, noisy: bool = False) -> Mask:
    """``ink`` without isolated specks: components smaller than :data:`SPECK_TEXT` text heights
    with no larger component within :data:`SPECK_REACH_TEXT` (grain a smoothing left, dust);
    on a ``noisy`` page also every component under :data:`GRAIN_SPECK_TEXT` squared in area."""
    n, labels, stats, _ = cv2.connectedComponentsWithStats(ink.astype(np.uint8), connectivity=8)
    limit = (GRAIN_SPECK_SIDE_TEXT if noisy else SPECK_TEXT) * text_px
    small = (stats[:, cv2.CC_STAT_WIDTH] < limit) & (stats[:, cv2.CC_STAT_HEIGHT] < limit)
    grain = np.zeros(n, bool)
    if noisy:
        grain = stats[:, cv2.CC_STAT_AREA] < (GRAIN_SPECK_TEXT * text_px) ** 2
    small[0] = False
    big = ~small & ~grain
    big[0] = False
    reach = max(1, int(SPECK_REACH_TEXT * text_px))
    near = cv2.dilate(big[labels].astype(np.uint8), np.ones((2 * reach + 1, 2 * reach + 1), np.uint8)).astype(bool)
    keep = big.copy()
    keep[np.unique(labels[near & small[labels]])] = True
    keep &= ~grain
    keep[0] = False
    out: Mask = keep[labels]
    return out


def _margin_writing(text: Mask, body: tuple[int, int], text_px: float) -> Mask:
    """Ink in the page's left or right margin that is not part of a printed line: a student's pen.

    The text is smeared across by :data:`MARGIN_GAP_TEXT` so that the words
    of a printed line join into one run; a run lying wholly in the outer
    :data:`MARGIN_ZONE` of the width is writing in the margin unless it sits
    on the rows of the printed lines beside it (a right-aligned ``[3점]``).
    """
    H, W = text.shape
    out = np.zeros_like(text)
    sub = text[body[0] : body[1]]
    if not sub.any():
        return out
    k = max(3, int(MARGIN_GAP_TEXT * text_px))
    smear = cv2.dilate(sub.astype(np.uint8), np.ones((1, k), np.uint8))
    n, labels, stats, _ = cv2.connectedComponentsWithStats(smear, connectivity=8)
    reach = int(MARGIN_BESIDE * W)
    for i in range(1, n):
        x, y, w, h = (int(v) for v in stats[i, :4])
        pad = int(text_px)
        rows = slice(max(0, y - pad), y + h + pad)
        if x + w <= MARGIN_ZONE * W:
            beside = sub[rows, x + w : x + w + reach]
            # nothing printed hangs this far left of its line (a question number sits by its stem)
            own = np.flatnonzero(beside[y - rows.start : y - rows.start + h].any(axis=0))
            far = own.size == 0 or own[0] >= MARGIN_FAR_TEXT * text_px
        elif x >= (1 - MARGIN_ZONE) * W:
            beside = sub[rows, max(0, x - reach) : x]
            far = False
        else:
            continue
        if not far and _on_printed_line(y - rows.start, h, beside, text_px):
            continue
        run = (labels[y : y + h, x : x + w] == i) & sub[y : y + h, x : x + w]
        out[body[0] + y : body[0] + y + h, x : x + w] |= run
    return out


def _on_printed_line(y: int, h: int, beside: Mask, text_px: float) -> bool:
    """A run at rows ``[y, y + h)`` of ``beside`` is set on a printed line there: it lies within
    the rows of one of the printed row runs beside it, give or take :data:`MARGIN_ROW_ALIGN` text heights."""
    tol = MARGIN_ROW_ALIGN * text_px
    return any(a - tol <= y and y + h <= b + tol for a, b in _runs(np.asarray(beside.any(axis=1), dtype=bool)))


def _text_height(text: Mask) -> float:
    n, _, stats, _ = cv2.connectedComponentsWithStats(text.astype(np.uint8), connectivity=8)
    h = stats[1:, cv2.CC_STAT_HEIGHT]
    w = stats[1:, cv2.CC_STAT_WIDTH]
    ok = (h >= 6) & (h <= 120) & (w <= 3 * h) & (w >= 2)
    if ok.sum() < 10:
        return 20.0
    return float(np.percentile(h[ok], 75))


def _runs(flags: npt.NDArray[np.bool_]) -> list[tuple[int, int]]:
    """Half-open ``[start, end)`` runs of True."""
    padded = np.concatenate([[False], flags, [False]])
    edges = np.flatnonzero(padded[1:] != padded[:-1])
    return [(int(a), int(b)) for a, b in zip(edges[::2], edges[1::2], strict=True)]


def _rules(ink: Mask, text_px: float) -> tuple[Mask, Mask, Mask]:
    """Split ``ink`` into (horizontal rules, vertical rules, text).

    The mask is first smeared across the rule's direction by :data:`RULE_SLANT_PX`
    so that a rule a degree or two off axis (a flattened photo) stays one run.
    """
    u8 = ink.astype(np.uint8)
    hk = cv2.getStructuringElement(cv2.MORPH_RECT, (max(8, int(HRULE_TEXT * text_px)), 1))
    vk = cv2.getStructuringElement(cv2.MORPH_RECT, (1, max(8, int(VRULE_TEXT * text_px))))
    smear_v = cv2.dilate(u8, np.ones((RULE_SLANT_PX, 1), np.uint8))
    smear_h = cv2.dilate(u8, np.ones((1, RULE_SLANT_PX), np.uint8))
    hr = cv2.morphologyEx(smear_v, cv2.MORPH_OPEN, hk).astype(bool) & ink
    vr = cv2.morphologyEx(smear_h, cv2.MORPH_OPEN, vk).astype(bool) & ink
    return hr, vr, ink & ~hr & ~vr


def _page_rules(hr: Mask, vr: Mask) -> tuple[int, int, Mask, list[int]]:
    """The body's top and bottom (below the header rule, above the footer rule) and the furniture mask.

    Furniture is the header rule (the topmost page-wide rule in the header
    band), the footer rule (the lowest one in the footer band) and column
    dividers (tall vertical rules). Other page-wide rules, such as the frame
    of a passage in a one-column page, stay: they belong to a question.
    """
    H, W = hr.shape
    furniture = np.zeros_like(hr)
    top, bottom = 0, H
    header: tuple[int, int, int, int, int] | None = None
    footer: tuple[int, int, int, int, int] | None = None
    n, labels, stats, _ = cv2.connectedComponentsWithStats(hr.astype(np.uint8), connectivity=8)
    for i in range(1, n):
        x, y, w, h = (int(v) for v in stats[i, :4])
        if w < PAGE_RULE_W * W:
            continue
        if y < HEADER_BAND * H and (header is None or y < header[1]):
            header = (i, y, x, w, h)
        if y > (1 - FOOTER_BAND) * H and (footer is None or y > footer[1]):
            footer = (i, y, x, w, h)
    for rule in (header, footer):
        if rule is not None:
            i, y, x, w, h = rule
            furniture[y : y + h, x : x + w] |= labels[y : y + h, x : x + w] == i
    if header is not None:
        top = header[1] + header[4]
    if footer is not None:
        bottom = footer[1]
    dividers: list[int] = []
    n, labels, stats, _ = cv2.connectedComponentsWithStats(vr.astype(np.uint8), connectivity=8)
    for i in range(1, n):
        x, y, w, h = (int(v) for v in stats[i, :4])
        if h >= PAGE_RULE_H * H:
            furniture[y : y + h, x : x + w] |= labels[y : y + h, x : x + w] == i
            dividers.append(x + w // 2)
    return top, bottom, furniture, dividers


def _near_dividers(text: Mask, dividers: list[int], text_px: float) -> Mask:
    """Thin ink components within :data:`DIVIDER_TOL_TEXT` of a divider rule: pieces of the rule
    a photo broke, which would otherwise set the margin of the column beside it."""
    out = np.zeros_like(text)
    if not dividers:
        return out
    n, labels, stats, _ = cv2.connectedComponentsWithStats(text.astype(np.uint8), connectivity=8)
    x, w = stats[:, cv2.CC_STAT_LEFT], stats[:, cv2.CC_STAT_WIDTH]
    tol = DIVIDER_TOL_TEXT * text_px / 2
    thin = w <= max(3, SPECK_TEXT * text_px)
    hit = np.zeros(n, bool)
    for d in dividers:
        hit |= thin & (x >= d - tol) & (x + w <= d + tol)
    hit[0] = False
    piece: Mask = hit[labels]
    return piece


def _columns(text: Mask, text_px: float, body: tuple[int, int], dividers: list[int]) -> list[tuple[int, int]]:
    """One to three columns, even or not: blank vertical bands across the text block's body.

    A band is a gutter when it is at least :data:`GUTTER_MIN_TEXT` wide and
    leaves columns of at least :data:`MIN_COLUMN_SHARE` of the text block on
    both sides. A divider rule down it confirms it; without one, a band whose
    right-hand lines nearly all share their row with a left-hand line is the
    gap in a row of choices set across one column, not a gutter.
    """
    H, W = text.shape
    profile = text[body[0] : body[1]].sum(axis=0)
    inked = np.flatnonzero(profile > 0)
    if inked.size == 0:
        return [(0, W)]
    left, right = int(inked[0]), int(inked[-1]) + 1
    span = right - left
    empty = profile[left:right] <= max(1, int(GUTTER_INK_ROWS * (body[1] - body[0])))
    bands = [(a + left, b + left) for a, b in _runs(empty) if b - a >= GUTTER_MIN_TEXT * text_px]
    bands.sort(key=lambda g: g[0] - g[1])  # widest first
    cuts: list[int] = []
    tol = DIVIDER_TOL_TEXT * text_px
    for a, b in bands:
        mid = (a + b) // 2
        edges = sorted([left, right, *cuts])
        lo = max(e for e in edges if e < mid)
        hi = min(e for e in edges if e > mid)
        if min(mid - lo, hi - mid) < MIN_COLUMN_SHARE * span or len(cuts) >= 2:
            continue
        if not any(a - tol <= d <= b + tol for d in dividers):
            # One column of short rows (choices set in a row of five) also leaves a blank band,
            # but then every line on its right shares its row with a line on its left.
            lines_l = _lines_in(text, lo, mid, body, text_px, 0)
            lines_r = _lines_in(text, mid, hi, body, text_px, 1)
            if not lines_l or not lines_r:
                continue
            if sum(any(_same_row(r, ln) for ln in lines_l) for r in lines_r) >= ROW_SHARED * len(lines_r):
                continue
        cuts.append(mid)
    edges = [0, *sorted(cuts), W]
    return [(edges[k], edges[k + 1]) for k in range(len(edges) - 1)]


def _same_row(a: _Line, b: _Line) -> bool:
    overlap = min(a.y1, b.y1) - max(a.y0, b.y0)
    return overlap >= ROW_OVERLAP * min(a.y1 - a.y0, b.y1 - b.y0)


def _lines_in(text: Mask, x0: int, x1: int, body: tuple[int, int], text_px: float, column: int) -> list[_Line]:
    band = text[body[0] : body[1], x0:x1]
    rows: npt.NDArray[np.bool_] = np.asarray(band.any(axis=1))
    runs = _runs(rows)
    joined: list[list[int]] = []
    for a, b in runs:
        if joined and a - joined[-1][1] < LINE_JOIN_TEXT * text_px:
            joined[-1][1] = b
        else:
            joined.append([a, b])
    lines: list[_Line] = []
    for a, b in joined:
        cols = np.flatnonzero(band[a:b].any(axis=0))
        if b - a < 0.3 * text_px and cols.size < text_px:
            continue  # a speck row
        gap = a + body[0] - lines[-1].y1 if lines else a
        lines.append(_Line(a + body[0], b + body[0], int(cols[0]) + x0, int(cols[-1]) + 1 + x0, column, gap_above=gap))
    return lines


def _anchor_crops(gray: GrayImage, text: Mask, line: _Line, text_px: float) -> list[GrayImage]:
    """:data:`N_READS` crops of the start of ``line``: the anchor alone, one word more, and longer.

    The anchor ends at the first gap almost as wide as the widest gap near
    the line's start: the blank between anchor and stem is the widest there
    (the anchor is set apart), while the gaps inside ``[14~15]``, ``11.`` or
    ``문제 4`` are narrower. Only the anchor is read: the stem's words would
    give Tesseract's line model English to garble in a Korean read. The two
    longer crops, to the next gap and to the next wide gap, catch what that
    rule cuts short: ``문제 12`` set with wide spaces, a range ``[15~16]``
    followed by a single space.
    """
    x_end = min(line.x1, line.x0 + int(ANCHOR_MAX_W_TEXT * text_px))
    strip = text[line.y0 : line.y1, line.x0 : x_end]
    cols: npt.NDArray[np.bool_] = np.asarray(strip.any(axis=0))
    gaps = [(a, b) for a, b in _runs(~cols) if a > 0 and b < cols.size and b - a >= MIN_GAP_TEXT * text_px]
    end = cols.size
    if gaps:
        widest = max(b - a for a, b in gaps)
        wide = [a for a, b in gaps if b - a >= ANCHOR_GAP_SHARE * widest]
        end = wide[0]
        mid_end = next((a for a, _b in gaps if a > end), cols.size)
        long_end = wide[1] if len(wide) > 1 else cols.size
    else:
        mid_end = long_end = cols.size
    return [_crop(gray, line, e, text_px) for e in (end, mid_end, max(mid_end, long_end))]


def _crop(gray: GrayImage, line: _Line, end: int, text_px: float) -> GrayImage:
    pad = max(2, int(0.25 * text_px))
    y0, y1 = max(0, line.y0 - pad), min(gray.shape[0], line.y1 + pad)
    x0, x1 = max(0, line.x0 - pad), min(gray.shape[1], line.x0 + end + pad)
    crop = gray[y0:y1, x0:x1].astype(np.float32)
    lo, hi = np.percentile(crop, (1, 99))
    stretched = np.clip((crop - lo) * (255.0 / max(hi - lo, 1.0)), 0, 255)
    return np.asarray(stretched, dtype=np.uint8)


def _guess_ranges(candidates: list[_Line], reads: list[list[str]], text_px: float) -> None:
    """Unread lines opening with ``[`` and a digit open a passage, unless the page numbers ``[n]``.

    A range such as ``[11~12]`` misread as ``[1 내`` parses as nothing; on a
    page whose questions are not bracketed, a bracket at the margin, set
    apart from the line above as questions are, can only be a passage's range.
    """
    asked = [r[0].lstrip() for ln, r in zip(candidates, reads, strict=True) if ln.anchor is not None and ln.anchor.kind == "question"]
    if sum(t.startswith(("[", "(")) for t in asked) * 2 > len(asked):
        return
    for ln, r in zip(candidates, reads, strict=True):
        apart = ln.gap_above >= RANGE_GAP_TEXT * text_px
        if ln.anchor is None and apart and any(_OPENS_RANGE.match(t) for t in r):
            ln.anchor = Anchor("range", 0, 0)


_OPENS_RANGE = re.compile(r"^\s*\[\s*[0-9]")


def _munje_split(reads: list[str]) -> list[Anchor | None]:
    """``문제`` read alone on the anchor crop and a number ending a longer crop: ``문제 N``.

    Tesseract reads a lone ``문제`` well but often garbles it beside its
    number (``므 삐 12``); the number at the end of the next crop survives.
    """
    if not _MUNJE_ALONE.match(reads[0].strip()):
        return []
    found: list[Anchor | None] = []
    for longer in reads[1:]:
        m = _ENDS_WITH_NUMBER.search(longer)
        n = int(m.group(1).replace(" ", "")) if m else 0
        if 0 < n <= MAX_QUESTION_NUMBER:
            found.append(Anchor("question", n, n))
    return found


_MUNJE_ALONE = re.compile(r"^\S?\s*제\s*\S?$")
_ENDS_WITH_NUMBER = re.compile(r"(?<![0-9])([0-9](?: ?[0-9]){0,2})\s*$")


def _best_anchor(reads: list[Anchor | None]) -> tuple[Anchor | None, tuple[int, ...]]:
    """The anchor the reads of one line give (shortest crop first), and every number they offer.

    A range read on any crop wins (the longest first). For a question, every
    number read stays an option for the sequence check; the first guess is
    the shortest crop's, unless it holds another read's number plus a stray
    digit (``[14]`` for ``[4]``: a tight crop turns the bracket's edge into a 1).
    """
    for a in reversed(reads):
        if a is not None and a.kind == "range":
            return a, ()
    found = [a for a in reads if a is not None]
    if not found:
        return None, ()
    options = tuple(dict.fromkeys(a.number for a in found))
    first = found[0]
    for a in found[1:]:
        if a.number != first.number and str(a.number) in str(first.number):
            return a, options
    return first, options


def _locally_leftmost(line: _Line, lines: list[_Line], text_px: float) -> bool:
    """``line`` starts clearly left of every other line within a few text heights above and below.

    Hanging anchors do (their stem is indented after them); choices, stems
    and captions sit under or beside something further left.
    """
    reach = NEIGHBOUR_TEXT * text_px
    near = [o for o in lines if o is not line and o.y1 > line.y0 - reach and o.y0 < line.y1 + reach]
    return bool(near) and all(line.x0 <= o.x0 - LEAD_TEXT * text_px for o in near)


def _margin(textual: list[_Line], tol: float) -> tuple[float, float]:
    """The column's left margin as a line ``x = a + b * y`` (a photo's keystone leans it).

    The lowest line start in each of :data:`MARGIN_BINS` bands down the column
    is a point of the margin, unless the band holds only indented lines
    (choices, a passage): the band furthest right of the fitted line is
    dropped while it lies more than ``tol`` off it. The lean is at most
    :data:`MAX_LEAN`; the line is then moved left onto the leftmost start.
    """
    ys = np.array([(ln.y0 + ln.y1) / 2 for ln in textual], np.float64)
    xs = np.array([ln.x0 for ln in textual], np.float64)
    edges = np.linspace(ys.min(), ys.max() + 1, MARGIN_BINS + 1)
    pts = []
    for lo, hi in zip(edges[:-1], edges[1:], strict=True):
        inside = (ys >= lo) & (ys < hi)
        if inside.any():
            k = int(np.flatnonzero(inside)[np.argmin(xs[inside])])
            pts.append((ys[k], xs[k]))
    slope = 0.0
    while len(pts) >= 2:
        py, px = np.array(pts).T
        slope = float(np.clip(np.polyfit(py, px, 1)[0], -MAX_LEAN, MAX_LEAN)) if np.ptp(py) > 0 else 0.0
        resid = px - slope * py
        resid -= resid.min()
        worst = int(np.argmax(resid))
        if resid[worst] <= tol:
            break
        pts.pop(worst)
    if len(pts) < 2:
        slope = 0.0
    return float((xs - slope * ys).min()), slope


def _is_footer(line: _Line, W: int, H: int, text_px: float) -> bool:
    """A page number or footer: narrow, centred on the page, set apart, in the bottom band."""
    centred = abs((line.x0 + line.x1) / 2 - W / 2) < FOOTER_CENTRE_TOL * W
    apart = line.gap_above >= FOOTER_GAP_TEXT * text_px
    return line.y0 > (1 - FOOTER_BAND) * H and centred and apart and line.x1 - line.x0 < FOOTER_MAX_W * W


def _is_text_line(line: _Line, text_px: float) -> bool:
    """A line of text, by its size: not a speck, not a tall figure or rule remnant."""
    h, w = line.y1 - line.y0, line.x1 - line.x0
    return 0.5 * text_px <= h <= 2.5 * text_px and w >= 1.2 * text_px


def _number_questions(candidates: list[_Line], text_px: float) -> dict[int, float]:
    """Decide which candidates open questions and their numbers (:mod:`vision.segment.sequence`).

    Range lines stay as they are. Returns a score per opening line id.
    """
    seq = [ln for ln in candidates if ln.anchor is None or ln.anchor.kind == "question"]
    assigned = assign_numbers([Candidate(ln.options, ln.gap_above >= RANGE_GAP_TEXT * text_px) for ln in seq])
    scores: dict[int, float] = {}
    for ln, a in zip(seq, assigned, strict=True):
        if a is None:
            ln.anchor = None
            continue
        ln.anchor = Anchor("question", a.number, a.number)
        scores[id(ln)] = SCORE_READ if a.exact else SCORE_INFERRED
    # a line left out that opens with "[digit", set apart, on a page not numbered [n]: a misread range
    opened = [ln.reads[0].lstrip() for ln in seq if ln.anchor is not None and ln.reads]
    if sum(t.startswith(("[", "(")) for t in opened) * 2 <= len(opened):
        for ln in seq:
            apart = ln.gap_above >= RANGE_GAP_TEXT * text_px
            if ln.anchor is None and apart and any(_OPENS_RANGE.match(t) for t in ln.reads):
                ln.anchor = Anchor("range", 0, 0)
    return scores


def _drop_without_evidence(candidates: list[_Line], score_of: dict[int, float], text: Mask, text_px: float) -> None:
    """No questions on a page that shows no exam evidence (:mod:`vision.segment.evidence`): its
    numbered lines are a document's chapters, goals and footnotes; its headings stay blocks."""
    opened = [ln for ln in candidates if ln.anchor is not None and ln.anchor.kind == "question"]
    if not opened:
        return
    ranges = sum(ln.anchor is not None and ln.anchor.kind == "range" for ln in candidates)
    read = sum(score_of.get(id(ln)) == SCORE_READ for ln in opened)
    if has_exam_evidence(read_questions=read, ranges=ranges, choice_marks=0):
        return
    if has_exam_evidence(read_questions=read, ranges=ranges, choice_marks=count_choice_marks(text, text_px)):
        return
    for ln in opened:
        ln.anchor = None
        score_of.pop(id(ln), None)


def _reading_key(line: _Line) -> tuple[int, int]:
    return (line.column, line.y0)


def _mark_headings(candidates: list[_Line], gray: GrayImage, text_px: float) -> None:
    """Margin lines that read as a section heading (:func:`is_heading`) become headings: they end
    the question above and are never numbered.

    A line read as a bare ``제 2`` (no ``문`` before it) is read once more on a
    longer crop (:data:`HEADING_CROP_TEXT`): ``제 2 부 읽기`` is a heading,
    while ``문제 2`` whose ``문`` was lost stays a question.
    """
    again = [ln for ln in candidates if ln.reads and _BARE_JE.match(ln.reads[0].strip())]
    if again:
        texts = read_anchor_texts([_crop(gray, ln, int(HEADING_CROP_TEXT * text_px), text_px) for ln in again], text_px)
        for ln, t in zip(again, texts, strict=True):
            ln.reads = (*ln.reads, t)
    for ln in candidates:
        if not ln.reads or (ln.anchor is not None and ln.anchor.kind == "range"):
            continue
        if is_heading(ln.reads[0]) or any(is_heading(t, section_numbers=False) for t in ln.reads[1:]):
            ln.anchor = Anchor("heading", 0, 0)
            ln.options = ()


_BARE_JE = re.compile(r"^(?:[0-9]{1,2}\s*[.)]\s*)?[제저져]\s*[0-9]{0,2}$")


def _heading_lines(lines: list[_Line], candidates: set[int], text_px: float) -> None:
    """A margin line that opens nothing, set apart from the line above, with a question or an
    instruction on the very next line, is a heading (``Ⅲ. 자료 해석`` read as ``1.`` and left
    out by the sequence; ``◆ 듣기 평가`` read as ``< 듣기``): it must not run on the question
    above. It starts where the anchor under it starts (a row of choices after a table is
    indented) and spans at most :data:`HEADING_MAX_W` of its column's text."""
    spans: dict[int, tuple[int, int]] = {}
    for ln in lines:
        lo, hi = spans.get(ln.column, (ln.x0, ln.x1))
        spans[ln.column] = (min(lo, ln.x0), max(hi, ln.x1))
    for ln, nxt in zip(lines, lines[1:], strict=False):
        if id(ln) not in candidates or ln.anchor is not None or ln.column != nxt.column:
            continue
        read = any(t.strip() for t in ln.reads)
        apart = ln.gap_above >= RANGE_GAP_TEXT * text_px
        aligned = ln.x0 <= nxt.x0 + MARGIN_TOL_TEXT * text_px
        lo, hi = spans[ln.column]
        short = ln.x1 - ln.x0 <= HEADING_MAX_W * (hi - lo)
        if read and apart and aligned and short and nxt.anchor is not None and nxt.anchor.kind in ("question", "range"):
            ln.anchor = Anchor("heading", 0, 0)


def _ink_box(full: Mask, x0: int, x1: int, y0: int, y1: int) -> tuple[int, int, int, int] | None:
    region = full[y0:y1, x0:x1]
    ys = np.flatnonzero(region.any(axis=1))
    xs = np.flatnonzero(region.any(axis=0))
    if ys.size == 0:
        return None
    return (x0 + int(xs[0]), y0 + int(ys[0]), int(xs[-1] - xs[0]) + 1, int(ys[-1] - ys[0]) + 1)


def _governs(anchor: Anchor, following: list[_Line]) -> tuple[int, ...]:
    """The numbers a group instruction governs: its range, or (unread range) the question after it."""
    if anchor.number and anchor.last >= anchor.number:
        return tuple(range(anchor.number, anchor.last + 1))
    nxt = next((ln.anchor for ln in following if ln.anchor is not None and ln.anchor.kind == "question"), None)
    return (nxt.number,) if nxt is not None else ()


def _boxes(col: list[_Line], full: Mask, x0: int, x1: int, c: int, score_of: dict[int, float]) -> tuple[list[QuestionBox], list[QuestionBox]]:
    """Questions and blocks (headings, instructions) of one column, top to bottom.

    A question runs from its anchor to the line before the next anchor,
    heading or instruction in the column; the first question after an
    instruction starts at the line after it (the passage is its own).
    """
    questions: list[QuestionBox] = []
    blocks: list[QuestionBox] = []
    marks = [i for i, ln in enumerate(col) if ln.anchor is not None]
    for k, i in enumerate(marks):
        ln = col[i]
        assert ln.anchor is not None
        nxt = marks[k + 1] if k + 1 < len(marks) else len(col)
        if ln.anchor.kind in ("heading", "range"):
            box = _ink_box(full, x0, x1, ln.y0, ln.y1)
            if box is not None:
                kind = "heading" if ln.anchor.kind == "heading" else "instruction"
                governs = _governs(ln.anchor, col[i + 1 :]) if kind == "instruction" else ()
                blocks.append(QuestionBox(box, None, SCORE_READ, c, kind=kind, governs=governs))
            continue
        first = i
        prev = col[marks[k - 1]] if k > 0 else None
        if prev is not None and prev.anchor is not None and prev.anchor.kind == "range":
            first = marks[k - 1] + 1  # the passage between the instruction and this anchor is this question's
        box = _ink_box(full, x0, x1, col[first].y0, col[nxt - 1].y1)
        if box is not None:
            questions.append(QuestionBox(box, ln.anchor.number, score_of.get(id(ln), SCORE_ODD), c))
    return questions, blocks


def _segment_flat(
    gray: GrayImage, *, read_numbers: bool = True, border_px: int = 0, outside: Mask | None = None, noisy: bool = False
) -> tuple[list[QuestionBox], list[QuestionBox]]:
    H, W = gray.shape
    ink = _ink(gray, border_px, outside)
    text_px = _text_height(ink)
    ink = _drop_specks(ink, text_px, noisy=noisy)
    hr, vr, text = _rules(ink, text_px)
    top, bottom, furniture, dividers = _page_rules(hr, vr)
    text &= ~_near_dividers(text, dividers, text_px)
    pen = _margin_writing(text, (top, bottom), text_px)
    text &= ~pen
    full = ink & ~furniture & ~pen
    columns = _columns(text, text_px, (top + (bottom - top) // 10, bottom - (bottom - top) // 10), dividers)
    # Footer lines: narrow, centred, at the bottom of the page (read on the whole width).
    for line in reversed(_lines_in(text, 0, W, (top, bottom), text_px, -1)):
        if not _is_footer(line, W, H, text_px):
            break
        bottom = min(bottom, line.y0)
    lines: list[_Line] = []
    candidates: list[_Line] = []
    for c, (x0, x1) in enumerate(columns):
        col_lines = _lines_in(text, x0, x1, (top, bottom), text_px, c)
        while col_lines and _is_footer(col_lines[-1], W, H, text_px):
            col_lines.pop()
        # a line touching the cut between columns runs across it (a title band): not this column's text
        textual = [ln for ln in col_lines if _is_text_line(ln, text_px) and not (x0 > 0 and ln.x0 <= x0 + 1)]
        if not textual:
            continue
        # the column's margin: its leftmost line of text (anchors hang left of everything else);
        # a keystoned photo leans its margin, so a line set apart and clearly left of its neighbours counts too
        tol = MARGIN_TOL_TEXT * text_px
        a, b = _margin(textual, tol)
        for ln in textual:
            apart = ln.gap_above >= RANGE_GAP_TEXT * text_px
            margin = a + b * (ln.y0 + ln.y1) / 2
            if margin - tol <= ln.x0 <= margin + tol or (apart and _locally_leftmost(ln, col_lines, text_px)):
                candidates.append(ln)
        lines += col_lines
    candidates = candidates[:MAX_CANDIDATES]
    if read_numbers and candidates:
        crops = [c for ln in candidates for c in _anchor_crops(gray, text, ln, text_px)]
        texts = read_anchor_texts(crops, text_px)
        reads = [texts[N_READS * k : N_READS * (k + 1)] for k in range(len(candidates))]
        for ln, r in zip(candidates, reads, strict=True):
            ln.anchor, ln.options = _best_anchor([parse_anchor(t) for t in r] + _munje_split(r))
            ln.reads = tuple(r)
        _guess_ranges(candidates, reads, text_px)
        _mark_headings(candidates, gray, text_px)
        for ln in candidates:  # an entry of a table of contents is a heading, whatever its number
            if ln.anchor is not None and ln.anchor.kind == "question" and is_contents_line(gray, ln.y0, ln.y1, ln.x0, ln.x1, text_px):
                ln.anchor, ln.options = Anchor("heading", 0, 0), ()
    score_of = _number_questions(candidates, text_px)
    _heading_lines(lines, {id(ln) for ln in candidates}, text_px)
    _drop_without_evidence(candidates, score_of, text, text_px)

    questions: list[QuestionBox] = []
    blocks: list[QuestionBox] = []
    for c, (x0, x1) in enumerate(columns):
        col_questions, col_blocks = _boxes([ln for ln in lines if ln.column == c], full, x0, x1, c, score_of)
        questions += col_questions
        blocks += col_blocks
    return questions, blocks


def _to_input(q: QuestionBox, scale: float, H_back: npt.NDArray[np.float64] | None, size_wh: tuple[int, int]) -> QuestionBox:
    """``q`` with its box mapped from the analysed page back to input pixels."""
    x, y, w, h = q.box_xywh
    if scale != 1.0:
        x0, y0 = int(x / scale), int(y / scale)
        x1, y1 = int(np.ceil((x + w) / scale)), int(np.ceil((y + h) / scale))
        x, y, w, h = x0, y0, x1 - x0, y1 - y0
    box = map_box_back((x, y, w, h), H_back, size_wh) if H_back is not None else (x, y, w, h)
    return QuestionBox(box, q.number, q.score, q.column, kind=q.kind, governs=q.governs)


def segment_layout(image: npt.NDArray[np.uint8], *, read_numbers: bool = True) -> tuple[QuestionBox, ...]:
    """Find the questions of one exam page by layout analysis (:func:`analyse_layout` without its blocks).

    Args:
        image: the page, ``uint8`` grayscale ``(H, W)`` or BGR ``(H, W, 3)``;
            a scan or a phone photo (flattened before analysis).
        read_numbers: read anchors with Tesseract (``False`` finds nothing:
            anchors are what separates questions; kept for tests of the geometry).

    Returns:
        The questions in reading order (column by column, top to bottom),
        boxes in ``image`` pixels.

    Raises:
        vision.errors.EngineError: Tesseract is missing or failed.
    """
    return analyse_layout(image, read_numbers=read_numbers)[0]


def analyse_layout(
    image: npt.NDArray[np.uint8], *, read_numbers: bool = True
) -> tuple[tuple[QuestionBox, ...], tuple[QuestionBox, ...]]:
    """The questions of one exam page and its blocks (section headings, group instructions).

    Args:
        image: as :func:`segment_layout`.
        read_numbers: as :func:`segment_layout`.

    Returns:
        ``(questions, blocks)``, each in reading order, boxes in ``image``
        pixels; blocks have ``kind`` ``heading`` or ``instruction`` (with
        ``governs``) and no number.

    Raises:
        vision.errors.EngineError: Tesseract is missing or failed.
    """
    gray = _gray(image)
    H, W = gray.shape
    quad = find_page_quad(gray)
    H_back: npt.NDArray[np.float64] | None = None
    flat = gray
    border = 0.0
    outside: Mask | None = None
    if quad is not None:
        flat, H_back = rectify(gray, quad)
        border = FLAT_BORDER * max(flat.shape)
    else:
        angle = estimate_skew_deg(gray)
        if abs(angle) >= MIN_SKEW_DEG:
            flat, H_back = deskew(gray, angle)
            # the corners the rotation laid in: their edge against shaded paper is not ink
            inside = cv2.warpPerspective(np.full(gray.shape, 255, np.uint8), np.linalg.inv(H_back), flat.shape[::-1], flags=cv2.INTER_NEAREST)
            outside = np.asarray(inside < 255)
    scale = 1.0
    if flat.shape[1] > WORK_WIDTH_PX:
        scale = WORK_WIDTH_PX / flat.shape[1]
        flat = np.asarray(cv2.resize(flat, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA), dtype=np.uint8)
        if outside is not None:
            outside = np.asarray(cv2.resize(outside.astype(np.uint8), flat.shape[::-1], interpolation=cv2.INTER_NEAREST) > 0)
    sigma = denoise_sigma(measure(flat, glyph_px=0.0))
    if sigma > 0:  # grain: thresholding would turn it into specks that split and join lines
        flat = np.asarray(cv2.GaussianBlur(flat, (0, 0), sigma), dtype=np.uint8)
    questions, blocks = _segment_flat(flat, read_numbers=read_numbers, border_px=int(border * scale), outside=outside, noisy=sigma > 0)
    return (
        tuple(_to_input(q, scale, H_back, (W, H)) for q in questions),
        tuple(_to_input(b, scale, H_back, (W, H)) for b in blocks),
    )
