"""The shared Redis at 127.0.0.1:6379 for unit tests that need a real one: one check, one answer.

``make test`` starts Redis when it is down, so under CI (``.ci/run`` sets ``CI``)
a missing Redis fails the test; on a developer's machine without one it is skipped.
"""

from __future__ import annotations

import os

import pytest
import redis

__all__ = ["require_redis"]


def require_redis(url: str, *, flush: bool = False, **kwargs: object) -> redis.Redis:
    """A client for ``url`` that answered a PING (its database flushed when ``flush``).

    Fails the test under CI and skips it elsewhere when nothing answers.
    """
    client = redis.Redis.from_url(url, **kwargs)  # type: ignore[arg-type]
    try:
        client.ping()
    except redis.ConnectionError:
        if os.environ.get("CI"):
            pytest.fail(f"Redis at {url} is required when CI is set")
        pytest.skip(f"no Redis at {url}")
    if flush:
        client.flushdb()
    return client
