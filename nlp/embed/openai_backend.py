"""The OpenAI backend: the ``openai`` client's embeddings API, batched within its limits.

Any server that speaks OpenAI's ``POST /v1/embeddings`` works (``base_url``).
Errors map to reason codes the task layer understands:

* 429, 5xx, timeouts, refused connections -> :class:`EngineUnavailableError`
  (retryable). A short ``Retry-After`` is waited out here, up to
  :data:`MAX_ATTEMPTS` tries; a longer one is carried on the error as
  ``retry_after_s`` for the task's retry countdown.
* 401/403 -> ``openai_auth_failed``; no key at all -> ``openai_key_missing``.
* other 4xx -> ``openai_request_rejected`` (permanent).
* a reply that is not the embeddings shape -> ``openai_bad_response``.

Examples:
    >>> [len(b) for b in request_batches(["a"] * 5000)]
    [2048, 2048, 904]
    >>> retry_after_s({"retry-after": "2"}), retry_after_s({"retry-after-ms": "1500"}), retry_after_s({})
    (2.0, 1.5, None)
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Protocol

import numpy as np

from nlp.embed.local import Matrix, normalize_rows
from nlp.errors import EngineError, EngineUnavailableError, ModelError, OutputError

__all__ = [
    "MAX_ATTEMPTS",
    "MAX_INPUTS_PER_REQUEST",
    "MAX_REQUEST_CHARS",
    "OpenAIEmbedder",
    "RevealsSecret",
    "request_batches",
    "retry_after_s",
]

#: OpenAI's cap on inputs in one embeddings request.
MAX_INPUTS_PER_REQUEST = 2048

#: Characters per request: OpenAI caps a request at 300,000 tokens; Korean can
#: take a token per character, so 250,000 characters stays under it with room.
MAX_REQUEST_CHARS = 250_000

#: Tries per request for 429/5xx before the error goes back to the task's retry.
MAX_ATTEMPTS = 3

#: Longest ``Retry-After`` waited out in-process; longer waits go back to the task.
MAX_INLINE_WAIT_S = 10.0

#: Wait between tries when the server gives no ``Retry-After``.
DEFAULT_WAIT_S = 1.0

#: Per-request timeout.
DEFAULT_TIMEOUT_S = 60.0


class RevealsSecret(Protocol):
    """A key that shows itself only when asked (``ai_tasks.settings.Secret``)."""

    def reveal(self) -> str: ...


def request_batches(texts: Sequence[str], *, max_inputs: int = MAX_INPUTS_PER_REQUEST,
                    max_chars: int = MAX_REQUEST_CHARS) -> list[list[str]]:
    """Split ``texts`` into consecutive requests within OpenAI's limits.

    Examples:
        >>> request_batches(["aaaa", "bb", "cc"], max_chars=5)
        [['aaaa'], ['bb', 'cc']]
        >>> request_batches([])
        []
    """
    batches: list[list[str]] = []
    current: list[str] = []
    chars = 0
    for text in texts:
        if current and (len(current) >= max_inputs or chars + len(text) > max_chars):
            batches.append(current)
            current, chars = [], 0
        current.append(text)
        chars += len(text)
    if current:
        batches.append(current)
    return batches


def retry_after_s(headers: Mapping[str, str] | None) -> float | None:
    """Seconds a server asked us to wait (``retry-after-ms`` or ``retry-after`` seconds)."""
    if not headers:
        return None
    for name, scale in (("retry-after-ms", 0.001), ("retry-after", 1.0)):
        raw = headers.get(name)
        if raw is None:
            continue
        try:
            value = float(raw) * scale
        except ValueError:
            continue  # an HTTP date: treated as "no hint"
        if math.isfinite(value) and value >= 0:
            return value
    return None


class OpenAIEmbedder:
    """Embeds texts through an OpenAI-compatible embeddings endpoint.

    Args:
        model: the embeddings model (``EMBEDDING_OPENAI_MODEL``).
        api_key: the key, revealed only when the client is built.
        base_url: ``OPENAI_BASE_URL``; ``None`` is OpenAI's.
        timeout_s: per-request timeout.
        sleep: how to wait between tries (tests pass a recorder).
    """

    def __init__(self, model: str, api_key: RevealsSecret | None, *, base_url: str | None = None,
                 timeout_s: float = DEFAULT_TIMEOUT_S, sleep: Callable[[float], None] = time.sleep) -> None:
        self.model = model
        self.cache_id = f"openai:{model}"
        self._api_key = api_key
        self._base_url = base_url
        self._timeout_s = timeout_s
        self._sleep = sleep
        self._client: Any = None

    def _get_client(self) -> Any:
        if self._client is None:
            if self._api_key is None or not self._api_key.reveal():
                raise EngineError("openai_key_missing", "the openai backend needs OPENAI_API_KEY")
            try:
                from openai import OpenAI
            except ImportError as exc:
                raise ModelError("openai_unavailable", f"the openai package is not installed: {exc}") from None
            # Our loop decides about retries (it honours Retry-After and hands long waits to the task).
            self._client = OpenAI(api_key=self._api_key.reveal(), base_url=self._base_url, max_retries=0,
                                  timeout=self._timeout_s)
        return self._client

    def encode(self, texts: Sequence[str]) -> Matrix:
        """float32 ``(len(texts), d)``, unit rows, in the order of ``texts``."""
        if not texts:
            return np.zeros((0, 0), dtype=np.float32)
        parts = [self._request(batch) for batch in request_batches(texts)]
        dims = {p.shape[1] for p in parts}
        if len(dims) != 1:
            raise OutputError("openai_bad_response", f"vector lengths differ between requests: {sorted(dims)}")
        return np.concatenate(parts, axis=0)

    def _request(self, batch: list[str]) -> Matrix:
        import openai

        client = self._get_client()
        for attempt in range(1, MAX_ATTEMPTS + 1):
            try:
                response = client.embeddings.create(model=self.model, input=batch, encoding_format="float")
                return _vectors_of(response, len(batch))
            except openai.APIStatusError as exc:
                status = exc.status_code
                if status in (401, 403):
                    raise EngineError("openai_auth_failed", f"OpenAI refused the key ({status})") from None
                if status != 429 and status < 500:
                    raise EngineError("openai_request_rejected", f"OpenAI answered {status}: {_brief(exc)}") from None
                code = "openai_rate_limited" if status == 429 else "openai_unavailable"
                wait_s = retry_after_s(dict(exc.response.headers))
                error = EngineUnavailableError(code, f"OpenAI answered {status} (try {attempt} of {MAX_ATTEMPTS})")
            except openai.APITimeoutError:
                wait_s = None
                error = EngineUnavailableError("openai_timeout", f"no answer within {self._timeout_s} s")
            except openai.APIConnectionError as exc:
                wait_s = None
                error = EngineUnavailableError("openai_unavailable", f"cannot reach the server: {exc}")
            except (openai.APIResponseValidationError, ValueError) as exc:  # ValueError: JSON that does not parse
                raise OutputError("openai_bad_response", f"reply is not an embeddings list: {exc}"[:300]) from None
            error.retry_after_s = wait_s  # read by the task's retry countdown
            if attempt == MAX_ATTEMPTS or (wait_s is not None and wait_s > MAX_INLINE_WAIT_S):
                raise error
            self._sleep(DEFAULT_WAIT_S if wait_s is None else wait_s)
        raise AssertionError("unreachable")  # pragma: no cover


def _brief(exc: Exception) -> str:
    return str(getattr(exc, "message", exc))[:200]


def _vectors_of(response: Any, expected: int) -> Matrix:
    """Unit float32 rows from an embeddings response, checked for shape and order."""
    data = getattr(response, "data", None)
    if not isinstance(data, list) or len(data) != expected:
        got = len(data) if isinstance(data, list) else type(data).__name__
        raise OutputError("openai_bad_response", f"expected {expected} embeddings, got {got}")
    rows: list[Any] = [None] * expected
    for i, item in enumerate(data):
        vec = getattr(item, "embedding", None)
        index = getattr(item, "index", i)
        if not isinstance(index, int) or not 0 <= index < expected or rows[index] is not None:
            raise OutputError("openai_bad_response", f"embedding {i} has index {index!r}")
        if not isinstance(vec, list) or not vec or not all(isinstance(x, (int, float)) for x in vec):
            raise OutputError("openai_bad_response", f"embedding {i} is not a list of numbers")
        rows[index] = vec
    if len({len(r) for r in rows}) != 1:
        raise OutputError("openai_bad_response", "embeddings have different lengths")
    arr = np.asarray(rows, dtype=np.float64)
    if not np.isfinite(arr).all():
        raise OutputError("openai_bad_response", "embeddings hold NaN or infinity")
    return normalize_rows(arr)
