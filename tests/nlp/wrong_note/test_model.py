"""parse_note: the payload's shape, bounds and text clean-up."""

from __future__ import annotations

import unicodedata
from typing import Any

import pytest

from nlp.errors import InputError
from nlp.wrong_note.model import MAX_ITEMS, MAX_QUESTION_CHARS, parse_note


def note(*items: dict[str, Any], **over: Any) -> dict[str, Any]:
    doc: dict[str, Any] = {"enrollment_id": 17, "created_at": "2026-03-02", "items": list(items)}
    doc.update(over)
    return doc


ITEM = {"exam_id": 3, "question_id": 12, "answer": "②"}


@pytest.mark.parametrize(
    "raw, code, fragment",
    [
        (note(), "wrong_note_empty", "no items"),
        ({"enrollment_id": 1, "created_at": "x"}, "wrong_note_empty", "no items"),
        ([], "wrong_note_invalid", "must be a JSON object"),
        (note(ITEM, student="x"), "wrong_note_invalid", "unknown field(s): student"),
        (note({**ITEM, "score": 3}), "wrong_note_invalid", "items[0] has unknown field(s): score"),
        (note(ITEM, items={"a": 1}), "wrong_note_invalid", "items must be a list"),
        (note(items=["Q12"]), "wrong_note_invalid", "items[0] must be an object"),
        (note({"exam_id": 3, "answer": "1"}), "wrong_note_invalid", "items[0] has no question_id"),
        (note({"exam_id": 3, "question_id": 1}), "wrong_note_invalid", "has no answer"),
        (note({**ITEM, "exam_id": [3]}), "wrong_note_invalid", "exam_id must be a string or an integer"),
        (note({**ITEM, "exam_id": True}), "wrong_note_invalid", "exam_id must be"),
        (note({**ITEM, "question_text": "가" * (MAX_QUESTION_CHARS + 1)}), "wrong_note_invalid", "limit"),
        (note(ITEM, enrollment_id=None), "wrong_note_invalid", "has no enrollment_id"),
        (note(ITEM, created_at=None), "wrong_note_invalid", "has no created_at"),
        (note(*[ITEM] * (MAX_ITEMS + 1)), "wrong_note_too_large", "limit"),
    ],
)
def test_bad_notes_are_refused_with_a_code(raw: Any, code: str, fragment: str) -> None:
    with pytest.raises(InputError) as info:
        parse_note(raw)
    assert info.value.reason_code == code
    assert fragment in info.value.message


def test_items_group_by_exam_in_order_of_first_appearance() -> None:
    n = parse_note(note({**ITEM, "exam_id": 9}, ITEM, {**ITEM, "exam_id": 9, "question_id": 13}))
    assert [(exam, [i.question_id for i in items]) for exam, items in n.exams] == [("9", ["12", "13"]), ("3", ["12"])]


def test_blank_answer_is_none_and_optional_fields_default() -> None:
    item = parse_note(note({**ITEM, "answer": None})).items[0]
    assert item.answer is None and item.correct_answer is None and item.question_text is None


def test_text_is_cleaned() -> None:
    raw = unicodedata.normalize("NFD", "다음  중\u200b 옳은\t것은?\r\n\r\n① 1\x07")
    item = parse_note(note({**ITEM, "question_text": raw})).items[0]
    assert item.question_text == "다음 중 옳은 것은?\n① 1"
