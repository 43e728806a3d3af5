"""Exam evidence on a page, and contents lines: what keeps headings of ordinary documents out of questions.

A numbered line at the margin is not always a question. Specifications,
theses and rules number their chapters (``1) 소개``), their goals (``G1:``
read as ``61:``), footnotes (``6)``) and their contents pages
(``1) 제 1 절 ..... 3``). Two page-level checks tell an exam from them, both
by what an exam prints and a document does not, not by how the numbers read:

* :func:`count_choice_marks`: circled numbers ``①``-``⑤`` (a ring with a
  separate mark inside, about one character high). Exams print four or five
  per question; a document prints at most a ``©``.
* :func:`is_contents_line`: a line with a dot leader (a run of small dots on
  the baseline, evenly spaced) is an entry of a table of contents, a heading.

:func:`has_exam_evidence` combines them with the anchors read: the page is an
exam when it shows choice marks, a group instruction ``[3~5]``, or at least
:data:`MIN_READ_QUESTIONS` question numbers read exactly in sequence (a lone
``1)`` on a page of prose is a chapter heading or a list item, not a
question). A page without evidence returns no questions; its headings stay
as blocks.

Examples:
    >>> import numpy as np
    >>> has_exam_evidence(read_questions=1, ranges=0, choice_marks=0)
    False
    >>> has_exam_evidence(read_questions=2, ranges=0, choice_marks=0), has_exam_evidence(read_questions=0, ranges=1, choice_marks=0)
    (True, True)
    >>> has_exam_evidence(read_questions=1, ranges=0, choice_marks=0, choice_labels=4), has_exam_evidence(read_questions=0, ranges=0, choice_marks=0, choice_labels=5)
    (True, False)
    >>> has_exam_evidence(read_questions=1, ranges=0, choice_marks=3), _choice_label("(3) 가을"), _choice_label("l) 봄"), _choice_label("이")
    (False, 3, 1, None)
    >>> count_choice_marks(np.zeros((50, 50), bool), 10.0)
    0
"""

from __future__ import annotations

import re

import cv2
import numpy as np
import numpy.typing as npt

from vision.segment.anchor_reads import _anchor_crops
from vision.segment.anchors import read_anchor_texts
from vision.segment.ink import Mask, _runs
from vision.segment.lines import _Line

__all__ = [
    "MIN_CHOICE_LABELS",
    "MIN_CHOICE_MARKS",
    "MIN_READ_QUESTIONS",
    "choice_label_run",
    "count_choice_marks",
    "has_exam_evidence",
    "is_contents_line",
]

#: Questions read exactly (in sequence) that make a page an exam without other evidence.
MIN_READ_QUESTIONS = 2
#: Circled numbers that make a page an exam (one question's choices; a document may print a ``©`` or two).
MIN_CHOICE_MARKS = 4
#: With one question read, a page is an exam when this many choice labels are read in sequence from 1
#: after it (``(1) (2) (3) (4)``, ``1) 2) 3) 4)``). Three circled marks with one question were tried and
#: dropped: rule documents mark their paragraphs ``①`` ``②`` ``③`` (c-held, 3 pages).
MIN_CHOICE_LABELS = 4
#: The lines after that question searched for its choices, and the items read at most.
CHOICE_LINES = 12
CHOICE_ITEMS = 30
#: Choices in a row stand apart by at least this many text heights (a word gap is ~0.3).
ITEM_GAP_TEXT = 1.0
#: A choice mark's ring: its size in text heights, and how round and hollow it is.
RING_MIN_TEXT, RING_MAX_TEXT = 0.6, 1.8
RING_MAX_ASPECT = 1.35
#: The ring's hole over its outer area (a stroke, not a filled blob or a letter with a small counter).
RING_MIN_HOLE = 0.35
#: A leader dot: at most this many text heights across, its bottom this close to the line's bottom
#: (the line's box runs to its lowest ink: brackets descend below the baseline).
DOT_MAX_TEXT = 0.4
DOT_BASE_TEXT = 0.5
#: Dots in a row (each within :data:`DOT_STEP_TEXT` text heights of the last) that make a leader.
LEADER_DOTS = 6
DOT_STEP_TEXT = 1.2


def has_exam_evidence(*, read_questions: int, ranges: int, choice_marks: int, choice_labels: int = 0) -> bool:
    """Whether a page is an exam: choice marks, a group instruction, enough numbers read in sequence,
    or a question read with its choice labels read in sequence (``choice_labels``: :func:`choice_label_run`)."""
    if choice_marks >= MIN_CHOICE_MARKS or ranges > 0 or read_questions >= MIN_READ_QUESTIONS:
        return True
    return read_questions >= 1 and choice_labels >= MIN_CHOICE_LABELS


def choice_label_run(gray: npt.NDArray[np.uint8], text: Mask, lines: list[_Line], text_px: float) -> int:
    """The longest run of choice labels read in sequence from 1 at the starts of the items of ``lines``.

    An item starts a line or follows a gap of :data:`ITEM_GAP_TEXT` text
    heights (choices in a row); its first word is read (one Tesseract call
    for all). A label is ``(n)``, ``n)``, ``[n]`` or a circled ``①``-``⑤``;
    a label mid-sentence (``이 문서는 (1) 정의, (2) …``) starts no item. Tesseract's
    ``kor`` model reads a circled digit as ``0``: those are counted as rings
    (:func:`count_choice_marks`) instead.
    """
    items: list[_Line] = []
    for ln in lines[:CHOICE_LINES]:
        cols = np.asarray(text[ln.y0 : ln.y1, ln.x0 : ln.x1].any(axis=0))
        starts = [0] + [b for a, b in _runs(~cols) if a > 0 and b < cols.size and b - a >= ITEM_GAP_TEXT * text_px]
        items += [_Line(ln.y0, ln.y1, ln.x0 + s, ln.x1, ln.column) for s in starts]
    items = items[:CHOICE_ITEMS]
    if not items:
        return 0
    reads = read_anchor_texts([_anchor_crops(gray, text, it, text_px)[0] for it in items], text_px)
    run = best = 0
    for r in reads:
        n = _choice_label(r)
        if n is None:
            continue
        run = run + 1 if n == run + 1 else int(n == 1)
        best = max(best, run)
    return best


_LABEL = re.compile(r"^\s*(?:[\[({|]\s*([1-5lI])\s*[\])}|]|([1-5lI])\s*[)\]]|([①②③④⑤]))")


def _choice_label(read: str) -> int | None:
    m = _LABEL.match(read)
    if not m:
        return None
    if m.group(3):
        return "①②③④⑤".index(m.group(3)) + 1
    digit = (m.group(1) or m.group(2)).translate(str.maketrans("lI", "11"))
    return int(digit)


def count_choice_marks(text: npt.NDArray[np.bool_], text_px: float) -> int:
    """Circled numbers on the page: rings about a character high with a separate mark in their hole.

    Args:
        text: the page's text ink, ``bool`` ``(H, W)`` (rules removed).
        text_px: median character height in pixels.
    """
    if not text.any():
        return 0
    mask = text.astype(np.uint8)
    contours, hierarchy = cv2.findContours(mask, cv2.RETR_CCOMP, cv2.CHAIN_APPROX_SIMPLE)
    if hierarchy is None:
        return 0
    _n, _labels, stats, _c = cv2.connectedComponentsWithStats(mask, connectivity=8)
    small = stats[1:]
    lo, hi = RING_MIN_TEXT * text_px, RING_MAX_TEXT * text_px
    count = 0
    for i, h in enumerate(hierarchy[0]):
        if h[3] != -1 or h[2] == -1:  # an outer contour with a hole
            continue
        x, y, w, hh = cv2.boundingRect(contours[i])
        if not (lo <= w <= hi and lo <= hh <= hi and max(w, hh) <= RING_MAX_ASPECT * min(w, hh)):
            continue
        hole = int(h[2])
        hx, hy, hw, hh2 = cv2.boundingRect(contours[hole])
        outer_area = cv2.contourArea(contours[i])
        if outer_area <= 0 or cv2.contourArea(contours[hole]) < RING_MIN_HOLE * outer_area:
            continue
        # a separate mark (the digit) inside the hole
        inside = (
            (small[:, 0] >= hx) & (small[:, 1] >= hy)
            & (small[:, 0] + small[:, 2] <= hx + hw) & (small[:, 1] + small[:, 3] <= hy + hh2)
        )
        if inside.any():
            count += 1
    return count


def is_contents_line(gray: npt.NDArray[np.uint8], y0: int, y1: int, x0: int, x1: int, text_px: float) -> bool:
    """Whether the line ``[y0:y1, x0:x1]`` of ``gray`` holds a dot leader (a contents entry).

    The dots are found on the line's own Otsu threshold (a speck filter on the
    page would drop them): at least :data:`LEADER_DOTS` small marks on the
    baseline in a row, each within :data:`DOT_STEP_TEXT` text heights of the last.
    """
    strip = gray[max(0, y0) : y1, max(0, x0) : x1]
    if strip.size == 0 or strip.shape[0] < 2:
        return False
    _t, binary = cv2.threshold(strip, 0, 255, cv2.THRESH_BINARY_INV + cv2.THRESH_OTSU)
    n, _labels, stats, _c = cv2.connectedComponentsWithStats(binary, connectivity=8)
    base = strip.shape[0]
    dmax = max(2.0, DOT_MAX_TEXT * text_px)
    xs = sorted(
        int(s[0]) for s in stats[1:n]
        if s[2] <= dmax and s[3] <= dmax and s[4] >= 2 and base - (s[1] + s[3]) <= DOT_BASE_TEXT * text_px
    )
    run = best = 0
    last = None
    for x in xs:
        run = run + 1 if last is not None and x - last <= DOT_STEP_TEXT * text_px else 1
        best = max(best, run)
        last = x
    return best >= LEADER_DOTS
