"""``omr.errors``: one constructor shape, a reason code and ``retryable`` on every error."""

import pickle

import pytest

from omr.errors import (
    AlignmentError,
    ImageError,
    KeyFormatError,
    MetaError,
    OMRError,
    OptionError,
    PageFactsError,
)

CLASSES = [OMRError, MetaError, ImageError, AlignmentError, KeyFormatError, OptionError, PageFactsError]


@pytest.mark.parametrize("cls", CLASSES)
def test_constructor_shape(cls: type[OMRError]) -> None:
    err = cls("some_code", "what went wrong")
    assert (err.reason_code, err.message, err.retryable) == ("some_code", "what went wrong", False)
    assert str(err) == "some_code: what went wrong"
    assert err.to_dict() == {"reason_code": "some_code", "message": "what went wrong"}
    back = pickle.loads(pickle.dumps(err))
    assert type(back) is cls and back.to_dict() == err.to_dict()
    assert isinstance(err, OMRError)


def test_message_defaults_to_the_code_and_retryable_can_be_set() -> None:
    err = OMRError("omr_error")
    assert err.message == "omr_error" and not OMRError.retryable
    assert OMRError("x", "y", retryable=True).retryable is True
