"""Question segmentation by layout analysis (the ``opencv`` engine).

How a page is read:

1. A phone photo is flattened first (:mod:`vision.segment.rectify`); a page
   with no visible outline (a scan, a photo filling the frame) is levelled
   when its lines are skewed; boxes are mapped back to input pixels at the end.
2. Ink is found by a local (adaptive) threshold, which survives uneven light
   where a global Otsu threshold loses whole regions; specks are dropped
   (:mod:`vision.segment.ink`).
3. Rules are split from text: page-wide horizontal rules (under the header,
   above the footer) and tall vertical rules (column dividers) are page
   furniture; shorter lines (passage frames, tables, figures) stay with their
   question but are left out when finding text lines (:mod:`vision.segment.rules`).
   Writing in the page margins is set apart (:mod:`vision.segment.margin_writing`).
4. Columns: a vertical band free of text near the middle of the page
   (:mod:`vision.segment.columns`).
5. Lines: runs of text rows in each column; header lines (above the header
   rule) and the footer (page number, centred, at the bottom) are dropped
   (:mod:`vision.segment.lines`).
6. Anchors: lines whose first word sits on the column's left margin are
   candidates; their first two words are read together in one Tesseract
   call (:mod:`vision.segment.anchors`, crops in :mod:`vision.segment.anchor_reads`); ``1.``, ``2)``, ``[3]``, ``문제 4`` open
   a question, ``[1~2]`` opens a shared passage, which joins the first
   question of its range (the crop of that question can be answered alone).
   Each line is read on three crops; which lines open questions, and their
   numbers, is then chosen as one consecutive sequence that best agrees with
   the reads (:mod:`vision.segment.numbering`, :mod:`vision.segment.sequence`): misreads are corrected, an
   unread anchor set apart fills a gap, a continuation line misread as a
   number is left out. A page without exam evidence (circled choices, a
   ``[a~b]`` instruction, two numbers read in sequence, one number with its
   choice labels read in sequence) keeps no questions,
   and a contents line (dot leader) is a heading (:mod:`vision.segment.evidence`;
   headings: :mod:`vision.segment.headings`).
7. A question runs from its anchor (or its passage) to the line before the
   next anchor in the same column; its box is the tight box of all its ink,
   frames, figures and tables included (:mod:`vision.segment.question_boxes`).

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

import cv2
import numpy as np
import numpy.typing as npt

from vision.ocr.quality import denoise_sigma, measure
from vision.segment.anchor_reads import (
    N_READS,
    RANGE_GAP_TEXT,
    _anchor_crops,
    _best_anchor,
    _guess_ranges,
    _munje_split,
)
from vision.segment.anchors import Anchor, parse_anchor, read_anchor_texts
from vision.segment.columns import _columns
from vision.segment.evidence import is_contents_line
from vision.segment.headings import _heading_lines, _mark_headings
from vision.segment.ink import GrayImage, Mask, _drop_specks, _gray, _ink, _text_height
from vision.segment.lines import (
    MARGIN_TOL_TEXT,
    _is_footer,
    _is_text_line,
    _Line,
    _lines_in,
    _locally_leftmost,
    _margin,
)
from vision.segment.margin_writing import _margin_writing, settle_doubtful
from vision.segment.numbering import _drop_without_evidence, _number_questions
from vision.segment.question_boxes import _boxes
from vision.segment.rectify import deskew, estimate_skew_deg, find_page_quad, map_box_back, rectify
from vision.segment.rules import _near_dividers, _page_rules, _rules
from vision.segment.types import QuestionBox

__all__ = ["analyse_layout", "segment_layout"]

#: At most this many margin lines are read (two columns of ~60 lines; noise must not cost minutes).
MAX_CANDIDATES = 120
#: Border of a flattened photo left out, as a fraction of its side (desk remnants at the edge).
FLAT_BORDER = 0.015
#: A page with no outline (a scan, or a photo filling the frame) is levelled when skewed this much (degrees).
MIN_SKEW_DEG = 0.3
#: Pages are analysed at most this wide (a 300 dpi page is scaled down: same result, less work).
WORK_WIDTH_PX = 1800


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
    pen, doubtful = _margin_writing(text, (top, bottom), text_px)
    if read_numbers:
        pen |= settle_doubtful(gray, doubtful, text_px)
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
    _drop_without_evidence(candidates, score_of, text, text_px, gray, sorted(lines, key=lambda ln: (ln.column, ln.y0)))

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
