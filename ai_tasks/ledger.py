"""The job ledger: no job submitted through :func:`submit_job` is lost on a Redis broker.

kombu's Redis transport can lose a message it has already popped for a
worker (``docs/reliability.md``, "Lost messages on Redis"): the worker's
main process dies between its ``BRPOP`` and the write to the ``unacked``
hash. Nothing in the worker can see that message again. The ledger sees it
from the outside:

* **Submit** (:func:`submit_job`, used by the academy's API, ``ai-worker
  submit`` and the bridge): the ``ai.job`` message is built by Celery and
  kombu as ``send_task`` builds it, and then pushed onto its queue by one
  Lua script that also writes the ledger entry (the message itself, the
  queue's list key, the job's deadline). Both happen or neither. Idempotent
  per task id: a second submit of a pending or finished task id publishes
  nothing. The task id is derived from the job id (:func:`job_task_id`)
  unless given.
* **Done** (:func:`settle`): the entry is removed, and a tombstone left for
  as long as results are kept, once the job's final
  :class:`~ai_tasks.contracts.AIResult` is stored and, when the worker
  delivers results to the API, POSTed (``ai_tasks/tasks/jobs.py``). A stored
  result whose delivery message was lost gets its delivery enqueued again.
* **Progress** (:func:`progress`): the dispatcher's hand-over and the start
  of each of the job's steps push the entry's deadline one whole window
  forward (never back), so the deadline measures time *without progress*,
  not the job's age: a chain that is merely slow is not presumed lost.
* **Sweep** (:func:`sweep`, run by :class:`LedgerSweep` in every worker that
  consumes ``cpu-vision``): an entry past its deadline whose result is
  stored is settled; one whose ``ai.job`` message, or a message of one of its
  steps (any message whose ``root_id`` is the job's task id, on the job's
  queue: the dispatcher acks ``ai.job`` at the hand-over), is still queued,
  or held unacked by a worker (for at most one more deadline: a worker that
  holds it and never runs it), gets a new deadline; any other is
  **republished** (the same message with a fresh delivery tag) and gets a
  new deadline. The claim and the push are one Lua script that compares the
  entry's deadline first, so with several workers sweeping an entry is
  republished once.

A republish is safe: the job's result is stored under the same task id and
the first stored result is kept (``ai_tasks/tasks/jobs.py``); its callback
carries the same idempotency key and is posted once (``ai_tasks/delivery.py``).
The deadline is generous (:func:`job_deadline_s`: twice the hard time
limits of the job's tasks plus one full retry backoff), so a job that is
merely slow is rarely run twice. After :data:`MAX_REPUBLISHES` republishes a
job gets a FAILED result (``job_lost``) instead of another copy.

RabbitMQ has no such window; there :func:`submit_job` publishes with
publisher confirms and keeps no ledger.

Examples:
    >>> job_task_id("sheet-42") == job_task_id("sheet-42") != job_task_id("sheet-43")
    True
    >>> job_task_id("sheet-42")
    'd106562a-4775-5f32-a9b7-6a096ac159d7'
"""

from __future__ import annotations

import json
import logging
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from kombu import Exchange, Queue
from kombu.utils.json import dumps, loads

from ai_tasks.broker import TimerStep

__all__ = [
    "DISPATCH_QUEUE",
    "DONE_PREFIX",
    "DUE_KEY",
    "ENTRIES_KEY",
    "LEDGER_NAMESPACE",
    "LedgerSweep",
    "MAX_REPUBLISHES",
    "SWEEP_INTERVAL_S",
    "SweepReport",
    "is_redis_url",
    "job_deadline_s",
    "job_task_id",
    "ledger_client",
    "progress",
    "settle",
    "submit_job",
    "sweep",
]

log = logging.getLogger(__name__)

#: Hash: task id -> the entry (JSON: the message, its queue key, the job's ids, attempts).
ENTRIES_KEY = "ai:ledger:jobs"
#: Sorted set: task id scored by its deadline (epoch milliseconds).
DUE_KEY = "ai:ledger:due"
#: A settled task id (kept as long as results are): a second submit publishes nothing.
DONE_PREFIX = "ai:ledger:done:"
#: Where ``ai.job`` runs (the dispatcher's queue).
DISPATCH_QUEUE = "cpu-vision"
#: The namespace of task ids derived from job ids.
LEDGER_NAMESPACE = uuid.UUID("5b0e6c55-8a4b-4d0c-9a76-2f3c9d1e7a10")
#: After this many republishes the job is answered ``job_lost`` instead.
MAX_REPUBLISHES = 3
#: How often a worker sweeps the ledger.
SWEEP_INTERVAL_S = 15.0
#: Entries looked at per sweep (the rest wait for the next one).
SWEEP_BATCH = 200
#: How long a tombstone blocks a second submit (as long as results are kept).
DONE_TTL_S = 7 * 24 * 3600
#: Kombu's Redis transport keeps delivered, unacked messages in this hash.
UNACKED_KEY = "unacked"

# KEYS: entries, due, done tombstone, queue list. ARGV: task id, entry, deadline ms, message.
_SUBMIT = """
if redis.call('EXISTS', KEYS[3]) == 1 or redis.call('HEXISTS', KEYS[1], ARGV[1]) == 1 then return 0 end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
redis.call('ZADD', KEYS[2], ARGV[3], ARGV[1])
redis.call('LPUSH', KEYS[4], ARGV[4])
return 1
"""
# KEYS: entries, due, queue list. ARGV: task id, deadline seen, new deadline, new entry, message or ''.
_RESCHEDULE = """
local seen = redis.call('ZSCORE', KEYS[2], ARGV[1])
if not seen or tonumber(seen) ~= tonumber(ARGV[2]) then return 0 end
redis.call('ZADD', KEYS[2], ARGV[3], ARGV[1])
redis.call('HSET', KEYS[1], ARGV[1], ARGV[4])
if ARGV[5] ~= '' then redis.call('LPUSH', KEYS[3], ARGV[5]) end
return 1
"""
# KEYS: entries, due. ARGV: task id, now ms, window ms when the entry names none.
# The entry's own window (submit_job's deadline_s) wins; the deadline only moves forward.
_PROGRESS = """
local raw = redis.call('HGET', KEYS[1], ARGV[1])
if not raw then return 0 end
local window = tonumber(ARGV[3])
local ok, entry = pcall(cjson.decode, raw)
if ok and type(entry) == 'table' and tonumber(entry['deadline_s']) then window = 1000 * tonumber(entry['deadline_s']) end
local due = math.floor(tonumber(ARGV[2]) + window)
local seen = redis.call('ZSCORE', KEYS[2], ARGV[1])
if seen and tonumber(seen) >= due then return 0 end
redis.call('ZADD', KEYS[2], due, ARGV[1])
return 1
"""
# KEYS: entries, due, done tombstone. ARGV: task id, tombstone ttl.
_SETTLE = """
if redis.call('HDEL', KEYS[1], ARGV[1]) == 0 then return 0 end
redis.call('ZREM', KEYS[2], ARGV[1])
redis.call('SET', KEYS[3], '1', 'EX', ARGV[2])
return 1
"""


def job_task_id(job_id: object) -> str:
    """The ``ai.job`` task id (the result id) of a job id: the same id every time."""
    return str(uuid.uuid5(LEDGER_NAMESPACE, f"ai.job:{job_id}"))


def is_redis_url(url: str | None) -> bool:
    """Whether a broker URL is a Redis one (the ledger's home).

    Examples:
        >>> is_redis_url("redis://h:6379/0"), is_redis_url("amqp://guest@h//"), is_redis_url(None)
        (True, False, False)
    """
    return bool(url) and str(url).startswith(("redis://", "rediss://"))


def _hard_limit_s(app: Any, task_name: str) -> float:
    annotations = app.conf.task_annotations
    own = annotations.get(task_name, {}) if isinstance(annotations, Mapping) else {}
    return float(own.get("time_limit") or app.conf.task_time_limit or 300)


def job_deadline_s(app: Any, job_type: object) -> float:
    """Seconds after which a job with no result is presumed lost: generous by design.

    Twice the hard time limits of every task the job may use (the
    dispatcher, each step or the single task) plus one full
    retry backoff. An unknown type gets the OMR chain's figure (the
    dispatcher answers it at once anyway).
    """
    from ai_tasks.jobs import JOBS

    spec = JOBS.get(job_type) if isinstance(job_type, str) else None
    spec = spec or JOBS["omr_grading"]
    tasks = ("ai.job", *spec.tasks)
    backoff = float(app.conf.get("RETRY_BACKOFF_MAX_S") or 300)
    return 2 * sum(_hard_limit_s(app, t) for t in tasks) + backoff


def _now_ms() -> int:
    return int(time.time() * 1000)


_clients: dict[str, Any] = {}


def ledger_client(url: str) -> Any:
    """One Redis client per broker URL and process."""
    client = _clients.get(url)
    if client is None:
        import redis

        client = _clients[url] = redis.Redis.from_url(url, socket_timeout=10, socket_connect_timeout=10)
    return client


def _build_message(app: Any, conn: Any, job: Mapping[str, Any], task_id: str, queue: str) -> tuple[str, Any]:
    """The ``ai.job`` message exactly as ``send_task`` would push it: (list key, message dict).

    Celery builds it (routing, headers, redacted reprs) and kombu encodes it;
    the channel's ``_put`` (kombu's LPUSH) is replaced for this one publish by
    a function that keeps the message instead.
    """
    channel = conn.default_channel
    kept: list[tuple[str, Any]] = []

    original = channel._put

    def keep(queue_name: str, message: Any, **kwargs: Any) -> None:
        if queue_name != queue:  # not ours (kombu routes events elsewhere on Redis anyway)
            original(queue_name, message, **kwargs)
            return
        key = channel._q_for_pri(queue_name, channel._get_message_priority(message, reverse=False))
        kept.append((key, message))

    declared = app.amqp.queues.get(queue) or Queue(queue, Exchange(queue, type="direct"), routing_key=queue)
    declared(channel).declare()  # the binding a direct publish is routed by
    channel._put = keep
    try:
        producer = app.amqp.Producer(channel, auto_declare=False)
        app.send_task("ai.job", args=[dict(job)], task_id=task_id, queue=queue, producer=producer)
    finally:
        del channel._put
    if len(kept) != 1:
        raise RuntimeError(f"expected one message for queue {queue!r}, got {len(kept)}")
    return kept[0]


def submit_job(
    app: Any,
    job: Mapping[str, Any],
    *,
    task_id: str | None = None,
    queue: str = DISPATCH_QUEUE,
    deadline_s: float | None = None,
) -> str:
    """Submit an AIJob dict to ``ai.job``; returns its task id (where its AIResult will be).

    On a Redis broker the message and its ledger entry are written by one
    Lua script, and a second submit of the same task id (by default: the same
    job id) publishes nothing. On another broker the message is published
    with publisher confirms (RabbitMQ keeps it from then on).

    Args:
        app: the client's Celery app (any app pointing at the workers' broker and backend).
        job: the AIJob dict; ``id`` is required.
        task_id: the result id; default :func:`job_task_id` of the job id.
        queue: where ``ai.job`` runs.
        deadline_s: seconds before the sweeper republishes a job with no
            result; default :func:`job_deadline_s` of the job's type.
    """
    if not isinstance(job, Mapping) or job.get("id") in (None, ""):
        raise ValueError("a job needs an 'id' to be submitted through the ledger")
    task_id = task_id or job_task_id(job["id"])
    url = app.conf.broker_url
    if not is_redis_url(url):
        options = {**(app.conf.broker_transport_options or {}), "confirm_publish": True}
        with app.connection_for_write(transport_options=options) as conn:
            producer = app.amqp.Producer(conn)
            app.send_task("ai.job", args=[dict(job)], task_id=task_id, queue=queue, producer=producer)
        return task_id
    with app.connection_for_write() as conn:
        key, message = _build_message(app, conn, job, task_id, queue)
    window_s = float(deadline_s if deadline_s is not None else job_deadline_s(app, job.get("type")))
    now_ms = _now_ms()
    deadline_ms = now_ms + int(1000 * window_s)
    entry = {
        "task_id": task_id, "job_id": str(job["id"]), "type": job.get("type"), "source_id": job.get("source_id"),
        "queue_key": key, "message": dumps(message), "attempts": 0, "submitted_ms": now_ms, "deadline_s": window_s,
    }
    client = ledger_client(url)
    written = client.eval(_SUBMIT, 4, ENTRIES_KEY, DUE_KEY, DONE_PREFIX + task_id, key,
                          task_id, json.dumps(entry), deadline_ms, entry["message"])
    if not written:
        log.info("job %s already submitted (task %s): not published again", job["id"], task_id)
    return task_id


def settle(app: Any, task_id: str | None) -> bool:
    """Mark a job's ledger entry done (its final result is stored). False when there was none.

    A no-op on a broker that is not Redis; never raises (the sweep settles
    an entry whose result it finds stored).
    """
    url = app.conf.broker_url
    if not task_id or not is_redis_url(url):
        return False
    try:
        return bool(ledger_client(url).eval(_SETTLE, 3, ENTRIES_KEY, DUE_KEY, DONE_PREFIX + task_id,
                                            task_id, DONE_TTL_S))
    except Exception as exc:  # the sweep finds the stored result later
        log.warning("ledger entry of %s not settled (%s): the sweep will", task_id, type(exc).__name__)
        return False


def progress(app: Any, task_id: str | None, job_type: object = None) -> bool:
    """The job made progress (handed over, a step started): push its deadline one window forward.

    Called by the dispatcher after its hand-over and by every step of a
    dispatched job (``ai_tasks/tasks/jobs.py``, ``ai_tasks/tasks/steps.py``).
    False when there is no entry (settled, not submitted through the ledger,
    not Redis) or the deadline is already later. Never raises: a missed push
    only leaves the sweep to find the step's message where it waits.
    """
    url = app.conf.broker_url
    if not task_id or not is_redis_url(url):
        return False
    try:
        window_ms = int(1000 * job_deadline_s(app, job_type))
        return bool(ledger_client(url).eval(_PROGRESS, 2, ENTRIES_KEY, DUE_KEY, task_id, _now_ms(), window_ms))
    except Exception as exc:
        log.warning("ledger deadline of %s not pushed (%s)", task_id, type(exc).__name__)
        return False


@dataclass
class SweepReport:
    """What one sweep did, entry by entry counted."""

    settled: int = 0
    redelivered: int = 0
    waiting: int = 0
    republished: int = 0
    given_up: int = 0


def _redelivered_copy(message: Mapping[str, Any]) -> str:
    """The message as kombu pushes it back on a restore (``_do_restore_message``)."""
    copy = loads(dumps(message))
    try:
        copy["headers"]["redelivered"] = True
        copy["properties"]["delivery_info"]["redelivered"] = True
    except KeyError:
        pass
    return str(dumps(copy))


def _where(client: Any, entry: Mapping[str, Any], unacked_key: str) -> str:
    """Where the entry's message is: ``queued``, ``held`` (unacked by a worker) or ``nowhere``."""
    message = loads(entry["message"])
    key = entry["queue_key"]
    if any(client.lpos(key, raw) is not None for raw in (entry["message"], _redelivered_copy(message))):
        return "queued"
    tag = message.get("properties", {}).get("delivery_tag")
    if tag and client.hexists(unacked_key, tag):
        return "held"
    return "nowhere"


def _queue_keys(queue: str) -> list[str]:
    """The Redis lists kombu keeps one queue in (one per priority step)."""
    from kombu.transport.redis import Channel

    return [queue] + [f"{queue}{Channel.sep}{pri}" for pri in Channel.priority_steps if pri]


def _root_id(raw: Any) -> str | None:
    try:
        message = loads(raw)
        if isinstance(message, list):  # kombu's unacked hash: [message, exchange, routing key]
            message = message[0]
        return str(message["headers"]["root_id"])
    except Exception:  # not a Celery message, or not ours to read
        return None


class _StepIndex:
    """The root ids of the messages queued and held unacked, read at most once per sweep.

    A step's message carries its job's ``root_id``: the ``ai.job`` task id,
    which is the ledger's key. One ``LRANGE`` per queue and one ``HVALS`` of
    the unacked hash, and only when an entry past its deadline needs them.
    """

    def __init__(self, client: Any, unacked_key: str) -> None:
        self._client = client
        self._unacked_key = unacked_key
        self._queued: dict[str, set[str]] = {}
        self._held: set[str] | None = None

    def where(self, task_id: str, queue: str) -> str:
        """``queued``, ``held`` or ``nowhere``: where a step of the job ``task_id`` on ``queue`` is."""
        queued = self._queued.get(queue)
        if queued is None:
            queued = self._queued[queue] = {
                rid for key in _queue_keys(queue) for raw in self._client.lrange(key, 0, -1)
                if (rid := _root_id(raw)) is not None
            }
        if task_id in queued:
            return "queued"
        if self._held is None:
            self._held = {rid for raw in self._client.hvals(self._unacked_key) if (rid := _root_id(raw)) is not None}
        return "held" if task_id in self._held else "nowhere"


def _job_queue(entry: Mapping[str, Any]) -> str:
    from ai_tasks.jobs import JOBS

    kind = entry.get("type")
    spec = JOBS.get(kind) if isinstance(kind, str) else None
    return spec.queue if spec is not None else DISPATCH_QUEUE


def _stored(app: Any, task_id: str) -> Any:
    """The final result stored under ``task_id`` (an AIResult, or an exception), else None."""
    meta = app.backend.get_task_meta(task_id)
    return meta.get("result") if meta.get("status") in ("SUCCESS", "FAILURE") else None


def _give_up(app: Any, entry: Mapping[str, Any], conclude: Any) -> None:
    """A job republished MAX_REPUBLISHES times and still without a result: answer it job_lost."""
    from celery import states

    from ai_tasks.contracts import AIResult

    text = f"no result after {entry['attempts']} republishes by the job ledger"
    result = AIResult.failed(entry["job_id"], "job_lost", text).to_dict()
    app.backend.store_result(entry["task_id"], result, states.SUCCESS)
    log.error("job %s lost %d times: answered job_lost", entry["job_id"], entry["attempts"])
    settle(app, entry["task_id"])
    if conclude is not None:
        conclude(result, _job_of(entry), entry["task_id"])


def _job_of(entry: Mapping[str, Any]) -> dict[str, Any]:
    return {"id": entry["job_id"], "type": entry.get("type"), "source_id": entry.get("source_id")}


def sweep(app: Any, client: Any, *, now_ms: int | None = None, unacked_key: str = UNACKED_KEY,
          batch: int = SWEEP_BATCH, conclude: Any = None, redeliver: Any = None) -> SweepReport:
    """One pass over the entries past their deadline (see the module's docstring).

    ``conclude(result, job, task_id)`` is called for a job answered
    ``job_lost`` (the worker passes the one that delivers it to the API).
    ``redeliver(result, job, task_id) -> bool`` is called for a job whose
    result is stored but whose entry is not settled: true when nothing is
    left to deliver (the entry is settled), false when it enqueued the
    delivery again (its message was lost too; the entry waits one more
    deadline). Without it a stored result settles the entry.
    """
    now_ms = _now_ms() if now_ms is None else now_ms
    report = SweepReport()
    steps = _StepIndex(client, unacked_key)
    for raw_id, seen in client.zrangebyscore(DUE_KEY, "-inf", now_ms, start=0, num=batch, withscores=True):
        task_id = raw_id.decode() if isinstance(raw_id, bytes) else str(raw_id)
        raw = client.hget(ENTRIES_KEY, task_id)
        if raw is None:
            client.zrem(DUE_KEY, task_id)
            continue
        entry = json.loads(raw)
        window_s = entry.get("deadline_s")
        window_ms = int(1000 * float(job_deadline_s(app, entry.get("type")) if window_s is None else window_s))
        next_ms = now_ms + window_ms
        stored = _stored(app, task_id)
        if stored is not None:
            attempts = int(entry.get("attempts") or 0)
            if redeliver is None or attempts >= MAX_REPUBLISHES or redeliver(stored, _job_of(entry), task_id):
                client.eval(_SETTLE, 3, ENTRIES_KEY, DUE_KEY, DONE_PREFIX + task_id, task_id, DONE_TTL_S)
                report.settled += 1
            else:
                kept = {**entry, "attempts": attempts + 1}
                client.eval(_RESCHEDULE, 3, ENTRIES_KEY, DUE_KEY, entry["queue_key"],
                            task_id, int(seen), next_ms, json.dumps(kept), "")
                log.warning("job %s has its result but no delivery by its deadline: delivery enqueued again",
                            entry["job_id"])
                report.redelivered += 1
            continue
        where = _where(client, entry, unacked_key)
        if where == "nowhere":  # handed over: the job lives on in its steps' messages
            where = steps.where(task_id, _job_queue(entry))
        held_since = int(entry.get("held_since_ms") or 0) if where == "held" else 0
        # Queued: a backlog, however long. Held: a worker has it, but not for more
        # than one more deadline (a worker that holds it and never runs it).
        if where == "queued" or (where == "held" and (not held_since or now_ms - held_since < window_ms)):
            kept = {**entry, "held_since_ms": (held_since or now_ms) if where == "held" else 0}
            client.eval(_RESCHEDULE, 3, ENTRIES_KEY, DUE_KEY, entry["queue_key"],
                        task_id, int(seen), next_ms, json.dumps(kept), "")
            report.waiting += 1
            continue
        if int(entry.get("attempts") or 0) >= MAX_REPUBLISHES:
            if client.eval(_RESCHEDULE, 3, ENTRIES_KEY, DUE_KEY, entry["queue_key"],
                           task_id, int(seen), next_ms, raw, ""):
                _give_up(app, entry, conclude)
                report.given_up += 1
            continue
        message = loads(entry["message"])
        message["properties"]["delivery_tag"] = str(uuid.uuid4())  # a new copy, not the lost one
        fresh = dumps(message)
        entry = {**entry, "message": fresh, "attempts": int(entry.get("attempts") or 0) + 1, "held_since_ms": 0}
        if client.eval(_RESCHEDULE, 3, ENTRIES_KEY, DUE_KEY, entry["queue_key"],
                       task_id, int(seen), next_ms, json.dumps(entry), fresh):
            log.warning("job %s had no result by its deadline and its message is nowhere: republished "
                        "(attempt %d, task %s)", entry["job_id"], entry["attempts"], task_id)
            report.republished += 1
    return report


class LedgerSweep(TimerStep):
    """Consumer bootstep: sweep the job ledger every :data:`SWEEP_INTERVAL_S` (Redis, ``cpu-vision``)."""

    def schedule(self, c: Any) -> tuple[float, Any, tuple[Any, ...]] | None:
        app = c.app
        url = app.conf.broker_url
        queues = app.amqp.queues
        consumed = set(queues.consume_from or queues)
        if not is_redis_url(url) or DISPATCH_QUEUE not in consumed:
            return None
        unacked_key = str((app.conf.broker_transport_options or {}).get("unacked_key") or UNACKED_KEY)
        client = ledger_client(url)

        def run() -> None:
            from ai_tasks.tasks.jobs import conclude, redeliver_stored

            try:
                report = sweep(app, client, unacked_key=unacked_key, conclude=conclude, redeliver=redeliver_stored)
            except Exception as exc:  # the broker is away: the next sweep tries again
                log.warning("ledger sweep skipped: %s: %s", type(exc).__name__, exc)
                return
            if report.republished or report.given_up or report.redelivered:
                log.warning("ledger sweep: %s", report)

        return SWEEP_INTERVAL_S, run, ()
