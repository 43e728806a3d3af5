"""Result types of question segmentation.

A page holds questions and, beside them, the blocks that are not questions:
section headings (``kind="heading"``) and group instructions
(``kind="instruction"``, ``[3~5] 다음 글을 읽고 물음에 답하시오.``) with the
question numbers they govern.

Examples:
    >>> q = QuestionBox(box_xywh=(10, 20, 300, 120), number=3, score=0.9, column=0)
    >>> q.to_dict()
    {'box': [10, 20, 300, 120], 'number': 3, 'score': 0.9, 'column': 0, 'kind': 'question'}
    >>> QuestionBox((10, 5, 300, 20), None, 0.9, 0, kind="instruction", governs=(3, 4, 5)).to_dict()["governs"]
    [3, 4, 5]
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

__all__ = ["KINDS", "QuestionBox", "Segmentation"]

#: What a box on a page is: a question, a section heading, or a group instruction.
KINDS = ("question", "heading", "instruction")


@dataclass(frozen=True)
class QuestionBox:
    """One question found on a page.

    Attributes:
        box_xywh: ``(x, y, w, h)`` in page pixels of the input image (origin top-left).
        number: the question number read from its anchor, ``None`` when unread.
        score: confidence in ``[0, 1]`` (detector score, or anchor read quality for layout).
        column: 0-based column index, left to right.
        kind: ``"question"``, ``"heading"`` or ``"instruction"`` (:data:`KINDS`).
        governs: for an instruction, the numbers of the questions it governs
            (``[3~5]`` gives ``(3, 4, 5)``); empty otherwise.
    """

    box_xywh: tuple[int, int, int, int]
    number: int | None
    score: float
    column: int
    kind: str = "question"
    governs: tuple[int, ...] = ()

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"kind must be one of {', '.join(KINDS)}, got {self.kind!r}")

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON data: ``{"box": [x, y, w, h], "number", "score", "column", "kind"}``, and ``"governs"``
        for an instruction."""
        out: dict[str, Any] = {
            "box": list(self.box_xywh),
            "number": self.number,
            "score": round(self.score, 4),
            "column": self.column,
            "kind": self.kind,
        }
        if self.kind == "instruction":
            out["governs"] = list(self.governs)
        return out


@dataclass(frozen=True)
class Segmentation:
    """The questions of one page in reading order (column by column, top to bottom).

    Attributes:
        questions: the boxes found.
        engine: the engine that produced them (``"opencv"`` or ``"yolo"``).
        size_wh: page size ``(width, height)`` in pixels.
        blocks: what is not a question, in reading order: headings and group
            instructions (``kind`` ``heading`` / ``instruction``); never numbered.
    """

    questions: tuple[QuestionBox, ...]
    engine: str
    size_wh: tuple[int, int]
    blocks: tuple[QuestionBox, ...] = ()
