"""ai_tasks/jobs/payload.py: one checker, one message style, secrets stop at the door."""

from __future__ import annotations

from typing import Any

import pytest

from ai_tasks.errors import ArtifactMissingError, JobPayloadError, TransientError
from ai_tasks.jobs import JOBS
from ai_tasks.jobs.payload import (
    Checked,
    Choice,
    Flag,
    Integer,
    JSONList,
    JSONObject,
    PayloadSpec,
    Seconds,
    Text,
)
from nlp.errors import InputError


class LibraryError(Exception):
    """A library's refusal: a reason code and a message, not an AIWorkerError."""

    retryable = False

    def __init__(self, reason_code: str, message: str) -> None:
        super().__init__(message)
        self.reason_code, self.message = reason_code, message


SPEC = PayloadSpec("demo", (
    Text("url", required=True, missing_code="download_url_missing"),
    Choice("mode", ("auto", "scan"), lambda: "auto"),
    Integer("dpi", 200, 72, 600),
    Seconds("every_s", 0.05, 60.0),
    Flag("overlay"),
    JSONObject("options", (Flag("deskew", True),)),
    JSONObject("meta", reason_code="meta_invalid"),
    JSONList("items"),
))


def _refusal(spec: PayloadSpec, payload: Any) -> tuple[str, str]:
    with pytest.raises(JobPayloadError) as err:
        spec.check(payload)
    return err.value.reason_code, err.value.message


def test_defaults_when_absent_and_values_read_by_kind() -> None:
    assert SPEC.check({"url": "u", "dpi": "", "every_s": None}) == {
        "url": "u", "mode": "auto", "dpi": 200, "every_s": None, "overlay": False, "options": {"deskew": True},
        "meta": None, "items": None,
    }
    got = SPEC.check({"url": " u ", "mode": "SCAN", "dpi": 300.0, "every_s": "0.5", "overlay": True,
                      "options": {"deskew": False}, "meta": {"a": 1}, "items": [1]})
    assert got == {"url": "u", "mode": "scan", "dpi": 300, "every_s": 0.5, "overlay": True,
                   "options": {"deskew": False}, "meta": {"a": 1}, "items": [1]}


def test_secrets_are_dropped_at_every_depth_before_anything_is_read() -> None:
    got = SPEC.check({"url": "u", "api_key": "sk-1", "options": {"token": "t"}, "meta": {"cookie": "c", "a": 1}})
    assert got["options"] == {"deskew": True} and got["meta"] == {"a": 1}
    assert "sk-1" not in repr(got)


@pytest.mark.parametrize(
    ("payload", "refusal"),
    [
        ({}, ("download_url_missing", "payload has no url")),
        ({"url": "u", "x": 1, "a": 2}, ("payload_invalid", "demo payload has unknown field(s): a, x (known: dpi, "
                                         "every_s, items, meta, mode, options, overlay, url)")),
        ({"url": "u", "options": {"psm": 6}}, ("payload_invalid", "demo options payload has unknown field(s): psm "
                                               "(known: deskew)")),
        ({"url": "u", "options": "x"}, ("payload_invalid", "options must be a JSON object, got str")),
        ({"url": "u", "meta": [1]}, ("meta_invalid", "meta must be a JSON object, got list")),
        ({"url": "u", "items": {}}, ("payload_invalid", "items must be a JSON list, got dict")),
        ({"url": "u", "every_s": float("nan")}, ("payload_invalid", "every_s must be in 0.05..60.0 s, got nan")),
        ({"url": "u", "dpi": 72.5}, ("payload_invalid", "dpi must be an integer, got 72.5")),
    ],
)
def test_refusals_name_the_field_and_what_was_wrong(payload: Any, refusal: tuple[str, str]) -> None:
    assert _refusal(SPEC, payload) == refusal


def test_a_library_refusal_becomes_a_payload_error_with_its_code() -> None:
    def library(raw: Any) -> Any:
        raise LibraryError("texts_invalid", f"texts must be a list, got {type(raw).__name__}")

    def parse(payload: dict[str, Any]) -> dict[str, Any]:
        raise InputError("wrong_note_empty", "the note has no items")

    assert _refusal(PayloadSpec("demo", (Checked("texts", library),)), {"texts": 1}) == (
        "texts_invalid", "texts must be a list, got int")
    assert _refusal(PayloadSpec("demo", parse=parse), {}) == ("wrong_note_empty", "the note has no items")


def test_our_own_errors_transient_ones_and_bugs_pass_through() -> None:
    def artifact(raw: Any) -> Any:
        raise ArtifactMissingError("artifact_key_invalid", "malformed")

    def transient(raw: Any) -> Any:
        raise TransientError("download_timeout", "slow")

    def bug(raw: Any) -> Any:
        raise KeyError("oops")

    with pytest.raises(ArtifactMissingError):
        PayloadSpec("demo", (Text("key", check=artifact),)).check({"key": "k"})
    with pytest.raises(TransientError):
        PayloadSpec("demo", (Checked("x", transient),)).check({})
    with pytest.raises(KeyError):
        PayloadSpec("demo", (Checked("x", bug),)).check({})


def test_every_job_declares_its_payload_and_prepares_through_it() -> None:
    import importlib

    for spec in JOBS.values():
        module = importlib.import_module(spec.prepare.__module__)
        assert isinstance(module.PAYLOAD, PayloadSpec) and module.PAYLOAD.job_type == spec.type, spec.type
