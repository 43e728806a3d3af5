"""vision.ocr.google: the real client library against a local Vision REST server."""

from __future__ import annotations

import json

import numpy as np
import pytest

from tests.vision.ocr._vision_server import fake_vision, word
from vision.errors import EngineError, EngineUnavailableError
from vision.ocr.google import GoogleConfig, read_page_google

PAGE = np.full((300, 400), 255, np.uint8)


def _config(endpoint: str, **kw: object) -> GoogleConfig:
    return GoogleConfig(endpoint=endpoint, timeout_s=5.0, backoff_s=0.0, **kw)  # type: ignore[arg-type]


def test_document_parsed_into_lines_and_words_in_page_pixels() -> None:
    with fake_vision() as vision:
        vision.answer_document(
            [word("1.", (10, 10, 30, 30)), word("다음", (35, 10, 80, 30), brk=None), word("중", (80, 10, 100, 30), brk="LINE_BREAK")],
            [word("①", (10, 50, 30, 70)), word("apple", (35, 50, 100, 70), brk="EOL_SURE_SPACE")],
        )
        page = read_page_google(PAGE, _config(vision.endpoint))
        request = json.loads(vision.server.requests[0].body)
    assert [line.text for line in page.lines] == ["1. 다음중", "① apple"]
    assert page.lines[0].box == (10, 10, 90, 20)
    assert page.lines[1].words[1].box == (35, 50, 65, 20)
    assert (page.width, page.height) == (400, 300)
    (req,) = request["requests"]
    assert req["features"][0]["type"] in ("DOCUMENT_TEXT_DETECTION", 11)  # the client sends the enum's number
    assert req["imageContext"]["languageHints"] == ["ko", "en"]
    assert req["image"]["content"]  # the page went as bytes, not a URL


def test_no_text_is_an_empty_page_not_an_error() -> None:
    with fake_vision() as vision:
        vision.answer_json({"responses": [{}]})
        page = read_page_google(PAGE, _config(vision.endpoint))
    assert page.lines == ()


@pytest.mark.parametrize(("code", "reason"), [(429, "google_rate_limited"), (500, "google_unavailable"), (503, "google_unavailable")])
def test_transient_status_retried_then_retryable(code: int, reason: str) -> None:
    with fake_vision() as vision:
        vision.answer_status(code)
        with pytest.raises(EngineUnavailableError) as err:
            read_page_google(PAGE, _config(vision.endpoint, attempts=3))
        assert vision.calls == 3
    assert err.value.reason_code == reason and err.value.retryable


def test_transient_then_success() -> None:
    with fake_vision() as vision:
        vision.answer_status(503).answer_document([word("ok", (0, 0, 10, 10), brk="LINE_BREAK")])
        page = read_page_google(PAGE, _config(vision.endpoint, attempts=2))
        assert vision.calls == 2
    assert page.text == "ok"


@pytest.mark.parametrize(("code", "reason"), [(400, "google_bad_request"), (401, "google_auth_failed"), (403, "google_auth_failed")])
def test_permanent_status_not_retried(code: int, reason: str) -> None:
    with fake_vision() as vision:
        vision.answer_status(code)
        with pytest.raises(EngineError) as err:
            read_page_google(PAGE, _config(vision.endpoint, attempts=3))
        assert vision.calls == 1
    assert err.value.reason_code == reason and not err.value.retryable


@pytest.mark.parametrize(
    ("error", "reason", "retryable"),
    [
        ({"code": 3, "message": "Bad image data."}, "google_bad_request", False),
        ({"code": 13, "message": "Internal error."}, "google_unavailable", True),
        ({"code": 9, "message": "Image too small."}, "google_image_error", False),
    ],
)
def test_error_inside_responses(error: dict[str, object], reason: str, retryable: bool) -> None:
    with fake_vision() as vision:
        vision.answer_json({"responses": [{"error": error}]})
        with pytest.raises(EngineError if not retryable else EngineUnavailableError) as err:
            read_page_google(PAGE, _config(vision.endpoint, attempts=2))
    assert err.value.reason_code == reason and err.value.retryable is retryable


@pytest.mark.parametrize("data", [b"<html>gateway</html>", b"{\"responses\": [", b"[1, 2]"])
def test_malformed_json_is_permanent(data: bytes) -> None:
    with fake_vision() as vision:
        vision.answer_raw(data)
        with pytest.raises(EngineError) as err:
            read_page_google(PAGE, _config(vision.endpoint))
    assert err.value.reason_code == "google_bad_response" and not err.value.retryable


def test_timeout_is_retryable() -> None:
    from tests.ai_tasks._http import serve, sleep_then, status

    with serve({"/v1/images:annotate": sleep_then(3.0, status(200))}) as server:
        with pytest.raises(EngineUnavailableError) as err:
            read_page_google(PAGE, GoogleConfig(endpoint=server.base_url, timeout_s=0.3, attempts=1))
    assert err.value.reason_code == "google_timeout"


def test_unreachable_is_retryable() -> None:
    with pytest.raises(EngineUnavailableError) as err:
        read_page_google(PAGE, GoogleConfig(endpoint="http://127.0.0.1:9", timeout_s=2.0, attempts=1))
    assert err.value.reason_code == "google_unreachable"


def test_not_configured_and_bad_credentials_file(tmp_path) -> None:
    with pytest.raises(EngineError) as err:
        read_page_google(PAGE, GoogleConfig())
    assert err.value.reason_code == "google_not_configured"
    bad = tmp_path / "key.json"
    bad.write_text("{}")
    with pytest.raises(EngineError) as err:
        read_page_google(PAGE, GoogleConfig(credentials_path=str(bad)))
    assert err.value.reason_code == "google_credentials_invalid"
    with pytest.raises(EngineError) as err:
        read_page_google(PAGE, GoogleConfig(credentials_path=str(tmp_path / "missing.json")))
    assert err.value.reason_code == "google_credentials_invalid"
