"""validate_problem: the bounds the strict schema cannot carry."""

from __future__ import annotations

from typing import Any

import pytest

from nlp.errors import OutputError
from nlp.problem.schema import (
    FIELDS,
    MAX_BODY_CHARS,
    MAX_CHOICES,
    PROBLEM_SCHEMA,
    parse_reply,
    response_format,
    validate_problem,
)


def good(**over: Any) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "body": "다음 중 소수인 것은?",
        "choices": ["4", "6", "7", "9"],
        "answer": "7",
        "difficulty": 2,
        "tag": "수학",
        "summary": "소수 찾기",
        "explanation": "7은 1과 자기 자신으로만 나누어진다.",
    }
    doc.update(over)
    return doc


def test_schema_is_strict_without_defaults_or_bounds() -> None:
    assert PROBLEM_SCHEMA["additionalProperties"] is False
    assert sorted(PROBLEM_SCHEMA["required"]) == sorted(FIELDS) == sorted(PROBLEM_SCHEMA["properties"])
    text = str(PROBLEM_SCHEMA)
    for word in ("default", "minimum", "maximum", "maxLength", "maxItems"):
        assert word not in text
    assert response_format("json_schema")["json_schema"]["strict"] is True


@pytest.mark.parametrize(
    "doc, fragment",
    [
        ([], "must be a JSON object"),
        ({}, "missing field(s)"),
        (good(body=""), "body is empty"),
        (good(body=7), "body must be a string"),
        (good(body="x" * (MAX_BODY_CHARS + 1)), "limit"),
        (good(choices="4,6,7"), "choices must be a list"),
        (good(choices=[str(i) for i in range(MAX_CHOICES + 1)]), "choices, limit"),
        (good(choices=["4", ""]), "choices[1]"),
        (good(answer="12"), "not among the 4 choices"),
        (good(answer="E"), "not among the 4 choices"),
        (good(answer=["7"]), "answer must be a string"),
        (good(difficulty="hard"), "difficulty must be an integer"),
        (good(difficulty=2.5), "difficulty must be an integer"),
        (good(difficulty=True), "difficulty must be an integer"),
        (good(tag="t" * 51), "tag is 51 characters"),
    ],
)
def test_invalid_replies_name_the_problem(doc: Any, fragment: str) -> None:
    with pytest.raises(OutputError) as info:
        validate_problem(doc)
    assert info.value.reason_code == "llm_invalid_output"
    assert fragment in info.value.message


@pytest.mark.parametrize("answer", ["7", "C", "c", "3", "(3)", "③", "C.", None, ""])
def test_answer_by_text_or_label(answer: str | None) -> None:
    p = validate_problem(good(answer=answer))
    assert p.answer == (answer or None)


def test_free_answer_question_keeps_any_answer() -> None:
    p = validate_problem(good(choices=[], answer="x = 3"))
    assert p.choices == () and p.answer == "x = 3"


@pytest.mark.parametrize("raw, level", [(0, 1), (-3, 1), (6, 5), (99, 5)])
def test_difficulty_clamped_only_with_a_warning(raw: int, level: int) -> None:
    p = validate_problem(good(difficulty=raw))
    assert p.difficulty == level
    assert p.warnings == (f"difficulty_clamped: {raw} -> {level}",)


def test_in_range_difficulty_has_no_warning() -> None:
    assert validate_problem(good(difficulty=5.0)).warnings == ()


def test_extra_fields_are_dropped_with_a_warning() -> None:
    p = validate_problem(good(x="<xml/>"))
    assert p.warnings == ("ignored_fields: x",)
    assert "x" not in p.to_dict()


def test_to_dict_has_the_seed_keys() -> None:
    d = validate_problem(good()).to_dict()
    assert set(FIELDS) <= set(d)
    assert d["choices"] == ["4", "6", "7", "9"]


@pytest.mark.parametrize("text", ['{"a": 1}', '```json\n{"a": 1}\n```', "```\n{\"a\": 1}\n```\n"])
def test_parse_reply_accepts_plain_and_fenced_json(text: str) -> None:
    assert parse_reply(text) == {"a": 1}


@pytest.mark.parametrize("text", ["", "Sure! Here it is: {", "<problem/>"])
def test_parse_reply_refuses_non_json(text: str) -> None:
    with pytest.raises(OutputError, match="llm_invalid_output"):
        parse_reply(text)
