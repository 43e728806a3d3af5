"""POST a finished job's result to the academy API (optional delivery step).

The API's internal endpoint ``/api/v1/internal/ai/job/result/`` takes the
same body the legacy poller sent, authenticated by the ``X-Worker-Token``
header. The token is a secret: it goes into that header and nowhere else
(never an error message, a log line or a ``repr``), and redirects are not
followed so it cannot be forwarded to another host.

Delivery is at least once: a worker that dies between the POST and its ack
runs the delivery again. Each POST therefore carries an idempotency key,
the same for every delivery of one job submission (``Idempotency-Key``
header and ``idempotency_key`` field, ``docs/api.md``), and a worker that
can see a *delivered* marker in Redis (set only after a 2xx) skips the
second POST. The key is the guarantee, the marker keeps the API from
seeing a key twice: the workers' ``ai.job.deliver`` and the bridge read it
strictly (``fail_open=False``) and, when Redis cannot answer, post later
rather than now; only the last attempt of a delivery's retry budget posts
without it, so the only POST is never dropped. :func:`post_unless_delivered` is that sequence (marker, claim,
POST), shared by the ``ai.job.deliver`` task and ``ai-worker bridge``; each
caller records the 2xx its own way.

Examples:
    >>> result_submission({"job_id": "j1", "status": "DONE", "result": {"score": 3}}, "42")
    {'job_id': 'j1', 'submission_id': 42, 'status': 'DONE', 'result': {'score': 3}, 'error': None}
    >>> idempotency_key({"job_id": "j1", "status": "DONE"}, "5f0c")
    'j1:5f0c'
"""

from __future__ import annotations

import hashlib
import json
import logging
import socket
from typing import Any, Literal
from urllib.parse import urlsplit

import requests

from ai_tasks.errors import DeliveryError, DeliveryRejectedError, JobPayloadError

__all__ = [
    "DELIVERED_MARKER_TTL_S",
    "DELIVERY_CLAIM_S",
    "IDEMPOTENCY_HEADER",
    "RESULT_PATH",
    "DeliveredMarker",
    "DeliveryOutcome",
    "deliver_result",
    "idempotency_key",
    "post_unless_delivered",
    "result_submission",
    "worker_headers",
]

logger = logging.getLogger(__name__)

RESULT_PATH = "/api/v1/internal/ai/job/result/"
_RETRYABLE_4XX = frozenset({408, 429})
IDEMPOTENCY_HEADER = "Idempotency-Key"
#: How long a worker remembers a delivered result: longer than any redelivery
#: of a finalize or deliver message (those come back within minutes).
DELIVERED_MARKER_TTL_S = 7 * 24 * 3600
_MARKER_PREFIX = "ai:delivered:"
_CLAIM_PREFIX = "ai:delivering:"
#: How long one delivery attempt may hold its claim: longer than a POST with its timeouts.
DELIVERY_CLAIM_S = 45


def idempotency_key(ai_result: dict[str, Any], result_id: str | None) -> str:
    """The key that names one job submission's result: ``<job_id>:<result_id>``.

    ``result_id`` is the ``ai.job`` task id the API submitted the job with,
    so every delivery of that submission (a redelivered finalize, a re-run
    chain) carries the same key, whatever timings it measured. Without one
    (in-process runs) the key is ``<job_id>:sha256:<hash of the result body>``.

    Examples:
        >>> idempotency_key({"job_id": 7, "status": "FAILED"}, None)[:9]
        '7:sha256:'
        >>> idempotency_key({"job_id": 7, "status": "FAILED"}, None) == idempotency_key(
        ...     {"status": "FAILED", "job_id": 7}, None)
        True
    """
    if result_id:
        return f"{ai_result.get('job_id')}:{result_id}"
    body = json.dumps(ai_result, sort_keys=True, separators=(",", ":"), default=str)
    return f"{ai_result.get('job_id')}:sha256:{hashlib.sha256(body.encode()).hexdigest()}"


class DeliveredMarker:
    """Remembers in Redis which idempotency keys were delivered (2xx), with a TTL.

    By default every method swallows Redis errors: a marker that cannot be
    read means "not delivered yet" (POST again; the API dedupes by key), one
    that cannot be written only costs a possible second POST. A caller that
    can wait passes ``fail_open=False`` and gets the Redis error instead:
    the bridge (it keeps the job in its ledger) and the workers'
    ``ai.job.deliver`` (it retries the delivery later; issue-18 chaos found
    a second delivery that posted again during a Redis restart).

    Args:
        redis_url: a Redis the workers share (the broker's or the result backend's).
        ttl_s: how long a delivery is remembered.
        fail_open: swallow Redis errors (True) or raise them (False).
    """

    def __init__(self, redis_url: str, ttl_s: int = DELIVERED_MARKER_TTL_S, *, fail_open: bool = True) -> None:
        import redis

        self._client = redis.Redis.from_url(redis_url, socket_timeout=5, socket_connect_timeout=5)
        self.ttl_s = ttl_s
        self.fail_open = fail_open

    def delivered(self, key: str) -> bool:
        """True when a 2xx for ``key`` is on record."""
        try:
            return bool(self._client.exists(_MARKER_PREFIX + key))
        except Exception:
            if not self.fail_open:
                raise
            logger.warning("delivered marker unreadable; delivering anyway", exc_info=False)
            return False

    def mark(self, key: str) -> None:
        """Record a 2xx for ``key`` (``SET NX EX``)."""
        try:
            self._client.set(_MARKER_PREFIX + key, "1", nx=True, ex=self.ttl_s)
        except Exception:
            if not self.fail_open:
                raise
            logger.warning("delivered marker not written; a redelivery may POST again", exc_info=False)

    def claim(self, key: str, ttl_s: int = DELIVERY_CLAIM_S) -> bool:
        """Claim the right to POST ``key`` now; False when another attempt holds it.

        A message redelivered while its first run is still posting (RabbitMQ
        redelivers as soon as a connection drops) waits instead of posting in
        parallel. The claim expires, so a holder that died never blocks the
        delivery for good. Fails open: Redis unreachable means "claimed".
        """
        try:
            return bool(self._client.set(_CLAIM_PREFIX + key, "1", nx=True, ex=ttl_s))
        except Exception:
            if not self.fail_open:
                raise
            return True

    def release(self, key: str) -> None:
        """Give the claim back (after a failed POST, so a retry need not wait for it to expire)."""
        try:
            self._client.delete(_CLAIM_PREFIX + key)
        except Exception:
            pass


def result_submission(ai_result: dict[str, Any], source_id: Any, idempotency: str | None = None) -> dict[str, Any]:
    """Build the body the result endpoint expects from a result dict.

    Args:
        ai_result: a result as a dict with ``job_id`` and ``status``, and
            optionally ``result`` and ``error``.
        source_id: the job's source id; it becomes ``submission_id`` when it
            is a string (or int) of ASCII digits, else ``None``.
        idempotency: the result's idempotency key; when given it is added as
            ``idempotency_key``.

    Returns:
        ``{"job_id", "submission_id", "status", "result", "error"}`` (and
        ``"idempotency_key"``).

    Raises:
        JobPayloadError: ``result_invalid`` when ``job_id`` or ``status`` is missing.

    Examples:
        >>> result_submission({"job_id": "j1", "status": "FAILED", "error": "bad"}, "abc")
        {'job_id': 'j1', 'submission_id': None, 'status': 'FAILED', 'result': None, 'error': 'bad'}
        >>> result_submission({"job_id": "j1", "status": "DONE"}, 7)["submission_id"]
        7
        >>> result_submission({"job_id": "j1", "status": "DONE"}, "²")["submission_id"] is None
        True
    """
    missing = [name for name in ("job_id", "status") if ai_result.get(name) in (None, "")]
    if missing:
        raise JobPayloadError("result_invalid", f"result has no {', '.join(missing)}")
    text = "" if source_id is None or isinstance(source_id, bool) else str(source_id)
    body = {
        "job_id": ai_result["job_id"],
        "submission_id": int(text) if text.isascii() and text.isdigit() else None,
        "status": ai_result["status"],
        "result": ai_result.get("result"),
        "error": ai_result.get("error"),
    }
    if idempotency:
        body["idempotency_key"] = idempotency
    return body


def worker_headers(token: str) -> dict[str, str]:
    """The legacy worker's headers: ``X-Worker-Token`` (secret) and ``X-Worker-Id`` (this host).

    Sent on every call to the API's internal endpoints (the result POST and
    the bridge's ``job/next`` poll).
    """
    return {"X-Worker-Token": token, "X-Worker-Id": socket.gethostname() or "ai-worker"}


def deliver_result(
    api_base_url: str, token: str, payload: dict[str, Any], *, timeout_s: float = 10,
    idempotency: str | None = None,
) -> None:
    """POST ``payload`` as JSON to ``{api_base_url}/api/v1/internal/ai/job/result/``.

    Sends ``X-Worker-Token: <token>``, ``X-Worker-Id: <hostname>`` and
    ``Idempotency-Key`` when given.
    Redirects are not followed (the token would travel with them).

    Args:
        api_base_url: ``http(s)://host[:port][/prefix]`` of the API.
        token: the worker token (secret).
        payload: the body, normally from :func:`result_submission`.
        timeout_s: connect and read timeout, each.
        idempotency: the result's idempotency key (:func:`idempotency_key`),
            sent as the ``Idempotency-Key`` header.

    Raises:
        DeliveryError: ``delivery_failed`` (transient, retry with backoff) on
            5xx, 408, 429, a timeout or a connection error.
        DeliveryRejectedError: ``delivery_rejected`` (permanent) on any other
            non-2xx status, a redirect included.
        ValueError: ``api_base_url`` is not http(s), ``token`` is empty or
            ``timeout_s`` is not positive.

    Examples:
        >>> deliver_result("ftp://api", "t0ken", {})
        Traceback (most recent call last):
        ...
        ValueError: api_base_url must be http(s)://host, got scheme 'ftp'
    """
    parts = urlsplit(api_base_url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"api_base_url must be http(s)://host, got scheme {parts.scheme!r}")
    if not token:
        raise ValueError("token is empty")
    if not timeout_s > 0:
        raise ValueError(f"timeout_s must be > 0, got {timeout_s}")
    url = api_base_url.rstrip("/") + RESULT_PATH
    where = f"{parts.scheme}://{parts.netloc.rpartition('@')[2]}{RESULT_PATH}"
    headers = worker_headers(token)
    if idempotency:
        headers[IDEMPOTENCY_HEADER] = idempotency
    job_id = payload.get("job_id")
    try:
        response = requests.post(
            url, json=payload, headers=headers, timeout=timeout_s, allow_redirects=False
        )
    except requests.RequestException as exc:
        # ``from None``: the cause's text may carry the request; keep it out.
        raise DeliveryError(
            "delivery_failed", f"POST {where} for job {job_id} failed ({type(exc).__name__})"
        ) from None
    status = response.status_code
    response.close()
    if 200 <= status < 300:
        logger.info("delivered result of job %s to %s (HTTP %d)", job_id, where, status)
        return
    if status >= 500 or status in _RETRYABLE_4XX:
        raise DeliveryError("delivery_failed", f"POST {where} for job {job_id}: HTTP {status}")
    raise DeliveryRejectedError(
        "delivery_rejected", f"POST {where} for job {job_id}: HTTP {status}"
    )


#: What :func:`post_unless_delivered` did: POSTed now (2xx), found a 2xx on
#: record, or found another attempt posting right now.
DeliveryOutcome = Literal["posted", "delivered_before", "busy"]


def post_unless_delivered(
    api_base_url: str, token: str, result: dict[str, Any], source_id: Any, result_id: str | None,
    marker: DeliveredMarker | None, *, timeout_s: float = 10,
) -> DeliveryOutcome:
    """POST one job submission's result unless a 2xx for its key is on record.

    The sequence both result posters share (the ``ai.job.deliver`` task and
    ``ai-worker bridge``): check the marker, claim the key, POST with the
    idempotency key, give the claim back when the POST failed. It does not
    write the marker: after ``"posted"`` the caller records the 2xx
    (``marker.mark``), a worker failing open, the bridge durably.

    Args:
        api_base_url: the API (see :func:`deliver_result`).
        token: the worker token (secret).
        result: the AIResult dict.
        source_id: the job's source id (becomes ``submission_id``).
        result_id: the ``ai.job`` task id of the submission (:func:`idempotency_key`).
        marker: the shared delivered marker, or None without a shared Redis.
        timeout_s: connect and read timeout of the POST.

    Returns:
        ``"posted"``, ``"delivered_before"`` or ``"busy"``.

    Raises:
        DeliveryError: the API did not take it yet (retry later).
        DeliveryRejectedError: the API refused it for good.
        JobPayloadError: ``result_invalid``, the result has no ``job_id`` or ``status``.
    """
    key = idempotency_key(result, result_id)
    body = result_submission(result, source_id, idempotency=key)
    if marker is not None and marker.delivered(key):
        return "delivered_before"
    if marker is not None and not marker.claim(key):
        return "busy"
    try:
        deliver_result(api_base_url, token, body, timeout_s=timeout_s, idempotency=key)
    except BaseException:
        if marker is not None:
            marker.release(key)
        raise
    return "posted"
