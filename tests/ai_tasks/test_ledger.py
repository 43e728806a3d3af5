"""ai_tasks/ledger.py against a real Redis (database 12, used by nothing else): submit, settle, sweep."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import pytest
import redis
from celery import Celery
from kombu import Connection, Consumer

from ai_tasks.celery import RedactingAMQP
from ai_tasks.ledger import (
    DONE_PREFIX,
    DUE_KEY,
    ENTRIES_KEY,
    MAX_REPUBLISHES,
    job_deadline_s,
    job_task_id,
    progress,
    settle,
    submit_job,
    sweep,
)
from ai_tasks.routing import build_queues
from tests._redis import require_redis

URL = "redis://127.0.0.1:6379/12"
QUEUE = "cpu-vision"
DEADLINE_S = 60


def _after(deadlines: int) -> int:
    """Epoch ms a little more than ``deadlines`` deadlines from now."""
    return int(time.time() * 1000) + deadlines * (DEADLINE_S + 1) * 1000


@pytest.fixture
def app() -> Iterator[Celery]:
    r = require_redis(URL, flush=True)
    client = Celery("ledger_test", set_as_current=False, amqp=RedactingAMQP)
    client.config_from_object("celeryconfig")
    client.conf.update(broker_url=URL, result_backend=URL, task_queues=build_queues(amqp=False),
                       task_send_sent_event=False)
    yield client
    r.flushdb()
    client.close()


def _job(job_id: str = "j-1") -> dict[str, Any]:
    return {"id": job_id, "type": "ocr", "payload": {"download_url": "https://x/p.jpg?sig=s"}, "source_id": "s-1"}


def _entry(r: redis.Redis, task_id: str) -> dict[str, Any]:
    raw = r.hget(ENTRIES_KEY, task_id)
    assert raw is not None
    return dict(json.loads(raw))


def _consume_one(url: str = URL) -> tuple[dict[str, Any], Any]:
    """What a worker would receive from the queue: (headers, body)."""
    got: list[tuple[dict[str, Any], Any]] = []
    with Connection(url) as conn:
        from ai_tasks.routing import build_queues

        queue = next(q for q in build_queues(amqp=False) if q.name == QUEUE)
        with Consumer(conn.channel(), [queue], callbacks=[lambda body, msg: (got.append((msg.headers, body)),
                                                                            msg.ack())]):
            conn.drain_events(timeout=5)
    return got[0]


def test_submit_pushes_the_celery_message_and_the_entry_together(app: Celery) -> None:
    r = redis.Redis.from_url(URL)
    task_id = submit_job(app, _job())
    assert task_id == job_task_id("j-1")
    assert r.llen(QUEUE) == 1
    entry = _entry(r, task_id)
    assert entry["job_id"] == "j-1" and entry["queue_key"] == QUEUE and entry["attempts"] == 0
    deadline_ms = r.zscore(DUE_KEY, task_id)
    assert deadline_ms is not None
    assert abs(deadline_ms / 1000 - time.time() - job_deadline_s(app, "ocr")) < 5
    headers, body = _consume_one()
    assert headers["task"] == "ai.job" and headers["id"] == task_id
    assert body[0] == [_job()]  # the job, as send_task sends it
    assert "sig=s" not in headers["argsrepr"]  # the app's own publish path: its redacted reprs


def test_submit_is_idempotent_per_job_and_after_settle(app: Celery) -> None:
    r = redis.Redis.from_url(URL)
    first = submit_job(app, _job())
    assert submit_job(app, _job()) == first
    assert r.llen(QUEUE) == 1  # the second submit published nothing
    assert settle(app, first) is True
    assert r.hget(ENTRIES_KEY, first) is None and r.zscore(DUE_KEY, first) is None
    assert r.exists(DONE_PREFIX + first)
    assert submit_job(app, _job()) == first
    assert r.llen(QUEUE) == 1  # a finished job is not run again either
    assert settle(app, first) is False  # settling twice is harmless
    other = submit_job(app, _job(), task_id="explicit-id")
    assert other == "explicit-id" and r.llen(QUEUE) == 2  # an explicit task id is another submission


def test_submit_refuses_a_job_without_id(app: Celery) -> None:
    with pytest.raises(ValueError, match="id"):
        submit_job(app, {"type": "ocr"})


def test_sweep_leaves_a_queued_or_held_job_alone(app: Celery) -> None:
    r = redis.Redis.from_url(URL)
    task_id = submit_job(app, _job(), deadline_s=DEADLINE_S)
    report = sweep(app, r, now_ms=_after(1))
    assert (report.waiting, report.republished) == (1, 0)  # still in its queue: a backlog, not a loss
    assert r.llen(QUEUE) == 1
    assert r.zscore(DUE_KEY, task_id) > _after(1)  # its deadline moved on
    # held unacked by a worker (kombu's "unacked" hash, by delivery tag)
    message = json.loads(_entry(r, task_id)["message"])
    raw = r.rpop(QUEUE)
    r.hset("unacked", message["properties"]["delivery_tag"], b"[...]")
    r.zadd(DUE_KEY, {task_id: 1})
    assert sweep(app, r).waiting == 1
    # ...but not for ever: held for a whole further deadline, it is republished
    r.zadd(DUE_KEY, {task_id: 1})
    report = sweep(app, r, now_ms=_after(1))
    assert report.republished == 1 and r.llen(QUEUE) == 1
    r.rpop(QUEUE)
    r.hset(ENTRIES_KEY, task_id, json.dumps({**_entry(r, task_id), "message": json.dumps(message)}))
    # restored by kombu after its worker died: pushed back with the "redelivered" flags
    r.delete("unacked")
    assert raw is not None
    back = json.loads(raw)
    back["headers"]["redelivered"] = True
    back["properties"]["delivery_info"]["redelivered"] = True
    from kombu.utils.json import dumps

    r.lpush(QUEUE, dumps(back))
    r.zadd(DUE_KEY, {task_id: 1})
    assert sweep(app, r).waiting == 1
    assert r.llen(QUEUE) == 1


def test_progress_pushes_the_deadline_one_window_forward_never_back(app: Celery) -> None:
    """The hand-over and each step start: the deadline counts time without progress, not the job's age."""
    r = redis.Redis.from_url(URL)
    task_id = submit_job(app, _job(), deadline_s=DEADLINE_S)
    r.zadd(DUE_KEY, {task_id: 1})  # as if the job had waited a whole deadline
    before_ms = int(time.time() * 1000)
    assert progress(app, task_id, "ocr") is True
    due = r.zscore(DUE_KEY, task_id)
    assert before_ms + DEADLINE_S * 1000 <= due <= before_ms + (DEADLINE_S + 5) * 1000  # the entry's own window
    far_ms = _after(10)
    r.zadd(DUE_KEY, {task_id: far_ms})
    assert progress(app, task_id, "ocr") is False
    assert r.zscore(DUE_KEY, task_id) == far_ms  # never moved back
    assert progress(app, "no-such-task", "ocr") is False and r.zscore(DUE_KEY, "no-such-task") is None
    settle(app, task_id)
    assert progress(app, task_id, "ocr") is False and r.zscore(DUE_KEY, task_id) is None


def test_sweep_follows_a_handed_over_job_in_its_step_messages(app: Celery) -> None:
    """Issue-18 chaos: ai.job is acked at the hand-over; a step queued behind a backlog is not a loss."""
    r = redis.Redis.from_url(URL)
    task_id = submit_job(app, _job(), deadline_s=DEADLINE_S)
    r.delete(QUEUE)  # the dispatcher took ai.job and acked it after handing over...
    other = submit_job(app, _job("j-2"), deadline_s=DEADLINE_S)
    r.delete(QUEUE)
    # ...to its next step, which carries the job's task id as root_id (another job's step beside it)
    app.send_task("ai.omr.read", args=[{}], queue=QUEUE, root_id=task_id, parent_id=task_id)
    app.send_task("ai.omr.read", args=[{}], queue=QUEUE, root_id="someone-else")
    report = sweep(app, r, now_ms=_after(1))
    assert (report.waiting, report.republished) == (1, 1)  # j-1 waits in its step; j-2 is nowhere
    assert _entry(r, task_id)["attempts"] == 0 and _entry(r, other)["attempts"] == 1
    # the step held unacked by a worker (kombu: [message, exchange, routing key] by delivery tag)
    steps = [json.loads(raw) for raw in r.lrange(QUEUE, 0, -1)]
    r.delete(QUEUE)
    step = next(m for m in steps if m["headers"]["root_id"] == task_id)
    r.hset("unacked", step["properties"]["delivery_tag"], json.dumps([step, QUEUE, QUEUE]))
    r.zadd(DUE_KEY, {task_id: 1})
    assert sweep(app, r).waiting == 1 and _entry(r, task_id)["attempts"] == 0
    # gone from both: nowhere, republished
    r.delete("unacked")
    r.zadd(DUE_KEY, {task_id: 1})
    assert sweep(app, r).republished == 1 and _entry(r, task_id)["attempts"] == 1


def test_sweep_republishes_a_lost_job_once_even_when_several_workers_sweep(app: Celery) -> None:
    r = redis.Redis.from_url(URL)
    task_id = submit_job(app, _job(), deadline_s=DEADLINE_S)
    r.delete(QUEUE)  # the message vanished (popped by a worker that died before recording it)
    now_ms = _after(1)
    first = json.loads(_entry(r, task_id)["message"])["properties"]["delivery_tag"]
    reports = [sweep(app, r, now_ms=now_ms) for _ in range(3)]  # three workers, same instant
    assert [x.republished for x in reports] == [1, 0, 0]
    assert r.llen(QUEUE) == 1
    entry = _entry(r, task_id)
    assert entry["attempts"] == 1
    assert json.loads(entry["message"])["properties"]["delivery_tag"] != first  # a new copy
    headers, _ = _consume_one()
    assert headers["id"] == task_id  # same task id: the result lands where the client waits


def test_sweep_settles_a_job_whose_result_is_stored(app: Celery) -> None:
    r = redis.Redis.from_url(URL)
    task_id = submit_job(app, _job(), deadline_s=DEADLINE_S)
    r.delete(QUEUE)
    app.backend.store_result(task_id, {"job_id": "j-1", "status": "DONE"}, "SUCCESS")
    report = sweep(app, r, now_ms=_after(1))
    assert (report.settled, report.republished) == (1, 0)
    assert r.hget(ENTRIES_KEY, task_id) is None and r.exists(DONE_PREFIX + task_id)


def test_sweep_enqueues_a_lost_delivery_again(app: Celery) -> None:
    """A stored result whose delivery message was lost: the sweep asks for the delivery, then settles."""
    r = redis.Redis.from_url(URL)
    task_id = submit_job(app, _job(), deadline_s=DEADLINE_S)
    r.delete(QUEUE)
    app.backend.store_result(task_id, {"job_id": "j-1", "status": "DONE"}, "SUCCESS")
    asked: list[tuple[Any, ...]] = []

    def redeliver(result: Any, job: dict[str, Any], tid: str) -> bool:
        asked.append((result["status"], job["id"], job["source_id"], tid))
        return len(asked) > 1  # the second time, the marker says it was delivered

    report = sweep(app, r, now_ms=_after(1), redeliver=redeliver)
    assert (report.redelivered, report.settled, report.republished) == (1, 0, 0)
    assert r.llen(QUEUE) == 0 and _entry(r, task_id)["attempts"] == 1  # no second run of the job
    r.zadd(DUE_KEY, {task_id: 1})
    assert sweep(app, r, redeliver=redeliver).settled == 1
    assert asked == [("DONE", "j-1", "s-1", task_id)] * 2
    assert r.hget(ENTRIES_KEY, task_id) is None


def test_sweep_gives_up_with_job_lost_after_max_republishes(app: Celery) -> None:
    r = redis.Redis.from_url(URL)
    task_id = submit_job(app, _job(), deadline_s=DEADLINE_S)
    for _ in range(MAX_REPUBLISHES):
        r.delete(QUEUE)
        r.zadd(DUE_KEY, {task_id: 1})
        assert sweep(app, r).republished == 1
    r.delete(QUEUE)
    r.zadd(DUE_KEY, {task_id: 1})
    report = sweep(app, r)
    assert (report.republished, report.given_up) == (0, 1)
    result = app.AsyncResult(task_id).result
    assert result["status"] == "FAILED" and result["error"]["reason_code"] == "job_lost"
    assert r.hget(ENTRIES_KEY, task_id) is None
    assert r.llen(QUEUE) == 0


def test_deadlines_follow_the_job_types_time_limits(app: Celery) -> None:
    assert job_deadline_s(app, "homework_video_analysis") > job_deadline_s(app, "ocr") > 600
    assert job_deadline_s(app, "no such type") == job_deadline_s(app, "omr_grading")


def test_settle_is_a_noop_off_redis() -> None:
    amqp = Celery("ledger_amqp", set_as_current=False)
    amqp.conf.broker_url = "amqp://guest:guest@127.0.0.1:5672//"
    assert settle(amqp, "any") is False


def test_off_redis_the_job_is_published_with_its_derived_task_id() -> None:
    """Not Redis (RabbitMQ in production; kombu's in-memory transport here): no ledger, same task id."""
    other = Celery("ledger_memory", set_as_current=False, broker="memory://", backend="cache+memory://")
    got: list[dict[str, Any]] = []
    with Connection("memory://") as conn:
        task_id = submit_job(other, _job("m-1"))
        queue = other.amqp.queues[QUEUE]  # created by send_task (a default app creates missing queues)
        with Consumer(conn.channel(), [queue], callbacks=[lambda body, msg: (got.append(msg.headers), msg.ack())]):
            conn.drain_events(timeout=5)
    assert task_id == job_task_id("m-1") and got[0]["id"] == task_id and got[0]["task"] == "ai.job"
