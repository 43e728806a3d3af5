"""Question numbers of a page for layout analysis: which margin lines open questions, and their numbers.

Part of :mod:`vision.segment.layout` (step 6): the numbers are chosen as one
consecutive sequence (:mod:`vision.segment.sequence`); a page without exam
evidence (:mod:`vision.segment.evidence`) keeps no questions.
"""

from __future__ import annotations

from vision.segment.anchor_reads import _OPENS_RANGE, RANGE_GAP_TEXT
from vision.segment.anchors import Anchor
from vision.segment.evidence import choice_label_run, count_choice_marks, has_exam_evidence
from vision.segment.ink import GrayImage, Mask
from vision.segment.lines import _Line
from vision.segment.sequence import Candidate, assign_numbers

#: Scores: a number read and in sequence, read but out of sequence, inferred from its neighbours.
SCORE_READ, SCORE_ODD, SCORE_INFERRED = 0.95, 0.6, 0.5


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


def _drop_without_evidence(
    candidates: list[_Line], score_of: dict[int, float], text: Mask, text_px: float, gray: GrayImage, lines: list[_Line]
) -> None:
    """No questions on a page that shows no exam evidence (:mod:`vision.segment.evidence`): its
    numbered lines are a document's chapters, goals and footnotes; its headings stay blocks.

    A page with one question read is searched for that question's choice labels
    in sequence (the lines after it, in reading order; one more Tesseract call).
    """
    opened = [ln for ln in candidates if ln.anchor is not None and ln.anchor.kind == "question"]
    if not opened:
        return
    ranges = sum(ln.anchor is not None and ln.anchor.kind == "range" for ln in candidates)
    read = sum(score_of.get(id(ln)) == SCORE_READ for ln in opened)
    if has_exam_evidence(read_questions=read, ranges=ranges, choice_marks=0):
        return
    marks = count_choice_marks(text, text_px)
    if has_exam_evidence(read_questions=read, ranges=ranges, choice_marks=marks):
        return
    if read == 1:
        (first,) = (ln for ln in opened if score_of.get(id(ln)) == SCORE_READ)
        after = [ln for ln in lines if (ln.column, ln.y0) > (first.column, first.y0)]
        labels = choice_label_run(gray, text, after, text_px)
        if has_exam_evidence(read_questions=read, ranges=ranges, choice_marks=marks, choice_labels=labels):
            return
    for ln in opened:
        ln.anchor = None
        score_of.pop(id(ln), None)
