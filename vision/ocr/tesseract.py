"""Tesseract: one image region in, OCR lines out.

Two ways to call the same engine with the same traineddata (Debian's
``tesseract-ocr-kor``/``-eng``): ``tesserocr`` (the C++ API in this process;
the models load once per worker process, ~35 % less CPU per page on the
bench) when installed, else the ``tesseract`` command through pytesseract.
Both calls are the page layer's (:mod:`aicore.page.tesseract`); this module
sets them up for OCR and groups the words they return into lines.

Settings that matter, measured on the bench pages (``bench/ocr.py``):

* ``OMP_THREAD_LIMIT=1``: Debian's Tesseract is built with OpenMP and, left
  alone, spins up to 8 threads that fight each other on a busy worker (7-8x
  slower for the same text). One thread per OCR process; scale with pool
  processes instead.
* ``--psm 6`` (one uniform block of text): columns are found before OCR
  (:mod:`vision.ocr.columns`), so each region really is one block; the
  default ``--psm 3`` re-segments and drops or reorders exam lines.
* ``-l kor+eng``: ``kor`` alone turns English lines into garbage.
* ``preserve_interword_spaces=1``: keeps Korean word spacing.

Frames:
    :func:`read_region` returns boxes in the pixels of the image it was
    given; callers map them to page pixels.

Examples:
    >>> import numpy as np
    >>> read_region(np.full((40, 200), 255, np.uint8))   # nothing to read
    []
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from aicore.page.errors import PageLayerError
from aicore.page.tesseract import (
    ensure_single_thread,
    image_to_data,
    inprocess_api,
    inprocess_data,
    tesseract_version,
)
from vision.errors import EngineError
from vision.ocr.types import OCRLine, OCRWord

__all__ = ["TesseractConfig", "read_region", "ensure_single_thread", "tesseract_version"]

#: Tesseract answers -1 for rows that are blocks/paragraphs/lines, not words.
NO_WORD_CONFIDENCE = -1.0
#: a gap wider than this share of the line's median word height is a word space
#: (Hangul syllables of one word sit ~0.05-0.1 em apart, words ~0.3 em).
SPACE_GAP = 0.3
#: two lines overlapping this much in both axes are one line read twice.
SHADOW_OVERLAP = 0.5
#: Tesseract's confidences are percentages.
PERCENT = 100.0


@dataclass(frozen=True)
class TesseractConfig:
    """How Tesseract is called.

    Args:
        lang: traineddata names joined by ``+``.
        psm: page segmentation mode (6: one uniform block).
        timeout_s: kill Tesseract after this long on one region.
        dpi: resolution passed to Tesseract (it sizes its noise filters by it).
        inprocess: use ``tesserocr`` (Tesseract's C++ API in this process, the
            models loaded once per process) when it is installed; otherwise,
            or when it cannot load the language, the ``tesseract`` command
            through pytesseract (one process and one model load per call).
    """

    lang: str = "kor+eng"
    psm: int = 6
    timeout_s: float = 60.0
    dpi: int = 300
    inprocess: bool = True

    def args(self) -> str:
        return f"--psm {int(self.psm)} --dpi {int(self.dpi)} -c preserve_interword_spaces=1"


def read_region(image: npt.NDArray[np.uint8], config: TesseractConfig | None = None) -> list[OCRLine]:
    """OCR one region (``(H, W)`` gray or ``(H, W, 3)`` uint8) into lines in reading order.

    Raises:
        EngineError: ``tesseract_missing``, ``tesseract_language_missing``,
            ``ocr_timeout`` or ``tesseract_failed`` (none is retryable: the
            same image fails the same way again).
    """
    config = config or TesseractConfig()
    if image.size == 0 or int(image.min()) == int(image.max()):
        return []  # a blank region: Tesseract would only spend time on it
    ensure_single_thread()
    api = inprocess_api(config.lang, config.psm) if config.inprocess else None
    try:
        if api is not None:
            data = inprocess_data(api, image, dpi=config.dpi, timeout_s=config.timeout_s)
        else:
            data = image_to_data(image, lang=config.lang, args=config.args(), timeout_s=config.timeout_s)
    except PageLayerError as exc:
        raise EngineError(exc.reason_code, exc.message) from None
    return lines_from_data(data)


def lines_from_data(data: Mapping[str, Sequence[Any]]) -> list[OCRLine]:
    """Group ``image_to_data`` rows into lines of words (boxes in the image's pixels).

    Examples:
        >>> rows = {"level": [4, 5, 5], "block_num": [1, 1, 1], "par_num": [1, 1, 1],
        ...         "line_num": [1, 1, 1], "word_num": [0, 1, 2], "left": [0, 10, 60],
        ...         "top": [5, 5, 6], "width": [90, 40, 30], "height": [20, 20, 18],
        ...         "conf": [-1, 96, 90], "text": ["", "사과는", "red"]}
        >>> [(line.text, round(line.confidence, 2), line.box) for line in lines_from_data(rows)]
        [('사과는 red', 0.93, (10, 5, 80, 20))]
    """
    groups: dict[tuple[int, int, int], list[OCRWord]] = {}
    for i, raw_text in enumerate(data["text"]):
        text = str(raw_text or "").strip()
        conf = float(data["conf"][i])
        if not text or conf == NO_WORD_CONFIDENCE:
            continue
        key = (int(data["block_num"][i]), int(data["par_num"][i]), int(data["line_num"][i]))
        box = (int(data["left"][i]), int(data["top"][i]), int(data["width"][i]), int(data["height"][i]))
        groups.setdefault(key, []).append(OCRWord(text=text, confidence=max(0.0, conf) / PERCENT, box=box))
    return drop_shadow_lines([make_line(words) for _, words in sorted(groups.items())])


def drop_shadow_lines(lines: list[OCRLine]) -> list[OCRLine]:
    """Drop a line lying over a surer one (Tesseract's ``kor`` sometimes reads a
    line's upper half as a line of its own: ``Sl COA of`` over ``학생들은 수업을``).

    Examples:
        >>> real = make_line([OCRWord("학생들은", 0.95, (20, 30, 200, 30))])
        >>> shadow = make_line([OCRWord("Sl", 0.4, (22, 26, 150, 20))])
        >>> [line.text for line in drop_shadow_lines([shadow, real])]
        ['학생들은']
    """
    keep = [True] * len(lines)
    for i, a in enumerate(lines):
        for j in range(i + 1, len(lines)):
            b = lines[j]
            if keep[i] and keep[j] and _overlap(a.box, b.box) >= SHADOW_OVERLAP:
                if a.confidence < b.confidence:
                    keep[i] = False
                else:
                    keep[j] = False
    return [line for line, k in zip(lines, keep, strict=True) if k]


def _overlap(a: tuple[int, int, int, int], b: tuple[int, int, int, int]) -> float:
    """Overlap of two boxes in both axes, each relative to the smaller side (0..1)."""
    dx = min(a[0] + a[2], b[0] + b[2]) - max(a[0], b[0])
    dy = min(a[1] + a[3], b[1] + b[3]) - max(a[1], b[1])
    if dx <= 0 or dy <= 0:
        return 0.0
    return min(dx / max(1, min(a[2], b[2])), dy / max(1, min(a[3], b[3])))


def make_line(words: Sequence[OCRWord]) -> OCRLine:
    """A line of ``words`` (sorted left to right), its box the union of theirs.

    Words are joined with a space only where the gap between their boxes is
    a word space (:data:`SPACE_GAP`), not by Tesseract's tokens: the ``kor``
    model splits words into syllables, which would print as ``다 음 함 수 의``.

    Examples:
        >>> make_line([OCRWord("b", 0.5, (50, 0, 10, 10)), OCRWord("a", 1.0, (0, 2, 10, 10))]).text
        'a b'
        >>> make_line([OCRWord("다", 0.9, (0, 0, 20, 20)), OCRWord("음", 0.9, (21, 0, 20, 20))]).text
        '다음'
    """
    ordered = sorted(words, key=lambda w: w.box[0])
    heights = sorted(w.box[3] for w in ordered)
    space_px = SPACE_GAP * heights[len(heights) // 2]
    text = ordered[0].text
    for prev, word in zip(ordered, ordered[1:], strict=False):
        gap = word.box[0] - (prev.box[0] + prev.box[2])
        text += (" " if gap > space_px else "") + word.text
    x0 = min(w.box[0] for w in ordered)
    y0 = min(w.box[1] for w in ordered)
    x1 = max(w.box[0] + w.box[2] for w in ordered)
    y1 = max(w.box[1] + w.box[3] for w in ordered)
    chars = sum(len(w.text) for w in ordered) or 1
    confidence = sum(w.confidence * len(w.text) for w in ordered) / chars
    return OCRLine(text=text, confidence=confidence, box=(x0, y0, x1 - x0, y1 - y0), words=tuple(ordered))
