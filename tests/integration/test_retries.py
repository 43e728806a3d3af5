"""Transient errors are retried with backoff; permanent ones fail at once (Redis and RabbitMQ)."""

from __future__ import annotations

import time
import uuid

import redis

from tests.integration.conftest import Workers


def _cpu_worker(workers: Workers) -> str:
    running = [n for n in workers.procs if n.startswith("cpu-vision-")]
    return running[0] if running else workers.start("cpu-vision", tmp=workers.tmp)  # type: ignore[attr-defined]


def test_transient_error_twice_then_success(workers: Workers, probe: redis.Redis) -> None:
    _cpu_worker(workers)
    key = f"flaky:{uuid.uuid4().hex}"
    result = workers.client.send_task("ai.test.flaky", args=[key, 2]).get(timeout=60)
    assert result == {"attempts": 3, "retries": 2}
    # three attempts, each later than the one before (a scheduled retry, not a tight loop)
    stamps = [float(x) for x in probe.lrange(f"{key}:at", 0, -1)]
    assert len(stamps) == 3 and stamps == sorted(stamps)


def test_permanent_error_fails_at_once_with_reason_code(workers: Workers, probe: redis.Redis) -> None:
    node = _cpu_worker(workers)
    key = f"perm:{uuid.uuid4().hex}"
    r = workers.client.send_task("ai.test.permanent", args=[key])
    r.get(timeout=30, propagate=False)
    assert r.state == "FAILURE"
    assert "payload_invalid" in str(r.result)
    time.sleep(1.5)  # a retry would have happened by now (backoff starts at <= 1 s)
    assert int(probe.get(key) or 0) == 1
    assert '"outcome":"failed","reason_code":"payload_invalid"' in workers.log_text(node)
