"""Keep secrets out of logs, Flower, results and task arguments.

A secret is any mapping value whose key names a credential (cookie, token,
authorization, api key, password, secret) and any presigned-URL query string.

Examples:
    >>> redact({"template_fetch": {"base_url": "https://api", "cookie": "sid=1", "bearer_token": "t"}})
    {'template_fetch': {'base_url': 'https://api', 'cookie': '***', 'bearer_token': '***'}}
    >>> redact({"download_url": "https://bucket/x.jpg?X-Amz-Signature=abc"})
    {'download_url': 'https://bucket/x.jpg'}
    >>> redact(["a", {"api_key": "k"}])
    ['a', {'api_key': '***'}]
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

__all__ = [
    "MASK",
    "SECRET_KEY_RE",
    "RedactingFilter",
    "is_secret_key",
    "redact",
    "redact_text",
    "redact_url",
    "redacted_repr",
    "strip_secrets",
]

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
    """Return ``url`` as ``scheme://host[:port]/path``: no userinfo, query or fragment.

    The one URL redaction of the worker (downloads, the artifact store's
    Redis URL, logs, Flower reprs, results all call this one). Presigned
    URLs carry their signature in the query string and Redis URLs their
    password in the userinfo: both are credentials and never reach a log,
    an error message or a result.

    Args:
        url: any URL, even a malformed one.

    Returns:
        ``scheme://host[:port]/path``, or ``"<unparseable url>"``.

    Examples:
        >>> redact_url("https://user:pw@s3.example.com:8443/k/page.png?sig=abc#frag")
        'https://s3.example.com:8443/k/page.png'
        >>> redact_url("redis://:hunter2@cache:6379/3")
        'redis://cache:6379/3'
        >>> redact_url("https://host/a.png")
        'https://host/a.png'
        >>> redact_url("http://[::1")
        '<unparseable url>'
    """
    try:
        parts = urlsplit(url)
        host = parts.netloc.rpartition("@")[2]
    except ValueError:
        return "<unparseable url>"
    return f"{parts.scheme}://{host}{parts.path}"


def _looks_like_url(text: str) -> bool:
    return "://" in text and ("?" in text or "@" in text or "#" in text)


#: A URL inside free text (a repr, a log message): up to a quote, a space or a bracket.
_URL_IN_TEXT_RE = re.compile(r"""[a-zA-Z][a-zA-Z0-9+.-]*://[^\s'"<>\\]+""")


def redact_text(text: str) -> str:
    """Redact every URL found inside ``text`` (a repr or a log message).

    Examples:
        >>> redact_text("{'download_url': 'https://b/x.jpg?sig=1', 'n': 2}")
        "{'download_url': 'https://b/x.jpg', 'n': 2}"
        >>> redact_text("no url here")
        'no url here'
    """
    if "://" not in text:
        return text
    return _URL_IN_TEXT_RE.sub(lambda m: redact_url(m.group(0)) if _looks_like_url(m.group(0)) else m.group(0), text)


class RedactingFilter(logging.Filter):
    """A logging filter that redacts URLs in a record's message and string arguments.

    Installed on Celery's own loggers (``celery.app.trace`` logs every task's
    return value, ``celery.worker.strategy`` its arguments), so a value that
    carries a presigned URL prints without its signature.

    Examples:
        >>> rec = logging.LogRecord("t", logging.INFO, "", 0, "got %(r)s", ({"r": "https://b/x?sig=1"},), None)
        >>> RedactingFilter().filter(rec), rec.getMessage()
        (True, 'got https://b/x')
    """

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str):
            record.msg = redact_text(record.msg)
        args = record.args
        if isinstance(args, Mapping):
            record.args = {k: redact_text(v) if isinstance(v, str) else v for k, v in args.items()}
        elif isinstance(args, tuple):
            record.args = tuple(redact_text(v) if isinstance(v, str) else v for v in args)
        return True


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
    if isinstance(value, str) and _looks_like_url(value):
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


class _Full(Exception):
    """The repr budget is spent."""


def redacted_repr(value: Any, maxlen: int = 1024, maxlevels: int = 6) -> str:
    """``repr(redact(value))`` cut to ``maxlen`` characters, at a cost bounded by ``maxlen``.

    What Flower and ``celery inspect`` show of a task's arguments. It walks
    only as much of ``value`` as fits, so a 10 000-bubble template in a
    message costs the same as a small one (``redact`` + ``saferepr`` would copy
    all of it first).

    Examples:
        >>> redacted_repr([{"download_url": "https://b/x.jpg?sig=1", "cookie": "sid=1"}])
        "[{'download_url': 'https://b/x.jpg', 'cookie': '***'}]"
        >>> redacted_repr({"a": list(range(1000))}, maxlen=30)
        "{'a': [0, 1, 2, 3, 4, 5, 6,..."
        >>> redacted_repr({"a": {"b": {"c": 1}}}, maxlevels=2)
        "{'a': {'b': {...}}}"
    """
    parts: list[str] = []
    used = 0

    def emit(text: str) -> None:
        nonlocal used
        parts.append(text)
        used += len(text)
        if used > maxlen:
            raise _Full

    def walk(v: Any, depth: int) -> None:
        if isinstance(v, Mapping):
            if depth >= maxlevels:
                emit("{...}")
                return
            emit("{")
            for i, (k, x) in enumerate(v.items()):
                emit(", " if i else "")
                emit(repr(k) if isinstance(k, str | int) else repr(str(k)))
                emit(": ")
                if is_secret_key(k) and x not in (None, ""):
                    emit(repr(MASK))
                else:
                    walk(x, depth + 1)
            emit("}")
        elif isinstance(v, list | tuple):
            if depth >= maxlevels:
                emit("[...]" if isinstance(v, list) else "(...)")
                return
            emit("[" if isinstance(v, list) else "(")
            for i, x in enumerate(v):
                emit(", " if i else "")
                walk(x, depth + 1)
            emit("]" if isinstance(v, list) else ("," if len(v) == 1 else "") + ")")
        elif isinstance(v, str):
            text = redact_url(v) if _looks_like_url(v) else v
            emit(repr(text[: maxlen + 1]))
        elif v is None or isinstance(v, bool | int | float):
            emit(repr(v))
        else:
            emit(repr(f"<{type(v).__name__}>"))

    try:
        walk(value, 0)
    except _Full:
        return "".join(parts)[: max(maxlen - 3, 0)] + "..."
    return "".join(parts)
