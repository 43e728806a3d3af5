"""Scoring read answers against an answer key.

Accepted key shapes (question numbers as strings or ints):

* simple: ``{"1": "3", "2": "1", ...}``: one point per question;
* full: ``{"answers": {"1": "3", "2": ["1", "4"]}, "points": {"1": 2, ...}}``:
  a list means "any of these labels is right"; missing points default to 1.

A question scores its points only when exactly one label was detected, it is
in the key's accepted labels, and the read status is ``ok``, ``low_confidence``
or ``ambiguous`` with one detected label (flagged questions still score their
best reading; review decides). Blank or multi answers score 0.

Examples:
    >>> answers = [{"question_id": 1, "detected": ["3"], "status": "ok"},
    ...            {"question_id": 2, "detected": [], "status": "blank"}]
    >>> s = score(answers, {"1": "3", "2": "1"})
    >>> s["total"], s["max"], s["wrong"]
    (1.0, 2.0, [2])
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from omr.errors import KeyFormatError
from omr.types import SheetMeta

__all__ = ["check_key", "normalize_key", "score"]


def normalize_key(key: Mapping[str, Any]) -> tuple[dict[int, set[str]], dict[int, float]]:
    """Parse either key shape into ``({q: {labels}}, {q: points})``.

    Raises:
        KeyFormatError: ``key_invalid`` for anything else.

    Examples:
        >>> acc, pts = normalize_key({"answers": {"1": ["2", "3"]}, "points": {"1": 2}})
        >>> sorted(acc[1]), pts
        (['2', '3'], {1: 2.0})
        >>> normalize_key({"x": "1"})
        Traceback (most recent call last):
        ...
        omr.errors.KeyFormatError: key_invalid: key question 'x' is not a question number
    """
    if not isinstance(key, Mapping):
        raise KeyFormatError("key_invalid", "answer key must be a JSON object")
    answers = key.get("answers", key) if "answers" in key else key
    points_in = key.get("points") or {} if "answers" in key else {}
    if not isinstance(answers, Mapping) or not isinstance(points_in, Mapping):
        raise KeyFormatError("key_invalid", "key 'answers' and 'points' must be objects")
    acc: dict[int, set[str]] = {}
    for q, v in answers.items():
        try:
            qn = int(q)
        except (TypeError, ValueError):
            raise KeyFormatError("key_invalid", f"key question {q!r} is not a question number") from None
        labels = v if isinstance(v, list) else [v]
        if not labels or not all(isinstance(x, str | int) for x in labels):
            raise KeyFormatError("key_invalid", f"key answer for question {qn} must be a label or a list of labels")
        acc[qn] = {str(x) for x in labels}
    points: dict[int, float] = {}
    for q in acc:
        raw = points_in.get(str(q), points_in.get(q, 1)) if isinstance(points_in, Mapping) else 1
        try:
            points[q] = float(raw)
        except (TypeError, ValueError):
            raise KeyFormatError("key_invalid", f"points for question {q} must be a number") from None
    return acc, points


def check_key(key: Mapping[str, Any], sheet: SheetMeta) -> None:
    """Refuse a key that names a question the sheet does not have, or a label that is not one of its choices.

    Such a key is not a typo to score around: question 99 of a 20-question
    sheet would count as wrong on every sheet, label ``"7"`` could never be
    right.

    Raises:
        KeyFormatError: ``key_invalid``, naming the first question or label at fault.

    Examples:
        >>> from omr.meta import load_meta
        >>> from omr.template import build_template
        >>> sheet = load_meta(build_template(20))
        >>> check_key({"1": "3", "20": ["1", "5"]}, sheet)
        >>> check_key({"99": "1"}, sheet)
        Traceback (most recent call last):
        ...
        omr.errors.KeyFormatError: key_invalid: key question 99 is not on the sheet (questions 1..20)
        >>> check_key({"3": "7"}, sheet)
        Traceback (most recent call last):
        ...
        omr.errors.KeyFormatError: key_invalid: key label '7' of question 3 is not a choice of the sheet (1, 2, 3, 4, 5)
    """
    accepted, _ = normalize_key(key)
    labels = {q.number: [c.label for c in q.choices] for q in sheet.questions}
    numbers = sorted(labels)
    contiguous = bool(numbers) and numbers == list(range(numbers[0], numbers[-1] + 1))
    on_sheet = f"{numbers[0]}..{numbers[-1]}" if contiguous else ", ".join(map(str, numbers))
    for q in sorted(accepted):
        if q not in labels:
            raise KeyFormatError("key_invalid", f"key question {q} is not on the sheet (questions {on_sheet})")
        stray = sorted(accepted[q] - set(labels[q]))
        if stray:
            raise KeyFormatError(
                "key_invalid",
                f"key label {stray[0]!r} of question {q} is not a choice of the sheet ({', '.join(labels[q])})",
            )


def score(answers: Sequence[Mapping[str, Any]], key: Mapping[str, Any]) -> dict[str, Any]:
    """Score ``answers`` (from :func:`omr.answers.read_answers`) against ``key``.

    Returns:
        ``{"total": float, "max": float, "per_question": [{"question_id", "expected",
        "detected", "correct", "points"}], "wrong": [question ids scored 0]}``.
    """
    acc, points = normalize_key(key)
    by_q = {int(a["question_id"]): a for a in answers}
    per = []
    total = 0.0
    wrong = []
    for q in sorted(acc):
        a = by_q.get(q)
        detected = list(a["detected"]) if a else []
        ok = a is not None and len(detected) == 1 and detected[0] in acc[q] and a.get("status") != "error"
        got = points[q] if ok else 0.0
        total += got
        if not ok:
            wrong.append(q)
        per.append({"question_id": q, "expected": sorted(acc[q]), "detected": detected,
                    "correct": ok, "points": got})
    return {"total": total, "max": float(sum(points.values())), "per_question": per, "wrong": wrong}
