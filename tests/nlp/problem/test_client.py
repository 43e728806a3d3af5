"""ChatClient against a real local chat-completions server: every failure gets its code."""

from __future__ import annotations

import json

import pytest

from nlp.errors import EngineError, EngineUnavailableError, NLPError, OutputError
from nlp.problem.client import MAX_REPLY_BYTES, ChatClient, ClientConfig, ResponseFormatUnsupported
from tests.ai_tasks._http import sleep_then, truncated
from tests.nlp.problem._chat_server import completion, error, raw, scripted_server

MESSAGES = [{"role": "user", "content": "JSON please"}]


class _Key:
    """A stand-in for ai_tasks.settings.Secret (nlp never imports ai_tasks)."""

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        return self._value


def config(base_url: str, **over: object) -> ClientConfig:
    kw: dict[str, object] = {"model": "test-model", "api_key": _Key("sk-test-123"), "base_url": base_url, "timeout_s": 5.0}
    kw.update(over)
    return ClientConfig(**kw)  # type: ignore[arg-type]


def call(script: list, **over: object) -> object:
    with scripted_server(script) as srv, ChatClient(config(srv.base_url, **over)) as client:
        return client.complete(MESSAGES)


def test_a_plain_reply_gives_content_usage_and_model() -> None:
    with scripted_server([completion('{"a": 1}', model="served-model", usage=(12, 3))]) as srv:
        with ChatClient(config(srv.base_url)) as client:
            reply = client.complete(MESSAGES)
        sent = srv.requests[0]
    assert reply.content == '{"a": 1}'
    assert reply.usage.to_dict() == {"prompt_tokens": 12, "completion_tokens": 3, "total_tokens": 15, "calls": 1}
    assert reply.model == "served-model"
    headers = {k.lower(): v for k, v in sent.headers.items()}
    assert headers["authorization"] == "Bearer sk-test-123"
    body = json.loads(sent.body)
    assert body["response_format"]["type"] == "json_schema"
    assert body["model"] == "test-model"


def test_the_key_never_shows_in_the_config_repr() -> None:
    assert "sk-test" not in repr(config("http://127.0.0.1:1/v1", api_key="sk-test-123"))


@pytest.mark.parametrize("key", [None, "", _Key("")])
def test_missing_key_is_not_configured(key: object) -> None:
    with pytest.raises(EngineError) as info:
        ChatClient(config("http://127.0.0.1:1/v1", api_key=key))
    assert info.value.reason_code == "llm_not_configured" and not info.value.retryable


@pytest.mark.parametrize(
    "route, code, retryable, wait_s",
    [
        (error(429, "slow down", headers={"Retry-After": "7"}), "llm_rate_limited", True, 7.0),
        (error(429, "slow down", headers={"retry-after-ms": "250"}), "llm_rate_limited", True, 0.25),
        (error(429, "You exceeded your current quota", err_code="insufficient_quota"), "llm_quota_exceeded", False, None),
        (error(500, "boom"), "llm_unavailable", True, None),
        (error(503, "overloaded", headers={"Retry-After": "30"}), "llm_unavailable", True, 30.0),
        (error(401, "Incorrect API key provided"), "llm_auth_failed", False, None),
        (error(403, "region not supported"), "llm_auth_failed", False, None),
        (error(400, "messages must not be empty"), "llm_bad_request", False, None),
        (error(404, "model not found"), "llm_model_not_found", False, None),
    ],
)
def test_http_errors_map_to_reason_codes(route: object, code: str, retryable: bool, wait_s: float | None) -> None:
    with pytest.raises(NLPError) as info:
        call([route])
    err = info.value
    assert err.reason_code == code
    assert err.retryable is retryable
    assert isinstance(err, EngineUnavailableError if retryable else EngineError)
    assert getattr(err, "retry_after_s", None) == wait_s
    assert "sk-test" not in str(err)


def test_no_client_side_retries() -> None:
    with scripted_server([error(503, "a"), completion("{}")]) as srv:
        with ChatClient(config(srv.base_url)) as client, pytest.raises(EngineUnavailableError):
            client.complete(MESSAGES)
        assert srv.calls == 1


def test_schema_rejection_is_its_own_error() -> None:
    with pytest.raises(ResponseFormatUnsupported):
        call([error(400, "Invalid parameter: 'response_format' of type 'json_schema' is not supported with this model.")])


def test_refusal_is_never_data() -> None:
    with pytest.raises(OutputError) as info:
        call([completion('{"body": "x"}', refusal="I can't help with that.")])
    assert info.value.reason_code == "llm_refused"


def test_content_filter_is_a_refusal() -> None:
    with pytest.raises(OutputError, match="llm_refused"):
        call([completion(None, finish_reason="content_filter")])


def test_length_is_truncated() -> None:
    with pytest.raises(OutputError) as info:
        call([completion('{"body": "x", "choi', finish_reason="length")])
    assert info.value.reason_code == "llm_truncated"


def test_a_5_mb_reply_is_too_large() -> None:
    content = json.dumps({"body": "가" * (5 * 1024 * 1024 // 3)}, ensure_ascii=False)
    with pytest.raises(OutputError) as info:
        call([completion(content)])
    assert info.value.reason_code == "llm_output_too_large"
    assert len(content.encode()) > 5 * 1024 * 1024 > MAX_REPLY_BYTES


def test_a_body_that_is_not_json() -> None:
    with pytest.raises(EngineError) as info:
        call([raw(b"<html>gateway</html>")])
    assert info.value.reason_code == "llm_bad_response"


def test_a_body_of_the_wrong_shape() -> None:
    with pytest.raises(EngineError, match="llm_bad_response"):
        call([raw(b'{"choices": []}')])


def test_a_body_cut_short() -> None:
    with pytest.raises(EngineUnavailableError) as info:
        call([truncated(100, 5000)])
    assert info.value.reason_code == "llm_unavailable"


def test_a_slow_server_times_out() -> None:
    with pytest.raises(EngineUnavailableError) as info:
        call([sleep_then(3.0, completion("{}"))], timeout_s=0.5)
    assert info.value.reason_code == "llm_timeout"


def test_nothing_listening_is_unavailable() -> None:
    with ChatClient(config("http://127.0.0.1:9/v1")) as client, pytest.raises(EngineUnavailableError) as info:
        client.complete(MESSAGES)
    assert info.value.reason_code == "llm_unavailable"


@pytest.mark.parametrize("echo", ["Incorrect API key provided: sk-test-123", "bad key sk-live-abcdefgh1234 for org"])
def test_an_echoed_key_is_masked_in_the_error(echo: str) -> None:
    with pytest.raises(EngineError) as info:
        call([error(401, echo)])
    assert "sk-test-123" not in str(info.value) and "abcdefgh1234" not in str(info.value)
    assert "***" in info.value.message
