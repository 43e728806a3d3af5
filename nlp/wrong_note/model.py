"""The wrong-answer note as validated data: who, when, and the questions they got wrong.

Input (the job's payload, the legacy template's fields)::

    {"enrollment_id": 17, "created_at": "2026-03-02",
     "items": [{"exam_id": 3, "exam_title": "3월 모의고사", "question_id": 12,
                "answer": "②", "correct_answer": "④", "question_text": "다음 중 ..."}]}

Text is NFC-normalised (decomposed Hangul jamo become syllables), control
and zero-width characters are dropped, runs of spaces and tabs become one
space; newlines in ``question_text`` are kept as paragraph breaks.

Examples:
    >>> note = parse_note({"enrollment_id": 7, "created_at": "2026-03-02",
    ...     "items": [{"exam_id": 1, "question_id": 2, "answer": "③"}]})
    >>> note.items[0].exam_id, note.exams[0][0]
    ('1', '1')
    >>> parse_note({"enrollment_id": 7, "created_at": "x", "items": []})
    Traceback (most recent call last):
    ...
    nlp.errors.InputError: wrong_note_empty: the note has no items
"""

from __future__ import annotations

import dataclasses
import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from nlp.errors import InputError

__all__ = ["MAX_ITEMS", "NoteItem", "WrongNote", "clean_text", "parse_note"]

#: most items in one note: a term of weekly tests wrong at every question is ~1,000.
MAX_ITEMS = 2000
#: longest id (exam, question, enrollment): ids are numbers or short codes.
MAX_ID_CHARS = 64
#: longest answer or correct answer: a short written answer.
MAX_ANSWER_CHARS = 500
#: longest exam title.
MAX_TITLE_CHARS = 200
#: longest question text: a reading passage and its question.
MAX_QUESTION_CHARS = 4000
#: longest created_at: an ISO-8601 timestamp is 32 characters at most.
MAX_DATE_CHARS = 64

NOTE_FIELDS = frozenset({"enrollment_id", "created_at", "items"})
ITEM_FIELDS = frozenset({"exam_id", "exam_title", "question_id", "answer", "correct_answer", "question_text"})

_ZERO_WIDTH = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff\u00ad"))
_SPACES_RE = re.compile(r"[ \t\u00a0\u3000]+")


@dataclass(frozen=True)
class NoteItem:
    """One wrongly answered question. Ids are strings (the API sends numbers or codes)."""

    exam_id: str
    question_id: str
    answer: str | None
    exam_title: str | None = None
    correct_answer: str | None = None
    question_text: str | None = None


@dataclass(frozen=True)
class WrongNote:
    """A validated note: ``items`` in input order."""

    enrollment_id: str
    created_at: str
    items: tuple[NoteItem, ...]

    def to_dict(self) -> dict[str, Any]:
        """The note as the payload shape, cleaned; :func:`parse_note` reads it back unchanged.

        Examples:
            >>> n = parse_note({"enrollment_id": 7, "created_at": "d", "items": [
            ...     {"exam_id": 1, "question_id": 2, "answer": None}]})
            >>> parse_note(n.to_dict()) == n
            True
        """
        return {
            "enrollment_id": self.enrollment_id,
            "created_at": self.created_at,
            "items": [dataclasses.asdict(item) for item in self.items],
        }

    @property
    def exams(self) -> list[tuple[str, list[NoteItem]]]:
        """Items grouped by exam, exams in order of first appearance (as the legacy template did)."""
        groups: dict[str, list[NoteItem]] = {}
        for item in self.items:
            groups.setdefault(item.exam_id, []).append(item)
        return list(groups.items())


def clean_text(text: str, *, keep_newlines: bool = False) -> str:
    """NFC, no control or zero-width characters, single spaces; newlines kept only if asked.

    Examples:
        >>> clean_text("ㄱㅏ  나\\t다\\x00")
        'ㄱㅏ 나 다'
        >>> clean_text(unicodedata.normalize("NFD", "한글"))
        '한글'
        >>> clean_text("a \\r\\n b", keep_newlines=True)
        'a\\nb'
    """
    text = unicodedata.normalize("NFC", text).translate(_ZERO_WIDTH)
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    if not keep_newlines:
        text = text.replace("\n", " ")
    # Control and format characters (Cc, Cf) carry no glyph; private-use and
    # unassigned ones stay, so the font check can refuse them by name.
    text = "".join(ch for ch in text if ch in "\n\t" or unicodedata.category(ch) not in ("Cc", "Cf"))
    lines = [_SPACES_RE.sub(" ", line).strip() for line in text.split("\n")]
    return "\n".join(line for line in lines if line)


def _field(raw: Mapping[str, Any], name: str, limit: int, where: str, *, required: bool, multiline: bool = False) -> str | None:
    value = raw.get(name)
    if value is None or value == "":
        if required:
            raise InputError("wrong_note_invalid", f"{where} has no {name}")
        return None
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise InputError("wrong_note_invalid", f"{where}.{name} must be a string or an integer, got {type(value).__name__}")
    text = clean_text(str(value), keep_newlines=multiline)
    if len(text) > limit:
        raise InputError("wrong_note_invalid", f"{where}.{name} is {len(text)} characters, limit {limit}")
    if not text and required:
        raise InputError("wrong_note_invalid", f"{where}.{name} is blank")
    return text or None


def _unknown(raw: Mapping[str, Any], known: frozenset[str], where: str) -> None:
    extra = sorted(str(k) for k in set(raw) - known)
    if extra:
        raise InputError(
            "wrong_note_invalid",
            f"{where} has unknown field(s): {', '.join(extra)[:200]} (known: {', '.join(sorted(known))})",
        )


def parse_note(raw: Any) -> WrongNote:
    """Validate a note payload.

    Raises:
        InputError: ``wrong_note_empty`` (no items), ``wrong_note_too_large``
            (over :data:`MAX_ITEMS`), ``wrong_note_invalid`` (anything else:
            unknown fields, wrong types, missing ids, over-long text).
    """
    if not isinstance(raw, Mapping):
        raise InputError("wrong_note_invalid", f"the note must be a JSON object, got {type(raw).__name__}")
    _unknown(raw, NOTE_FIELDS, "the note")
    items_raw = raw.get("items")
    if items_raw is None or items_raw == []:
        raise InputError("wrong_note_empty", "the note has no items")
    if not isinstance(items_raw, list):
        raise InputError("wrong_note_invalid", f"items must be a list, got {type(items_raw).__name__}")
    if len(items_raw) > MAX_ITEMS:
        raise InputError("wrong_note_too_large", f"{len(items_raw)} items, limit {MAX_ITEMS}")
    items = []
    for i, item in enumerate(items_raw):
        where = f"items[{i}]"
        if not isinstance(item, Mapping):
            raise InputError("wrong_note_invalid", f"{where} must be an object, got {type(item).__name__}")
        _unknown(item, ITEM_FIELDS, where)
        if "answer" not in item:
            raise InputError("wrong_note_invalid", f"{where} has no answer (null for a blank answer)")
        items.append(
            NoteItem(
                exam_id=str(_field(item, "exam_id", MAX_ID_CHARS, where, required=True)),
                question_id=str(_field(item, "question_id", MAX_ID_CHARS, where, required=True)),
                answer=_field(item, "answer", MAX_ANSWER_CHARS, where, required=False),
                exam_title=_field(item, "exam_title", MAX_TITLE_CHARS, where, required=False),
                correct_answer=_field(item, "correct_answer", MAX_ANSWER_CHARS, where, required=False),
                question_text=_field(item, "question_text", MAX_QUESTION_CHARS, where, required=False, multiline=True),
            )
        )
    return WrongNote(
        enrollment_id=str(_field(raw, "enrollment_id", MAX_ID_CHARS, "the note", required=True)),
        created_at=str(_field(raw, "created_at", MAX_DATE_CHARS, "the note", required=True)),
        items=tuple(items),
    )
