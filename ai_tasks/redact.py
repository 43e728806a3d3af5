"""Keep secrets out of logs, Flower, results and task arguments.

A secret is any mapping value whose key names a credential (cookie, token,
authorization, api key, password, secret) and any presigned-URL query string.

Examples:
    >>> redact({"template_fetch": {"base_url": "https://api", "cookie": "sid=1", "bearer_token": "t"}})
    {'template_fetch': {'base_url': 'https://api', 'cookie': '***', 'bearer_token': '***'}}
    >>> redact({"download_url": "https://bucket/x.jpg?X-Amz-Signature=abc"})
    {'download_url': 'https://bucket/x.jpg?***'}
    >>> redact(["a", {"api_key": "k"}])
    ['a', {'api_key': '***'}]
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

__all__ = ["MASK", "SECRET_KEY_RE", "is_secret_key", "redact", "redact_url", "strip_secrets"]

MASK = "***"

#: Keys whose values are credentials, wherever they appear.
SECRET_KEY_RE = re.compile(
    r"(cookie|token|authorization|auth_header|api[_-]?key|password|passwd|secret|credential|signature)",
    re.IGNORECASE,
)


def is_secret_key(key: object) -> bool:
    """True when ``key`` names a credential."""
    return isinstance(key, str) and bool(SECRET_KEY_RE.search(key))


def redact_url(url: str) -> str:
    """Hide userinfo and query of a URL (presigned URLs carry credentials there).

    Examples:
        >>> redact_url("https://u:p@host/a.png?sig=1")
        'https://***@host/a.png?***'
        >>> redact_url("https://host/a.png")
        'https://host/a.png'
    """
    out = re.sub(r"^([a-zA-Z][a-zA-Z0-9+.-]*://)[^/@]*@", r"\1***@", url)
    if "?" in out:
        out = out.split("?", 1)[0] + "?" + MASK
    return out


def redact(value: Any, _depth: int = 0) -> Any:
    """Return a copy of ``value`` with every secret masked (depth-limited)."""
    if _depth > 20:
        return MASK
    if isinstance(value, Mapping):
        return {
            k: (MASK if is_secret_key(k) and v not in (None, "") else redact(v, _depth + 1))
            for k, v in value.items()
        }
    if isinstance(value, list | tuple):
        items = [redact(v, _depth + 1) for v in value]
        return items if isinstance(value, list) else tuple(items)
    if isinstance(value, str) and "://" in value and "?" in value:
        return redact_url(value)
    return value


def strip_secrets(value: Any) -> Any:
    """Return a copy of ``value`` with every secret-named key removed.

    Used before a job's payload travels on into a chain: the chain's messages
    must not carry what the API (wrongly) put in the first one.

    Examples:
        >>> strip_secrets({"a": 1, "template_fetch": {"cookie": "x", "timeout": 5}})
        {'a': 1, 'template_fetch': {'timeout': 5}}
    """
    if isinstance(value, Mapping):
        return {k: strip_secrets(v) for k, v in value.items() if not is_secret_key(k)}
    if isinstance(value, list):
        return [strip_secrets(v) for v in value]
    return value
