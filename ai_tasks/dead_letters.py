"""RabbitMQ's dead letters: every job whose message the broker dead-lettered is answered FAILED.

A quorum queue dead-letters a message to ``ai.dead-letter`` once it was
returned more than its ``x-delivery-limit`` times (:func:`ai_tasks.routing.build_queues`).
Our own poison counter (:mod:`ai_tasks.poison`) normally stops a poison
message first, with a ``poison_message`` result; the broker's limit acts
when that counter is out of reach (no Redis) or when a message was returned
many times without ever reaching a task (its worker or the broker dropped
while it was prefetched; issue-18 chaos). Nothing else would then answer
the job: no result, no callback, the API waits for ever.

:class:`DeadLetterDrain` (a consumer bootstep of every RabbitMQ worker that
consumes ``cpu-vision``) takes the dead letters every
:data:`DRAIN_INTERVAL_S` and, per message (:func:`answer_dead_letter`):

* a job's message (``ai.job``, a job's step or single task): the job's
  first stored AIResult stays; without one a FAILED ``poison_message``
  AIResult is stored under the job's result id and delivered;
* a delivery (``ai.job.deliver``): the stored result is delivered again
  (the delivered marker and the idempotency key keep it to one POST);
* anything else: nothing to answer.

Each is then kept, redacted, in the Redis dead-letter list that
``ai-worker dead-letters`` prints (when the workers share a Redis), and
acked. A message that cannot be answered now (the result backend away) is
put back and the drain stops until its next turn.

Examples:
    >>> headers = {"task": "ai.segment", "id": "t-2", "root_id": "r-1"}
    >>> state = {"job": {"id": "j-1", "type": "question_segmentation", "source_id": "7", "result_id": "r-1"}}
    >>> job_of_message(headers, [[state], {}, {}])
    ({'id': 'j-1', 'type': 'question_segmentation', 'source_id': '7'}, 'r-1')
    >>> job_of_message({"task": "ai.job", "id": "r-9"}, [[{"id": "j-9", "type": "ocr"}], {}, {}])
    ({'id': 'j-9', 'type': 'ocr', 'source_id': None}, 'r-9')
    >>> job_of_message({"task": "celery.ping", "id": "x"}, [[], {}, {}]) is None
    True
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any, Literal

from kombu import Exchange, Queue

from ai_tasks.broker import TimerStep
from ai_tasks.routing import CPU_VISION, DEAD_LETTER_EXCHANGE, DEAD_LETTER_QUEUE

__all__ = ["DRAIN_BATCH", "DRAIN_INTERVAL_S", "DeadLetterDrain", "answer_dead_letter", "dead_letter_queue",
           "drain", "job_of_message"]

log = logging.getLogger(__name__)

#: How often a worker takes the dead letters (they are rare; a job waits at most this long more).
DRAIN_INTERVAL_S = 30.0
#: Dead letters answered per turn (the rest wait for the next one).
DRAIN_BATCH = 100

Answer = Literal["answered", "answered_before", "delivered_again", "not_a_job"]


def dead_letter_queue() -> Queue:
    """The queue bound to the dead-letter exchange (fanout, durable)."""
    return Queue(DEAD_LETTER_QUEUE, Exchange(DEAD_LETTER_EXCHANGE, type="fanout", durable=True),
                 routing_key="dead", durable=True)


def _args(body: Any) -> tuple[list[Any], dict[str, Any]]:
    """(args, kwargs) of a Celery protocol-2 body ``[args, kwargs, embed]``."""
    if isinstance(body, (list, tuple)) and len(body) >= 2 and isinstance(body[1], Mapping):
        return list(body[0] or []), dict(body[1])
    return [], {}


def job_of_message(headers: Mapping[str, Any], body: Any) -> tuple[dict[str, Any], str | None] | None:
    """The job (``id``, ``type``, ``source_id``) and result id a Celery message belongs to; None: no job's."""
    from ai_tasks.jobs import JOBS

    task = str(headers.get("task") or "")
    args, kwargs = _args(body)
    first = args[0] if args and isinstance(args[0], Mapping) else {}
    if task == "ai.job":
        if first.get("id") in (None, ""):
            return None
        return {"id": str(first["id"]), "type": first.get("type"), "source_id": first.get("source_id")}, \
            str(headers.get("id") or "") or None
    if task == "ai.job.deliver":
        source_id = args[1] if len(args) > 1 else kwargs.get("source_id")
        if first.get("job_id") in (None, ""):
            return None
        return {"id": str(first["job_id"]), "type": None, "source_id": source_id}, kwargs.get("result_id")
    if not any(task in spec.tasks for spec in JOBS.values()):
        return None
    job = first.get("job")
    if not isinstance(job, Mapping) or job.get("id") in (None, ""):
        return None
    return {"id": str(job["id"]), "type": job.get("type"), "source_id": job.get("source_id")}, \
        job.get("result_id") or None


def answer_dead_letter(app: Any, headers: Mapping[str, Any], body: Any) -> Answer:
    """Answer the job of one dead-lettered message (see the module's docstring); raises when it cannot now."""
    from celery import states

    from ai_tasks.contracts import AIResult
    from ai_tasks.errors import PoisonMessageError
    from ai_tasks.tasks.jobs import conclude, stored_result

    found = job_of_message(headers, body)
    if found is None:
        return "not_a_job"
    job, result_id = found
    stored = stored_result(result_id)
    if stored is not None:
        if headers.get("task") == "ai.job.deliver":
            conclude(stored, job, result_id)
            return "delivered_again"
        return "answered_before"
    exc = PoisonMessageError(
        "poison_message",
        f"{headers.get('task')} was returned by the broker more times than its delivery limit; dead-lettered",
    )
    out = AIResult.from_exception(job["id"], exc).to_dict()
    if result_id:
        app.backend.store_result(result_id, out, states.SUCCESS)
    conclude(out, job, result_id)
    return "answered"


def _keep(headers: Mapping[str, Any], body: Any, deliveries: int) -> None:
    """A redacted copy in the Redis dead-letter list (``ai-worker dead-letters``), when there is one."""
    from ai_tasks.task import delivery_counter

    counter = delivery_counter()
    if counter is None:
        return
    args, kwargs = _args(body)
    try:
        counter.dead_letter(task_name=str(headers.get("task")), task_id=str(headers.get("id")),
                            args=args, kwargs=kwargs, deliveries=deliveries)
    except Exception as exc:  # the job is answered; the copy is for an operator only
        log.warning("dead letter %s not kept in Redis (%s)", headers.get("id"), type(exc).__name__)


def _deliveries(headers: Mapping[str, Any]) -> int:
    deaths = headers.get("x-death")
    if isinstance(deaths, list) and deaths and isinstance(deaths[0], Mapping):
        return int(deaths[0].get("count") or 1)
    return int(headers.get("x-delivery-count") or 0)


def drain(app: Any, *, batch: int = DRAIN_BATCH) -> dict[str, int]:
    """Take up to ``batch`` dead letters and answer their jobs; returns how many of each outcome."""
    counts: dict[str, int] = {}
    with app.connection_for_write() as conn:
        queue = dead_letter_queue()(conn.default_channel)
        for _ in range(batch):
            message = queue.get(no_ack=False, accept=["json"])
            if message is None:
                break
            headers = dict(message.headers or {})
            try:
                outcome = answer_dead_letter(app, headers, message.decode())
            except Exception as exc:  # the backend is away: put it back, try on the next turn
                log.warning("dead letter %s not answered yet (%s)", headers.get("id"), type(exc).__name__)
                message.requeue()
                break
            _keep(headers, message.decode(), _deliveries(headers))
            message.ack()
            counts[outcome] = counts.get(outcome, 0) + 1
            level = logging.WARNING if outcome == "answered" else logging.INFO
            log.log(level, "dead letter %s (%s): %s", headers.get("id"), headers.get("task"), outcome)
    return counts


def _is_amqp(url: str | None) -> bool:
    return str(url or "").split(":", 1)[0] in ("amqp", "amqps", "pyamqp")


class DeadLetterDrain(TimerStep):
    """Consumer bootstep: :func:`drain` every :data:`DRAIN_INTERVAL_S` (RabbitMQ, ``cpu-vision`` workers)."""

    def schedule(self, c: Any) -> tuple[float, Any, tuple[Any, ...]] | None:
        app = c.app
        queues = app.amqp.queues
        if not _is_amqp(app.conf.broker_url) or CPU_VISION not in set(queues.consume_from or queues):
            return None

        def run() -> None:
            try:
                drain(app)
            except Exception as exc:  # the broker is away: the next turn tries again
                log.warning("dead-letter drain skipped: %s", type(exc).__name__)

        return DRAIN_INTERVAL_S, run, ()
