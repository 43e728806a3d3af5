"""Result types of question segmentation.

Examples:
    >>> q = QuestionBox(box_xywh=(10, 20, 300, 120), number=3, score=0.9, column=0)
    >>> q.to_dict()
    {'box': [10, 20, 300, 120], 'number': 3, 'score': 0.9, 'column': 0}
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

__all__ = ["QuestionBox", "Segmentation"]


@dataclass(frozen=True)
class QuestionBox:
    """One question found on a page.

    Attributes:
        box_xywh: ``(x, y, w, h)`` in page pixels of the input image (origin top-left).
        number: the question number read from its anchor, ``None`` when unread.
        score: confidence in ``[0, 1]`` (detector score, or anchor read quality for layout).
        column: 0-based column index, left to right.
    """

    box_xywh: tuple[int, int, int, int]
    number: int | None
    score: float
    column: int

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON data: ``{"box": [x, y, w, h], "number", "score", "column"}``."""
        return {"box": list(self.box_xywh), "number": self.number, "score": round(self.score, 4), "column": self.column}


@dataclass(frozen=True)
class Segmentation:
    """The questions of one page in reading order (column by column, top to bottom).

    Attributes:
        questions: the boxes found.
        engine: the engine that produced them (``"opencv"`` or ``"yolo"``).
        size_wh: page size ``(width, height)`` in pixels.
    """

    questions: tuple[QuestionBox, ...]
    engine: str
    size_wh: tuple[int, int]
