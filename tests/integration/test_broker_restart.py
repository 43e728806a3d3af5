"""Issue 12, faults 1 and 3: Redis restarts while OMR chains run; no job is lost, no worker dies.

The broker, result backend and artifact store are a private redis-server
(AOF, fsync always) that the test kills and restarts; the shared Redis is
never touched. Every job must end with a result, and the worker must still
be the same process afterwards.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.ai_tasks._http import LocalServer, body, serve
from tests.integration._private_redis import PrivateRedis
from tests.integration.conftest import Workers, _worker_env
from tests.integration.worker_app import client_app

SAMPLES = Path(__file__).resolve().parents[2] / "omr" / "samples"
JOBS = 12


@pytest.fixture(scope="module")
def files() -> Iterator[LocalServer]:
    with serve() as srv:
        srv.route("/photo.jpg", body((SAMPLES / "photo_20q.jpg").read_bytes()))
        yield srv


def _poll(results: dict[str, object], pending: dict[str, object], deadline: float) -> None:
    while pending and time.monotonic() < deadline:
        for job_id, r in list(pending.items()):
            try:
                if r.ready():  # type: ignore[attr-defined]
                    results[job_id] = r.result  # type: ignore[attr-defined]
                    del pending[job_id]
            except Exception:  # the backend is restarting
                time.sleep(0.5)
        time.sleep(0.3)


@pytest.mark.timeout(420)
def test_redis_restarts_during_chains_lose_nothing(private: PrivateRedis, files: LocalServer, tmp_path: Path) -> None:
    broker, backend = private.url(0), private.url(1)
    env = _worker_env(broker, private.url(2))
    env["CELERY_RESULT_BACKEND"] = backend
    workers = Workers(broker, backend, env)
    client = client_app(broker, backend)
    try:
        node = workers.start("cpu-vision", concurrency=2, tmp=tmp_path)
        main_pid = workers.procs[node].pid
        meta = json.loads((SAMPLES / "meta_20q.json").read_text())
        pending: dict[str, object] = {}
        for i in range(JOBS):
            job = {"id": f"rs-{i}", "type": "omr_grading",
                   "payload": {"download_url": files.url("/photo.jpg"), "mode": "photo", "template_meta": meta}}
            pending[job["id"]] = client.send_task("ai.job", args=[job])  # type: ignore[index]
        results: dict[str, object] = {}
        for pause_s in (2.0, 4.0, 3.0):  # restarts land inside running chains
            time.sleep(pause_s)
            private.restart(down_s=1.5)
        _poll(results, pending, time.monotonic() + 240)
        log = workers.log_text(node)
        if pending:
            import redis

            r = redis.Redis.from_url(broker)
            where = {"queued": r.llen("cpu-vision"), "unacked": r.hlen("unacked")}
            raise AssertionError(f"lost: {sorted(pending)} (broker holds {where})\n{log[-3000:]}")
        statuses = {job_id: r["status"] for job_id, r in results.items()}  # type: ignore[index]
        assert set(statuses.values()) == {"DONE"}, statuses
        # the worker survived every restart (fault 3): same main process, still serving
        assert workers.procs[node].poll() is None and workers.procs[node].pid == main_pid
        assert "Unrecoverable error" not in log
    finally:
        workers.stop()
        client.close()
