"""``aicore.errors``: the one error root that ai_tasks, omr, vision and nlp share."""

from __future__ import annotations

import pickle

import pytest

from ai_tasks.errors import AIWorkerError, PermanentError, TransientDownloadError
from aicore.errors import AIError
from nlp.errors import EngineUnavailableError, NLPError
from omr.errors import MetaError, OMRError
from vision.errors import PageError, VisionError

BASES = [AIWorkerError, OMRError, VisionError, NLPError]


@pytest.mark.parametrize("base", BASES)
def test_every_package_base_is_a_thin_subclass_of_the_one_root(base: type[AIError]) -> None:
    assert issubclass(base, AIError)
    # no package re-implements the behaviour: one constructor, one str, one pickling
    assert not {"__init__", "__str__", "__reduce__", "to_dict"} & set(vars(base))


@pytest.mark.parametrize(
    ("cls", "retryable"),
    [(AIError, False), (PermanentError, False), (TransientDownloadError, True), (MetaError, False),
     (PageError, False), (EngineUnavailableError, True)],
)
def test_one_constructor_shape(cls: type[AIError], retryable: bool) -> None:
    err = cls("some_code", "what went wrong")
    assert (err.reason_code, err.message, err.retryable) == ("some_code", "what went wrong", retryable)
    assert str(err) == "some_code: what went wrong"
    assert err.to_dict() == {"reason_code": "some_code", "message": "what went wrong"}
    assert cls("some_code").message == "some_code"
    assert cls("x", retryable=not retryable).retryable is (not retryable)


@pytest.mark.parametrize("cls", [PermanentError, TransientDownloadError, MetaError, PageError, NLPError])
def test_pickling_keeps_class_fields_and_instance_attributes(cls: type[AIError]) -> None:
    err = cls("code", "message", retryable=True)
    err.extra_s = 3.5  # type: ignore[attr-defined]
    back = pickle.loads(pickle.dumps(err))
    assert type(back) is cls
    assert (back.reason_code, back.message, back.retryable) == ("code", "message", True)
    assert back.extra_s == 3.5  # type: ignore[attr-defined]


def test_retry_after_survives_pickling_on_the_nlp_error_that_carries_it() -> None:
    err = EngineUnavailableError("llm_rate_limited", "429")
    err.retry_after_s = 2.0
    back = pickle.loads(pickle.dumps(err))
    assert back.retry_after_s == 2.0 and back.retryable is True
