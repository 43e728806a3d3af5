import pytest

from omr.errors import KeyFormatError
from omr.scoring import score

ANS = [
    {"question_id": 1, "detected": ["3"], "status": "ok"},
    {"question_id": 2, "detected": ["1", "2"], "status": "multi"},
    {"question_id": 3, "detected": [], "status": "blank"},
    {"question_id": 4, "detected": ["4"], "status": "ok"},
]


def test_empty() -> None:
    assert score([], {}) == {"total": 0.0, "max": 0.0, "per_question": [], "wrong": []}


def test_simple_key() -> None:
    s = score(ANS, {"1": "3", "2": "1", "3": "2", "4": "5"})
    assert s["total"] == 1.0 and s["max"] == 4.0 and s["wrong"] == [2, 3, 4]


def test_full_key_points_and_alternatives() -> None:
    s = score(ANS, {"answers": {"1": "3", "4": ["4", "5"]}, "points": {"1": 2, "4": 3}})
    assert s["total"] == 5.0 and s["max"] == 5.0 and s["wrong"] == []


@pytest.mark.parametrize("key", [[], {"a": "1"}, {"1": []}, {"answers": {"1": "2"}, "points": {"1": "x"}}])
def test_bad_keys(key) -> None:
    with pytest.raises(KeyFormatError):
        score(ANS, key)
