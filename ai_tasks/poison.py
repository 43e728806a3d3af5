"""Poison-message guard for the Redis broker, and the dead-letter store.

With ``acks_late`` + ``reject_on_worker_lost``, a message whose task kills its
worker process (segfault in a native library, OOM on a crafted image) is
requeued and would kill the next worker too, forever. RabbitMQ stops that
with a quorum queue's ``x-delivery-limit``; Redis has no such counter, so we
keep one: each redelivery of (task id, retry number) increments a Redis key
before the task body runs (first deliveries, flagged as such by the broker,
skip it), and the delivery past the limit is not run but
recorded in the dead-letter list ``ai:dead-letter`` and failed with
``poison_message``.

The counter is keyed by retry number too, because a Celery retry re-sends
the same task id on purpose and must not count as a redelivery.
"""

from __future__ import annotations

import json
import time
from typing import Any

import redis

from ai_tasks.redact import redact

__all__ = ["DEAD_LETTER_KEY", "DeliveryCounter"]

DEAD_LETTER_KEY = "ai:dead-letter"
_COUNTER_PREFIX = "ai:deliveries:"
_DEAD_LETTER_MAX = 10_000


class DeliveryCounter:
    """Counts deliveries per (task id, retry) in Redis and keeps dead letters.

    Args:
        redis_url: where the counters live (the Redis broker or result backend).
        max_deliveries: deliveries allowed; the next one is dead-lettered.
        ttl_s: how long a counter is kept (longer than any redelivery cycle).
    """

    def __init__(self, redis_url: str, max_deliveries: int, ttl_s: int) -> None:
        self._client = redis.Redis.from_url(redis_url, socket_timeout=5, socket_connect_timeout=5)
        self.max_deliveries = max_deliveries
        self.ttl_s = ttl_s

    def record_redelivery(self, task_id: str, retries: int) -> int:
        """Count one redelivery and return how many deliveries there have been (2 = first redelivery).

        The first delivery is not counted (it needs no Redis round trip on
        the hot path): every message the broker hands out again carries its
        ``redelivered`` flag, and only those come here.
        """
        key = f"{_COUNTER_PREFIX}{task_id}:{retries}"
        pipe = self._client.pipeline()
        pipe.incr(key)
        pipe.expire(key, self.ttl_s)
        count, _ = pipe.execute()
        return int(count) + 1

    def dead_letter(self, *, task_name: str, task_id: str, args: Any, kwargs: Any, deliveries: int) -> None:
        """Keep a redacted copy of a poison message for an operator to inspect or replay."""
        entry = {
            "task": task_name,
            "task_id": task_id,
            "args": redact(args),
            "kwargs": redact(kwargs),
            "deliveries": deliveries,
            "dead_lettered_at": time.time(),
        }
        pipe = self._client.pipeline()
        pipe.lpush(DEAD_LETTER_KEY, json.dumps(entry, default=str))
        pipe.ltrim(DEAD_LETTER_KEY, 0, _DEAD_LETTER_MAX - 1)
        pipe.execute()

    def dead_letters(self, limit: int = 100) -> list[dict[str, Any]]:
        """The newest dead letters first."""
        raw = self._client.lrange(DEAD_LETTER_KEY, 0, limit - 1)
        return [json.loads(item) for item in raw]
