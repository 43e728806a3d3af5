"""RabbitMQ really dead-letters a message past a quorum queue's delivery limit, and the drain answers its job.

Issue-18 chaos (``rabbitmq-124``): an ``ai.segment`` returned more times than
``x-delivery-limit`` without running ended in ``ai.dead-letter`` and nothing
answered its job. Here a probe quorum queue with a limit of 1 returns a
step's message twice (rejected with requeue, as a dropped consumer returns
it); :func:`ai_tasks.dead_letters.drain` then stores a FAILED
``poison_message`` AIResult under the job's result id and delivers it.
Runs on the test vhost; nothing but the probe queue and ``ai.dead-letter`` is touched.
"""

from __future__ import annotations

import time
import uuid
from typing import Any

import pytest
from celery import Celery
from kombu import Connection, Exchange, Producer, Queue

from ai_tasks.celery import app
from ai_tasks.dead_letters import dead_letter_queue, drain
from ai_tasks.routing import DEAD_LETTER_EXCHANGE
from tests.integration.conftest import _ensure_vhost, _need

PROBE = "aiw-dead-letter-probe"


def test_a_step_dead_lettered_by_rabbitmq_is_answered_failed(monkeypatch: pytest.MonkeyPatch) -> None:
    from celery.backends.cache import CacheBackend

    import ai_tasks.task as task_module
    import ai_tasks.tasks.jobs as jobs_module

    _need(5672, "RabbitMQ")
    broker = _ensure_vhost()
    backend = CacheBackend(app=app, backend="memory")
    monkeypatch.setattr(Celery, "backend", property(lambda self: backend))
    monkeypatch.setattr(task_module, "_counter", False)  # no Redis copy of the dead letter here
    concluded: list[tuple[dict[str, Any], dict[str, Any], str | None]] = []
    monkeypatch.setattr(jobs_module, "conclude", lambda out, job, rid: concluded.append((out, job, rid)))
    result_id = str(uuid.uuid4())
    job = {"id": "seg-dl", "type": "question_segmentation", "source_id": "3", "result_id": result_id}
    probe = Queue(PROBE, Exchange(PROBE, type="direct", durable=True), routing_key=PROBE, durable=True,
                  queue_arguments={"x-queue-type": "quorum", "x-delivery-limit": 1,
                                   "x-dead-letter-exchange": DEAD_LETTER_EXCHANGE,
                                   "x-dead-letter-routing-key": "dead"})
    client = Celery("dead_letter_test", set_as_current=False)
    client.conf.broker_url = broker
    with Connection(broker, connect_timeout=10) as conn:
        channel = conn.channel()
        dead = dead_letter_queue()(channel)
        dead.declare()
        dead.purge()
        queue = probe(channel)
        queue.declare()
        try:
            Producer(channel).publish(
                [[{"job": job, "pages": []}], {}, {"callbacks": None, "errbacks": None, "chain": None}],
                exchange=PROBE, routing_key=PROBE, serializer="json", delivery_mode=2,
                headers={"task": "ai.segment", "id": str(uuid.uuid4()), "root_id": result_id, "lang": "py"},
            )
            returns, until = 0, time.monotonic() + 10
            while returns < 10 and time.monotonic() < until:
                message = queue.get(no_ack=False)
                if message is None:  # not yet in (a quorum queue commits first), or dead-lettered
                    if returns:
                        break
                    time.sleep(0.1)
                    continue
                message.requeue()  # returned unstarted, as when its worker's connection drops
                returns += 1
            assert 1 <= returns <= 3  # the broker stopped handing it out: dead-lettered
            counts: dict[str, int] = {}
            while not counts and time.monotonic() < until + 10:  # the dead-letter hop
                counts = drain(client)
                time.sleep(0.1)
        finally:
            queue.delete()
        assert dead.get(no_ack=True) is None  # drained and acked
    assert counts == {"answered": 1}
    stored = backend.get_task_meta(result_id)["result"]
    assert stored["status"] == "FAILED" and stored["error"]["reason_code"] == "poison_message"
    assert concluded == [(stored, {"id": "seg-dl", "type": "question_segmentation", "source_id": "3"}, result_id)]
