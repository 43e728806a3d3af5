"""Tests of ai_tasks/delivery.py against a real HTTP server on 127.0.0.1."""

from __future__ import annotations

import json
import logging
import socket
import traceback
from collections.abc import Iterator
from typing import Any

import pytest

from ai_tasks.delivery import RESULT_PATH, deliver_result, result_submission
from ai_tasks.errors import (
    AIWorkerError,
    DeliveryError,
    DeliveryRejectedError,
    JobPayloadError,
    PermanentError,
)
from tests._redis import require_redis
from tests.ai_tasks import _http
from tests.ai_tasks._http import LocalServer, serve

pytestmark = pytest.mark.timeout(10)

TOKEN = "wt_SUPERSECRETTOKEN"
PAYLOAD = result_submission(
    {"job_id": "job-1", "status": "DONE", "result": {"score": 17}, "error": None}, "1234"
)


@pytest.fixture
def server() -> Iterator[LocalServer]:
    with serve() as srv:
        yield srv


def _assert_token_hidden(err: BaseException) -> None:
    assert TOKEN not in "".join(traceback.format_exception(err))
    assert TOKEN not in repr(err)


@pytest.mark.parametrize("code", [200, 201, 204])
def test_posts_result_with_worker_headers(
    server: LocalServer, caplog: pytest.LogCaptureFixture, code: int
) -> None:
    server.route(RESULT_PATH, _http.status(code))
    caplog.set_level(logging.DEBUG)

    deliver_result(server.base_url + "/", TOKEN, PAYLOAD, timeout_s=1)

    (request,) = server.requests
    assert request.method == "POST"
    assert request.path == RESULT_PATH
    assert request.headers["X-Worker-Token"] == TOKEN
    assert request.headers["X-Worker-Id"] == socket.gethostname()
    assert request.headers["Content-Type"] == "application/json"
    assert json.loads(request.body) == {
        "job_id": "job-1",
        "submission_id": 1234,
        "status": "DONE",
        "result": {"score": 17},
        "error": None,
    }
    assert TOKEN not in caplog.text


def test_base_url_with_path_prefix(server: LocalServer) -> None:
    server.route("/backend" + RESULT_PATH, _http.status(200))

    deliver_result(server.url("/backend"), TOKEN, PAYLOAD, timeout_s=1)

    assert server.requests[0].path == "/backend" + RESULT_PATH


@pytest.mark.parametrize("code", [408, 429, 500, 502, 503])
def test_retryable_statuses(server: LocalServer, code: int) -> None:
    server.route(RESULT_PATH, _http.status(code))

    with pytest.raises(DeliveryError) as info:
        deliver_result(server.base_url, TOKEN, PAYLOAD, timeout_s=1)

    assert info.value.reason_code == "delivery_failed"
    assert info.value.retryable
    assert f"HTTP {code}" in str(info.value)
    _assert_token_hidden(info.value)


@pytest.mark.parametrize("code", [400, 401, 403, 404, 409, 422])
def test_rejected_statuses_are_permanent(server: LocalServer, code: int) -> None:
    server.route(RESULT_PATH, _http.status(code))

    with pytest.raises(DeliveryRejectedError) as info:
        deliver_result(server.base_url, TOKEN, PAYLOAD, timeout_s=1)

    assert info.value.reason_code == "delivery_rejected"
    assert isinstance(info.value, PermanentError) and not info.value.retryable
    _assert_token_hidden(info.value)


def test_redirect_is_not_followed_with_the_token(server: LocalServer) -> None:
    with serve({RESULT_PATH: _http.status(200)}) as elsewhere:
        server.route(RESULT_PATH, _http.redirect(elsewhere.url(RESULT_PATH), 307))

        with pytest.raises(DeliveryRejectedError):
            deliver_result(server.base_url, TOKEN, PAYLOAD, timeout_s=1)

        assert elsewhere.requests == []


def test_timeout_is_transient(server: LocalServer) -> None:
    server.route(RESULT_PATH, _http.sleep_then(2, _http.status(200)))

    with pytest.raises(DeliveryError) as info:
        deliver_result(server.base_url, TOKEN, PAYLOAD, timeout_s=0.3)

    assert info.value.reason_code == "delivery_failed"
    _assert_token_hidden(info.value)


def test_connection_refused_is_transient() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]

    with pytest.raises(DeliveryError) as info:
        deliver_result(f"http://127.0.0.1:{port}", TOKEN, PAYLOAD, timeout_s=1)

    _assert_token_hidden(info.value)


@pytest.mark.parametrize(
    ("base_url", "token", "timeout_s"),
    [
        ("", TOKEN, 1),
        ("ftp://api", TOKEN, 1),
        ("http://", TOKEN, 1),
        ("http://api", "", 1),
        ("http://api", TOKEN, 0),
    ],
)
def test_bad_arguments(base_url: str, token: str, timeout_s: float) -> None:
    with pytest.raises(ValueError) as info:
        deliver_result(base_url, token, PAYLOAD, timeout_s=timeout_s)
    assert TOKEN not in str(info.value)


@pytest.mark.parametrize(
    ("source_id", "submission_id"),
    [
        (None, None),
        ("", None),
        ("42", 42),
        (42, 42),
        ("0042", 42),
        ("-1", None),
        ("4.2", None),
        ("abc", None),
        ("²", None),
        (True, None),
    ],
)
def test_result_submission_submission_id(source_id: Any, submission_id: int | None) -> None:
    body = result_submission({"job_id": "j", "status": "DONE"}, source_id)

    assert body == {
        "job_id": "j",
        "submission_id": submission_id,
        "status": "DONE",
        "result": None,
        "error": None,
    }


@pytest.mark.parametrize(
    "result", [{}, {"job_id": "j"}, {"status": "DONE"}, {"job_id": "", "status": "DONE"}]
)
def test_result_submission_needs_job_id_and_status(result: dict[str, Any]) -> None:
    with pytest.raises(JobPayloadError) as info:
        result_submission(result, "1")
    assert isinstance(info.value, AIWorkerError)
    assert info.value.reason_code == "result_invalid"


def test_idempotency_key_travels_as_header_and_field(server: LocalServer) -> None:
    from ai_tasks.delivery import IDEMPOTENCY_HEADER, idempotency_key

    server.route(RESULT_PATH, _http.status(200))
    result = {"job_id": "job-1", "status": "DONE", "result": {"score": 17}, "error": None}
    key = idempotency_key(result, "task-abc")
    assert key == "job-1:task-abc"
    deliver_result(server.base_url, TOKEN, result_submission(result, "1234", idempotency=key), idempotency=key)
    (req,) = server.requests
    assert req.headers[IDEMPOTENCY_HEADER] == key
    assert json.loads(req.body)["idempotency_key"] == key


def test_idempotency_key_without_result_id_is_a_content_hash() -> None:
    from ai_tasks.delivery import idempotency_key

    a = idempotency_key({"job_id": "j", "status": "DONE", "result": {"x": 1}}, None)
    b = idempotency_key({"result": {"x": 1}, "status": "DONE", "job_id": "j"}, None)
    c = idempotency_key({"job_id": "j", "status": "DONE", "result": {"x": 2}}, None)
    assert a == b != c and a.startswith("j:sha256:")


def test_delivered_marker_only_after_a_2xx_and_fails_open() -> None:
    import uuid

    import redis

    from ai_tasks.delivery import DeliveredMarker

    require_redis("redis://127.0.0.1:6379/14")
    key = f"job-x:{uuid.uuid4().hex}"
    marker = DeliveredMarker("redis://127.0.0.1:6379/14", ttl_s=60)
    assert not marker.delivered(key)
    marker.mark(key)
    assert marker.delivered(key)
    assert 0 < redis.Redis.from_url("redis://127.0.0.1:6379/14").ttl("ai:delivered:" + key) <= 60
    redis.Redis.from_url("redis://127.0.0.1:6379/14").delete("ai:delivered:" + key)
    # an unreachable Redis never stops the POST: "not delivered" and no exception
    down = DeliveredMarker(f"redis://127.0.0.1:{_free_port()}/0", ttl_s=60)
    assert down.delivered(key) is False
    down.mark(key)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])
