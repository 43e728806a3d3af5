"""Deterministic reproductions of the two ways a message was lost on kombu's Redis transport.

Both run on kombu alone (no Celery worker), against a dedicated Redis
database (default ``redis://127.0.0.1:6379/12``), and print, per round,
where the message published during the round ended: ``delivered`` (the
consumer's callback got it), ``queued``/``unacked`` (still in Redis, so a
worker gets it later), or ``LOST`` (nowhere). ``--monitor`` prints what
Redis ``MONITOR`` saw during the first round.

* ``lease``: a command sent on ``channel.client`` while the channel's
  ``BRPOP`` is outstanding. kombu sets ``channel.client.connection`` to the
  ``BRPOP`` connection (``MultiChannelPoller._client_registered``) and
  redis-py sends every command of a client with a ``connection`` attribute on
  that connection (``Redis._execute_command``). The command's reply is read
  from the socket first, and that is the ``BRPOP``'s: a message Redis popped
  for the consumer is returned to the command's caller and dropped; the real
  reply (``ZADD XX`` answers ``0``) is then read by kombu as an empty
  ``BRPOP``. Our lease renewal (``ai_tasks/broker.py``) did exactly that every
  10 s while a worker held a message, until it moved to a pool connection.
  ``--variant old`` runs the old renewal, ``--variant fixed`` the current one.
* ``kill``: kombu's own window. A consumer whose ``BRPOP`` is outstanding
  gets the message as soon as it is published (Redis pops it into the reply)
  and records it in ``unacked`` only after reading the reply; a consumer
  killed in between takes the message with it. The script stops the consumer
  (``SIGSTOP``) so that the window is as wide as needed, publishes, then
  ``SIGKILL``\\ s it. RabbitMQ has no such window (the broker keeps an
  unacked delivery until the channel closes).

    .venv/bin/python bench/redis_lost_messages.py lease --variant old --rounds 20
    .venv/bin/python bench/redis_lost_messages.py lease --variant fixed --rounds 20
    .venv/bin/python bench/redis_lost_messages.py kill --rounds 5 --monitor
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter
from typing import Any

import redis
from kombu import Connection, Consumer, Exchange, Producer, Queue

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

DEFAULT_URL = "redis://127.0.0.1:6379/12"


def _queue(name: str) -> Queue:
    return Queue(name, Exchange(name, type="direct"), routing_key=name)


def _publish(url: str, name: str, body: dict[str, Any]) -> None:
    with Connection(url) as conn:
        Producer(conn.channel()).publish(body, exchange=_queue(name).exchange, routing_key=name,
                                         declare=[_queue(name)], serializer="json")


def _where(r: redis.Redis, name: str, mark: str, delivered: set[str]) -> str:
    if mark in delivered:
        return "delivered"
    if any(mark.encode() in raw for raw in r.lrange(name, 0, -1)):
        return "queued"
    if any(mark.encode() in raw for raw in r.hvals("unacked")):
        return "unacked"
    return "LOST"


class _Monitor(threading.Thread):
    """Collects what Redis MONITOR shows for one database while it runs."""

    def __init__(self, url: str) -> None:
        super().__init__(daemon=True)
        self.lines: list[str] = []
        self.db = redis.Redis.from_url(url).connection_pool.connection_kwargs.get("db", 0)
        self._r = redis.Redis.from_url(url)
        self._stop_at: float | None = None

    def run(self) -> None:
        with self._r.monitor() as m:
            for cmd in m.listen():
                if int(cmd.get("db", -1)) == int(self.db):
                    self.lines.append(f"{cmd['time']:.3f} {cmd['client_address']}:{cmd['client_port']} "
                                      f"{cmd['command'][:110]}")
                if self._stop_at is not None and time.time() > self._stop_at:
                    return

    def stop(self) -> None:
        self._stop_at = time.time()
        self._r.ping()  # one more command so listen() wakes up


def _renew_old(channel: Any) -> None:
    """The lease renewal as it was: ``ZADD XX`` on ``channel.client`` (the BRPOP connection)."""
    tags = list(channel.qos._delivered)
    if tags:
        channel.client.zadd(channel.unacked_index_key, dict.fromkeys(tags, time.time()), xx=True)


def lease_round(url: str, variant: str, monitor: _Monitor | None) -> str:
    """One held message, a BRPOP outstanding, a publish, then one lease renewal."""
    from ai_tasks.broker import renew_leases

    name = f"lost-lease-{uuid.uuid4().hex[:6]}"
    r = redis.Redis.from_url(url)
    delivered: set[str] = set()
    with Connection(url, transport_options={"visibility_timeout": 60}) as conn:
        channel = conn.channel()
        channel.basic_qos(0, 2, False)  # prefetch 2, as a -c 2 worker: one held, room for one more
        _publish(url, name, {"mark": "held"})

        def on_message(body: dict[str, Any], message: Any) -> None:
            delivered.add(body["mark"])  # never acked: the worker still runs it

        with Consumer(channel, [_queue(name)], callbacks=[on_message]):
            conn.drain_events(timeout=2)  # takes "held"
            try:
                conn.drain_events(timeout=0.1)  # leaves a BRPOP outstanding, as the event loop does
            except TimeoutError:
                pass
            if monitor is not None:
                monitor.start()
                time.sleep(0.2)
            mark = uuid.uuid4().hex
            _publish(url, name, {"mark": mark})  # Redis pops it into the outstanding BRPOP's reply
            time.sleep(0.05)
            (_renew_old if variant == "old" else renew_leases)(channel)
            for _ in range(3):
                try:
                    conn.drain_events(timeout=1.5)
                except TimeoutError:
                    pass
            outcome = _where(r, name, mark, delivered)
    r.delete(name, f"_kombu.binding.{name}", "unacked", "unacked_index")
    return outcome


_CONSUMER = r"""
import sys, time
from kombu import Connection, Consumer, Exchange, Queue
url, name = sys.argv[1], sys.argv[2]
q = Queue(name, Exchange(name, type="direct"), routing_key=name)
with Connection(url) as conn:
    ch = conn.channel()
    with Consumer(ch, [q], callbacks=[lambda body, msg: print("got", body, flush=True)]):
        print("ready", flush=True)
        while True:
            try:
                conn.drain_events(timeout=0.2)
            except Exception:
                pass
"""


def kill_round(url: str, monitor: _Monitor | None) -> str:
    """A consumer with a BRPOP outstanding is stopped, a message published, the consumer killed."""
    name = f"lost-kill-{uuid.uuid4().hex[:6]}"
    r = redis.Redis.from_url(url)
    _queue(name)(Connection(url).channel()).declare()
    proc = subprocess.Popen([sys.executable, "-c", _CONSUMER, url, name], stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None and proc.stdout.readline().strip() == "ready"
        time.sleep(0.3)  # the consumer is blocked in BRPOP
        if monitor is not None:
            monitor.start()
            time.sleep(0.2)
        os.kill(proc.pid, signal.SIGSTOP)  # the main process stalls (GC, a fork, a busy loop)...
        mark = uuid.uuid4().hex
        _publish(url, name, {"mark": mark})  # ...Redis pops the message into its socket...
        time.sleep(0.2)
        os.kill(proc.pid, signal.SIGKILL)  # ...and it dies before reading it
        proc.wait(timeout=10)
        time.sleep(0.2)
        outcome = _where(r, name, mark, set())
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    r.delete(name, f"_kombu.binding.{name}", "unacked", "unacked_index")
    return outcome


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("scenario", choices=("lease", "kill"))
    parser.add_argument("--variant", choices=("old", "fixed"), default="fixed", help="lease renewal to run (lease)")
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--url", default=DEFAULT_URL, help="a Redis database nothing else uses")
    parser.add_argument("--monitor", action="store_true", help="print Redis MONITOR for the first round")
    args = parser.parse_args(argv)
    outcomes: Counter[str] = Counter()
    for i in range(args.rounds):
        monitor = _Monitor(args.url) if args.monitor and i == 0 else None
        if args.scenario == "lease":
            outcome = lease_round(args.url, args.variant, monitor)
        else:
            outcome = kill_round(args.url, monitor)
        outcomes[outcome] += 1
        if monitor is not None:
            monitor.stop()
            monitor.join(timeout=5)
            print("\n".join(monitor.lines))
        print(f"round {i + 1}: {outcome}", flush=True)
    label = args.scenario + (f" ({args.variant})" if args.scenario == "lease" else "")
    print(f"{label}: {args.rounds} rounds: " + ", ".join(f"{k} {v}" for k, v in sorted(outcomes.items())))
    return 0


if __name__ == "__main__":
    sys.exit(main())
