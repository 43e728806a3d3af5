"""Celery configuration of ai-worker: every setting, routes included, lives here.

Values that differ between deployments come from the environment through
:mod:`ai_tasks.settings` (``docs/configuration.md``); the rest are choices
explained where they are made (``docs/operations.md`` says what each
reliability setting protects against).
"""

from __future__ import annotations

from ai_tasks.jobs import JOBS
from ai_tasks.routing import LLM, TASK_QUEUES, build_queues
from ai_tasks.settings import get_settings

_s = get_settings()

# --- brokers -----------------------------------------------------------------
broker_url = _s.broker_url or "redis://127.0.0.1:6379/0"
result_backend = _s.resolved_result_backend
_is_amqp = broker_url.startswith(("amqp://", "amqps://", "pyamqp://"))
broker_connection_retry_on_startup = True

# --- serialization: JSON only; a pickled message is refused, not executed ----
task_serializer = "json"
result_serializer = "json"
accept_content = ["json"]
result_accept_content = ["json"]
event_serializer = "json"

# --- time limits per task (seconds): soft raises inside the task, hard kills --
# Every job task's limits are in its spec (ai_tasks/jobs/<job>.py, Step and
# single_time_limit_s); here only the tasks that are no job's step.
TASK_TIME_LIMITS_S: dict[str, tuple[int, int]] = {
    "ai.job.deliver": (30, 60),
    **{task: limit for spec in JOBS.values() for task, limit in spec.time_limits_s.items()},
}
# ai.job prepares every job (a legacy template fetch included) and runs the
# single pipeline of the jobs on its own queue (OMR) itself: their limits, at least 60/90 s.
TASK_TIME_LIMITS_S["ai.job"] = max([(60, 90)] + [
    spec.single_time_limit_s for spec in JOBS.values()
    if spec.single_time_limit_s and spec.queue == TASK_QUEUES["ai.job"]
])
task_soft_time_limit = 60
task_time_limit = 90
task_annotations: dict[str, dict[str, object]] = {
    name: {"soft_time_limit": soft, "time_limit": hard}
    for name, (soft, hard) in TASK_TIME_LIMITS_S.items()
}
# Intermediate chain steps hand their state to the next step in the message;
# storing it (and a STARTED state) in the backend too would only add latency.
# Their monitoring events (received, started, succeeded, and the task-sent of the
# hand-over) were 4 of the 6 Redis PUBLISHes per step and a third of the chain's
# per-task CPU: off unless AI_WORKER_STEP_EVENTS asks for them. A job still shows in
# Flower as its ai.job and its last step; a failing step still fails the job
# (ai.job.failed). RedactingAMQP drops the task-sent event of a task whose
# send_events is False.
for _spec in JOBS.values():
    for _step in _spec.steps[:-1]:
        # the worker logs a step's return value (its state) cut to this: a shorter cut is cheaper
        task_annotations[_step.task].update(ignore_result=True, track_started=False, resultrepr_maxsize=256)
        if not _s.step_events:
            task_annotations[_step.task]["send_events"] = False
task_annotations["ai.job.finalize"] = {"ignore_result": True, "track_started": False}

# --- retries: any error whose ``retryable`` is true (ai_tasks/task.py) --------
# Exponential backoff 2, 4, 8 ... s with full jitter, capped; Retry-After wins
# when an engine sends one. The same policy for every task.
RETRY_BACKOFF_MAX_S = _s.retry_backoff_max_s
# The llm queue calls a rate-limited provider: Celery's rate limit is per
# worker, so set the provider's requests per minute / number of llm workers.
if _s.llm_rate_limit:
    for _name, _queue in TASK_QUEUES.items():
        if _queue == LLM:
            task_annotations[_name]["rate_limit"] = _s.llm_rate_limit
task_annotations["*"] = {
    "max_retries": _s.max_retries,
    "retry_backoff": 2,
    "retry_backoff_max": RETRY_BACKOFF_MAX_S,
    "retry_jitter": True,
}

# Result delivery outlives an API outage: the API answering 503 for a minute
# exhausted the step retry budget above. Backoff capped at 60 s, 60 retries:
# about an hour (ai_tasks/tasks/jobs.py:deliver).
DELIVERY_MAX_RETRIES = 60
DELIVERY_RETRY_BACKOFF_MAX_S = 60

# --- never lose a job --------------------------------------------------------
# Ack after the task ran, not when it was received: a worker that dies mid-job
# leaves the message on the broker and another worker runs it.
task_acks_late = True
# A pool process killed (OOM, SIGKILL) also requeues its message...
task_reject_on_worker_lost = True
# ...and a message that kills its worker every time is stopped after
# MAX_DELIVERIES deliveries (Redis: counter in ai_tasks/poison.py; RabbitMQ:
# quorum queue x-delivery-limit + dead-letter exchange).
MAX_DELIVERIES = _s.max_deliveries
# One message at a time per process, so a long OMR job does not hold others hostage.
worker_prefetch_multiplier = 1
task_track_started = True
# Redis redelivers an unacked message once it is older than visibility_timeout.
# A live worker renews the leases of the messages it holds (ai_tasks/broker.py,
# every VISIBILITY_TIMEOUT_S / 6 s), so long jobs and retries waiting for their
# ETA never expire, and the timeout only measures how long a *dead* worker's
# messages wait: one short value serves every queue. A message comes back
# within VISIBILITY_TIMEOUT_S + UNACKED_RESTORE_INTERVAL_S after its worker's
# main process died or Redis lost it (docs/operations.md). RabbitMQ redelivers
# as soon as the consumer's connection drops.
VISIBILITY_TIMEOUT_S = 60
#: How often a worker sweeps the unacked set (kombu's default is ~100 s).
UNACKED_RESTORE_INTERVAL_S = 5
#: A sweep holds a Redis mutex for milliseconds; a worker killed while holding
#: it would block every sweep for kombu's default 300 s.
UNACKED_MUTEX_EXPIRE_S = 15
broker_transport_options = {
    "visibility_timeout": VISIBILITY_TIMEOUT_S,
    "unacked_restore_interval": UNACKED_RESTORE_INTERVAL_S,
    "unacked_restore_throttle": 1,
    "unacked_mutex_expire": UNACKED_MUTEX_EXPIRE_S,
}
# RabbitMQ: every publish of the workers' own (a chain's hand-over to its next step, a
# retry, a delivery) waits for the broker's confirm, so a publish written to a connection
# that a broker restart has just closed raises (and is retried, ai_tasks/task.py) instead of
# vanishing (issue-18 chaos: a hand-over 3 s after a restart never arrived). Clients that
# submit through ai_tasks.ledger.submit_job confirm already.
if _is_amqp:
    broker_transport_options["confirm_publish"] = True
result_backend_transport_options = {"visibility_timeout": VISIBILITY_TIMEOUT_S}
# A broker or backend that is away (a restart) is waited for, not given up on:
# publishes retry for about 25 s (a step that still cannot hand over requeues
# its own message, ai_tasks/task.py), result writes for about 2 minutes.
task_publish_retry = True
task_publish_retry_policy = {"max_retries": 10, "interval_start": 0.5, "interval_step": 1.0, "interval_max": 3.0}
result_backend_always_retry = True
result_backend_max_retries = 30
result_backend_max_sleep_between_retries_ms = 5000
# Messages larger than this are refused before they are decoded, with a FAILED
# result (payload_too_large): a legitimate job is a few kilobytes (ids, URLs, a
# template of at most a few thousand bubbles); a 60 MB one made the worker's
# main process grow by 700 MB for good. RabbitMQ: also set max_message_size.
MAX_MESSAGE_BYTES = 2 * 1024 * 1024
result_expires = 7 * 24 * 3600
# Not result_extended: it would copy task arguments (a legacy payload may
# carry a cookie) into the result backend.
result_extended = False

# --- queues: declared explicitly, nothing created on the fly ----------------
task_create_missing_queues = False
task_queues = build_queues(amqp=_is_amqp, quorum=_s.rabbitmq_quorum, max_deliveries=MAX_DELIVERIES)
task_default_queue = "cpu-vision"
task_default_exchange = "cpu-vision"
task_default_routing_key = "cpu-vision"
task_routes = {name: {"queue": queue} for name, queue in TASK_QUEUES.items()}

# --- workers ------------------------------------------------------------------
imports = ("ai_tasks.tasks.jobs", "ai_tasks.tasks.steps")
# Vision children grow with big photos; recycle them before they bloat.
worker_max_memory_per_child = _s.max_memory_per_child_kb
# Models are loaded in worker_process_init; give that time before the pool
# declares the child dead.
worker_proc_alive_timeout = _s.proc_alive_timeout_s

# --- events, so Flower sees everything --------------------------------------
worker_send_task_events = True
task_send_sent_event = True

# --- misc ---------------------------------------------------------------------
timezone = "UTC"
enable_utc = True
