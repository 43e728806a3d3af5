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

__all__ = ["normalize_key", "score"]


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
