"""Section headings of a page for layout analysis: margin lines that end the question above.

Part of :mod:`vision.segment.layout` (step 6): a line read as a heading, or
an unnumbered short line set apart over a question, is a heading block,
never a question.
"""

from __future__ import annotations

import re

from vision.segment.anchor_reads import RANGE_GAP_TEXT, _crop
from vision.segment.anchors import Anchor, is_heading, read_anchor_texts
from vision.segment.ink import GrayImage
from vision.segment.lines import MARGIN_TOL_TEXT, _Line

#: A heading found by its place (an unnumbered line over a question) spans at most this share of its column.
HEADING_MAX_W = 0.6
#: A bare "제 N" is read again on a crop this many text heights long ("제 2 부 읽기" is a heading).
HEADING_CROP_TEXT = 7.0


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
