"""ai_tasks/broker.py against a real Redis (database 14): leases, the restore guard, the default queue."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
import redis
from kombu import Connection, Consumer, Exchange, Producer, Queue

from ai_tasks.broker import (
    LEGACY_DEFAULT_QUEUE,
    consume_default_queue,
    guard_redis_restore,
    renew_leases,
)
from tests._redis import require_redis

URL = "redis://127.0.0.1:6379/14"


@pytest.fixture
def held() -> Iterator[tuple[Any, Any, str]]:
    """A Redis channel holding one delivered, unacked message; everything deleted after."""
    require_redis(URL)
    name = f"t-broker-{uuid.uuid4().hex[:8]}"
    conn = Connection(URL)
    ch = conn.channel()
    q = Queue(name, Exchange(name), name)
    q(ch).declare()
    Producer(ch).publish({"a": 1}, exchange=q.exchange, routing_key=name, declare=[q])
    msg = q(ch).get(no_ack=False)
    assert msg is not None
    yield ch, msg, name
    r = redis.Redis.from_url(URL)
    r.delete(name, "unacked", "unacked_index", f"_kombu.binding.{name}")
    conn.release()


def test_renewal_restamps_held_messages_and_never_revives_acked_ones(held: tuple[Any, Any, str]) -> None:
    ch, msg, _ = held
    tag = msg.delivery_tag
    r = redis.Redis.from_url(URL)
    r.zadd(ch.unacked_index_key, {tag: 1.0})  # as if delivered long ago: due for restore
    assert renew_leases(ch) == 1
    assert (r.zscore(ch.unacked_index_key, tag) or 0) > 1e9  # stamped now: a live worker keeps it
    msg.ack()
    renew_leases(ch)
    assert r.zscore(ch.unacked_index_key, tag) is None  # ZADD XX: an acked message stays acked


def test_renewal_never_swallows_a_message_popped_for_the_worker() -> None:
    """Issue 18: a renewal sent on the BRPOP connection read the BRPOP's reply, losing its message.

    The channel holds one message (a task running) and waits in BRPOP for the
    next; a message is published (Redis pops it into the BRPOP's reply), then
    the lease is renewed. The message must reach the consumer.
    """
    require_redis(URL)
    name = f"t-brpop-{uuid.uuid4().hex[:8]}"
    q = Queue(name, Exchange(name), name)
    got: list[str] = []
    with Connection(URL) as conn, Connection(URL) as pub:
        ch = conn.channel()
        ch.basic_qos(0, 2, False)
        publish = Producer(pub.channel()).publish
        publish({"n": "held"}, exchange=q.exchange, routing_key=name, declare=[q])
        with Consumer(ch, [q], callbacks=[lambda body, _msg: got.append(body["n"])]):
            conn.drain_events(timeout=2)
            with pytest.raises(TimeoutError):
                conn.drain_events(timeout=0.1)  # a BRPOP is now outstanding
            publish({"n": "next"}, exchange=q.exchange, routing_key=name)
            time.sleep(0.05)
            assert renew_leases(ch) == 1
            for _ in range(3):
                try:
                    conn.drain_events(timeout=1.5)
                except TimeoutError:
                    pass
            ch.qos.restore_unacked()
    redis.Redis.from_url(URL).delete(name, "unacked", "unacked_index", f"_kombu.binding.{name}")
    assert got == ["held", "next"]


def test_renewal_is_a_noop_without_a_redis_channel() -> None:
    assert renew_leases(None) == 0
    assert renew_leases(object()) == 0


def test_restore_at_close_survives_a_released_connection(held: tuple[Any, Any, str]) -> None:
    """kombu#582: the channel's connection is gone when it restores its unacked messages."""
    ch, msg, _ = held
    ch.connection.client = None  # what a Redis restart leaves behind
    ch._pool = None
    guard_redis_restore()
    ch.qos.restore_unacked_once()  # was: AttributeError("'NoneType' object has no attribute 'hostname'")
    # nothing lost: the message is still in the unacked hash for the sweep to restore
    assert redis.Redis.from_url(URL).hexists("unacked", msg.delivery_tag)


def test_guard_is_needed_without_it() -> None:
    """The unguarded kombu restore raises: the guard is not dead code (fails once kombu fixes it)."""
    from kombu.transport import redis as kombu_redis

    guard_redis_restore()
    original = kombu_redis.QoS.restore_unacked.__wrapped__  # type: ignore[attr-defined]
    conn = Connection(URL)
    ch = conn.channel()
    ch.qos._delivered["x"] = None
    ch.connection.client = None
    ch._pool = None
    with pytest.raises(AttributeError, match="hostname"):
        original(ch.qos)
    ch.qos._delivered.clear()


def test_cpu_vision_workers_consume_the_default_queue() -> None:
    from celery import Celery

    from ai_tasks.routing import build_queues

    app = Celery("t", set_as_current=False)
    app.conf.task_queues = build_queues(amqp=False)
    app.amqp.queues.select(["cpu-vision"])
    assert consume_default_queue(app) is True
    assert LEGACY_DEFAULT_QUEUE in app.amqp.queues.consume_from
    assert consume_default_queue(app) is False  # once
    llm = Celery("t2", set_as_current=False)
    llm.conf.task_queues = build_queues(amqp=False)
    llm.amqp.queues.select(["llm"])
    assert consume_default_queue(llm) is False
    assert LEGACY_DEFAULT_QUEUE not in llm.amqp.queues.consume_from


def test_ack_on_a_released_connection_does_not_kill_the_worker(held: tuple[Any, Any, str]) -> None:
    """kombu#582, second face: a task finishing after Redis went away acks on the dead channel."""
    ch, msg, _ = held
    ch.connection.client = None
    ch._pool = None
    guard_redis_restore()
    msg.ack_log_error(None, ())  # was: AttributeError("'NoneType' object has no attribute 'client'")
    assert redis.Redis.from_url(URL).hexists("unacked", msg.delivery_tag)  # restored later by the sweep
    ch.qos._delivered.clear()


def test_other_attribute_errors_still_raise(held: tuple[Any, Any, str], monkeypatch: pytest.MonkeyPatch) -> None:
    from kombu.transport import redis as kombu_redis

    ch, msg, _ = held
    guard_redis_restore()

    def broken(self: Any, tag: Any, pipe: Any = None) -> Any:
        raise AttributeError("a real bug")

    monkeypatch.setattr(kombu_redis.QoS, "_remove_from_indices", broken)
    with pytest.raises(AttributeError, match="a real bug"):
        ch.qos.ack(msg.delivery_tag)
