"""Draw question boxes and their numbers on a page (for people checking a segmentation).

Examples:
    >>> import numpy as np
    >>> from vision.segment.types import QuestionBox
    >>> page = np.full((120, 100), 255, np.uint8)
    >>> out = draw_questions(page, [QuestionBox((10, 20, 50, 40), 3, 0.9, 0)])
    >>> out.shape, out.dtype.name, tuple(int(v) for v in out[20, 30])
    ((120, 100, 3), 'uint8', (0, 0, 255))
"""

from __future__ import annotations

from collections.abc import Sequence

import cv2
import numpy as np
import numpy.typing as npt

from vision.segment.types import QuestionBox

__all__ = ["draw_questions"]

#: Box colour per column (BGR): red, blue, green, cycling.
COLUMN_COLOURS = ((0, 0, 255), (255, 80, 0), (0, 160, 0))


def draw_questions(image: npt.NDArray[np.uint8], questions: Sequence[QuestionBox]) -> npt.NDArray[np.uint8]:
    """A BGR copy of ``image`` with each box outlined and labelled with its number (``?`` when unread)."""
    out = cv2.cvtColor(image, cv2.COLOR_GRAY2BGR) if image.ndim == 2 else image.copy()
    thick = max(2, round(max(out.shape[:2]) / 800))
    scale = max(0.5, max(out.shape[:2]) / 2400)
    for q in questions:
        x, y, w, h = q.box_xywh
        colour = COLUMN_COLOURS[q.column % len(COLUMN_COLOURS)]
        cv2.rectangle(out, (x, y), (x + w - 1, y + h - 1), colour, thick)
        label = f"{q.number if q.number is not None else '?'} ({q.score:.2f})"
        cv2.putText(out, label, (x + 4, max(12, y - 6)), cv2.FONT_HERSHEY_SIMPLEX, scale, colour, thick)
    return np.asarray(out, dtype=np.uint8)
