"""What the worker does about its broker: leases on Redis, a kombu guard, the default queue.

Three things Celery and kombu leave to the deployment, done once here and
wired by :mod:`ai_tasks.celery`:

* **Leases on Redis** (:class:`LeaseRenewal`). kombu's Redis transport keeps
  every delivered, unacked message in a sorted set scored by delivery time and
  hands it out again once it is older than ``visibility_timeout``. One value
  serves every queue, so it had to exceed the longest task (the video job):
  a 0.3 s OMR job whose worker died came back after 25 minutes. Instead the
  main process of a live worker re-stamps the messages it holds every
  ``visibility_timeout / LEASE_RENEWALS_PER_TIMEOUT`` seconds, so the timeout
  only has to cover a *dead* worker's silence: a message held by a live
  worker never expires, however long its task runs, and a dead worker's
  messages come back after one short timeout. RabbitMQ needs none of this:
  it redelivers as soon as the consumer's connection drops.
* **A guard on kombu's closed Redis channels** (:func:`guard_redis_restore`).
  When Redis restarts, kombu may restore unacked messages (or ack a task
  that finished meanwhile) on a channel whose connection is already gone and
  raise ``AttributeError: 'NoneType' object has no attribute 'hostname'``
  (or ``'client'``) out of the event loop, which kills the worker (the same
  failure as https://github.com/celery/kombu/issues/582, still present in
  kombu 5.7.0). Nothing is lost if that restore or ack is skipped: the
  messages stay in Redis's ``unacked`` hash and the sweep puts them back
  after the visibility timeout.
* **Celery's default queue** (:data:`LEGACY_DEFAULT_QUEUE`). A client with
  default settings sends ``ai.job`` to the queue ``celery``; ``cpu-vision``
  workers consume it too (:func:`consume_default_queue`), so such a job runs
  instead of waiting forever.

Examples:
    >>> lease_interval_s(60)
    10.0
    >>> lease_interval_s(3)
    1.0
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

from celery import bootsteps
from kombu import Exchange, Queue

__all__ = [
    "LEASE_RENEWALS_PER_TIMEOUT",
    "LEGACY_DEFAULT_QUEUE",
    "LeaseRenewal",
    "TimerStep",
    "consume_default_queue",
    "guard_redis_restore",
    "lease_interval_s",
    "legacy_default_queue",
    "renew_leases",
]

log = logging.getLogger(__name__)

#: A lease is renewed this many times per visibility timeout, so several
#: renewals may be missed (a busy event loop, a Redis blip) before it expires.
LEASE_RENEWALS_PER_TIMEOUT = 6
#: Where Celery sends a task when the client configured no route.
LEGACY_DEFAULT_QUEUE = "celery"
#: The queue whose workers also consume :data:`LEGACY_DEFAULT_QUEUE` (``ai.job`` runs there).
DEFAULT_QUEUE_CONSUMER = "cpu-vision"


def lease_interval_s(visibility_timeout_s: float) -> float:
    """Seconds between two renewals of a worker's leases (at least 1 s)."""
    return max(1.0, float(visibility_timeout_s) / LEASE_RENEWALS_PER_TIMEOUT)


def _is_redis_channel(channel: Any) -> bool:
    return (channel is not None and hasattr(channel, "unacked_index_key") and hasattr(channel, "qos")
            and hasattr(channel, "conn_or_acquire"))


def renew_leases(channel: Any) -> int:
    """Re-stamp every message this channel holds unacked; returns how many.

    ``ZADD XX`` only touches members still in the index: a message acked in
    the meantime is not brought back.

    The command goes through a client of the channel's *synchronous* pool,
    never ``channel.client``: kombu pins that client to the connection its
    ``BRPOP`` waits on, and a command sent there while a ``BRPOP`` is
    outstanding reads the ``BRPOP``'s reply as its own, so a message Redis
    had just popped for this worker vanished (in no queue, in no unacked set,
    never "received"). ``bench/redis_lost_messages.py lease`` reproduces it.
    """
    if not _is_redis_channel(channel) or getattr(channel, "closed", False):
        return 0
    tags = list(getattr(channel.qos, "_delivered", {}) or ())
    if not tags:
        return 0
    now = time.time()
    try:
        with channel.conn_or_acquire() as client:  # a pool connection, not the BRPOP one
            client.zadd(channel.unacked_index_key, dict.fromkeys(tags, now), xx=True)
    except Exception as exc:  # the broker is away: the next renewal (or the restore) handles it
        log.debug("lease renewal skipped: %s", type(exc).__name__)
        return 0
    return len(tags)


class TimerStep(bootsteps.StartStopStep):
    """A consumer bootstep that calls one function on the worker's timer while the consumer runs.

    Started again on each reconnection. A subclass says what to call and how
    often in :meth:`schedule` (None: nothing on this worker).
    """

    requires = ("celery.worker.consumer.tasks:Tasks",)

    def __init__(self, parent: Any, **kwargs: Any) -> None:
        super().__init__(parent, **kwargs)
        self.tref: Any = None

    def schedule(self, c: Any) -> tuple[float, Callable[..., Any], tuple[Any, ...]] | None:
        """(interval in seconds, function, its arguments) for consumer ``c``, or None."""
        raise NotImplementedError

    def start(self, c: Any) -> None:
        plan = self.schedule(c)
        if plan is not None:
            interval_s, fun, args = plan
            self.tref = c.timer.call_repeatedly(interval_s, fun, args)

    def stop(self, c: Any) -> None:
        if self.tref is not None:
            self.tref.cancel()
            self.tref = None

    shutdown = stop


class LeaseRenewal(TimerStep):
    """Consumer bootstep: renew the Redis leases of held messages while the worker lives.

    Started again on each reconnection with the new channel; a no-op on RabbitMQ.
    """

    def schedule(self, c: Any) -> tuple[float, Callable[..., Any], tuple[Any, ...]] | None:
        consumer = getattr(c, "task_consumer", None)
        channel = getattr(consumer, "channel", None)
        if not _is_redis_channel(channel):
            return None
        visibility_s = float(c.app.conf.broker_transport_options.get("visibility_timeout", 3600))
        return lease_interval_s(visibility_s), renew_leases, (channel,)


_GUARDED = False


def _connection_gone(qos: Any) -> bool:
    channel = getattr(qos, "channel", None)
    connection = getattr(channel, "connection", None)
    return connection is None or getattr(connection, "client", None) is None


def guard_redis_restore() -> None:
    """Keep kombu from killing the worker when it touches a channel whose connection is gone.

    Upstream: https://github.com/celery/kombu/issues/582 (``'NoneType' object has
    no attribute 'hostname'`` from ``_connparams``). After a Redis restart,
    kombu 5.7.0 still uses the old channel twice: to restore its unacked
    messages when it closes (``QoS.restore_unacked_once``), and to ack a task
    that finished after the connection dropped (``Message.ack_log_error``,
    which only catches connection errors: ``'NoneType' object has no attribute
    'client'``). Either raised out of the event loop as an "Unrecoverable
    error" and the worker exited. Both are harmless to skip: the message
    stays in Redis's ``unacked`` hash and the sweep puts it back after the
    visibility timeout (an ack that is lost means the job runs again: at
    least once). Only errors on a channel whose connection is gone are
    swallowed; any other AttributeError still raises. Idempotent.
    """
    global _GUARDED
    if _GUARDED:
        return
    from kombu.transport import redis as kombu_redis

    qos_cls = kombu_redis.QoS
    original_restore = qos_cls.restore_unacked
    original_ack = qos_cls.ack
    original_reject = qos_cls.reject

    def restore_unacked(self: Any, client: Any = None) -> Any:
        try:
            return original_restore(self, client)
        except AttributeError as exc:
            if not _connection_gone(self):
                raise
            log.warning(
                "could not restore %d unacked message(s) at channel close (%s; kombu#582): "
                "they stay in Redis and come back after the visibility timeout",
                len(getattr(self, "_delivered", ()) or ()), exc,
            )
            self._delivered.clear()
            return None

    def ack(self: Any, delivery_tag: Any) -> None:
        try:
            original_ack(self, delivery_tag)
        except AttributeError as exc:
            if not _connection_gone(self):
                raise
            log.warning("ack of %s lost with its connection (%s; kombu#582): the job comes back after the "
                        "visibility timeout and runs again", delivery_tag, exc)

    def reject(self: Any, delivery_tag: Any, requeue: bool = False) -> None:
        try:
            original_reject(self, delivery_tag, requeue=requeue)
        except AttributeError as exc:
            if not _connection_gone(self):
                raise
            log.warning("reject of %s lost with its connection (%s; kombu#582): the job comes back after the "
                        "visibility timeout", delivery_tag, exc)

    restore_unacked.__wrapped__ = original_restore  # type: ignore[attr-defined]
    ack.__wrapped__ = original_ack  # type: ignore[attr-defined]
    reject.__wrapped__ = original_reject  # type: ignore[attr-defined]
    qos_cls.restore_unacked = restore_unacked  # type: ignore[method-assign]
    qos_cls.ack = ack  # type: ignore[method-assign]
    qos_cls.reject = reject  # type: ignore[method-assign]
    _GUARDED = True


def legacy_default_queue() -> Queue:
    """Celery's default queue exactly as a client with default settings declares it.

    Examples:
        >>> q = legacy_default_queue()
        >>> q.name, q.exchange.name, q.exchange.type, q.routing_key, q.durable
        ('celery', 'celery', 'direct', 'celery', True)
    """
    return Queue(
        LEGACY_DEFAULT_QUEUE, Exchange(LEGACY_DEFAULT_QUEUE, type="direct", durable=True),
        routing_key=LEGACY_DEFAULT_QUEUE, durable=True,
    )


def consume_default_queue(app: Any) -> bool:
    """Make a worker that consumes ``cpu-vision`` consume Celery's default queue too.

    Called from ``celeryd_after_setup`` (the worker's ``-Q`` is known then).
    Returns whether the queue was added.
    """
    queues = app.amqp.queues
    consumed = set(queues.consume_from or queues)
    if DEFAULT_QUEUE_CONSUMER not in consumed or LEGACY_DEFAULT_QUEUE in consumed:
        return False
    queues.select_add(legacy_default_queue())
    return True
