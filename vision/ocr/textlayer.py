"""A PDF page's own text layer, read instead of OCR when it can be trusted.

A born-digital PDF carries its exact text: reading it takes milliseconds and
makes no error, where rendering and OCR take a second and make some. The
text comes from pdfium's text page (``pypdfium2``), one word box per
whitespace-separated run of characters, in the pixels the page would have
been rendered at, so the result has the OCR result's shape (engine
``pdf_text``, every confidence 1.0).

When a layer is usable (measured per page, :func:`judge`; the rule is
written out in ``docs/jobs/ocr.md``):

* it holds text: at least :data:`MIN_CHARS` non-space characters;
* it is mapped to Unicode: at most :data:`MAX_SUSPECT_SHARE` of its
  characters are *suspect* (pdfium's unicode-map errors, U+FFFD, control
  characters, the private-use area, or Latin-1 letters such as ``À``/``°``
  that EUC-KR read as Latin-1 turns Hangul into);
* it is not someone else's poor OCR: a layer drawn invisibly (text render
  mode 3, what scanners put over the page image) or a page mostly covered by
  images is a scan with an OCR layer. It is kept only when its words look
  like words (:data:`MIN_WORD_SHAPE_SHARE` of them are one script: Hangul,
  Latin letters or digits, rather than ``사과S``/``l1I|`` mixtures that OCR
  leaves) and its character boxes cover :data:`MIN_INK_COVERAGE` of the
  page's ink (a coarse render, only for these pages).

Frames:
    Boxes are ``(x, y, w, h)`` in the pixels of the page rendered at the
    ``scale`` given (pixels per PDF point), origin top-left, y down, the
    page's rotation and crop box applied, as :mod:`vision.pages` renders it.

Examples:
    >>> judge(TextLayerStats(chars=0, suspect=0, invisible=0, word_shape_share=0.0, image_share=0.0))
    (False, 'no_text')
    >>> judge(TextLayerStats(chars=900, suspect=2, invisible=0, word_shape_share=0.95, image_share=0.0))
    (True, 'ok')
    >>> judge(TextLayerStats(chars=900, suspect=300, invisible=0, word_shape_share=0.95, image_share=0.0))
    (False, 'unmapped')
    >>> judge(TextLayerStats(chars=900, suspect=0, invisible=900, word_shape_share=0.6, image_share=0.9))
    (False, 'poor_hidden_layer')
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Any

import numpy as np

from aicore.page.errors import PageLayerError
from aicore.page.pdf import PDF_POINTS_PER_INCH, open_pdf
from vision.ocr.types import OCRLine, OCRPage, OCRWord
from vision.pages import pdf_render_dpi

__all__ = ["TextLayer", "TextLayerStats", "judge", "read_text_layer", "read_text_layers"]

#: fewer non-space characters than this is no text layer (a page number, a
#: scanner's stamp); the page is OCR'd.
MIN_CHARS = 20
#: more suspect characters than this share is a broken Unicode mapping
#: (real PDFs with a good mapping have none; one bad glyph is tolerated).
MAX_SUSPECT_SHARE = 0.02
#: a layer drawn invisibly over this share of its characters is a hidden OCR layer.
HIDDEN_SHARE = 0.5
#: images covering this share of the page make it a scan, whatever the text's render mode.
SCAN_IMAGE_SHARE = 0.5
#: a hidden layer is kept when this share of its words are of one script
#: (measured: born-digital text 0.97-1.0; Tesseract's output on grainy
#: photos 0.6-0.8, on clean scans 0.9+).
MIN_WORD_SHAPE_SHARE = 0.9
#: ...and its character boxes (grown by :data:`COVERAGE_GROW_PX`) hold this
#: share of the page's ink (a layer that misses half the text is not the page).
MIN_INK_COVERAGE = 0.8
#: resolution of the coarse render the ink coverage is measured on.
COVERAGE_DPI = 50.0
#: character boxes are grown by this many pixels of the coarse render (antialiasing, tight boxes).
COVERAGE_GROW_PX = 2
#: pdfium's text render mode for invisible text (PDF 32000-1 table 106).
RENDER_MODE_INVISIBLE = 3

_WORD_SHAPES = (
    re.compile(r"^[\W_]*[\uac00-\ud7a3\u3131-\u318e]+[\W_]*$"),
    re.compile(r"^[\W_]*[A-Za-z]+[\W_]*$"),
    re.compile(r"^[\W_]*[0-9.,]+[\W_]*$"),
    re.compile(r"^[\W_]*[\u2460-\u2473][\W_]*$"),
    re.compile(r"^[\W_]+$"),
)


@dataclass(frozen=True)
class TextLayerStats:
    """What :func:`judge` decides on (counts over the non-space characters).

    Args:
        chars: non-space characters in the layer.
        suspect: of those, characters that are not mapped to real text (see the module docstring).
        invisible: of those, characters drawn with the invisible render mode.
        word_shape_share: share of words of one script (0..1; 1.0 with no words).
        image_share: share of the page's area covered by image objects (0..1).
        ink_coverage: share of the page's ink inside character boxes (0..1);
            ``None`` when not measured (visible text on a page that is not a scan).
    """

    chars: int
    suspect: int
    invisible: int
    word_shape_share: float
    image_share: float
    ink_coverage: float | None = None

    @property
    def scan_like(self) -> bool:
        """Hidden text, or a page that is mostly image: a scan with someone's OCR layer."""
        return self.invisible > HIDDEN_SHARE * max(1, self.chars) or self.image_share >= SCAN_IMAGE_SHARE


@dataclass(frozen=True)
class TextLayer:
    """One page's text layer and the decision on it.

    Args:
        page: the text as an :class:`OCRPage` (boxes in rendered page pixels).
        stats: the measurements.
        usable: whether the page is returned as ``pdf_text`` instead of being OCR'd.
        reason: ``ok`` or why not (``no_text``, ``unmapped``, ``poor_hidden_layer``).
    """

    page: OCRPage
    stats: TextLayerStats
    usable: bool
    reason: str


def judge(stats: TextLayerStats) -> tuple[bool, str]:
    """Whether a text layer is usable, and ``ok`` or the reason it is not (see the module docstring)."""
    if stats.chars < MIN_CHARS:
        return False, "no_text"
    if stats.suspect > MAX_SUSPECT_SHARE * stats.chars:
        return False, "unmapped"
    if stats.scan_like:
        covered = stats.ink_coverage is not None and stats.ink_coverage >= MIN_INK_COVERAGE
        if stats.word_shape_share < MIN_WORD_SHAPE_SHARE or not covered:
            return False, "poor_hidden_layer"
    return True, "ok"


def read_text_layer(pdf_page: Any, scale: float) -> TextLayer:
    """Read and judge the text layer of one ``pypdfium2.PdfPage``.

    Args:
        pdf_page: an open ``pypdfium2.PdfPage``.
        scale: rendered pixels per PDF point (``dpi / 72``).
    """
    import ctypes

    import pypdfium2.raw as pdfium_c

    w_pt, h_pt = pdf_page.get_size()
    width, height = max(1, round(w_pt * scale)), max(1, round(h_pt * scale))
    to_px = _page_to_pixels(pdf_page, width, height)
    textpage = pdf_page.get_textpage()
    try:
        count = textpage.count_chars()
        text = textpage.get_text_range() if count else ""
        if len(text) != count:  # characters outside the BMP: one call per character instead
            text = "".join(chr(pdfium_c.FPDFText_GetUnicode(textpage, i) or 0xFFFD) for i in range(count))
        suspect = sum(1 for ch in text if not ch.isspace() and _suspect(ch))
        ink = [i for i, ch in enumerate(text) if not ch.isspace()]
        boxes_pt = np.zeros((len(ink), 4), dtype=np.float64)
        left, right, bottom, top = (ctypes.c_double() for _ in range(4))
        refs = (ctypes.byref(left), ctypes.byref(right), ctypes.byref(bottom), ctypes.byref(top))
        for k, i in enumerate(ink):
            suspect += pdfium_c.FPDFText_HasUnicodeMapError(textpage, i) == 1
            pdfium_c.FPDFText_GetCharBox(textpage, i, *refs)
            boxes_pt[k] = (left.value, bottom.value, right.value, top.value)
    finally:
        textpage.close()
    boxes = _boxes_px(to_px, boxes_pt, width, height)
    invisible_share = _invisible_share(pdf_page)
    page = OCRPage(width=width, height=height, lines=tuple(_lines(text, ink, boxes)))
    words = page.words
    shaped = sum(1 for w in words if any(p.match(w.text) for p in _WORD_SHAPES))
    stats = TextLayerStats(
        chars=len(ink),
        suspect=suspect,
        invisible=round(invisible_share * len(ink)),
        word_shape_share=shaped / len(words) if words else 1.0,
        image_share=_image_share(pdf_page, w_pt * h_pt),
    )
    if stats.chars >= MIN_CHARS and stats.scan_like:
        stats = TextLayerStats(**{**stats.__dict__, "ink_coverage": _ink_coverage(pdf_page, [w.box for w in words], scale)})
    usable, reason = judge(stats)
    return TextLayer(page=page, stats=stats, usable=usable, reason=reason)


def _suspect(ch: str) -> bool:
    """A character no real page text is made of (see the module docstring).

    Examples:
        >>> [_suspect(c) for c in "가A1①\\ufffd\\ue000\\x07À"]
        [False, False, False, False, True, True, True, True]
    """
    if ch == "\ufffd" or unicodedata.category(ch) in ("Cc", "Co", "Cs", "Cn"):
        return True
    return "\u00c0" <= ch <= "\u00ff" and ch.isalpha()


def _page_to_pixels(pdf_page: Any, width: int, height: int) -> np.ndarray:
    """``(2, 3)`` affine map from PDF page points to rendered pixels (rotation and crop box applied)."""
    import ctypes

    import pypdfium2.raw as pdfium_c

    out = []
    for px, py in ((0.0, 0.0), (1000.0, 0.0), (0.0, 1000.0)):
        dx, dy = ctypes.c_int(), ctypes.c_int()
        pdfium_c.FPDF_PageToDevice(pdf_page, 0, 0, width, height, 0, px, py, ctypes.byref(dx), ctypes.byref(dy))
        out.append((dx.value, dy.value))
    (x0, y0), (x1, y1), (x2, y2) = out
    return np.array([[(x1 - x0) / 1000.0, (x2 - x0) / 1000.0, x0], [(y1 - y0) / 1000.0, (y2 - y0) / 1000.0, y0]])


def _boxes_px(to_px: np.ndarray, boxes_pt: np.ndarray, width: int, height: int) -> np.ndarray:
    """``(N, 4)`` char boxes ``(left, bottom, right, top)`` in PDF points to ``(x0, y0, x1, y1)`` int pixels.

    Examples:
        >>> _boxes_px(np.array([[2.0, 0.0, 0.0], [0.0, -2.0, 200.0]]), np.array([[10.0, 20, 20, 40]]), 100, 200).tolist()
        [[20, 120, 40, 160]]
    """
    corners = [boxes_pt[:, [0, 1]], boxes_pt[:, [2, 3]]]
    xs = np.stack([c @ to_px[0, :2] + to_px[0, 2] for c in corners])
    ys = np.stack([c @ to_px[1, :2] + to_px[1, 2] for c in corners])
    out = np.stack([np.floor(xs.min(axis=0)), np.floor(ys.min(axis=0)), np.ceil(xs.max(axis=0)), np.ceil(ys.max(axis=0))], axis=1)
    out = np.clip(out, 0, [width, height, width, height]).astype(np.int64)
    out[:, 2:] = np.maximum(out[:, 2:], out[:, :2] + 1)
    return out


def _invisible_share(pdf_page: Any) -> float:
    """Share of the page's text objects (forms included) drawn with the invisible render mode."""
    import pypdfium2.raw as pdfium_c

    total = invisible = 0
    for obj in pdf_page.get_objects(filter=[pdfium_c.FPDF_PAGEOBJ_TEXT]):
        total += 1
        invisible += pdfium_c.FPDFTextObj_GetTextRenderMode(obj) == RENDER_MODE_INVISIBLE
    return invisible / total if total else 0.0


def _lines(text: str, ink: list[int], boxes: np.ndarray) -> list[OCRLine]:
    """pdfium's characters to lines (at its line breaks) of words (at spaces).

    Args:
        text: the page's characters in pdfium's order.
        ink: indexes into ``text`` of its non-space characters.
        boxes: ``(len(ink), 4)`` their ``(x0, y0, x1, y1)`` pixel boxes.
    """
    lines: list[OCRLine] = []
    words: list[OCRWord] = []
    k = 0
    for segment in re.finditer(r"\S+|\n", text):
        if segment.group() == "\n":
            if words:
                lines.append(_line(words))
                words = []
            continue
        n = segment.end() - segment.start()
        b = boxes[k : k + n]
        k += n
        x0, y0, x1, y1 = int(b[:, 0].min()), int(b[:, 1].min()), int(b[:, 2].max()), int(b[:, 3].max())
        words.append(OCRWord(text=_join_surrogates(segment.group()), confidence=1.0, box=(x0, y0, x1 - x0, y1 - y0)))
    if words:
        lines.append(_line(words))
    return lines


def _join_surrogates(text: str) -> str:
    """pdfium's UTF-16 surrogate pairs (math letters such as 𝑥) as one character each; a lone one as U+FFFD.

    Examples:
        >>> pair, lone = chr(0xD835) + chr(0xDC65), chr(0xD835)
        >>> _join_surrogates("a" + pair + "b") == "a\U0001d465b", _join_surrogates(lone) == "\ufffd"
        (True, True)
    """
    return text.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "replace")


def _line(words: list[OCRWord]) -> OCRLine:
    """A line of words in pdfium's order, its text the words joined by spaces."""
    x0 = min(w.box[0] for w in words)
    y0 = min(w.box[1] for w in words)
    x1 = max(w.box[0] + w.box[2] for w in words)
    y1 = max(w.box[1] + w.box[3] for w in words)
    return OCRLine(text=" ".join(w.text for w in words), confidence=1.0, box=(x0, y0, x1 - x0, y1 - y0), words=tuple(words))


def _image_share(pdf_page: Any, area_pt2: float) -> float:
    """Share of the page's area under image objects (forms included), 0..1."""
    import pypdfium2.raw as pdfium_c

    if area_pt2 <= 0:
        return 0.0
    total = 0.0
    for obj in pdf_page.get_objects(filter=[pdfium_c.FPDF_PAGEOBJ_IMAGE]):
        left, bottom, right, top = obj.get_bounds()
        total += max(0.0, right - left) * max(0.0, top - bottom)
    return min(1.0, total / area_pt2)


def _ink_coverage(pdf_page: Any, boxes: list[tuple[int, int, int, int]], scale: float) -> float:
    """Share of the page's dark pixels (coarse render, Otsu) inside the grown word boxes."""
    import cv2

    f = COVERAGE_DPI / PDF_POINTS_PER_INCH
    bitmap = pdf_page.render(scale=f, grayscale=True, fill_color=(255, 255, 255, 255))
    try:
        gray = np.array(bitmap.to_numpy(), dtype=np.uint8, copy=True)
    finally:
        bitmap.close()
    if gray.ndim == 3:
        gray = np.ascontiguousarray(gray[:, :, 0])
    _, binary = cv2.threshold(gray, 0, 1, cv2.THRESH_BINARY_INV | cv2.THRESH_OTSU)
    ink = np.asarray(binary, dtype=np.uint8)
    if int(gray.max()) - int(gray.min()) < 32 or not ink.any():
        return 1.0  # nothing printed: the layer misses nothing
    covered = np.zeros_like(ink)
    k, g = f / scale, COVERAGE_GROW_PX
    for x, y, w, h in boxes:
        x0, y0 = max(0, int(x * k) - g), max(0, int(y * k) - g)
        covered[y0 : int((y + h) * k) + g + 1, x0 : int((x + w) * k) + g + 1] = 1
    return float((ink & covered).sum()) / float(ink.sum())


def read_text_layers(data: bytes, *, dpi: float, max_pages: int, max_pixels: int) -> list[TextLayer]:
    """Every page's text layer of a PDF given as bytes, judged; ``[]`` when the file is not a PDF
    pdfium opens or has more than ``max_pages`` pages (the page loader then says why, with its reason code).

    Examples:
        >>> read_text_layers(b"not a pdf", dpi=200, max_pages=5, max_pixels=10**7)
        []
    """
    import pypdfium2 as pdfium

    try:
        pdf = open_pdf(data)
    except PageLayerError:
        return []
    try:
        if not 0 < len(pdf) <= max_pages:
            return []
        layers: list[TextLayer] = []
        for index in range(len(pdf)):
            page = pdf[index]
            try:
                page_dpi = pdf_render_dpi(page.get_size(), dpi, max_pixels)
                layers.append(read_text_layer(page, page_dpi / PDF_POINTS_PER_INCH))
            except pdfium.PdfiumError:
                return []
            finally:
                page.close()
        return layers
    finally:
        pdf.close()
