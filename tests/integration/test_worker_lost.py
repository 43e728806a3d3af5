"""A worker process killed mid-job loses nothing; a message that always kills ends in dead letters."""

from __future__ import annotations

import json
import os
import signal
import time
import uuid

import pytest
import redis

from tests.integration.conftest import MAX_DELIVERIES, REDIS_BACKEND, Workers


def _wait_for(predicate, timeout_s: float = 30.0) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.1)
    raise AssertionError("condition not met in time")


def test_sigkill_mid_task_is_redelivered_and_completes_once(workers: Workers, probe: redis.Redis) -> None:
    if not any(n.startswith("cpu-vision-") for n in workers.procs):
        workers.start("cpu-vision", tmp=workers.tmp)  # type: ignore[attr-defined]
    key = f"slow:{uuid.uuid4().hex}"
    r = workers.client.send_task("ai.test.slow", args=[key, 2.0])
    _wait_for(lambda: probe.llen(f"{key}:pids") >= 1)
    first_pid = int(probe.lindex(f"{key}:pids", 0))  # type: ignore[arg-type]
    os.kill(first_pid, signal.SIGKILL)

    out = r.get(timeout=60)
    assert out["pid"] != first_pid
    assert probe.llen(f"{key}:pids") == 2  # delivered twice...
    assert probe.llen(f"{key}:done") == 1  # ...completed exactly once
    assert r.state == "SUCCESS"


def test_poison_message_ends_in_dead_letters(workers: Workers, probe: redis.Redis) -> None:
    if not any(n.startswith("cpu-vision-") for n in workers.procs):
        workers.start("cpu-vision", tmp=workers.tmp)  # type: ignore[attr-defined]
    key = f"poison:{uuid.uuid4().hex}"
    r = workers.client.send_task("ai.test.suicide", args=[key])
    r.get(timeout=90, propagate=False)
    assert r.state == "FAILURE"
    assert "poison_message" in str(r.result)
    # it killed its worker exactly MAX_DELIVERIES times, then was not run again
    assert int(probe.get(key) or 0) == MAX_DELIVERIES
    # dead letters live where the counters do: the Redis broker, else the result backend
    store = workers.broker_url if workers.broker_url.startswith("redis") else REDIS_BACKEND
    letters = [json.loads(x) for x in redis.Redis.from_url(store).lrange("ai:dead-letter", 0, -1)]
    mine = [d for d in letters if d["task_id"] == r.id]
    assert mine and mine[0]["task"] == "ai.test.suicide" and mine[0]["deliveries"] == MAX_DELIVERIES + 1
    # the pool replaced its killed children and still works
    assert workers.client.send_task("ai.test.noop", args=[7]).get(timeout=30) == 7


@pytest.mark.parametrize("serializer", ["pickle"])
def test_pickled_message_is_refused(workers: Workers, tmp_path, serializer: str) -> None:  # type: ignore[no-untyped-def]
    node = next((n for n in workers.procs if n.startswith("cpu-vision-")), None) or workers.start(
        "cpu-vision", tmp=workers.tmp  # type: ignore[attr-defined]
    )
    marker = tmp_path / "pwned"

    class Exploit:
        def __reduce__(self):  # type: ignore[no-untyped-def]
            return (os.system, (f"touch {marker}",))

    client = workers.client
    client.conf.accept_content = ["json", "pickle"]
    try:
        r = client.send_task("ai.test.noop", args=[Exploit()], serializer=serializer)
    finally:
        client.conf.accept_content = ["json"]
    _wait_for(lambda: "Refusing to deserialize untrusted content of type pickle" in workers.log_text(node))
    assert not marker.exists()
    assert r.state == "PENDING"  # never executed
    # the worker is still healthy and the queue is not stuck behind the refused message
    assert client.send_task("ai.test.noop", args=[3]).get(timeout=30) == 3
