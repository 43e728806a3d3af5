"""Issue 18: a job submitted through the ledger is never lost, even when its consumer dies at once.

Each round publishes one job and SIGKILLs the only worker (main process and
pool) right after: the message is then in its queue, in Redis's unacked hash,
or (kombu's window, ``bench/redis_lost_messages.py kill``) in the dead
process's socket only. The ledger's sweep must republish that last kind.
Every job must end with one result and one POST to the API. The broker is a
private redis-server; the shared one is not touched.
"""

from __future__ import annotations

import os
import time
from collections import Counter
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any

import pytest
import redis

from ai_tasks.ledger import ENTRIES_KEY, submit_job
from tests.ai_tasks._http import serve
from tests.integration._private_redis import PrivateRedis
from tests.integration.conftest import Workers, _worker_env
from tests.integration.worker_app import client_app

ROUNDS = int(os.environ.get("AIW_LEDGER_ROUNDS", "50"))
TOKEN = "worker-token-ledger"
APP = "tests.integration.ledger_app"


def _ok(h: BaseHTTPRequestHandler) -> None:
    h.send_response(200)
    h.send_header("Content-Length", "2")
    h.end_headers()
    h.wfile.write(b"{}")


def _where(r: redis.Redis, task_id: str) -> str:
    mark = task_id.encode()
    if any(mark in raw for raw in r.lrange("cpu-vision", 0, -1)):
        return "queued"
    if any(mark in raw for raw in r.hvals("unacked")):
        return "unacked"
    return "nowhere"


def kill_rounds(private: PrivateRedis, tmp: Path, rounds: int, submit: Callable[[Any, dict[str, Any]], str],
                settle_s: float = 120.0) -> dict[str, Any]:
    """Publish-then-SIGKILL ``rounds`` times; then let a worker finish. Returns what became of each job."""
    broker, backend = private.url(0), private.url(1)
    with serve() as api:
        api.route("/api/v1/internal/ai/job/result/", _ok)
        env = _worker_env(broker, private.url(2))
        env.update(CELERY_RESULT_BACKEND=backend, API_BASE_URL=api.base_url, INTERNAL_WORKER_TOKEN=TOKEN)
        workers = Workers(broker, backend, env)
        client = client_app(broker, backend)
        ids: dict[str, str] = {}
        where: Counter[str] = Counter()  # where each message was right after its consumer's death
        try:
            for i in range(rounds):
                node = workers.start("cpu-vision", concurrency=1, name=f"k{i}", tmp=tmp, app=APP)
                children = workers.child_pids(node)
                job = {"id": f"k-{i}", "type": "ocr", "payload": {}, "source_id": str(i)}
                ids[job["id"]] = submit(client, job)
                workers.kill(node, children)  # at once: the message may be in its socket
                where[_where(redis.Redis.from_url(broker), ids[job["id"]])] += 1
            node = workers.start("cpu-vision", concurrency=2, name="survivor", tmp=tmp, app=APP)
            results: dict[str, Any] = {}
            deadline = time.monotonic() + settle_s  # results, then their callbacks
            while time.monotonic() < deadline and len(results) < rounds:
                for job_id, task_id in ids.items():
                    if job_id not in results:
                        r = client.AsyncResult(task_id)
                        if r.ready():
                            results[job_id] = r.result
                time.sleep(0.5)
            keys = {f"{job_id}:{task_id}": job_id for job_id, task_id in ids.items()}

            def posts() -> Counter[str]:
                return Counter(keys.get(p.headers.get("Idempotency-Key", ""), "?")
                               for p in list(api.requests) if p.method == "POST")

            ledger = redis.Redis.from_url(broker)
            while time.monotonic() < deadline and (len(posts()) < rounds or ledger.hlen(ENTRIES_KEY)):
                time.sleep(0.5)
            time.sleep(2)  # a second POST would come now
            ledger_left = ledger.hlen(ENTRIES_KEY)
            log = workers.log_text(node)
            return {"ids": ids, "where": where, "results": results, "posts": posts(), "ledger_left": ledger_left,
                    "republished": log.count("republished (attempt"), "log": log}
        finally:
            workers.stop()
            client.close()


@pytest.mark.timeout(900)
def test_a_publish_then_a_sigkill_of_the_consumer_loses_nothing(private: PrivateRedis, tmp_path: Path) -> None:
    def through_ledger(client: Any, job: dict[str, Any]) -> str:
        return submit_job(client, job, deadline_s=3)

    out = kill_rounds(private, tmp_path, ROUNDS, through_ledger)
    missing = sorted(set(out["ids"]) - set(out["results"]))
    assert not missing, f"lost: {missing} (republished {out['republished']})"
    # A message restored and handed to the next doomed worker several rounds running is dead-lettered
    # by the poison guard (more than MAX_DELIVERIES deliveries, each killing its worker): it is answered
    # too, a FAILED poison_message AIResult, delivered, its ledger entry settled (issue 18).
    codes = Counter(r["error"]["reason_code"] for r in out["results"].values())
    poisoned = codes.pop("poison_message", 0)
    assert codes == Counter({"download_url_missing": ROUNDS - poisoned}), codes  # not job_lost
    # one callback per job, under the job's one idempotency key: a worker killed between the API's 2xx
    # and its delivered marker posts it again (at least once, docs/api.md); never under another key
    assert all(out["posts"][j] >= 1 for j in out["ids"]) and not out["posts"]["?"], out["posts"]
    assert out["ledger_left"] == 0
    twice = sorted(job_id for job_id, n in out["posts"].items() if n > 1)
    print(f"{ROUNDS} rounds: message after the kill {dict(out['where'])}; 0 lost, {poisoned} poisoned, "
          f"{out['republished']} republished by the ledger sweep; posted twice (same key): {twice}")
