import copy
from collections.abc import Callable
from typing import Any

import pytest

from omr.errors import MetaError
from omr.meta import load_meta, meta_from_legacy_questions
from omr.template import build_template

BASE = build_template(10)


def _mut(fn: Callable[[dict[str, Any]], None]) -> dict[str, Any]:
    m = copy.deepcopy(BASE)
    fn(m)
    return m


def _set(path: list[Any], value: Any) -> Callable[[dict[str, Any]], None]:
    def f(m: dict[str, Any]) -> None:
        d = m
        for p in path[:-1]:
            d = d[p]
        d[path[-1]] = value
    return f


CASES = [
    ("empty", lambda m: m.clear(), "meta_invalid"),
    ("missing_questions", lambda m: m.pop("questions"), "meta_invalid"),
    ("wrong_version", _set(["version"], "v9"), "meta_invalid"),
    ("off_page", _set(["questions", 2, "choices", 1, "center", "x"], 301.0), "meta_bubble_off_page"),
    ("negative_y", _set(["questions", 0, "choices", 0, "center", "y"], -4.0), "meta_bubble_off_page"),
    ("overlap", _set(["questions", 0, "choices", 1, "center"], {"x": 92.5, "y": 34.0}), "meta_bubbles_overlap"),
    ("absurd_r", _set(["questions", 0, "choices", 0, "r"], 40.0), "meta_absurd_size"),
    ("absurd_page", _set(["page", "size", "width"], 5000), "meta_absurd_size"),
    ("dup_question", _set(["questions", 1, "question_number"], 1), "meta_invalid"),
    ("dup_label", _set(["questions", 1, "choices", 1, "label"], "1"), "meta_invalid"),
    ("too_many", lambda m: m.__setitem__("questions", m["questions"] * 11), "meta_invalid"),
    ("missing_r", lambda m: m["questions"][0]["choices"][0].pop("r"), "meta_invalid"),
]


@pytest.mark.parametrize("name,mutate,code", CASES, ids=[c[0] for c in CASES])
def test_bad_meta(name: str, mutate: Callable[[dict[str, Any]], None], code: str) -> None:
    with pytest.raises(MetaError) as ei:
        load_meta(_mut(mutate))
    assert ei.value.reason_code == code


def test_off_page_message() -> None:
    with pytest.raises(MetaError, match=r"question 3 choice '2' is off the page \(x=301.0 mm > 297 mm\)"):
        load_meta(_mut(_set(["questions", 2, "choices", 1, "center", "x"], 301.0)))


def test_not_a_mapping() -> None:
    with pytest.raises(MetaError):
        load_meta([])  # type: ignore[arg-type]


def test_legacy_questions() -> None:
    qs = [{"question_number": q["question_number"], "choices": q["choices"]} for q in BASE["questions"]]
    sheet = meta_from_legacy_questions(qs)
    assert len(sheet.questions) == 10 and sheet.markers == () and sheet.id_bubbles == ()


def test_legacy_rejects_pixel_rois() -> None:
    with pytest.raises(MetaError):
        meta_from_legacy_questions([{"question_id": 1, "roi": {"x": 1, "y": 2, "w": 3, "h": 4}}])
