"""Boxes of a column's questions and blocks for layout analysis.

Part of :mod:`vision.segment.layout` (step 7): a question runs from its
anchor (or its passage) to the line before the next anchor; its box is the
tight box of all its ink, frames, figures and tables included.
"""

from __future__ import annotations

import numpy as np

from vision.segment.anchors import Anchor
from vision.segment.ink import Mask
from vision.segment.lines import _Line
from vision.segment.numbering import SCORE_ODD, SCORE_READ
from vision.segment.types import QuestionBox


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
