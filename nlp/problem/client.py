"""One chat-completion call through the ``openai`` client, with every failure named.

This is the only module of :mod:`nlp.problem` that imports ``openai`` (lazily,
when a :class:`ChatClient` is built). It sends one request, reads at most
:data:`MAX_REPLY_BYTES` of the answer within the call's deadline, and turns
every way a server can fail into an :mod:`nlp.errors` error with a reason code:

==========================================  ===============================  =========
what happened                               reason_code                      retried
==========================================  ===============================  =========
no API key configured                       ``llm_not_configured``           no
401 / 403                                   ``llm_auth_failed``              no
400 / 413 / 422 (not about the schema)      ``llm_bad_request``              no
404 (unknown model or path)                 ``llm_model_not_found``          no
429 ``insufficient_quota``                  ``llm_quota_exceeded``           no
429                                         ``llm_rate_limited``             yes
408, 409, 5xx, connection reset             ``llm_unavailable``              yes
no answer within ``timeout_s``              ``llm_timeout``                  yes
reply body over :data:`MAX_REPLY_BYTES`     ``llm_output_too_large``         no
reply body not a chat completion            ``llm_bad_response``             no
``message.refusal`` / ``content_filter``    ``llm_refused``                  no
``finish_reason == "length"``               ``llm_truncated``                no
==========================================  ===============================  =========

Retryable errors carry ``retry_after_s`` from the server's ``Retry-After``
(or ``retry-after-ms``) header when it sent one; the task base waits at
least that long before the next try.

The ``openai`` client's own retries are off (``max_retries=0``): a retry
inside the call would sleep while holding one of the llm worker's slots,
would multiply with the task's retries (3 x 5 tries per job), and ignores
our backoff cap; the task base is the one place that retries, and it honours
``Retry-After``.

A 400 whose message names ``response_format`` / ``json_schema`` raises
:class:`ResponseFormatUnsupported`, which :mod:`nlp.problem.generate` answers
by retrying in JSON mode.
"""

from __future__ import annotations

import email.utils
import json
import re
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from nlp.errors import EngineError, EngineUnavailableError, OutputError
from nlp.problem.schema import response_format
from nlp.problem.types import Usage

__all__ = [
    "MAX_REPLY_BYTES",
    "ChatClient",
    "ChatReply",
    "ClientConfig",
    "ResponseFormatUnsupported",
    "retry_after_s",
]

#: largest chat-completion body read: a problem at every length bound is ~40 KB of JSON; 1 MB is 25x that.
MAX_REPLY_BYTES = 1_000_000
#: a server asking us to wait longer than an hour is treated as asking for an hour.
MAX_RETRY_AFTER_S = 3600.0
#: output tokens asked for: a problem at every length bound is ~6,000 tokens of Korean JSON.
MAX_OUTPUT_TOKENS = 8192
#: low temperature, as the legacy worker used: transcription, not creativity.
TEMPERATURE = 0.2
#: bytes read per chunk of the reply body.
_CHUNK_BYTES = 64 * 1024
#: words in a 400's message that say the server lacks structured output.
_SCHEMA_WORDS = ("response_format", "json_schema", "structured output")


class SecretLike(Protocol):
    """A secret that shows its value only when asked (``ai_tasks.settings.Secret``)."""

    def reveal(self) -> str: ...


class ResponseFormatUnsupported(EngineError):
    """The server rejected ``response_format: json_schema`` (a 400 naming it)."""


@dataclass(frozen=True)
class ClientConfig:
    """Where and how to call the model.

    Args:
        model: the model name sent to the server (``PROBLEM_GEN_MODEL``).
        api_key: the key (``OPENAI_API_KEY``): a secret object whose
            ``reveal()`` is called only when the HTTP client is built, or a str.
            Never shown in ``repr``.
        base_url: an OpenAI-compatible server (``OPENAI_BASE_URL``, ending in
            ``/v1``); ``None`` for api.openai.com.
        timeout_s: the longest one call may take, connect to last byte.
        max_reply_bytes: the largest reply body read.
    """

    model: str
    api_key: SecretLike | str | None = field(default=None, repr=False)
    base_url: str | None = None
    timeout_s: float = 60.0
    max_reply_bytes: int = MAX_REPLY_BYTES


@dataclass(frozen=True)
class ChatReply:
    """The parts of one chat completion that problem generation uses."""

    content: str
    usage: Usage
    model: str
    elapsed_s: float


def retry_after_s(headers: Any, now: float | None = None) -> float | None:
    """Seconds a 429/5xx asked us to wait: ``retry-after-ms``, then ``Retry-After`` (seconds or a date).

    Examples:
        >>> retry_after_s({"retry-after": "7"})
        7.0
        >>> retry_after_s({"retry-after-ms": "1500"})
        1.5
        >>> retry_after_s({"retry-after": "Wed, 21 Oct 2015 07:28:10 GMT"}, now=1445412480.0)
        10.0
        >>> retry_after_s({}) is None
        True
    """
    def get(name: str) -> str | None:
        value = headers.get(name)
        return value if isinstance(value, str) else None

    raw_ms, raw = get("retry-after-ms"), get("retry-after")
    value: float | None = None
    try:
        if raw_ms:
            value = float(raw_ms) / 1000.0
        elif raw:
            value = float(raw)
    except ValueError:
        value = None
    if value is None and raw:
        parsed = email.utils.parsedate_to_datetime(raw) if _looks_like_date(raw) else None
        if parsed is not None:
            value = parsed.timestamp() - (time.time() if now is None else now)
    if value is None or value != value:
        return None
    return min(max(value, 0.0), MAX_RETRY_AFTER_S)


def _looks_like_date(raw: str) -> bool:
    try:
        return email.utils.parsedate_tz(raw) is not None
    except (TypeError, ValueError):
        return False


def _unavailable(code: str, message: str, wait_s: float | None) -> EngineUnavailableError:
    err = EngineUnavailableError(code, message)
    err.retry_after_s = wait_s
    return err


_KEY_RE = re.compile(r"\b(sk|key|api)[-_][A-Za-z0-9_\-*]{6,}")


def _error_text(exc: Any, secret: str = "") -> str:
    """The server's error message, at most 300 characters, with anything key-like masked.

    Servers echo the key they refused ("Incorrect API key provided: sk-...");
    OpenAI masks most of it, a proxy may not. The message ends up in a result.

    Examples:
        >>> class E: body = {"error": {"message": "Incorrect API key provided: sk-abc123def456"}}
        >>> _error_text(E())
        'Incorrect API key provided: ***'
    """
    body = getattr(exc, "body", None)
    text = str(getattr(exc, "message", exc))
    if isinstance(body, dict):
        inner = body.get("error", body)
        if isinstance(inner, dict) and isinstance(inner.get("message"), str):
            text = str(inner["message"])
    if secret:
        text = text.replace(secret, "***")
    return _KEY_RE.sub("***", text)[:300]


def _error_code(exc: Any) -> str:
    body = getattr(exc, "body", None)
    inner = body.get("error", body) if isinstance(body, dict) else None
    code = inner.get("code") or inner.get("type") if isinstance(inner, dict) else None
    return str(code or "")


def _map_status_error(exc: Any, secret: str = "") -> Exception:
    status = int(exc.status_code)
    text = _error_text(exc, secret)
    wait_s = retry_after_s(exc.response.headers)
    if status == 400 and any(w in text.lower() for w in _SCHEMA_WORDS):
        return ResponseFormatUnsupported("llm_schema_unsupported", f"400 from the LLM server: {text}")
    if status in (401, 403):
        return EngineError("llm_auth_failed", f"{status} from the LLM server (check OPENAI_API_KEY): {text}")
    if status == 404:
        return EngineError("llm_model_not_found", f"404 from the LLM server (check PROBLEM_GEN_MODEL and OPENAI_BASE_URL): {text}")
    if status == 429 and "insufficient_quota" in (_error_code(exc) + text):
        return EngineError("llm_quota_exceeded", f"429 insufficient_quota from the LLM server: {text}")
    if status == 429:
        return _unavailable("llm_rate_limited", f"429 from the LLM server: {text}", wait_s)
    if status in (408, 409) or status >= 500:
        return _unavailable("llm_unavailable", f"{status} from the LLM server: {text}", wait_s)
    return EngineError("llm_bad_request", f"{status} from the LLM server: {text}")


def _int(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else 0


def _parse_completion(data: bytes, requested_model: str, elapsed_s: float) -> ChatReply:
    """The content of a chat-completion body, after the refusal and truncation checks."""
    try:
        doc = json.loads(data)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise EngineError("llm_bad_response", f"the LLM server's reply is not JSON ({exc}); is OPENAI_BASE_URL an OpenAI-compatible /v1 endpoint?") from None
    choices = doc.get("choices") if isinstance(doc, dict) else None
    if not isinstance(choices, list) or not choices or not isinstance(choices[0], dict):
        raise EngineError("llm_bad_response", "the LLM server's reply has no choices[0]")
    choice = choices[0]
    message = choice.get("message")
    if not isinstance(message, dict):
        raise EngineError("llm_bad_response", "the LLM server's reply has no choices[0].message")
    refusal = message.get("refusal")
    if isinstance(refusal, str) and refusal.strip():
        raise OutputError("llm_refused", f"the model refused: {refusal.strip()[:300]}")
    finish = choice.get("finish_reason")
    if finish == "content_filter":
        raise OutputError("llm_refused", "the server's content filter stopped the reply")
    if finish == "length":
        raise OutputError("llm_truncated", f"the reply hit the output token limit ({MAX_OUTPUT_TOKENS}) before the JSON ended")
    content = message.get("content")
    if not isinstance(content, str):
        content = ""
    raw_usage = doc.get("usage") if isinstance(doc.get("usage"), dict) else {}
    usage = Usage(
        prompt_tokens=_int(raw_usage.get("prompt_tokens")),
        completion_tokens=_int(raw_usage.get("completion_tokens")),
        total_tokens=_int(raw_usage.get("total_tokens")),
        calls=1,
    )
    model = doc.get("model") if isinstance(doc.get("model"), str) else requested_model
    return ChatReply(content=content, usage=usage, model=model or requested_model, elapsed_s=elapsed_s)


class ChatClient:
    """An ``openai.OpenAI`` client set up for problem generation (thread-safe; reuse it).

    Raises:
        EngineError: ``llm_not_configured`` when there is no API key.
    """

    def __init__(self, config: ClientConfig) -> None:
        key = config.api_key
        revealed = key if isinstance(key, str) or key is None else key.reveal()
        if not revealed:
            raise EngineError("llm_not_configured", "no OPENAI_API_KEY is set for problem generation")
        from openai import OpenAI

        self.config = config
        self._secret = revealed
        self._client = OpenAI(
            api_key=revealed,
            base_url=config.base_url,
            timeout=config.timeout_s,
            max_retries=0,
        )

    def close(self) -> None:
        """Close the HTTP connection pool."""
        self._client.close()

    def __enter__(self) -> ChatClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def complete(self, messages: Sequence[dict[str, str]], *, mode: str = "json_schema") -> ChatReply:
        """Send ``messages`` and return the reply's content, usage and model.

        Args:
            messages: chat messages.
            mode: ``"json_schema"`` (strict structured output) or ``"json_object"`` (JSON mode).

        Raises:
            ResponseFormatUnsupported: the server refused ``json_schema``.
            EngineError, EngineUnavailableError, OutputError: see the module table.
        """
        import httpx2
        import openai

        cfg = self.config
        started = time.monotonic()
        deadline = started + cfg.timeout_s
        request: dict[str, Any] = {
            "model": cfg.model,
            "messages": list(messages),
            "response_format": response_format(mode),
            "temperature": TEMPERATURE,
            "max_completion_tokens": MAX_OUTPUT_TOKENS,
        }
        try:
            with self._client.chat.completions.with_streaming_response.create(**request) as response:
                declared = response.headers.get("content-length")
                if declared and declared.isdigit() and int(declared) > cfg.max_reply_bytes:
                    raise OutputError("llm_output_too_large", f"reply of {int(declared)} bytes, limit {cfg.max_reply_bytes}")
                chunks: list[bytes] = []
                size = 0
                for chunk in response.iter_bytes(_CHUNK_BYTES):
                    size += len(chunk)
                    if size > cfg.max_reply_bytes:
                        raise OutputError("llm_output_too_large", f"reply over {cfg.max_reply_bytes} bytes")
                    if time.monotonic() > deadline:
                        raise _unavailable("llm_timeout", f"reply not complete within {cfg.timeout_s:g} s", None)
                    chunks.append(chunk)
        except openai.APITimeoutError:
            raise _unavailable("llm_timeout", f"no reply within {cfg.timeout_s:g} s", None) from None
        except openai.APIStatusError as exc:
            raise _map_status_error(exc, self._secret) from None
        except openai.APIConnectionError as exc:
            raise _unavailable("llm_unavailable", f"cannot reach the LLM server: {exc.message}", None) from None
        except httpx2.TimeoutException:  # while reading the body
            raise _unavailable("llm_timeout", f"reply not complete within {cfg.timeout_s:g} s", None) from None
        except httpx2.TransportError as exc:  # the body stopped half-way
            raise _unavailable("llm_unavailable", f"the reply broke off: {type(exc).__name__}", None) from None
        return _parse_completion(b"".join(chunks), cfg.model, time.monotonic() - started)
