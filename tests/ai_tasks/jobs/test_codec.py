"""ai_tasks/jobs/codec.py: one codec for every state, exact through JSON, strict on the way in."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import pytest

from ai_tasks.errors import JobPayloadError
from ai_tasks.jobs.base import JobRef
from ai_tasks.jobs.codec import StateCodec, grouped

REF = JobRef(id="1", type="demo")


@dataclass(frozen=True)
class Inner(StateCodec):
    url: str | None
    count: int


@dataclass(frozen=True)
class Demo(StateCodec):
    job: JobRef
    name: str
    ratio: float | None = None
    texts: tuple[str, ...] = ()
    inner: Inner | None = None
    facts: Mapping[str, Any] = field(default_factory=dict)
    dpi: int = grouped("options", 200)
    deskew: bool = grouped("options", True)


@dataclass(frozen=True)
class Sparse(StateCodec):
    omit_empty = True

    job: JobRef
    mode: str = "auto"
    key: str | None = None
    timings_ms: Mapping[str, float] = field(default_factory=dict)


def _wire(state: Any) -> Any:
    return type(state).from_dict(json.loads(json.dumps(state.to_dict())))


def test_defaults_and_every_field_set_round_trip_exactly() -> None:
    plain = Demo(REF, "a")
    full = Demo(REF, "b", ratio=0.5, texts=("가", ""), inner=Inner(None, 3), facts={"k": [1, 2]}, dpi=300, deskew=False)
    assert _wire(plain) == plain and _wire(full) == full
    assert full.to_dict() == {
        "job": {"id": "1", "type": "demo", "source_id": None, "result_id": None}, "name": "b", "ratio": 0.5,
        "texts": ["가", ""], "inner": {"url": None, "count": 3}, "facts": {"k": [1, 2]},
        "options": {"dpi": 300, "deskew": False},
    }


def test_a_sparse_state_carries_only_what_is_set() -> None:
    assert Sparse(REF).to_dict() == {"job": REF.to_dict(), "mode": "auto"}
    set_ = Sparse(REF, mode="scan", key="k", timings_ms={"fetch": 1.5})
    assert set_.to_dict()["timings_ms"] == {"fetch": 1.5} and _wire(set_) == set_ and _wire(Sparse(REF)) == Sparse(REF)


def test_missing_keys_take_defaults_and_ints_are_floats_where_declared() -> None:
    state = Demo.from_dict({"job": REF.to_dict(), "name": "a", "ratio": 2})
    assert state == Demo(REF, "a", ratio=2.0) and isinstance(state.ratio, float)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ([], "Demo must be an object, got list"),
        ({"job": REF.to_dict()}, "Demo has no name"),
        ({"job": REF.to_dict(), "name": "a", "colour": 1}, "unknown Demo field(s): colour"),
        ({"job": REF.to_dict(), "name": "a", "options": {"psm": 6}}, "unknown Demo.options field(s): psm"),
        ({"job": REF.to_dict(), "name": "a", "options": [1]}, "Demo.options must be an object, got list"),
        ({"job": REF.to_dict(), "name": 5}, "Demo.name must be str, got int"),
        ({"job": REF.to_dict(), "name": "a", "options": {"dpi": True}}, "Demo.dpi must be int, got bool"),
        ({"job": REF.to_dict(), "name": "a", "options": {"deskew": "yes"}}, "Demo.deskew must be bool, got str"),
        ({"job": REF.to_dict(), "name": "a", "texts": "ab"}, "Demo.texts must be a list, got str"),
        ({"job": REF.to_dict(), "name": "a", "texts": ["a", 1]}, "Demo.texts[1] must be str, got int"),
        ({"job": REF.to_dict(), "name": "a", "inner": "x"}, "Demo.inner must be an object, got str"),
        ({"job": REF.to_dict(), "name": "a", "facts": [1]}, "Demo.facts must be an object, got list"),
        ({"job": {"id": 7, "type": "demo"}, "name": "a"}, "JobRef.id must be str, got int"),
    ],
)
def test_anything_else_is_state_invalid(data: Any, message: str) -> None:
    with pytest.raises(JobPayloadError) as err:
        Demo.from_dict(data)
    assert (err.value.reason_code, err.value.message) == ("state_invalid", message)


def test_a_field_type_without_a_rule_is_a_bug_not_data() -> None:
    @dataclass(frozen=True)
    class Odd(StateCodec):
        items: list[int]

    with pytest.raises(TypeError, match="no rule"):
        Odd.from_dict({"items": [1]})
