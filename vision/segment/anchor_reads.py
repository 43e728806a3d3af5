"""Reads of a margin line for layout analysis: its crops, and the anchor they give.

Part of :mod:`vision.segment.layout` (step 6): each candidate line is read on
:data:`N_READS` crops of its start (:mod:`vision.segment.anchors` reads
them); the reads give the line's anchor and every number it may carry; an
unread bracket set apart at the margin is guessed to open a passage.
"""

from __future__ import annotations

import re

import numpy as np
import numpy.typing as npt

from vision.segment.anchors import MAX_QUESTION_NUMBER, Anchor
from vision.segment.ink import GrayImage, Mask, _runs
from vision.segment.lines import _Line

#: The anchor is searched in this many text heights at the start of a line.
ANCHOR_MAX_W_TEXT = 6.0
#: Blank runs narrower than this (text heights) are inside a glyph or a word, not gaps.
MIN_GAP_TEXT = 0.25
#: Crops read per candidate line (anchor alone, one word more, to the next wide gap).
N_READS = 3
#: The anchor ends at the first gap at least this share of the widest gap near the line start.
ANCHOR_GAP_SHARE = 0.75
#: A guessed passage range is set apart from the line above by this many text heights (a line gap is ~0.6).
RANGE_GAP_TEXT = 1.2


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
