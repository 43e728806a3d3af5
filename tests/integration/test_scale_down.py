"""Scaling a queue down loses no job: a SIGTERMed worker drains (warm shutdown).

Two ``cpu-vision`` workers share a burst of short jobs; one is sent SIGTERM
(what ``docker compose up --scale worker-cpu-vision=1``, a Kubernetes
scale-down or ``systemctl stop`` send) while it runs some of them. It must
finish what it started and exit 0, and every job must end exactly once with
its result: none lost, none run twice. On Redis and on RabbitMQ
(``docs/operations.md``, "Scaling a queue").
"""

from __future__ import annotations

import signal
import time
import uuid

import redis

from tests.integration.conftest import Workers

JOBS = 12
JOB_S = 1.5


def _pids(probe: redis.Redis, keys: list[str], suffix: str) -> dict[str, list[int]]:
    with probe.pipeline(transaction=False) as pipe:
        for key in keys:
            pipe.lrange(f"{key}:{suffix}", 0, -1)
        replies = pipe.execute()
    return {key: [int(p) for p in pids] for key, pids in zip(keys, replies, strict=True)}


def test_sigterm_drains_and_no_job_is_lost(workers: Workers, probe: redis.Redis) -> None:
    tmp = workers.tmp  # type: ignore[attr-defined]
    leaving = workers.start("cpu-vision", concurrency=2, name="scale-leaving", tmp=tmp)
    staying = workers.start("cpu-vision", concurrency=2, name="scale-staying", tmp=tmp)
    leaving_children = set(workers.child_pids(leaving))
    run = uuid.uuid4().hex[:8]
    keys = [f"scale:{run}:{i}" for i in range(JOBS)]
    results = [workers.client.send_task("ai.test.slow", [key, JOB_S]) for key in keys]

    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:  # wait until the leaving worker is mid-job
        started = {pid for pids in _pids(probe, keys, "pids").values() for pid in pids}
        if started & leaving_children:
            break
        time.sleep(0.05)
    else:
        raise AssertionError(f"the leaving worker never started a job: {workers.log_text(leaving)[-2000:]}")
    workers.procs[leaving].send_signal(signal.SIGTERM)

    got = [r.get(timeout=60) for r in results]
    assert workers.procs[leaving].wait(timeout=30) == 0, workers.log_text(leaving)[-2000:]
    done = _pids(probe, keys, "done")
    assert {key: len(pids) for key, pids in done.items()} == dict.fromkeys(keys, 1)  # each ran once
    assert [g["pid"] for g in got] == [done[key][0] for key in keys]  # and its result is that run's
    finished_by_leaving = [key for key in keys if done[key][0] in leaving_children]
    assert finished_by_leaving, "the SIGTERMed worker should have finished the jobs it had started"
    staying_children = set(workers.child_pids(staying))
    assert all(done[key][0] in staying_children for key in keys if key not in finished_by_leaving)
