"""One page through Tesseract, done right: preprocess, circled numbers, columns, one OCR call.

Steps (each module says why):

1. :func:`vision.ocr.preprocess.prepare_page`: gray, deskew, text size, local
   threshold for photos;
2. :func:`vision.ocr.circled.find_circled`: ``①..⑨`` found and read, then
   erased from the image Tesseract sees;
3. :func:`vision.ocr.preprocess.find_rules`: table borders, frames and
   underlines erased (Tesseract reads them as ``|``, ``[``, ``_``);
   :func:`vision.ocr.leaders.find_leaders`: dot leaders of contents pages
   erased (Tesseract reads them as runs of Hangul);
   :func:`vision.ocr.columns.find_columns`: reading regions (columns);
4. the regions are stacked top to bottom in reading order on one canvas and
   read by **one** Tesseract call (each call pays ~0.1 s of model loading);
5. lines are cut back into their regions; uncertain words get a second look
   with one language at a time (:mod:`vision.ocr.reread`); circled numbers are put into the
   line they sit on, and every box is mapped to page pixels;
6. the read is judged (:func:`vision.ocr.quality.low_quality_reason`): a page
   probably misread gets a ``reason`` and status ``low_quality``.

Examples:
    >>> import numpy as np
    >>> page = read_page(np.full((300, 400), 255, np.uint8))   # a blank page
    >>> page.width, page.height, page.lines
    (400, 300, ())
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import numpy.typing as npt

from vision.ocr.circled import Circled, erase, find_circled
from vision.ocr.columns import find_columns, gutter_crossings
from vision.ocr.jamo import fix_jamo_items
from vision.ocr.leaders import find_leaders
from vision.ocr.preprocess import Prepared, find_rules, prepare_page
from vision.ocr.quality import low_quality_reason, repeated_share
from vision.ocr.reread import reread_uncertain
from vision.ocr.tesseract import TesseractConfig, make_line, read_region
from vision.ocr.types import BoxXYWH, OCRLine, OCRPage, OCRWord

__all__ = ["PageOptions", "read_page"]

#: widest a read character may be, in glyph heights, when measuring how much ink the words cover.
MAX_CHAR_WIDTH_GLYPHS = 1.5
#: white space between stacked regions, in glyph heights (Tesseract keeps them apart).
STACK_GAP_GLYPHS = 2.0


@dataclass(frozen=True)
class PageOptions:
    """Switches of the Tesseract page pipeline (all on by default; the bench turns them off one by one).

    Args:
        tesseract: how Tesseract is called.
        binarize: ``None`` decides per page; ``True``/``False`` forces local thresholding.
        deskew: undo the text's rotation.
        circled: find ``①..⑨`` geometrically.
        columns: split columns before OCR.
        reread: read uncertain words again with one language at a time.
        rules: erase ruled lines (table borders, frames, underlines) before OCR.
        leaders: erase dot leaders of contents pages before OCR (:mod:`vision.ocr.leaders`).
        jamo: read choice items that are lists of jamo (``① ㄱ, ㄴ``) from the ink (:mod:`vision.ocr.jamo`).
    """

    tesseract: TesseractConfig = TesseractConfig()
    binarize: bool | None = None
    deskew: bool = True
    circled: bool = True
    columns: bool = True
    reread: bool = True
    rules: bool = True
    leaders: bool = True
    jamo: bool = True


def read_page(page: npt.NDArray[np.uint8], options: PageOptions | None = None) -> OCRPage:
    """OCR one page (``(H, W)`` gray or ``(H, W, 3)`` BGR uint8); boxes in its pixels."""
    options = options or PageOptions()
    prep = prepare_page(page, binarize=options.binarize, deskew=options.deskew)
    pw, ph = prep.page_wh
    if prep.glyph_px <= 0:
        return OCRPage(width=pw, height=ph, lines=())
    circles = find_circled(prep.ink) if options.circled else []
    paper = paper_level(prep.image)  # what is erased or added becomes this, not white
    image = erase(prep.image, circles, value=paper) if circles else prep.image
    ink = erase(prep.ink, circles, value=0) if circles else prep.ink
    # columns see the horizontal rules (a header rule spans the gutter: it
    # separates a full-width header from the columns); Tesseract does not
    regions = _columns(prep.ink, ink, prep.glyph_px) if options.columns else [(0, 0, image.shape[1], image.shape[0])]
    if options.rules:
        rules = find_rules(ink, prep.glyph_px)
        image = np.where(rules > 0, np.uint8(paper), image).astype(np.uint8)
        ink = np.where(rules > 0, np.uint8(0), ink).astype(np.uint8)
    if options.leaders:
        dots = find_leaders(ink, prep.glyph_px)
        image = np.where(dots > 0, np.uint8(paper), image).astype(np.uint8)
        ink = np.where(dots > 0, np.uint8(0), ink).astype(np.uint8)
    canvas, offsets = _stack(image, regions, gap_px=int(prep.glyph_px * STACK_GAP_GLYPHS), fill=paper)
    dpi = max(70, round(options.tesseract.dpi * prep.scale)) if options.tesseract.dpi else 0
    raw = read_region(canvas, replace(options.tesseract, dpi=dpi or options.tesseract.dpi))
    per_region = _unstack(raw, regions, offsets)
    if options.reread:
        per_region = _reread(image, per_region, prep.glyph_px, options.tesseract)
    per_region = [[_times_as_x(line) for line in lines] for lines in per_region]
    per_region = _with_circled(per_region, regions, circles)
    if options.jamo and circles:
        per_region = [fix_jamo_items(lines, ink) for lines in per_region]
    coverage = _ink_coverage(ink, [w for lines in per_region for line in lines for w in line.words], prep.glyph_px)
    lines = [_to_page(line, prep) for region_lines in per_region for line in region_lines]
    chars = sum(len(line.text) for line in lines)
    confidence = sum(line.confidence * len(line.text) for line in lines) / chars if chars else None
    words = sum(len(line.words) for line in lines)
    repeats = repeated_share(" ".join(line.text for line in lines))
    reason = (low_quality_reason(prep.quality, confidence=confidence, words=words, ink_read=coverage, repeats=repeats)
              if chars else "")
    return OCRPage(width=pw, height=ph, lines=tuple(lines), reason=reason)


def _columns(ink: npt.NDArray[np.uint8], without_circles: npt.NDArray[np.uint8], glyph_px: float) -> list[BoxXYWH]:
    """The reading regions, searched on the ink with and without the circled numbers; the split one wins.

    Each ink finds columns the other misses on synth two-column pages: with
    the circles, a right column of choice lines starts flush (seed 7307: one
    region without them, each printed row read across both columns, CER
    73.5 %, status ok; 1.2 % with them); without them, a row of choices
    spread across the page no longer bridges the gutter (seed 7301: one
    region with them, CER 84 %). On sets (b) and (c) both give the same regions.

    When both split, at different gutters, the gutter crossed by fewer text
    slabs of the ink with the circles wins: without them, the hanging indent
    of a right column's questions (body text flush at x, the ``문제 15``
    labels ending before it) can outscore the true gutter, whose right side's
    nearest text (the choices' circles) was erased (synth photo seed 7103, Korean:
    gutter 929 px crossed by 21 slabs against the true gutter's 9; CER 57.8 %, status ok).
    """
    plain = find_columns(without_circles, glyph_px=glyph_px)
    if without_circles is ink:  # no circled numbers: one search is both
        return plain
    with_circles = find_columns(ink, glyph_px=glyph_px)
    if len(plain) > 1 and len(with_circles) > 1:
        gutters = [min((x for x, _, _, _ in found if x > 0), default=0) for found in (plain, with_circles)]
        if gutters[0] and gutters[1] and gutters[0] != gutters[1]:
            crossed = gutter_crossings(ink, gutters, glyph_px=glyph_px)
            if crossed[0] != crossed[1]:
                return plain if crossed[0] < crossed[1] else with_circles
    return with_circles if len(with_circles) > len(plain) else plain


def paper_level(image: npt.NDArray[np.uint8]) -> int:
    """The paper's grey level of a prepared page (its 90th percentile): 255 on a thresholded page or a render.

    A photo read in gray (background even, no grain: not thresholded) keeps
    its dim paper, ~200 under a phone's light. Painting erased marks and the
    stacked canvas's gaps and margins white beside it makes a third grey
    level that Tesseract's global Otsu splits from the paper: on synth
    photo seed 7103 (two columns, paper 197-205, ink ~104) the canvas's
    threshold rose from 144 to 222, the paper became ink and the page read
    as its circled numbers only (CER 97.8 %; 1.0 % on paper-grey fill).

    Examples:
        >>> page = np.full((100, 100), 200, np.uint8); page[40:60, 10:90] = 60
        >>> paper_level(page), paper_level(np.full((10, 10), 255, np.uint8))
        (200, 255)
    """
    return int(np.percentile(image[::4, ::4], 90)) if image.size else 255


def _ink_coverage(ink: npt.NDArray[np.uint8], words: list[OCRWord], glyph_px: float) -> float:
    """Share of the page's ink (rules and circled numbers erased) inside the boxes of the words read.

    A box counts at most :data:`MAX_CHAR_WIDTH_GLYPHS` glyph heights wide per
    character read in it (Tesseract may give ``|`` a box across the page).
    """
    total = int(np.count_nonzero(ink))
    if not total:
        return 1.0
    covered = np.zeros(ink.shape, dtype=bool)
    for word in words:
        x, y, w, h = word.box
        w = min(w, int(max(1, len(word.text)) * MAX_CHAR_WIDTH_GLYPHS * glyph_px))
        covered[max(0, y) : y + h, max(0, x) : x + w] = True
    return float(np.count_nonzero(ink.astype(bool) & covered)) / total


def _reread(image: npt.NDArray[np.uint8], per_region: list[list[OCRLine]], glyph_px: float,
            config: TesseractConfig) -> list[list[OCRLine]]:
    """Second look at uncertain words across all regions at once (two Tesseract calls per page)."""
    flat = [line for lines in per_region for line in lines]
    fixed = iter(reread_uncertain(image, flat, glyph_px=glyph_px, config=config))
    return [[next(fixed) for _ in lines] for lines in per_region]


def _times_as_x(line: OCRLine) -> OCRLine:
    """``×`` back to ``x`` unless it stands between two numbers (Tesseract reads ``3x`` as ``3×``).

    Examples:
        >>> from vision.ocr.tesseract import make_line
        >>> words = [OCRWord(t, 0.9, (i * 40, 0, 30, 20)) for i, t in enumerate(["3×", "+", "2", "2", "×", "3"])]
        >>> _times_as_x(make_line(words)).text
        '3x + 2 2 × 3'
    """
    if "×" not in line.text:
        return line
    text = " ".join(w.text for w in line.words)
    out = list(text)
    for i, ch in enumerate(text):
        if ch != "×":
            continue
        left = text[:i].rstrip()[-1:]
        right = text[i + 1 :].lstrip()[:1]
        if not (left[:1].isdigit() or left == ")") or not (right[:1].isdigit() or right == "("):
            out[i] = "x"
    fixed = "".join(out).split(" ")
    if len(fixed) != len(line.words):
        return line
    return make_line([replace(w, text=t) for w, t in zip(line.words, fixed, strict=True)])


def _stack(image: npt.NDArray[np.uint8], regions: list[BoxXYWH], *, gap_px: int,
           fill: int = 255) -> tuple[npt.NDArray[np.uint8], list[int]]:
    """Regions one under the other on paper of grey level ``fill``; returns the canvas and each region's top in it."""
    if len(regions) == 1 and regions[0] == (0, 0, image.shape[1], image.shape[0]):
        return image, [0]
    width = max(w for _, _, w, _ in regions)
    height = sum(h for _, _, _, h in regions) + gap_px * (len(regions) + 1)
    canvas = np.full((height, width), fill, dtype=np.uint8)
    offsets: list[int] = []
    y = gap_px
    for x0, y0, w, h in regions:
        canvas[y : y + h, :w] = image[y0 : y0 + h, x0 : x0 + w]
        offsets.append(y)
        y += h + gap_px
    return canvas, offsets


def _unstack(lines: list[OCRLine], regions: list[BoxXYWH], offsets: list[int]) -> list[list[OCRLine]]:
    """Each canvas line back to its region, boxes in the prepared image's frame."""
    out: list[list[OCRLine]] = [[] for _ in regions]
    for line in lines:
        words_by_region: dict[int, list[OCRWord]] = {}
        for word in line.words:
            cy = word.box[1] + word.box[3] / 2
            k = max((i for i, top in enumerate(offsets) if top <= cy), default=0)
            rx, ry = regions[k][0], regions[k][1]
            x, y, w, h = word.box
            words_by_region.setdefault(k, []).append(replace(word, box=(x + rx, y - offsets[k] + ry, w, h)))
        for k, words in sorted(words_by_region.items()):
            out[k].append(make_line(words))
    return out


def _with_circled(per_region: list[list[OCRLine]], regions: list[BoxXYWH], circles: list[Circled]) -> list[list[OCRLine]]:
    """Put each circled number into the line it sits on (a new line when none)."""
    out = [list(lines) for lines in per_region]
    for c in circles:
        x, y, w, h = c.box
        cx, cy = x + w / 2, y + h / 2
        k = next(
            (i for i, (rx, ry, rw, rh) in enumerate(regions) if rx <= cx < rx + rw and ry <= cy < ry + rh), 0
        )
        word = OCRWord(text=c.char, confidence=c.score, box=c.box)
        best, best_gap = -1, float("inf")
        for i, line in enumerate(out[k]):
            ly, lh = line.box[1], line.box[3]
            gap = abs((ly + lh / 2) - cy)
            if ly - h / 2 <= cy <= ly + lh + h / 2 and gap < best_gap:
                best, best_gap = i, gap
        if best >= 0:
            out[k][best] = make_line([*out[k][best].words, word])
        else:
            out[k].append(make_line([word]))
    for lines in out:
        lines.sort(key=lambda line: (line.box[1], line.box[0]))
    return _merge_same_row(out)


def _merge_same_row(per_region: list[list[OCRLine]]) -> list[list[OCRLine]]:
    """Lines of one region that overlap mostly in height are one line (a circled-only line beside text)."""
    merged: list[list[OCRLine]] = []
    for lines in per_region:
        kept: list[OCRLine] = []
        for line in lines:
            if kept and _same_row(kept[-1].box, line.box):
                kept[-1] = make_line([*kept[-1].words, *line.words])
            else:
                kept.append(line)
        merged.append(kept)
    return merged


def _same_row(a: BoxXYWH, b: BoxXYWH) -> bool:
    top, bottom = max(a[1], b[1]), min(a[1] + a[3], b[1] + b[3])
    return bottom - top > 0.6 * min(a[3], b[3])


def _to_page(line: OCRLine, prep: Prepared) -> OCRLine:
    words = tuple(replace(w, box=prep.to_page_box(w.box)) for w in line.words)
    return replace(line, box=prep.to_page_box(line.box), words=words)
