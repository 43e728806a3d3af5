"""The legacy API's job intake, as the legacy worker's ``run.py`` polled it."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

import requests

from ai_tasks.delivery import worker_headers
from ai_tasks.errors import PermanentError, TransientError
from ai_tasks.redact import redact_url
from ai_tasks.settings import Secret

__all__ = ["NEXT_PATH", "LegacyIntake"]

NEXT_PATH = "/api/v1/internal/ai/job/next/"
#: Intake statuses that mean "the token is wrong": retrying cannot help, the bridge stops.
_UNAUTHORIZED = frozenset({401, 403})


class LegacyIntake:
    """The legacy API's job intake: ``GET /api/v1/internal/ai/job/next/`` with the worker token.

    Args:
        api_base_url: ``http(s)://host[:port][/prefix]`` of the API.
        token: the worker token, sent as ``X-Worker-Token`` and nowhere else.
        timeout_s: connect and read timeout of one poll (the legacy worker's 10 s).

    Raises:
        ValueError: ``api_base_url`` is not http(s) or ``token`` is empty.
    """

    def __init__(self, api_base_url: str, token: Secret, *, timeout_s: float = 10.0) -> None:
        parts = urlsplit(api_base_url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"the API URL must be http(s)://host, got {redact_url(api_base_url)!r}")
        if not token:
            raise ValueError("the worker token is empty")
        self.url = api_base_url.rstrip("/") + NEXT_PATH
        self.where = redact_url(self.url)
        self._token = token
        self.timeout_s = timeout_s
        self._session = requests.Session()

    def next_job(self) -> Any:
        """The next job object the intake hands out, or None when it has none.

        The object is returned as sent (the bridge validates it): the intake
        hands a job out once, so it must not be dropped here.

        Raises:
            PermanentError: ``intake_unauthorized`` on 401/403 (the token is wrong).
            TransientError: ``intake_unavailable`` on a connection error, a
                timeout or any other non-2xx status (redirects are not
                followed: the token would travel with them); ``intake_invalid``
                when the answer is not a JSON object.
        """
        try:
            resp = self._session.get(self.url, headers=worker_headers(self._token.reveal()),
                                     timeout=self.timeout_s, allow_redirects=False)
        except requests.RequestException as exc:
            # ``from None``: the cause's text may carry the request; keep it out.
            raise TransientError("intake_unavailable", f"GET {self.where} failed ({type(exc).__name__})") from None
        with resp:
            status = resp.status_code
            if status in _UNAUTHORIZED:
                raise PermanentError("intake_unauthorized", f"GET {self.where}: HTTP {status}: the worker token "
                                     "(INTERNAL_WORKER_TOKEN) was refused")
            if not 200 <= status < 300:
                raise TransientError("intake_unavailable", f"GET {self.where}: HTTP {status}")
            try:
                data = resp.json()
            except ValueError:
                raise TransientError("intake_invalid", f"GET {self.where}: the answer is not JSON") from None
        if not isinstance(data, dict):
            raise TransientError("intake_invalid", f"GET {self.where}: expected a JSON object, got "
                                 f"{type(data).__name__}")
        return data.get("job") or None
