"""The JSON schema the model must answer in, and our own check of its reply.

The schema goes to the server in ``response_format`` as a *strict*
``json_schema``: every field required, ``additionalProperties: false``, no
defaults and no numeric bounds (strict mode forbids defaults and several
servers reject ``minimum``/``maximum``). The bounds live in
:func:`validate_problem`, which every reply passes through whatever the
server promised.

Examples:
    >>> p = validate_problem({"body": "2+3=?", "choices": ["4", "5"], "answer": "②",
    ...     "difficulty": 9, "tag": "수학", "summary": "덧셈", "explanation": "2+3=5"})
    >>> p.answer, p.difficulty, p.warnings
    ('②', 5, ('difficulty_clamped: 9 -> 5',))
    >>> validate_problem({"body": "x"})
    Traceback (most recent call last):
    ...
    nlp.errors.OutputError: llm_invalid_output: missing field(s): answer, choices, difficulty, explanation, summary, tag
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

from nlp.errors import OutputError
from nlp.problem.types import ParsedProblem

__all__ = [
    "FIELDS",
    "MAX_BODY_CHARS",
    "MAX_CHOICES",
    "MAX_CHOICE_CHARS",
    "MAX_EXPLANATION_CHARS",
    "MAX_SUMMARY_CHARS",
    "MAX_TAG_CHARS",
    "PROBLEM_SCHEMA",
    "parse_reply",
    "response_format",
    "validate_problem",
]

#: longest question body kept; a long reading passage plus its question fits in 4,000 characters.
MAX_BODY_CHARS = 4000
#: most options a multiple-choice question has (Korean exams use 4 or 5; 10 leaves room).
MAX_CHOICES = 10
#: longest single option; options longer than a paragraph mean the model split the text wrongly.
MAX_CHOICE_CHARS = 500
#: a tag is a subject label such as "수학"; 50 characters is a generous ceiling.
MAX_TAG_CHARS = 50
#: a summary is one or two sentences.
MAX_SUMMARY_CHARS = 1000
#: a worked explanation; as long as the body may be.
MAX_EXPLANATION_CHARS = 4000
#: the difficulty scale of the legacy worker.
DIFFICULTY_MIN, DIFFICULTY_MAX = 1, 5

FIELDS = ("body", "choices", "answer", "difficulty", "tag", "summary", "explanation")

PROBLEM_SCHEMA: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "required": list(FIELDS),
    "properties": {
        "body": {"type": "string", "description": "the question text"},
        "choices": {"type": "array", "items": {"type": "string"}, "description": "options in order; [] if none"},
        "answer": {"type": ["string", "null"], "description": "the correct choice (its text or label), or null"},
        "difficulty": {"type": "integer", "description": "1 (easiest) to 5 (hardest)"},
        "tag": {"type": "string", "description": "subject, e.g. 수학, 과학, 국어"},
        "summary": {"type": "string", "description": "one-sentence summary"},
        "explanation": {"type": "string", "description": "short worked explanation"},
    },
}


def response_format(mode: str) -> dict[str, Any]:
    """The ``response_format`` request field for ``mode`` ``"json_schema"`` or ``"json_object"``.

    Examples:
        >>> response_format("json_object")
        {'type': 'json_object'}
        >>> response_format("json_schema")["json_schema"]["strict"]
        True
    """
    if mode == "json_object":
        return {"type": "json_object"}
    return {"type": "json_schema", "json_schema": {"name": "parsed_problem", "strict": True, "schema": PROBLEM_SCHEMA}}


_FENCE_RE = re.compile(r"^```[a-zA-Z]*\s*\n(.*)\n\s*```$", re.DOTALL)


def parse_reply(content: str) -> Any:
    """Decode a model's reply: a JSON document, optionally fenced in a markdown code block.

    Examples:
        >>> parse_reply('```json\\n{"a": 1}\\n```')
        {'a': 1}
        >>> parse_reply("<xml/>")
        Traceback (most recent call last):
        ...
        nlp.errors.OutputError: llm_invalid_output: reply is not JSON: Expecting value at line 1 column 1
    """
    text = content.strip()
    fenced = _FENCE_RE.match(text)
    if fenced:
        text = fenced.group(1).strip()
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise OutputError("llm_invalid_output", f"reply is not JSON: {exc.msg} at line {exc.lineno} column {exc.colno}") from None


def _text(obj: Mapping[str, Any], name: str, limit: int, *, allow_empty: bool = True) -> str:
    value = obj[name]
    if not isinstance(value, str):
        raise OutputError("llm_invalid_output", f"{name} must be a string, got {type(value).__name__}")
    value = value.strip()
    if not value and not allow_empty:
        raise OutputError("llm_invalid_output", f"{name} is empty")
    if len(value) > limit:
        raise OutputError("llm_invalid_output", f"{name} is {len(value)} characters, limit {limit}")
    return value


def _choices(raw: Any) -> tuple[str, ...]:
    if not isinstance(raw, list):
        raise OutputError("llm_invalid_output", f"choices must be a list, got {type(raw).__name__}")
    if len(raw) > MAX_CHOICES:
        raise OutputError("llm_invalid_output", f"{len(raw)} choices, limit {MAX_CHOICES}")
    out = []
    for i, c in enumerate(raw):
        if not isinstance(c, str) or not c.strip():
            raise OutputError("llm_invalid_output", f"choices[{i}] must be a non-empty string, got {c!r:.40}")
        if len(c.strip()) > MAX_CHOICE_CHARS:
            raise OutputError("llm_invalid_output", f"choices[{i}] is {len(c.strip())} characters, limit {MAX_CHOICE_CHARS}")
        out.append(c.strip())
    return tuple(out)


_CIRCLED = "①②③④⑤⑥⑦⑧⑨⑩"
_LABEL_RE = re.compile(r"^[\(\[]?\s*([A-Ja-j]|10|[1-9]|[①-⑩])\s*[\)\].]?$")


def _label_index(label: str) -> int | None:
    """0-based option index a label names: ``C``, ``c)``, ``3``, ``(3)``, ``③`` all name index 2."""
    m = _LABEL_RE.match(label.strip())
    if not m:
        return None
    tok = m.group(1)
    if tok in _CIRCLED:
        return _CIRCLED.index(tok)
    if tok.isdigit():
        return int(tok) - 1
    return ord(tok.upper()) - ord("A")


def _check_answer(answer: Any, choices: tuple[str, ...]) -> str | None:
    if answer is None:
        return None
    if not isinstance(answer, str):
        if isinstance(answer, int) and not isinstance(answer, bool):
            answer = str(answer)
        else:
            raise OutputError("llm_invalid_output", f"answer must be a string or null, got {type(answer).__name__}")
    answer = answer.strip()
    if not answer:
        return None
    if len(answer) > MAX_CHOICE_CHARS:
        raise OutputError("llm_invalid_output", f"answer is {len(answer)} characters, limit {MAX_CHOICE_CHARS}")
    if not choices or answer in choices:
        return answer
    index = _label_index(answer)
    if index is not None and 0 <= index < len(choices):
        return answer
    if any(c.startswith(answer) and len(answer) <= 4 for c in choices):  # "③" for "③ 12"
        return answer
    raise OutputError(
        "llm_invalid_output",
        f"answer {answer!r:.60} is not among the {len(choices)} choices (give a choice's text or its label A-{chr(64 + len(choices))} / 1-{len(choices)})",
    )


def _difficulty(raw: Any, warnings: list[str]) -> int:
    if isinstance(raw, bool) or not isinstance(raw, int | float | str):
        raise OutputError("llm_invalid_output", f"difficulty must be an integer, got {raw!r:.40}")
    try:
        value = float(raw)
    except ValueError:
        raise OutputError("llm_invalid_output", f"difficulty must be an integer, got {raw!r:.40}") from None
    if value != value or value in (float("inf"), float("-inf")) or value != int(value):
        raise OutputError("llm_invalid_output", f"difficulty must be an integer, got {raw!r:.40}")
    level = int(value)
    clamped = min(max(level, DIFFICULTY_MIN), DIFFICULTY_MAX)
    if clamped != level:
        warnings.append(f"difficulty_clamped: {level} -> {clamped}")
    return clamped


def validate_problem(obj: Any) -> ParsedProblem:
    """Check a decoded reply against the schema and our bounds; return the problem.

    Fields the schema does not name are dropped with a warning (a reply in
    JSON mode may add some); every other departure raises
    ``OutputError("llm_invalid_output")`` whose message is sent back to the
    model in the repair round.
    """
    if not isinstance(obj, dict):
        raise OutputError("llm_invalid_output", f"reply must be a JSON object, got {type(obj).__name__}")
    missing = sorted(set(FIELDS) - set(obj))
    if missing:
        raise OutputError("llm_invalid_output", f"missing field(s): {', '.join(missing)}")
    warnings: list[str] = []
    extra = sorted(str(k) for k in set(obj) - set(FIELDS))
    if extra:
        warnings.append(f"ignored_fields: {', '.join(extra)[:200]}")
    choices = _choices(obj["choices"])
    return ParsedProblem(
        body=_text(obj, "body", MAX_BODY_CHARS, allow_empty=False),
        choices=choices,
        answer=_check_answer(obj["answer"], choices),
        difficulty=_difficulty(obj["difficulty"], warnings),
        tag=_text(obj, "tag", MAX_TAG_CHARS),
        summary=_text(obj, "summary", MAX_SUMMARY_CHARS),
        explanation=_text(obj, "explanation", MAX_EXPLANATION_CHARS),
        warnings=tuple(warnings),
    )
