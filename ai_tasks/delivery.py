"""POST a finished job's result to the academy API (optional delivery step).

The API's internal endpoint ``/api/v1/internal/ai/job/result/`` takes the
same body the legacy poller sent, authenticated by the ``X-Worker-Token``
header. The token is a secret: it goes into that header and nowhere else
(never an error message, a log line or a ``repr``), and redirects are not
followed so it cannot be forwarded to another host.

Examples:
    >>> result_submission({"job_id": "j1", "status": "DONE", "result": {"score": 3}}, "42")
    {'job_id': 'j1', 'submission_id': 42, 'status': 'DONE', 'result': {'score': 3}, 'error': None}
"""

from __future__ import annotations

import logging
import socket
from typing import Any
from urllib.parse import urlsplit

import requests

from ai_tasks.errors import DeliveryError, DeliveryRejectedError, JobPayloadError

__all__ = ["RESULT_PATH", "deliver_result", "result_submission"]

logger = logging.getLogger(__name__)

RESULT_PATH = "/api/v1/internal/ai/job/result/"
_RETRYABLE_4XX = frozenset({408, 429})


def result_submission(ai_result: dict[str, Any], source_id: Any) -> dict[str, Any]:
    """Build the body the result endpoint expects from a result dict.

    Args:
        ai_result: a result as a dict with ``job_id`` and ``status``, and
            optionally ``result`` and ``error``.
        source_id: the job's source id; it becomes ``submission_id`` when it
            is a string (or int) of ASCII digits, else ``None``.

    Returns:
        ``{"job_id", "submission_id", "status", "result", "error"}``.

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
    return {
        "job_id": ai_result["job_id"],
        "submission_id": int(text) if text.isascii() and text.isdigit() else None,
        "status": ai_result["status"],
        "result": ai_result.get("result"),
        "error": ai_result.get("error"),
    }


def deliver_result(
    api_base_url: str, token: str, payload: dict[str, Any], *, timeout_s: float = 10
) -> None:
    """POST ``payload`` as JSON to ``{api_base_url}/api/v1/internal/ai/job/result/``.

    Sends ``X-Worker-Token: <token>`` and ``X-Worker-Id: <hostname>``.
    Redirects are not followed (the token would travel with them).

    Args:
        api_base_url: ``http(s)://host[:port][/prefix]`` of the API.
        token: the worker token (secret).
        payload: the body, normally from :func:`result_submission`.
        timeout_s: connect and read timeout, each.

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
    headers = {
        "X-Worker-Token": token,
        "X-Worker-Id": socket.gethostname() or "ai-worker",
    }
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
