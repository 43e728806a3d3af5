"""Question-number anchors: parse what OCR read, and read many small crops in one call.

An anchor opens a question: ``1.``, ``2)``, ``[3]``, ``문제 4``; a range anchor
``[1~2]`` opens a passage shared by the questions it names. :func:`parse_anchor`
tells them apart from the start of an ordinary line, tolerant of the usual
Tesseract misreads (``1,`` for ``1.``, ``(3]`` for ``[3]``, ``l`` for ``1``).

:func:`read_anchor_texts` stacks the crops of all candidate anchors (the first
words of each left-aligned line) into one strip and runs Tesseract once on it
(page segmentation mode 6, one process per page instead of one per crop):
each Tesseract process spends 0.1-0.4 s starting up and loading its model,
so forty crops read one by one would cost far more than the page budget.
``kor`` alone reads digits, brackets and ``문제``; adding ``eng`` quadruples
the start-up (its model loads slower) and reads these crops no better.

Examples:
    >>> parse_anchor("12. 다음 중 옳은 것은?")
    Anchor(kind='question', number=12, last=12)
    >>> parse_anchor("문제 4 Which of")
    Anchor(kind='question', number=4, last=4)
    >>> parse_anchor("그 제 9"), parse_anchor("때 11"), parse_anchor("문제 1 7")
    (Anchor(kind='question', number=9, last=9), Anchor(kind='question', number=11, last=11), Anchor(kind='question', number=17, last=17))
    >>> parse_anchor("문제 ㅣ 3 일차"), parse_anchor("문 저 ㅣ 5 밑줄")
    (Anchor(kind='question', number=3, last=3), Anchor(kind='question', number=5, last=5))
    >>> parse_anchor("[3] Find")
    Anchor(kind='question', number=3, last=3)
    >>> parse_anchor("[31 다음"), parse_anchor("[11 Read")
    (Anchor(kind='question', number=3, last=3), Anchor(kind='question', number=1, last=1))
    >>> parse_anchor("[8~91 8600")
    Anchor(kind='range', number=8, last=9)
    >>> parse_anchor("[1~2] 다음 글을")
    Anchor(kind='range', number=1, last=2)
    >>> parse_anchor("2배 한 값은") is None, parse_anchor("@ 3") is None
    (True, True)
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from aicore.page.errors import PageLayerError
from aicore.page.tesseract import ensure_single_thread, image_to_data
from vision.errors import EngineError

__all__ = ["Anchor", "is_heading", "parse_anchor", "read_anchor_texts"]

#: Largest question number we accept (exams run to ~50; a misread "1234" is not a number).
MAX_QUESTION_NUMBER = 200
#: Longest passage range ``[a~b]`` accepted (b - a).
MAX_RANGE = 10
#: Cap height Tesseract reads best at, in pixels; crops are scaled to it.
TARGET_TEXT_PX = 34
#: White space between stacked crops, as a multiple of the text height (keeps lines apart).
STRIP_GAP = 1.2
#: Tesseract wall-clock limit for one strip, in seconds (a hung process must not hang the worker).
TESSERACT_TIMEOUT_S = 20.0

_DIGITS = r"([0-9lIO]{1,3})"
_RANGE = re.compile(r"^[\[(|]?\s*" + _DIGITS + r"\s*[~\-∼〜_=]+\s*" + _DIGITS + r"\s*[\])|]?")
# "문제 N"; Tesseract's kor model reads a small bold 문제 as "그 제", "0\" 제", "문 저 ㅣ" or one glyph "때"/"떼"/"빼"
_MUNJE = re.compile(r"^(?:\S{0,2}\s*[제저져]|[때떼빼])\s*[ㅣ|!]?\s*([0-9lIO](?: ?[0-9lIO]){0,2})(?![0-9])")
_BRACKET = re.compile(r"^[\[(|{]\s*" + _DIGITS + r"\s*[\])|}]")
_OPEN_ONLY = re.compile(r"^[\[(]\s*([0-9lIO]{2,4})(?![0-9])")
_DOT = re.compile(r"^" + _DIGITS + r"\s*[.)\],:]")


@dataclass(frozen=True)
class Anchor:
    """A parsed anchor: ``kind`` is ``"question"`` or ``"range"``; ``last`` ends a range."""

    kind: str
    number: int
    last: int


# section headings: "제 2 부", "제1절", "2.1 그림", "1.2.3", "Ⅱ. 서술형", "■ 서술형", "Chapter 2", "1) 제 1 절"
_HEADING = re.compile(
    r"^\s*(?:\S{0,3}\s*)?제\s*[0-9lIO]{1,2}\s*[부장절편조](?:\s|$|\()"
    r"|^\s*[ⅠⅡⅢⅣⅤⅥⅦⅧⅨⅩ]"
    r"|^\s*[■□◆◇▶▷●◎]"
    r"|^\s*(?:Chapter|CHAPTER|Part|PART|Section)\s"
)
_SECTION_NUMBER = re.compile(r"^\s*[0-9]{1,2}\.[0-9]{1,2}(?:\.[0-9]{1,2})*\.?(?:\s|$)")


def is_heading(text: str, *, section_numbers: bool = True) -> bool:
    """Whether the start of a line is a section heading rather than a question.

    ``section_numbers``: also take ``2.1`` for a section number; only for a
    crop of the anchor alone (on a longer crop ``4. 이`` is often read ``4.0``).

    Examples:
        >>> [is_heading(t) for t in ("제 2 부 읽기", "1) 제 1 절 서론", "2.1 그림", "Ⅱ. 서술형", "■ 서술형 문항")]
        [True, True, True, True, True]
        >>> [is_heading(t) for t in ("2. 다음 중", "[3~5] 다음 글을", "문제 4", "12) 옳은 것은", "2.5배 한 값은?")]
        [False, False, False, False, False]
        >>> is_heading("4.0", section_numbers=False), is_heading("문제 4 과학"), is_heading("문제 4 부분")
        (False, False, False)
    """
    text = text.strip()
    if _HEADING.match(text) or (section_numbers and _SECTION_NUMBER.match(text)):
        return True
    m = re.match(r"^[0-9]{1,2}\s*[.)]\s*(.*)$", text)
    return bool(m and re.match(r"^제\s*[0-9lIO]{1,2}\s*[부장절편조](?:\s|$|\()", m.group(1)))


def _to_int(text: str) -> int | None:
    digits = text.replace(" ", "").translate(str.maketrans("lIO", "110"))
    # a question number never starts with 0: "065:" is "OSS:" or "G5:" read as digits
    if not digits.isdigit() or digits.startswith("0"):
        return None
    value = int(digits)
    return value if 0 < value <= MAX_QUESTION_NUMBER else None


def parse_anchor(text: str) -> Anchor | None:
    """Parse the start of a line as an anchor; ``None`` when it is not one."""
    text = text.strip()
    m = _RANGE.match(text)
    if m and text[0] in "[(|":
        a = _to_int(m.group(1))
        # "[8~91" is "[8~9]" with its closing bracket read as a 1
        for digits in (m.group(2), m.group(2)[:-1]):
            b = _to_int(digits) if digits else None
            if a is not None and b is not None and a < b <= a + MAX_RANGE:
                return Anchor("range", a, b)
    m = _OPEN_ONLY.match(text)
    if m and not _BRACKET.match(text) and len(m.group(1)) >= 2 and m.group(1)[-1] in "1lI":
        # "[31" is "[3]" with its closing bracket read as a 1
        n = _to_int(m.group(1)[:-1])
        if n is not None:
            return Anchor("question", n, n)
    for pattern in (_MUNJE, _BRACKET, _DOT):
        m = pattern.match(text)
        if m:
            n = _to_int(m.group(1))
            # a bare letter (l, I, O) is a word, not a number, unless a digit is in it too
            if n is not None and any(c.isdigit() for c in m.group(1)):
                return Anchor("question", n, n)
    return None


def read_anchor_texts(crops: Sequence[npt.NDArray[np.uint8]], text_px: float) -> list[str]:
    """Read each grayscale crop (black text on white) with one Tesseract call.

    Args:
        crops: ``uint8`` ``(h, w)`` crops, each one line's first words.
        text_px: the text height in the crops, in pixels (crops are scaled to
            :data:`TARGET_TEXT_PX`).

    Returns:
        One string per crop, ``""`` where nothing was read.

    Raises:
        EngineError: ``tesseract_missing`` when the Tesseract binary or its
            ``kor`` data is not installed.
    """
    if not crops:
        return []
    import cv2

    ensure_single_thread()
    scale = TARGET_TEXT_PX / max(text_px, 1.0)
    scaled = [
        cv2.resize(c, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA if scale < 1 else cv2.INTER_CUBIC)
        for c in crops
    ]
    gap = int(TARGET_TEXT_PX * STRIP_GAP)
    width = max(c.shape[1] for c in scaled) + 2 * gap
    height = sum(c.shape[0] + gap for c in scaled) + gap
    strip = np.full((height, width), 255, np.uint8)
    slots: list[tuple[int, int]] = []
    y = gap
    for c in scaled:
        strip[y : y + c.shape[0], gap : gap + c.shape[1]] = c
        slots.append((y, y + c.shape[0]))
        y += c.shape[0] + gap
    try:
        data = image_to_data(
            strip,
            lang="kor",
            args="--psm 6 -c preserve_interword_spaces=1",
            timeout_s=TESSERACT_TIMEOUT_S,
            timeout_code="tesseract_timeout",
            tell_missing_language=False,
        )
    except PageLayerError as exc:
        raise EngineError(exc.reason_code, exc.message) from None
    words: list[list[tuple[int, str]]] = [[] for _ in crops]
    for text, top, left, h in zip(data["text"], data["top"], data["left"], data["height"], strict=True):
        if not str(text).strip():
            continue
        cy = int(top) + int(h) // 2
        for i, (y0, y1) in enumerate(slots):
            if y0 - gap // 2 <= cy < y1 + gap // 2:
                words[i].append((int(left), str(text)))
                break
    return [" ".join(t for _, t in sorted(ws)) for ws in words]
