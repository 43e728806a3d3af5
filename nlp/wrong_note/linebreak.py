"""Line breaking for Korean and English: between words (eojeol) at spaces, never inside one.

Korean separates eojeol with spaces and, like English, must not break inside
one (``word-break: keep-all``); ReportLab's CJK wrapping breaks anywhere, so
the note breaks lines here, with widths measured by the caller's fonts.
Only a single word wider than the whole line is split between characters,
as a last resort.

A paragraph is a sequence of *pieces* ``(text, style)``; pieces not
separated by a space stay glued into one word (``Q12`` in red followed by
``/`` in black would be one word).

Examples:
    >>> width = lambda text, style: float(len(text))   # one unit per character
    >>> [join(line) for line in wrap([("다음 중 옳은 것을 고르시오", "s")], 9, width)]
    ['다음 중 옳은', '것을 고르시오']
    >>> [join(line) for line in wrap([("가나다라마바사아", "s")], 3, width)]
    ['가나다', '라마바', '사아']
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

__all__ = ["Piece", "join", "wrap"]

#: ``(text, style name)``
Piece = tuple[str, str]
WidthFn = Callable[[str, str], float]


def join(line: Sequence[Piece]) -> str:
    """The plain text of a line."""
    return "".join(text for text, _ in line)


def _words(pieces: Sequence[Piece]) -> list[tuple[list[Piece], str]]:
    """Split pieces into words; each word with the style of the space before it."""
    words: list[tuple[list[Piece], str]] = []
    current: list[Piece] = []
    space_style = pieces[0][1] if pieces else ""
    next_space_style = space_style
    for text, style in pieces:
        parts = text.split(" ")
        for i, part in enumerate(parts):
            if i > 0:  # a space: close the current word
                if current:
                    words.append((current, space_style))
                    current = []
                next_space_style = style
            if part:
                if not current:
                    space_style = next_space_style
                current.append((part, style))
    if current:
        words.append((current, space_style))
    return words


def _split_long(word: list[Piece], max_width: float, width: WidthFn) -> list[list[Piece]]:
    """Split one over-long word between characters into chunks that fit (at least one character each)."""
    chunks: list[list[Piece]] = []
    chunk: list[Piece] = []
    used = 0.0
    for text, style in word:
        for ch in text:
            w = width(ch, style)
            if chunk and used + w > max_width:
                chunks.append(chunk)
                chunk, used = [], 0.0
            if chunk and chunk[-1][1] == style:
                chunk[-1] = (chunk[-1][0] + ch, style)
            else:
                chunk.append((ch, style))
            used += w
    if chunk:
        chunks.append(chunk)
    return chunks


def wrap(pieces: Sequence[Piece], max_width: float, width: WidthFn) -> list[list[Piece]]:
    """Break a paragraph into lines no wider than ``max_width`` (a line holds at least one word or chunk).

    Args:
        pieces: the paragraph (no newlines).
        max_width: the line width, in the unit of ``width``.
        width: ``width(text, style)``, additive over concatenation.

    Returns:
        Lines as lists of pieces; words on a line are joined by one space
        (in the style of the text it came from); the spaces lines break at
        are dropped.
    """
    lines: list[list[Piece]] = []
    line: list[Piece] = []
    used = 0.0
    for word, space_style in _words(pieces):
        word_w = sum(width(t, s) for t, s in word)
        space_w = width(" ", space_style)
        if line and used + space_w + word_w <= max_width:
            line.append((" ", space_style))
            line.extend(word)
            used += space_w + word_w
            continue
        if line:
            lines.append(line)
            line, used = [], 0.0
        if word_w <= max_width:
            line, used = list(word), word_w
            continue
        chunks = _split_long(word, max_width, width)
        lines.extend(chunks[:-1])
        line = chunks[-1]
        used = sum(width(t, s) for t, s in line)
    if line:
        lines.append(line)
    return lines
