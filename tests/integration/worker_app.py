"""The real ai-worker app plus a few probe tasks, for worker processes started by tests.

Started as ``celery -A tests.integration.worker_app worker -Q ...``: the
production configuration, the production tasks, and probes whose side
effects (in Redis database 13) the tests read back.
"""

from __future__ import annotations

import os
import signal
import time
from typing import Any

import redis
from celery import Celery, current_task

from ai_tasks.celery import app
from ai_tasks.errors import JobPayloadError, TransientError
from ai_tasks.routing import build_queues

PROBE_REDIS_URL = "redis://127.0.0.1:6379/13"

#: probe task -> queue; added to the production routes in every process of a test.
PROBE_ROUTES = {
    "ai.test.where_cpu": {"queue": "cpu-vision"},
    "ai.test.where_llm": {"queue": "llm"},
    "ai.test.flaky": {"queue": "cpu-vision"},
    "ai.test.permanent": {"queue": "cpu-vision"},
    "ai.test.slow": {"queue": "cpu-vision"},
    "ai.test.suicide": {"queue": "cpu-vision"},
    "ai.test.noop": {"queue": "cpu-vision"},
}

app.conf.task_routes = {**app.conf.task_routes, **PROBE_ROUTES}


def _probe() -> redis.Redis:
    return redis.Redis.from_url(PROBE_REDIS_URL)


def _where() -> dict[str, Any]:
    req = current_task.request
    return {"hostname": req.hostname, "queue": (req.delivery_info or {}).get("routing_key"), "pid": os.getpid()}


@app.task(name="ai.test.where_cpu")
def where_cpu() -> dict[str, Any]:
    return _where()


@app.task(name="ai.test.where_llm")
def where_llm() -> dict[str, Any]:
    return _where()


@app.task(name="ai.test.noop")
def noop(x: int = 0) -> int:
    return x


@app.task(name="ai.test.flaky", bind=True, retry_backoff=1, retry_backoff_max=4)
def flaky(self: Any, key: str, failures: int) -> dict[str, Any]:
    """Raise a transient error ``failures`` times, then succeed."""
    r = _probe()
    n = int(r.incr(key))
    r.rpush(f"{key}:at", time.time())
    if n <= failures:
        raise TransientError("upstream_unavailable", f"attempt {n} of a flaky upstream")
    return {"attempts": n, "retries": self.request.retries}


@app.task(name="ai.test.permanent")
def permanent(key: str) -> None:
    _probe().incr(key)
    raise JobPayloadError("payload_invalid", "expected 8 digits, got 7")


@app.task(name="ai.test.slow")
def slow(key: str, seconds: float) -> dict[str, Any]:
    """Announce our pid, work for ``seconds``, then record one completion."""
    r = _probe()
    r.rpush(f"{key}:pids", os.getpid())
    time.sleep(seconds)
    r.rpush(f"{key}:done", os.getpid())
    return {"pid": os.getpid()}


@app.task(name="ai.test.suicide")
def suicide(key: str) -> None:
    """Kill our own process, every time: a poison message."""
    _probe().incr(key)
    os.kill(os.getpid(), signal.SIGKILL)


def client_app(broker_url: str, backend_url: str) -> Celery:
    """A client app in the test process, configured like production for ``broker_url``."""
    client = Celery("ai_tasks_client")
    client.config_from_object("celeryconfig")
    amqp = broker_url.startswith("amqp")
    client.conf.update(
        broker_url=broker_url,
        result_backend=backend_url,
        task_queues=build_queues(amqp=amqp, max_deliveries=int(os.environ.get("AI_WORKER_MAX_DELIVERIES", "3"))),
        task_routes={**app.conf.task_routes, **PROBE_ROUTES},
    )
    return client
