"""Choice lists of jamo (``① ㄱ, ㄴ  ② ㄴ, ㄷ``): found and read geometrically.

Korean exams print the answers of a "<보기> ㄱ, ㄴ, ㄷ" question as lists of
the labels ``ㄱ``, ``ㄴ``, ``ㄷ`` (``ㄹ``, ``ㅁ``) after the circled numbers.
Tesseract reads them badly: the ``kor`` model drops the commas (``ㄱㄴㄷ``),
and ``kor+eng`` reads the lone jamo as ``7``, ``L``, ``k``, ``c`` or ``ak``
(about 2 % of the independent set's characters); a second read of the crop
with ``kor`` alone, with or without a jamo whitelist, does not do better
(``ㄱㄱ, ㄴ``, ``그, 느``: measured on the independent set, see
docs/benchmarks-ocr.md).

A standalone (compatibility) jamo has a shape no other printed sign has at
its size: square (about as wide as tall) and about half a syllable high,
where ``7`` and ``L`` are tall and narrow. So each choice item (the ink
between one circled number and the next) whose Tesseract text is short and
holds no digits but ``7``/``1`` and no syllables but jamo look-alikes is cut
into glyphs (connected components, merged by column): every glyph must be
jamo-shaped and match a jamo template (:data:`JAMO`, drawn in the installed
Korean fonts) better than the Latin and digit templates it could be
(:data:`LOOKALIKES`), and the small low components between them are the
commas. Only then are the item's words replaced (``ㄱ, ㄴ``); any doubt
leaves Tesseract's reading as it was, so real digits and letters stay.

Frames:
    Boxes are ``(x, y, w, h)`` in the pixels of the ink mask given.

Examples:
    >>> import numpy as np
    >>> fix_jamo_items([], np.zeros((40, 200), np.uint8))
    []
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
import numpy.typing as npt

from vision.ocr.circled import CIRCLED_CHARS, normalise_glyph, render_circled
from vision.ocr.tesseract import make_line
from vision.ocr.types import BoxXYWH, OCRLine, OCRWord

__all__ = ["JAMO", "Glyph", "fix_jamo_items", "read_jamo_list"]

GrayImage = npt.NDArray[np.uint8]

#: the jamo exams list as labels, in order.
JAMO = "ㄱㄴㄷㄹㅁ"
#: signs a jamo-shaped glyph could also be: it must match a jamo better than all of them.
LOOKALIKES = "7Lc1lJTrkaeoxnuvszCUOD0253"
#: fonts whose glyphs serve as templates (those present are used).
TEMPLATE_FONTS = (
    "/usr/share/fonts/truetype/nanum/NanumGothic.ttf",
    "/usr/share/fonts/truetype/nanum/NanumBarunGothic.ttf",
    "/usr/share/fonts/truetype/nanum/NanumMyeongjo.ttf",
    "/usr/share/fonts/truetype/nanum/NanumSquareR.ttf",
    "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
    "/usr/share/fonts/truetype/dejavu/DejaVuSerif.ttf",
)
#: an unassigned code point: a font draws its fallback box for it.
NOT_A_CHAR = "\u0378"
#: template glyph sizes (px).
TEMPLATE_SIZES_PX = (24, 40)
#: a Tesseract item text worth a look: no more signs than this (``ㄱ, ㄴ, ㄷ, ㄹ`` is 7) ...
MAX_ITEM_CHARS = 9
#: ... and none of these: numbers (two digits), syllables but those Tesseract makes of jamo, ``+``, ``%``.
_NOT_JAMO = re.compile(r"[0-9]{2}|[+%]|(?![그느드기근는르])[\uac00-\ud7a3]")
#: an item of one jamo needs an item of several within this many lines (the same question's choices).
CONTEXT_LINES = 2
#: a jamo is about as wide as tall (``7``, ``L`` are ~0.6) ...
JAMO_ASPECT = (0.7, 1.6)
#: ... and this high, in heights of the item's circled number (Nanum fonts: jamo 0.42-0.61, ``7``/``L`` 0.75-0.88).
JAMO_HEIGHT_RINGS = (0.3, 0.72)
#: a comma: lower than this share of the jamo's height, narrower than this share of their width,
#: its bottom at most this share of their height above theirs.
COMMA_H, COMMA_W, COMMA_DROP = 0.75, 0.6, 0.15
#: components smaller than this share of the ring height squared are specks.
SPECK_AREA = 0.004
#: normalised correlation a glyph must reach with its best jamo template ...
MIN_MATCH = 0.6
#: ... and by how much it must beat its best look-alike.
MIN_MARGIN = 0.04


@dataclass(frozen=True)
class Glyph:
    """One glyph of an item: its box, and what it was read as (a jamo, ``,`` or ``?``), with its score."""

    box: BoxXYWH
    char: str
    score: float


def fix_jamo_items(lines: list[OCRLine], ink: GrayImage) -> list[OCRLine]:
    """``lines`` with each choice item that is a list of jamo read again from the ink (see module docstring).

    An item read as one jamo is taken only in context: when Tesseract read
    it as that jamo too, or when an item of two or more jamo was found within
    :data:`CONTEXT_LINES` lines (``① ㄱ ② ㄴ`` above ``③ ㄱ, ㄴ``); a lone
    ``7`` among numbers stays ``7``.

    Args:
        lines: one region's lines in reading order, holding the circled numbers
            as words (boxes in ``ink``'s pixels).
        ink: ``(H, W)`` uint8, 1 where there is ink (circled numbers erased or not).
    """
    found: list[tuple[int, int, int, list[OCRWord], bool]] = []  # (line, start, end, words, lone jamo read as such)
    for i, line in enumerate(lines):
        words = line.words
        marks = [j for j, w in enumerate(words) if w.text in CIRCLED_CHARS]
        for k, mark in enumerate(marks):
            start, end = mark + 1, marks[k + 1] if k + 1 < len(marks) else len(words)
            body = " ".join(w.text for w in words[start:end])
            if not body or not _worth_a_look(body):
                continue
            x0 = words[mark].box[0] + words[mark].box[2]
            x1 = words[end].box[0] if end < len(words) else max(w.box[0] + w.box[2] for w in words[start:end])
            y0 = line.box[1]
            glyphs = read_jamo_list(ink[y0 : y0 + line.box[3], x0:x1], ring_px=words[mark].box[3])
            if glyphs is None:
                continue
            new = [OCRWord(text=text, confidence=round(score, 3), box=(x + x0, y + y0, w, h))
                   for text, score, (x, y, w, h) in _as_words(glyphs)]
            found.append((i, start, end, new, body.strip(" ,.'") == new[0].text.rstrip(",")))
    lists = [i for i, _, _, new, _ in found if len(new) > 1]
    out = [list(line.words) for line in lines]
    for i, start, end, new, as_read in reversed(found):  # right to left: indexes stay valid
        if len(new) > 1 or as_read or any(abs(i - j) <= CONTEXT_LINES for j in lists):
            out[i][start:end] = new
    return [make_line(ws) if len(ws) != len(line.words) or ws != list(line.words) else line
            for line, ws in zip(lines, out, strict=True)]


def _worth_a_look(text: str) -> bool:
    """A short item text that jamo could have been read as: no numbers, no syllables
    but the few Tesseract makes of jamo (``그``, ``느``, ...).

    Examples:
        >>> [_worth_a_look(t) for t in ("ㄱㄴㄷ", "ak", "Lic", "8 ㄴ,ㄷ", "7", "=", "12", "봄", "x + 1", "이산화 탄소")]
        [True, True, True, True, True, True, False, False, False, False]
    """
    squashed = text.replace(" ", "")
    return 0 < len(squashed) <= MAX_ITEM_CHARS and not _NOT_JAMO.search(text)


def read_jamo_list(ink: GrayImage, *, ring_px: float) -> list[Glyph] | None:
    """The jamo and commas of one item's ink (``(H, W)``, 1 = ink), left to right, or ``None``.

    ``ring_px`` is the height of the item's circled number (the size the jamo are measured against).

    ``None`` unless every glyph that is not a comma is a jamo by shape and
    template, there is at least one, and commas stand only between jamo.
    """
    if ink.size == 0 or not ink.any():
        return None
    count, _, stats, _ = cv2.connectedComponentsWithStats(np.ascontiguousarray(ink, dtype=np.uint8), connectivity=8)
    boxes: list[BoxXYWH] = [(int(s[0]), int(s[1]), int(s[2]), int(s[3])) for s in stats[1:count]
                            if s[cv2.CC_STAT_AREA] >= SPECK_AREA * ring_px * ring_px]
    groups = _merge_columns(sorted(boxes, key=lambda b: b[0]))  # a broken stroke is one glyph
    shaped = [b for b in groups if JAMO_HEIGHT_RINGS[0] <= b[3] / ring_px <= JAMO_HEIGHT_RINGS[1]
              and JAMO_ASPECT[0] <= b[2] / max(1, b[3]) <= JAMO_ASPECT[1]]
    if not shaped:
        return None
    tallest = max(b[3] for b in shaped)
    shaped = [b for b in shaped if b[3] >= COMMA_H * tallest]  # a comma may be as square, not as tall
    jamo_w = float(np.median([b[2] for b in shaped]))
    jamo_h = float(np.median([b[3] for b in shaped]))
    bottom = float(np.median([b[1] + b[3] for b in shaped]))
    glyphs: list[Glyph] = []
    for x, y, w, h in groups:
        if (x, y, w, h) not in shaped:
            if not _is_comma((x, y, w, h), jamo_w=jamo_w, jamo_h=jamo_h, bottom=bottom):
                return None
            glyphs.append(Glyph((x, y, w, h), ",", 1.0))
            continue
        char, score = classify_jamo(ink[y : y + h, x : x + w])
        if not char:
            return None
        glyphs.append(Glyph((x, y, w, h), char, score))
    chars = "".join(g.char for g in glyphs)
    if not chars.strip(",") or ",," in chars or chars[0] == ",":
        return None
    return [g for g in glyphs if not (g.char == "," and g is glyphs[-1])]


def _is_comma(box: BoxXYWH, *, jamo_w: float, jamo_h: float, bottom: float) -> bool:
    """Narrower and lower than the jamo beside it, at their baseline (its bottom near or under theirs).

    Examples:
        >>> _is_comma((40, 20, 6, 9), jamo_w=18, jamo_h=16, bottom=26), _is_comma((40, 4, 6, 9), jamo_w=18, jamo_h=16, bottom=26)
        (True, False)
    """
    _, y, w, h = box
    return h < COMMA_H * jamo_h and w < COMMA_W * jamo_w and y + h >= bottom - COMMA_DROP * jamo_h


def classify_jamo(glyph: GrayImage) -> tuple[str, float]:
    """``(jamo, score)`` when ``glyph`` (1 = ink) matches a jamo template best, by a margin; else ``("", score)``."""
    vectors, chars = _templates()
    scores = vectors @ normalise_glyph(glyph).ravel()
    is_jamo = np.array([c in JAMO for c in chars])
    j = int(np.argmax(np.where(is_jamo, scores, -1.0)))
    other = float(np.max(np.where(is_jamo, -1.0, scores)))
    if scores[j] >= MIN_MATCH and scores[j] >= other + MIN_MARGIN:
        return chars[j], float(scores[j])
    return "", float(scores[j])


def _merge_columns(boxes: list[BoxXYWH]) -> list[BoxXYWH]:
    """Boxes overlapping mostly in columns (half the narrower one) joined."""
    out: list[BoxXYWH] = []
    for b in boxes:
        if out:
            a = out[-1]
            overlap = min(a[0] + a[2], b[0] + b[2]) - max(a[0], b[0])
            if overlap > 0.5 * min(a[2], b[2]):
                x0, y0 = min(a[0], b[0]), min(a[1], b[1])
                x1, y1 = max(a[0] + a[2], b[0] + b[2]), max(a[1] + a[3], b[1] + b[3])
                out[-1] = (x0, y0, x1 - x0, y1 - y0)
                continue
        out.append(b)
    return out


def _as_words(glyphs: list[Glyph]) -> list[tuple[str, float, BoxXYWH]]:
    """One word per jamo, a comma joined to the jamo before it (``ㄱ,`` ``ㄴ``)."""
    words: list[tuple[str, float, BoxXYWH]] = []
    for g in glyphs:
        if g.char == "," and words:
            text, score, (x, y, w, h) = words[-1]
            gx, gy, gw, gh = g.box
            x1, y1 = max(x + w, gx + gw), max(y + h, gy + gh)
            words[-1] = (text + ",", score, (x, min(y, gy), x1 - x, y1 - min(y, gy)))
        else:
            words.append((g.char, g.score, g.box))
    return words


@functools.lru_cache(maxsize=1)
def _templates() -> tuple[npt.NDArray[np.float32], str]:
    """Normalised glyphs of :data:`JAMO` and :data:`LOOKALIKES` in each installed font that has them."""
    vectors: list[npt.NDArray[np.float32]] = []
    chars: list[str] = []
    for font in TEMPLATE_FONTS:
        if not Path(font).exists():
            continue
        for size in TEMPLATE_SIZES_PX:
            tofu = render_circled(NOT_A_CHAR, font, size)
            for char in JAMO + LOOKALIKES:
                gray = render_circled(char, font, size)
                if np.array_equal(gray, tofu):
                    continue  # the font has no such glyph: its fallback box
                ink = (gray < 128).astype(np.uint8)
                if not ink.any():
                    continue
                ys, xs = np.nonzero(ink)
                vectors.append(normalise_glyph(ink[ys.min() : ys.max() + 1, xs.min() : xs.max() + 1]).ravel())
                chars.append(char)
    if not vectors:
        return np.zeros((0, 1), np.float32), ""
    return np.stack(vectors).astype(np.float32), "".join(chars)
