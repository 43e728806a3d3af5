"""Two apps with one trivial task: this project's settings, and Celery's defaults.

Selected by ``BENCH_PROFILE`` (``project`` or ``defaults``) and ``BENCH_BROKER``,
so the worker process and the client build the same configuration.
"""

from __future__ import annotations

import os

from celery import Celery
from kombu import Exchange, Queue

PROFILE = os.environ.get("BENCH_PROFILE", "project")
BROKER = os.environ.get("BENCH_BROKER", "redis://127.0.0.1:6379/7")
BACKEND = os.environ.get("BENCH_BACKEND", "redis://127.0.0.1:6379/8")
QUEUE = f"bench-{PROFILE}"

app = Celery("bench")
if PROFILE == "project":
    app.config_from_object("celeryconfig")  # acks_late, prefetch 1, events, quorum queues...
    args = None
    if BROKER.startswith("amqp"):
        args = {"x-queue-type": "quorum"}
    app.conf.update(
        task_queues=(Queue(QUEUE, Exchange(QUEUE), routing_key=QUEUE, queue_arguments=args),),
        task_routes={"bench.noop": {"queue": QUEUE}},
        imports=(),
    )
else:  # Celery's defaults, JSON only so that only the reliability settings differ
    app.conf.update(
        task_serializer="json",
        accept_content=["json"],
        result_serializer="json",
        task_routes={"bench.noop": {"queue": QUEUE}},
    )
app.conf.update(broker_url=BROKER, result_backend=BACKEND)


@app.task(name="bench.noop")
def noop(x: int) -> int:
    return x
