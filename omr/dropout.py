"""Drop-out colour: a card's marks without its coloured print.

Korean 컴퓨터용 cards (and most commercial answer cards) are printed in a
*drop-out* ink, pink or red, on warm white stock, and marked with a black
felt-tip. In the colour channel where the print is nearly as bright as the
paper (red, for pink and red inks) the rings and the digits inside the ovals
almost vanish, while the felt-tip stays black: black marks on white paper. In
the channel where the print is darkest (green, for pink) its rings stand out
best, which is what registration looks for.

:func:`split` turns a colour image into a :class:`DropoutImage` holding both
views; :func:`estimate_print_colour` finds the print colour on the card itself
when the meta says ``"print": {"colour": "auto"}``. A print that does not drop
out (black, grey, or no chroma found) gives plain grayscale, the engine's
usual input.

Frames: image pixels of the decoded photo or scan; colours are reflectances
relative to the paper, RGB order, in [0, 1].

Examples:
    >>> import numpy as np
    >>> bgr = np.full((40, 60, 3), (230, 243, 248), np.uint8)  # warm paper (BGR)
    >>> bgr[10:12, 5:55] = (150, 112, 236)  # a pink printed line
    >>> bgr[20:30, 20:30] = (30, 30, 30)  # a black felt-tip mark
    >>> views = split(bgr, (0.95, 0.46, 0.65))
    >>> int(views.marks_gray[11, 30]) > 220, int(views.marks_gray[25, 25]) < 40, int(views.print_gray[11, 30]) < 130
    (True, True, True)
    >>> split(bgr, (0.15, 0.15, 0.15)).shape  # black print: plain grayscale
    (40, 60)
"""

from __future__ import annotations

from typing import NamedTuple

import cv2
import numpy as np

from omr.types import BGRImage, GrayImage

__all__ = ["DROPOUT_MIN", "DropoutImage", "estimate_print_colour", "hex_colour", "split"]

DROPOUT_MIN = 0.75
"""A print drops out when one channel keeps at least this fraction of the paper's brightness (pink: red 0.95)."""
ESTIMATE_LONG_PX = 800
"""The print colour is estimated on a copy shrunk to this long side (cheap, and the print's tint survives)."""
PAPER_WINDOW = 0.03
"""Paper brightness: a per-channel maximum over windows of this fraction of the long side (a few mm)."""
PRINTED_REL = 0.85
"""Pixels whose darkest channel falls below this fraction of the paper are printed or marked."""
CHROMA_MIN = 0.2
"""Printed pixels whose channels differ by this much (relative to paper) are coloured print, not black ink;
a print colour whose channels differ less does not drop out."""
MIN_PRINT_FRAC = 0.002
"""Fewer coloured printed pixels than this fraction of the image: no coloured print found."""


class DropoutImage(NamedTuple):
    """Two grayscale views of one colour image (same shape, ``(H, W)`` uint8).

    Attributes:
        print_gray: The channel where the print is darkest: its rings, for registration.
        marks_gray: The channel where the print vanishes: the marks, for measuring.
    """

    print_gray: GrayImage
    marks_gray: GrayImage


def hex_colour(text: str) -> tuple[float, float, float]:
    """``"#rrggbb"`` as RGB reflectances in [0, 1].

    Examples:
        >>> hex_colour("#ec7096")
        (0.925, 0.439, 0.588)
    """
    v = text.lstrip("#")
    return tuple(round(int(v[i:i + 2], 16) / 255.0, 3) for i in (0, 2, 4))  # type: ignore[return-value]


def estimate_print_colour(bgr: BGRImage) -> tuple[float, float, float] | None:
    """The card's print colour, relative to its paper, or ``None`` when no coloured print is seen.

    On a copy shrunk to ``ESTIMATE_LONG_PX``, every channel is divided by the
    local paper (a maximum filter a few mm wide, then smoothed: light
    gradients and colour casts cancel); printed or marked pixels are those
    whose darkest channel falls below ``PRINTED_REL``, and of them the
    coloured ones (channels ``CHROMA_MIN`` apart) are the print: black ink
    and shadows are grey. Their median is the print colour.

    Args:
        bgr: ``(H, W, 3)`` uint8 colour image (OpenCV BGR order).

    Returns:
        ``(r, g, b)`` reflectances relative to the paper, or ``None``.

    Examples:
        >>> bgr = np.full((200, 300, 3), (230, 243, 248), np.uint8)
        >>> bgr[50:150:10, 20:280] = (150, 112, 236)
        >>> estimate_print_colour(bgr)
        (0.952, 0.461, 0.652)
        >>> estimate_print_colour(np.full((200, 300, 3), 240, np.uint8)) is None
        True
    """
    h, w = bgr.shape[:2]
    f = min(1.0, ESTIMATE_LONG_PX / max(h, w))
    small = bgr if f >= 1.0 else cv2.resize(bgr, (round(w * f), round(h * f)), interpolation=cv2.INTER_AREA)
    k = max(3, int(PAPER_WINDOW * max(small.shape[:2])) | 1)
    paper = cv2.blur(cv2.dilate(small, np.ones((k, k), np.uint8)), (k, k)).astype(np.float32)
    rel = np.clip(small.astype(np.float32) / np.maximum(paper, 1.0), 0.0, 1.0).reshape(-1, 3)
    lo, hi = rel.min(axis=1), rel.max(axis=1)
    coloured = (lo < PRINTED_REL) & (hi - lo >= CHROMA_MIN)
    if coloured.sum() < MIN_PRINT_FRAC * len(rel):
        return None
    b, g, r = np.median(rel[coloured], axis=0)
    return round(float(r), 3), round(float(g), 3), round(float(b), 3)


def split(bgr: BGRImage, colour: tuple[float, float, float] | None) -> DropoutImage | GrayImage:
    """The views of ``bgr`` for a print of ``colour``; plain grayscale when it does not drop out.

    Args:
        bgr: ``(H, W, 3)`` uint8 colour image (OpenCV BGR order).
        colour: The print's ``(r, g, b)`` reflectance (:func:`hex_colour`,
            :func:`estimate_print_colour`), or ``None`` (not known: grayscale).

    Returns:
        A :class:`DropoutImage` (``marks_gray``: the channel where the print is
        brightest; ``print_gray``: where it is darkest) when one channel keeps
        ``DROPOUT_MIN`` of the paper and another is ``CHROMA_MIN`` darker;
        otherwise the ``(H, W)`` grayscale image.
    """
    if colour is None or max(colour) < DROPOUT_MIN or max(colour) - min(colour) < CHROMA_MIN:
        return np.asarray(cv2.cvtColor(bgr, cv2.COLOR_BGR2GRAY), np.uint8)
    bgr_order = (colour[2], colour[1], colour[0])
    keep = int(np.argmax(bgr_order))
    show = int(np.argmin(bgr_order))
    return DropoutImage(np.ascontiguousarray(bgr[:, :, show]), np.ascontiguousarray(bgr[:, :, keep]))
