"""The one routing table: which queue runs which task.

Three queues, each scaled on its own (``celery -A ai_tasks worker -Q <queue>``):

* ``cpu-vision`` - image work on CPUs: OMR, OCR, segmentation, handwriting, video.
* ``gpu-embed``  - text embeddings (a GPU box, or a CPU box with torch).
* ``llm``        - calls to a hosted LLM: slow, I/O bound, rate limited.

``celeryconfig.task_routes`` is built from :data:`TASK_QUEUES`; nothing else
decides a queue. Which tasks run which job is the job registry's business
(:mod:`ai_tasks.jobs`); a test checks that both agree.

Examples:
    >>> TASK_QUEUES["ai.omr.grade"]
    'cpu-vision'
    >>> TASK_QUEUES["ai.embed"]
    'gpu-embed'
    >>> sorted(set(TASK_QUEUES.values())) == sorted(QUEUE_NAMES)
    True
"""

from __future__ import annotations

from typing import Final

from kombu import Exchange, Queue

__all__ = [
    "DEAD_LETTER_EXCHANGE",
    "DEAD_LETTER_QUEUE",
    "QUEUE_NAMES",
    "TASK_QUEUES",
    "build_queues",
]

CPU_VISION: Final = "cpu-vision"
GPU_EMBED: Final = "gpu-embed"
LLM: Final = "llm"
QUEUE_NAMES: Final[tuple[str, ...]] = (CPU_VISION, GPU_EMBED, LLM)

#: Where poison messages go on RabbitMQ (delivery limit exceeded).
DEAD_LETTER_EXCHANGE: Final = "ai.dead-letter"
DEAD_LETTER_QUEUE: Final = "ai.dead-letter"

#: task name -> queue. Every registered task must appear here.
TASK_QUEUES: Final[dict[str, str]] = {
    # the legacy entry point; dispatches by AIJob.type
    "ai.job": CPU_VISION,
    # OMR: single-task path and the four chain steps
    "ai.omr.grade": CPU_VISION,
    "ai.omr.fetch": CPU_VISION,
    "ai.omr.warp": CPU_VISION,
    "ai.omr.identifier": CPU_VISION,
    "ai.omr.answers": CPU_VISION,
    # the image jobs
    "ai.ocr": CPU_VISION,
    "ai.segment": CPU_VISION,
    "ai.handwriting": CPU_VISION,
    "ai.homework.video": CPU_VISION,
    "ai.wrong_note": CPU_VISION,
    # the text jobs
    "ai.embed": GPU_EMBED,
    "ai.problem.generate": LLM,
    # how a job ends: finalize/deliver are sent to the job's own queue
    # (jobs.py sets it per job); failed runs inline as the chain's errback
    "ai.job.finalize": CPU_VISION,
    "ai.job.failed": CPU_VISION,
    "ai.job.deliver": CPU_VISION,
}

def build_queues(*, amqp: bool, quorum: bool = True, max_deliveries: int = 3) -> tuple[Queue, ...]:
    """The three queues, declared explicitly.

    On RabbitMQ they are quorum queues with a delivery limit and a
    dead-letter exchange: the broker's own backstop against a poison message.
    The limit is one above ``max_deliveries`` so that our Redis counter
    (:mod:`ai_tasks.poison`) normally fires first and fails the task with a
    readable ``poison_message`` result; the broker limit only acts if Redis
    is unreachable.

    Examples:
        >>> [q.name for q in build_queues(amqp=False)]
        ['cpu-vision', 'gpu-embed', 'llm']
        >>> build_queues(amqp=True, max_deliveries=3)[0].queue_arguments["x-delivery-limit"]
        3
    """
    args: dict[str, object] | None = None
    if amqp and quorum:
        args = {
            "x-queue-type": "quorum",
            # quorum semantics: dead-lettered after more than this many returns
            "x-delivery-limit": max_deliveries,
            "x-dead-letter-exchange": DEAD_LETTER_EXCHANGE,
            "x-dead-letter-routing-key": "dead",
        }
    return tuple(
        Queue(name, Exchange(name, type="direct", durable=True), routing_key=name, durable=True, queue_arguments=args)
        for name in QUEUE_NAMES
    )
