"""The one routing table: which queue runs which task.

Three queues, each scaled on its own (``celery -A ai_tasks worker -Q <queue>``):

* ``cpu-vision`` - image work on CPUs: OMR, OCR, segmentation, handwriting, video.
* ``gpu-embed``  - text embeddings (a GPU box, or a CPU box with torch).
* ``llm``        - calls to a hosted LLM: slow, I/O bound, rate limited.

:data:`TASK_QUEUES` (task name -> queue) is derived, never written by hand:
the tasks of :data:`PLUMBING_TASKS` (the dispatcher and how a job ends) plus
every task of every job in the registry (:data:`ai_tasks.jobs.JOBS`) on that
job's queue. ``celeryconfig.task_routes`` is built from it; nothing else
decides a queue.

Examples:
    >>> from ai_tasks.routing import TASK_QUEUES
    >>> TASK_QUEUES["ai.omr.grade"], TASK_QUEUES["ai.embed"], TASK_QUEUES["ai.job"]
    ('cpu-vision', 'gpu-embed', 'cpu-vision')
    >>> sorted(set(TASK_QUEUES.values())) == sorted(QUEUE_NAMES)
    True
"""

from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING, Any, Final

from kombu import Exchange, Queue

__all__ = [
    "BROKER_RETURNS_ALLOWED",
    "DEAD_LETTER_EXCHANGE",
    "DEAD_LETTER_QUEUE",
    "PLUMBING_TASKS",
    "QUEUE_NAMES",
    "TASK_QUEUES",
    "build_queues",
    "task_queues",
]

CPU_VISION: Final = "cpu-vision"
GPU_EMBED: Final = "gpu-embed"
LLM: Final = "llm"
QUEUE_NAMES: Final[tuple[str, ...]] = (CPU_VISION, GPU_EMBED, LLM)

#: Where poison messages go on RabbitMQ (delivery limit exceeded).
DEAD_LETTER_EXCHANGE: Final = "ai.dead-letter"
DEAD_LETTER_QUEUE: Final = "ai.dead-letter"

#: Returns of a message that never reached a task (its worker or the broker dropped first) that
#: RabbitMQ's delivery limit allows beyond our poison limit: issue-18 chaos saw 4 in an hour of
#: pool kills every 4 s and broker restarts every 90 s; 20 is a bad day's worth with room to spare.
BROKER_RETURNS_ALLOWED: Final = 20

#: The tasks that are no job's step (``ai_tasks/tasks/jobs.py``) -> queue.
PLUMBING_TASKS: Final[dict[str, str]] = {
    # the legacy entry point; dispatches by AIJob.type
    "ai.job": CPU_VISION,
    # how a job ends: finalize/deliver are sent to the job's own queue
    # (jobs.py sets it per job); failed runs inline as the chain's errback
    "ai.job.finalize": CPU_VISION,
    "ai.job.failed": CPU_VISION,
    "ai.job.deliver": CPU_VISION,
}

if TYPE_CHECKING:
    #: task name -> queue: :data:`PLUMBING_TASKS` and every job's tasks (:func:`task_queues`).
    TASK_QUEUES: dict[str, str]


@cache
def task_queues() -> dict[str, str]:
    """Task name -> queue: the plumbing tasks, then every job task on its job's queue.

    Built on first use (the registry imports this module for the queue names).
    """
    from ai_tasks.jobs import JOBS

    table = dict(PLUMBING_TASKS)
    for spec in JOBS.values():
        for task in spec.tasks:
            if table.setdefault(task, spec.queue) != spec.queue:
                raise ValueError(f"task {task} is on two queues")  # pragma: no cover - a registry typo
    return table


def __getattr__(name: str) -> Any:
    """``TASK_QUEUES``, derived from the registry when first asked for."""
    if name == "TASK_QUEUES":
        return task_queues()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def build_queues(*, amqp: bool, quorum: bool = True, max_deliveries: int = 3) -> tuple[Queue, ...]:
    """The three queues, declared explicitly.

    On RabbitMQ they are quorum queues with a delivery limit and a
    dead-letter exchange: the broker's own backstop against a poison message.
    The limit is :data:`BROKER_RETURNS_ALLOWED` above ``max_deliveries``:
    the broker counts every return of an unacked message, also a message a
    worker had prefetched and never started when its connection dropped (a
    worker killed, the broker restarted), while our counter
    (:mod:`ai_tasks.poison`) counts only deliveries that reached a task. So
    ours fires first and fails the task with a readable ``poison_message``
    result; the broker's acts only when Redis is unreachable, and what it
    dead-letters is answered by :mod:`ai_tasks.dead_letters`.

    Examples:
        >>> [q.name for q in build_queues(amqp=False)]
        ['cpu-vision', 'gpu-embed', 'llm']
        >>> build_queues(amqp=True, max_deliveries=3)[0].queue_arguments["x-delivery-limit"]
        23
    """
    args: dict[str, object] | None = None
    if amqp and quorum:
        args = {
            "x-queue-type": "quorum",
            # quorum semantics: dead-lettered after more than this many returns
            "x-delivery-limit": max_deliveries + BROKER_RETURNS_ALLOWED,
            "x-dead-letter-exchange": DEAD_LETTER_EXCHANGE,
            "x-dead-letter-routing-key": "dead",
        }
    return tuple(
        Queue(name, Exchange(name, type="direct", durable=True), routing_key=name, durable=True, queue_arguments=args)
        for name in QUEUE_NAMES
    )
