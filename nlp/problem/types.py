"""What problem generation returns: a validated problem and the tokens it cost.

Examples:
    >>> p = ParsedProblem(body="1+1=?", choices=("1", "2"), answer="2", difficulty=1,
    ...                   tag="수학", summary="덧셈", explanation="1+1=2")
    >>> p.to_dict()["choices"], p.to_dict()["usage"]["total_tokens"]
    (['1', '2'], 0)
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

__all__ = ["ParsedProblem", "Usage"]


@dataclass(frozen=True)
class Usage:
    """Tokens spent on one problem, summed over every call (the repair round included).

    Args:
        prompt_tokens: input tokens the server counted.
        completion_tokens: output tokens the server counted.
        total_tokens: their sum as the server reported it.
        calls: chat-completion requests made (1, or 2 with a repair round or a
            JSON-mode fallback, at most 4).
    """

    prompt_tokens: int = 0
    completion_tokens: int = 0
    total_tokens: int = 0
    calls: int = 0

    def __add__(self, other: Usage) -> Usage:
        return Usage(
            self.prompt_tokens + other.prompt_tokens,
            self.completion_tokens + other.completion_tokens,
            self.total_tokens + other.total_tokens,
            self.calls + other.calls,
        )

    def to_dict(self) -> dict[str, int]:
        return {
            "prompt_tokens": self.prompt_tokens,
            "completion_tokens": self.completion_tokens,
            "total_tokens": self.total_tokens,
            "calls": self.calls,
        }


@dataclass(frozen=True)
class ParsedProblem:
    """One exam problem as the legacy worker returned it, validated.

    Args:
        body: the question text.
        choices: the answer options in order; empty for a free-answer question.
        answer: the answer as the model gave it (a choice's text or its label
            such as ``"C"``, ``"3"``, ``"③"``); ``None`` when it cannot be told.
        difficulty: 1 (easiest) .. 5 (hardest).
        tag: a short subject label (``"수학"``).
        summary: one-line summary of the problem.
        explanation: a short worked explanation.
        warnings: what validation changed or ignored (``"difficulty_clamped: 7 -> 5"``).
        usage: tokens spent.
        model: the model name the server reported.
    """

    body: str
    choices: tuple[str, ...]
    answer: str | None
    difficulty: int
    tag: str
    summary: str
    explanation: str
    warnings: tuple[str, ...] = ()
    usage: Usage = field(default_factory=Usage)
    model: str = ""

    def to_dict(self) -> dict[str, Any]:
        """The seed's result keys plus ``warnings``, ``usage`` and ``model``."""
        return {
            "body": self.body,
            "choices": list(self.choices),
            "answer": self.answer,
            "difficulty": self.difficulty,
            "tag": self.tag,
            "summary": self.summary,
            "explanation": self.explanation,
            "warnings": list(self.warnings),
            "usage": self.usage.to_dict(),
            "model": self.model,
        }
