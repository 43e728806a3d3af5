"""Queue length and the age of the oldest waiting message, per queue: what an autoscaler reads.

A worker pool is scaled per queue (``docs/operations.md``, "Scaling a
queue"); what it scales on is how much waits in that queue and for how long.
This module reads both from the broker, without consuming anything:

* **Redis** (kombu's Redis transport). A queue is a Redis list whose key is
  the queue's name; a message with a priority goes to a sub-list
  ``<queue>\\x06\\x16<step>`` (kombu's ``Channel.sep`` and ``PRIORITY_STEPS``).
  Publishers ``LPUSH``, the consumer pops from the right, so the oldest
  message of each list is ``LINDEX key -1``. A message is JSON with
  ``headers`` (Celery's task headers) and ``properties``. The length is the
  sum of the lists' ``LLEN``: messages waiting, not those delivered and
  unacknowledged (kombu keeps those in its ``unacked`` hash).
* **RabbitMQ**: a passive ``queue_declare`` answers the ready message count
  and the consumer count (a queue that does not exist is reported with 0).
  The oldest message's age is not read (the management API's
  ``head_message_timestamp`` needs a ``timestamp`` property Celery does not
  set, and quorum queues do not report it): ``age_source`` is ``"unknown"``.

**The age on Redis.** Celery's task headers carry no publish time. A message
whose headers hold :data:`PUBLISHED_AT_HEADER` (epoch seconds, set by a
publisher that wants exact ages) is aged from it (``age_source: "header"``).
Otherwise the age is *observed*: the sampler remembers, in the small Redis
hash :data:`OBSERVED_KEY` next to the queues, which message was at the head
of each list and since when it has seen it there. The age is then a lower
bound, exact to one sampling interval for a message that reached the head
while the exporter was running (``age_source: "observed"``; the first
sighting reports 0). An empty queue has age 0 (``"empty"``).

Nothing here prints a broker URL with its password: callers show
:func:`ai_tasks.redact.redact_url` of it.

Examples:
    >>> redis_list_keys("cpu-vision")[:2]
    ['cpu-vision', 'cpu-vision\\x06\\x163']
    >>> s = QueueSample("llm", messages=3, oldest_age_s=12.5, age_source="header")
    >>> print(prometheus_text([s], broker="redis"), end="")  # doctest: +ELLIPSIS
    # HELP ai_worker_queue_messages Messages waiting in the queue (not yet delivered to a worker).
    # TYPE ai_worker_queue_messages gauge
    ai_worker_queue_messages{queue="llm",broker="redis"} 3
    # HELP ai_worker_queue_oldest_message_age_seconds ...
    # TYPE ai_worker_queue_oldest_message_age_seconds gauge
    ai_worker_queue_oldest_message_age_seconds{queue="llm",broker="redis",source="header"} 12.5
    # HELP ai_worker_queue_up 1 when the broker answered this scrape, else 0.
    # TYPE ai_worker_queue_up gauge
    ai_worker_queue_up{broker="redis"} 1
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from typing import Any, Final, Literal

__all__ = [
    "OBSERVED_KEY",
    "PUBLISHED_AT_HEADER",
    "QueueSample",
    "broker_kind",
    "default_queues",
    "message_published_at",
    "prometheus_text",
    "redis_list_keys",
    "sample",
    "sample_amqp",
    "sample_redis",
]

#: A message header a publisher may set to the publish time (epoch seconds); aged from it when present.
PUBLISHED_AT_HEADER: Final = "published_at"
#: Redis hash (in the broker's database): list key -> "<message id> <first seen, epoch s>".
OBSERVED_KEY: Final = "ai:queue-metrics:head-seen"

AgeSource = Literal["header", "observed", "empty", "unknown"]
BrokerKind = Literal["redis", "amqp"]


@dataclass(frozen=True)
class QueueSample:
    """One queue at one moment.

    Attributes:
        queue: the queue's name (``ai_tasks.routing.QUEUE_NAMES`` or ``celery``).
        messages: messages waiting to be delivered (not those a worker holds unacked).
        oldest_age_s: seconds the oldest waiting message has waited (0 when empty;
            ``None`` when unknown; a lower bound when ``age_source`` is ``"observed"``).
        age_source: ``"header"``, ``"observed"``, ``"empty"`` or ``"unknown"``.
        consumers: consumers attached (RabbitMQ only; ``None`` on Redis).
    """

    queue: str
    messages: int
    oldest_age_s: float | None
    age_source: AgeSource
    consumers: int | None = None

    def to_dict(self) -> dict[str, Any]:
        """Plain data for JSON.

        Examples:
            >>> QueueSample("llm", 0, 0.0, "empty").to_dict()["age_source"]
            'empty'
        """
        return asdict(self)


def broker_kind(url: str) -> BrokerKind:
    """``"redis"`` or ``"amqp"`` for a broker URL; anything else is a ``ValueError``.

    Examples:
        >>> broker_kind("redis://:pw@h:6379/0"), broker_kind("amqp://guest:guest@h:5672//")
        ('redis', 'amqp')
    """
    scheme = url.split("://", 1)[0].lower()
    if scheme in ("redis", "rediss"):
        return "redis"
    if scheme in ("amqp", "amqps", "pyamqp"):
        return "amqp"
    raise ValueError(f"expected a redis:// or amqp:// broker URL, got scheme {scheme!r}")


def default_queues() -> tuple[str, ...]:
    """The routed queues and Celery's default queue ``celery`` (which ``cpu-vision`` workers also consume).

    Examples:
        >>> default_queues()
        ('cpu-vision', 'gpu-embed', 'llm', 'celery')
    """
    from ai_tasks.broker import LEGACY_DEFAULT_QUEUE
    from ai_tasks.routing import QUEUE_NAMES

    return (*QUEUE_NAMES, LEGACY_DEFAULT_QUEUE)


def redis_list_keys(queue: str) -> list[str]:
    """The Redis lists of ``queue``: its own key, then one per non-zero kombu priority step."""
    from kombu.transport.redis import PRIORITY_STEPS, Channel

    return [queue if step == 0 else f"{queue}{Channel.sep}{step}" for step in PRIORITY_STEPS]


def _parse(raw: bytes | str | None) -> dict[str, Any]:
    if raw is None:
        return {}
    try:
        message = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        return {}
    return message if isinstance(message, dict) else {}


def message_published_at(message: dict[str, Any]) -> float | None:
    """The publish time a kombu message's headers carry (:data:`PUBLISHED_AT_HEADER`), if any.

    Examples:
        >>> message_published_at({"headers": {"published_at": 1700000000.5}})
        1700000000.5
        >>> message_published_at({"headers": {"id": "x"}}) is None
        True
    """
    headers = message.get("headers")
    value = headers.get(PUBLISHED_AT_HEADER) if isinstance(headers, dict) else None
    if isinstance(value, int | float) and not isinstance(value, bool) and value > 0:
        return float(value)
    return None


def _message_id(message: dict[str, Any], raw: bytes) -> str:
    """kombu's delivery tag, else Celery's task id, else the raw bytes' digest."""
    props = message.get("properties")
    headers = message.get("headers")
    for value in ((props or {}).get("delivery_tag") if isinstance(props, dict) else None,
                  (headers or {}).get("id") if isinstance(headers, dict) else None):
        if isinstance(value, str) and value and " " not in value:
            return value
    import hashlib

    return "sha1:" + hashlib.sha1(raw).hexdigest()  # noqa: S324 - an identity, not a secret


def sample_redis(client: Any, queues: Sequence[str], *, now: float | None = None) -> list[QueueSample]:
    """Length and oldest-message age of each queue on a Redis broker (kombu's layout).

    Two round trips: ``LLEN`` and ``LINDEX -1`` of every list plus the
    observation hash, then one write of the observations.

    Args:
        client: a ``redis.Redis`` on the broker's database.
        queues: queue names.
        now: the clock (epoch seconds); ``time.time()`` when omitted.

    Returns:
        One :class:`QueueSample` per queue, in order.
    """
    now = time.time() if now is None else now
    keys = {queue: redis_list_keys(queue) for queue in queues}
    with client.pipeline(transaction=False) as pipe:
        for queue_keys in keys.values():
            for key in queue_keys:
                pipe.llen(key)
                pipe.lindex(key, -1)
        pipe.hgetall(OBSERVED_KEY)
        replies = pipe.execute()
    seen = {_text(k): _text(v) for k, v in (replies[-1] or {}).items()}
    update: dict[str, str] = {}
    drop: list[str] = []
    samples: list[QueueSample] = []
    at = 0
    for queue, queue_keys in keys.items():
        total = 0
        ages: list[tuple[float, AgeSource]] = []
        for key in queue_keys:
            length, raw = int(replies[at] or 0), replies[at + 1]
            at += 2
            if not length or raw is None:
                if key in seen:
                    drop.append(key)
                continue
            total += length
            message = _parse(raw)
            published = message_published_at(message)
            if published is not None:
                ages.append((max(0.0, now - published), "header"))
                continue
            ident = _message_id(message, raw if isinstance(raw, bytes) else str(raw).encode())
            prior_id, _, prior_at = seen.get(key, "").partition(" ")
            first_seen = _float(prior_at) if prior_id == ident else None
            if first_seen is not None:
                ages.append((max(0.0, now - first_seen), "observed"))
            else:
                update[key] = f"{ident} {now!r}"
                ages.append((0.0, "observed"))
        if total == 0 or not ages:
            samples.append(QueueSample(queue, 0, 0.0, "empty"))
        else:
            age, source = max(ages)
            samples.append(QueueSample(queue, total, age, source))
    if update or drop:
        with client.pipeline(transaction=False) as pipe:
            if update:
                pipe.hset(OBSERVED_KEY, mapping=update)
            if drop:
                pipe.hdel(OBSERVED_KEY, *drop)
            pipe.execute()
    return samples


def _float(text: str) -> float | None:
    try:
        return float(text)
    except ValueError:
        return None


def _text(value: bytes | str) -> str:
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)


def sample_amqp(connection: Any, queues: Sequence[str]) -> list[QueueSample]:
    """Ready-message and consumer counts of each queue on RabbitMQ (passive ``queue_declare``).

    A queue that does not exist (no worker ever declared it) counts 0.

    Args:
        connection: a connected ``kombu.Connection``.
        queues: queue names.
    """
    samples: list[QueueSample] = []
    channel = connection.channel()
    try:
        for queue in queues:
            try:
                _, messages, consumers = channel.queue_declare(queue=queue, passive=True)
            except connection.channel_errors:  # 404 NOT_FOUND closes the channel
                channel = connection.channel()
                samples.append(QueueSample(queue, 0, 0.0, "empty", consumers=0))
                continue
            source: AgeSource = "unknown" if messages else "empty"
            samples.append(QueueSample(queue, int(messages), None if messages else 0.0, source,
                                       consumers=int(consumers)))
    finally:
        try:
            channel.close()
        except Exception:  # noqa: BLE001 - a channel that died with its connection
            pass
    return samples


def sample(broker_url: str, queues: Sequence[str], *, timeout_s: float = 10.0) -> list[QueueSample]:
    """Connect to ``broker_url``, sample ``queues``, disconnect.

    Raises:
        ValueError: the URL is neither Redis nor AMQP.
        redis.RedisError, OSError, kombu's connection errors: the broker does not answer.
    """
    if broker_kind(broker_url) == "redis":
        import redis

        client = redis.Redis.from_url(broker_url, socket_timeout=timeout_s, socket_connect_timeout=timeout_s)
        try:
            return sample_redis(client, queues)
        finally:
            client.close()
    from kombu import Connection

    with Connection(broker_url, connect_timeout=timeout_s) as conn:
        conn.ensure_connection(max_retries=1, timeout=timeout_s)
        return sample_amqp(conn, queues)


_HELP: Final[dict[str, str]] = {
    "ai_worker_queue_messages": "Messages waiting in the queue (not yet delivered to a worker).",
    "ai_worker_queue_oldest_message_age_seconds": (
        "Seconds the oldest waiting message has waited (source=observed: a lower bound; "
        "absent when unknown)."
    ),
    "ai_worker_queue_consumers": "Consumers attached to the queue (RabbitMQ only).",
    "ai_worker_queue_up": "1 when the broker answered this scrape, else 0.",
}


def _label(value: str) -> str:
    return value.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def _number(value: float) -> str:
    return repr(int(value)) if float(value).is_integer() else repr(round(float(value), 3))


def prometheus_text(samples: Iterable[QueueSample], *, broker: BrokerKind, up: bool = True) -> str:
    """The samples in Prometheus' text exposition format (version 0.0.4).

    Examples:
        >>> "ai_worker_queue_up{broker=\\"amqp\\"} 0" in prometheus_text([], broker="amqp", up=False)
        True
    """
    samples = list(samples)
    rows: dict[str, list[str]] = {name: [] for name in _HELP}
    for s in samples:
        base = f'queue="{_label(s.queue)}",broker="{broker}"'
        rows["ai_worker_queue_messages"].append(f"ai_worker_queue_messages{{{base}}} {s.messages}")
        if s.oldest_age_s is not None:
            rows["ai_worker_queue_oldest_message_age_seconds"].append(
                f'ai_worker_queue_oldest_message_age_seconds{{{base},source="{s.age_source}"}} '
                f"{_number(s.oldest_age_s)}"
            )
        if s.consumers is not None:
            rows["ai_worker_queue_consumers"].append(f"ai_worker_queue_consumers{{{base}}} {s.consumers}")
    rows["ai_worker_queue_up"].append(f'ai_worker_queue_up{{broker="{broker}"}} {1 if up else 0}')
    out: list[str] = []
    for name, lines in rows.items():
        if lines:
            out += [f"# HELP {name} {_HELP[name]}", f"# TYPE {name} gauge", *lines]
    return "\n".join(out) + "\n"
