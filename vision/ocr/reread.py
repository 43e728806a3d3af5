"""A second look at the words Tesseract was unsure of, one language at a time.

With ``-l kor+eng`` Tesseract picks, word by word, the language whose model
scores better, and the ``fast`` models Debian ships often pick wrong: Korean
words come out as Latin look-alikes (``빨갛다`` -> ``SSC``, ``을`` -> ``S``)
and English words as digits (``apple`` -> ``80016``). Each such word is
low-confidence, mixes Hangul with Latin letters, or is a Latin word glued to
or between Korean words, so those are read again: with ``kor`` alone over
their whole lines (Korean needs the context: the word alone reads worse), and
with ``eng`` alone word by word, each language on one stacked canvas (two
extra Tesseract calls per page, whatever the number of words); the reading
with the best confidence wins, by a margin, if it is plausible (a ``kor``
reading holds Hangul, an ``eng`` one replaces no Hangul, about the same length).

Frames:
    Word boxes are in the pixels of the image given; they do not change.

Examples:
    >>> needs_second_look(OCRWord("apple", 0.95, (0, 0, 10, 10)))
    False
    >>> needs_second_look(OCRWord("사과S", 0.95, (0, 0, 10, 10))), needs_second_look(OCRWord("80016", 0.6, (0, 0, 10, 10)))
    (True, True)
"""

from __future__ import annotations

import re
from dataclasses import replace

import numpy as np
import numpy.typing as npt

from vision.ocr.tesseract import SPACE_GAP, TesseractConfig, make_line, read_region
from vision.ocr.types import OCRLine, OCRWord

__all__ = ["looks_like_capitals", "needs_second_look", "reread_uncertain"]

#: words under this confidence get a second look (measured: most wrong
#: kor+eng words score below 0.8, most right ones above).
MIN_SURE = 0.8
#: a single-language reading replaces the original only when this much surer.
MIN_GAIN = 0.05
#: a ``kor`` reading of a Latin word glued to Hangul may even be a little less sure.
GLUED_GAIN = -0.1
#: padding around a word crop and the gap between stacked crops, in glyph heights.
PAD_GLYPHS, GAP_GLYPHS = 0.2, 0.8
#: rows kept above and below a line's box when it is read again (neighbouring
#: lines' descenders stay out).
LINE_PAD_GLYPHS = 0.1
#: a second reading may be at most this many times longer or shorter (+1 each).
MAX_LENGTH_RATIO = 2.0
#: a line reading's word replaces a word only with this share of its width inside it (see :func:`_within`).
MIN_INSIDE = 0.75
#: languages of the second look.
SECOND_LOOK_LANGS = ("kor", "eng")
#: more words than this on one page (a degraded photo) are not re-read: the
#: second look would cost more than the first.
MAX_WORDS = 400

#: digits that Tesseract's kor+eng model makes of capitals (O, D, Q -> 0; I, l -> 1; S -> 5; B -> 8).
_CAPITAL_DIGITS = frozenset("0158")
#: an ``eng`` reading in capitals replaces look-alike digits even when this much less sure.
CAPITALS_GAIN = -0.15
_HANGUL = re.compile(r"[\uac00-\ud7a3\u3131-\u318e]")
_LATIN = re.compile(r"[A-Za-z]")
_CAPITALS = re.compile(r"^[(\[]?[A-Z]{2,}[)\].,:;]?$")


def needs_second_look(word: OCRWord) -> bool:
    """Low confidence, Hangul and Latin letters in one word (print almost never does that), or
    digits that look like capitals (``055`` for ``OSS``, ``850`` for ``BSP``: :func:`looks_like_capitals`)."""
    return (
        word.confidence < MIN_SURE
        or bool(_HANGUL.search(word.text) and _LATIN.search(word.text))
        or looks_like_capitals(word.text)
    )


def looks_like_capitals(text: str) -> bool:
    """Digits only from those ``kor+eng`` makes of capitals (``O``->0, ``S``->5, ``B``->8, ``D``->0, ``I``->1).

    Such a word is read again by ``eng`` alone, which tells ``OSS`` from
    ``055``; digits stay digits unless ``eng`` reads capitals with about the
    same confidence (:data:`CAPITALS_GAIN`).

    Examples:
        >>> looks_like_capitals("055"), looks_like_capitals("850"), looks_like_capitals("50("), looks_like_capitals("2023")
        (True, True, True, False)
    """
    core = text.strip("()[].,:;")
    return len(core) >= 2 and all(ch in _CAPITAL_DIGITS for ch in core) and len(text) - len(core) <= 1


def reread_uncertain(
    image: npt.NDArray[np.uint8],
    lines: list[OCRLine],
    *,
    glyph_px: float,
    config: TesseractConfig,
) -> list[OCRLine]:
    """``lines`` with each uncertain word replaced by its surest single-language reading."""
    if "+" not in config.lang:
        return lines
    glued = {(i, j) for i, line in enumerate(lines) for j in _latin_glued_to_hangul(line)}
    slots = [
        (i, j) for i, line in enumerate(lines) for j, w in enumerate(line.words) if needs_second_look(w) or (i, j) in glued
    ]
    if not slots or len(slots) > MAX_WORDS:
        return lines
    words = [lines[i].words[j] for i, j in slots]
    best: list[OCRWord] = list(words)
    for lang in SECOND_LOOK_LANGS:
        if lang == "kor":  # Korean needs the line's context; English words read well alone
            line_ids = sorted({i for i, _ in slots})
            canvas, tops, shifts = _stack_lines(image, [lines[i] for i in line_ids], glyph_px)
            clipped = [_clip_to_neighbours(lines[i].words, j) for i, j in slots]
            readings = _assign_words(read_region(canvas, replace(config, lang=lang)), tops, shifts, line_ids, slots, clipped)
        else:
            canvas, tops = _stack_words(image, words, glyph_px)
            readings = _assign(read_region(canvas, replace(config, lang=lang)), tops, len(words))
        for k, (text, confidence) in enumerate(readings):
            if not _plausible(lang, words[k].text, text):
                continue
            gain = GLUED_GAIN if lang == "kor" and slots[k] in glued else MIN_GAIN
            if lang == "eng" and looks_like_capitals(words[k].text) and _CAPITALS.match(text):
                gain = CAPITALS_GAIN
            if confidence >= best[k].confidence + gain:
                best[k] = replace(words[k], text=text, confidence=confidence)
    out = [list(line.words) for line in lines]
    for (i, j), word in zip(slots, best, strict=True):
        out[i][j] = word
    return [make_line(ws) if ws != list(line.words) else line for line, ws in zip(lines, out, strict=True)]


def _latin_glued_to_hangul(line: OCRLine) -> list[int]:
    """Indexes of Latin-only words glued to a Hangul word (no word space) or between two.

    ``공`` read as ``S`` with high confidence sits glued to the syllables of its
    word; an English word has spaces around it.

    Examples:
        >>> ws = [OCRWord("학", .9, (0, 0, 20, 20)), OCRWord("S", .9, (22, 0, 12, 20)), OCRWord("apple", .9, (60, 0, 50, 20))]
        >>> _latin_glued_to_hangul(make_line(ws))
        [1]
    """
    words = line.words
    heights = sorted(w.box[3] for w in words)
    space_px = SPACE_GAP * heights[len(heights) // 2] if heights else 0
    out: list[int] = []
    for j, w in enumerate(words):
        if not _LATIN.search(w.text) or _HANGUL.search(w.text):
            continue
        if 0 < j < len(words) - 1 and _HANGUL.search(words[j - 1].text) and _HANGUL.search(words[j + 1].text):
            out.append(j)  # between two Korean words (공을 read as SS): worth a Korean look too
            continue
        for k in (j - 1, j + 1):
            if 0 <= k < len(words) and _HANGUL.search(words[k].text):
                left, right = (words[k], w) if k < j else (w, words[k])
                if right.box[0] - (left.box[0] + left.box[2]) <= space_px:
                    out.append(j)
                    break
    return out


def _plausible(lang: str, original: str, reading: str) -> bool:
    """A ``kor`` reading must hold Hangul; an ``eng`` one may replace only a word without Hangul.

    Examples:
        >>> _plausible("kor", "SSC", "빨갛다"), _plausible("eng", "노랄다", "노2C+"), _plausible("eng", "80016", "apple")
        (True, False, True)
    """
    if not reading or not MAX_LENGTH_RATIO ** -1 <= (len(reading) + 1) / (len(original) + 1) <= MAX_LENGTH_RATIO:
        return False  # a reading of another length read something else (a neighbour in the crop)
    if lang == "kor":
        return bool(_HANGUL.search(reading))
    if lang == "eng":
        return not _HANGUL.search(original) and reading.isascii()
    return True


def _stack_lines(
    image: npt.NDArray[np.uint8], lines: list[OCRLine], glyph_px: float
) -> tuple[npt.NDArray[np.uint8], list[int], list[tuple[int, int]]]:
    """Whole lines (context helps the language model) one under another.

    Returns the canvas, each line's top in it, and each line's ``(dx, dy)``
    from image to canvas pixels.
    """
    h_img, w_img = image.shape[:2]
    pad = max(2, int(glyph_px * LINE_PAD_GLYPHS))
    gap = max(4, int(glyph_px * GAP_GLYPHS))
    crops, origins = [], []
    for line in lines:
        x, y, bw, bh = line.box
        y0, y1 = max(0, y - pad), min(h_img, y + bh + pad)
        x0, x1 = max(0, x), min(w_img, x + bw)
        crops.append(image[y0:y1, x0:x1])
        origins.append((x0, y0))
    width = max(c.shape[1] for c in crops) + 2 * gap
    height = sum(c.shape[0] for c in crops) + gap * (len(crops) + 1)
    canvas = np.full((height, width), 255, dtype=np.uint8)
    tops: list[int] = []
    shifts: list[tuple[int, int]] = []
    y = gap
    for c, (x0, y0) in zip(crops, origins, strict=True):
        canvas[y : y + c.shape[0], gap : gap + c.shape[1]] = c
        tops.append(y)
        shifts.append((gap - x0, y - y0))
        y += c.shape[0] + gap
    return canvas, tops, shifts


def _assign_words(
    read: list[OCRLine],
    tops: list[int],
    shifts: list[tuple[int, int]],
    line_ids: list[int],
    slots: list[tuple[int, int]],
    words: list[OCRWord],
) -> list[tuple[str, float]]:
    """For each uncertain word, the text read over its columns in its line, and the mean confidence."""
    by_line: dict[int, list[OCRWord]] = {}
    for line in read:
        for w in line.words:
            cy = w.box[1] + w.box[3] / 2
            k = max((i for i, top in enumerate(tops) if top <= cy), default=0)
            by_line.setdefault(k, []).append(w)
    row_of = {i: k for k, i in enumerate(line_ids)}
    out: list[tuple[str, float]] = []
    for (i, _), word in zip(slots, words, strict=True):
        k = row_of[i]
        dx, _ = shifts[k]
        x0, x1 = word.box[0] + dx, word.box[0] + word.box[2] + dx
        inside = sorted((w for w in by_line.get(k, ()) if _within(w.box, x0, x1)), key=lambda w: w.box[0])
        chars = sum(len(w.text) for w in inside) or 1
        conf = sum(w.confidence * len(w.text) for w in inside) / chars if inside else 0.0
        out.append(("".join(w.text for w in inside), conf))
    return out


def _clip_to_neighbours(words: tuple[OCRWord, ...], j: int) -> OCRWord:
    """Word ``j`` with its box cut back to the gap between its neighbours' boxes.

    Tesseract's ``kor`` word boxes overlap: ``온`` may come with a box over
    ``온도를`` while ``도`` and ``를`` are words of their own; a second reading
    over that whole box would print ``온도를도를``.

    Examples:
        >>> ws = (OCRWord("온", .6, (0, 0, 77, 20)), OCRWord("도", .9, (33, 0, 25, 20)), OCRWord("를", .9, (58, 0, 18, 20)))
        >>> _clip_to_neighbours(ws, 0).box
        (0, 0, 33, 20)
    """
    x, y, w, h = words[j].box
    x0, x1 = x, x + w
    if j > 0:
        prev = words[j - 1].box
        x0 = max(x0, min(prev[0] + prev[2], x1))
    if j + 1 < len(words):
        x1 = min(x1, max(words[j + 1].box[0], x0))
    return replace(words[j], box=(x0, y, x1 - x0, h))


def _within(box: tuple[int, int, int, int], x0: float, x1: float) -> bool:
    """A reading's word lies in the columns ``x0..x1`` of the word it may replace.

    Most of its width inside (:data:`MIN_INSIDE`): a reading word that also
    covers a neighbour (``햇빛`` over ``햇`` and the ``빛`` beside it) would
    print that neighbour twice (``햇햇빛``, issue 16's doubled syllables).

    Examples:
        >>> _within((10, 0, 20, 10), 8, 32), _within((10, 0, 40, 10), 8, 32)
        (True, False)
    """
    left, right = max(box[0], x0), min(box[0] + box[2], x1)
    return right - left >= MIN_INSIDE * max(1, box[2])


def _stack_words(image: npt.NDArray[np.uint8], words: list[OCRWord], glyph_px: float) -> tuple[npt.NDArray[np.uint8], list[int]]:
    h_img, w_img = image.shape[:2]
    pad = max(2, int(glyph_px * PAD_GLYPHS))
    gap = max(4, int(glyph_px * GAP_GLYPHS))
    crops = []
    for w in words:
        x, y, bw, bh = w.box
        # exactly the word's columns (a neighbour's edge in the crop gets read
        # as part of the word); rows padded, the sides padded with paper below
        y0, y1 = max(0, y - pad), min(h_img, y + bh + pad)
        crops.append(image[y0:y1, max(0, x) : min(w_img, x + bw)])
    width = max(c.shape[1] for c in crops) + 2 * pad
    height = sum(c.shape[0] for c in crops) + gap * (len(crops) + 1)
    canvas = np.full((height, width), 255, dtype=np.uint8)
    tops: list[int] = []
    y = gap
    for c in crops:
        canvas[y : y + c.shape[0], pad : pad + c.shape[1]] = c
        tops.append(y)
        y += c.shape[0] + gap
    return canvas, tops


def _assign(lines: list[OCRLine], tops: list[int], count: int) -> list[tuple[str, float]]:
    """Text and mean confidence read in each stacked slot (slot = the last top above a word's centre)."""
    parts: list[list[OCRWord]] = [[] for _ in range(count)]
    for line in lines:
        for w in line.words:
            cy = w.box[1] + w.box[3] / 2
            k = max((i for i, top in enumerate(tops) if top <= cy), default=0)
            parts[k].append(w)
    out: list[tuple[str, float]] = []
    for ws in parts:
        ws.sort(key=lambda w: w.box[0])
        text = "".join(w.text for w in ws)
        chars = sum(len(w.text) for w in ws) or 1
        out.append((text, sum(w.confidence * len(w.text) for w in ws) / chars if ws else 0.0))
    return out
