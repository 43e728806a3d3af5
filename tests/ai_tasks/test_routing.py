"""The routing table and the reliability settings hold together."""

from __future__ import annotations

import pytest

import celeryconfig
from ai_tasks.celery import app
from ai_tasks.contracts import JOB_TYPES
from ai_tasks.jobs import JOBS
from ai_tasks.routing import QUEUE_NAMES, TASK_QUEUES


def _registered() -> set[str]:
    app.loader.import_default_modules()
    # ai.test.* are probes that tests/integration/worker_app.py adds in test processes
    return {name for name in app.tasks if name.startswith("ai.") and not name.startswith("ai.test.")}


def test_every_task_has_exactly_one_route_and_every_route_a_task() -> None:
    assert _registered() == set(TASK_QUEUES)
    assert set(TASK_QUEUES.values()) == set(QUEUE_NAMES)
    assert celeryconfig.task_routes == {n: {"queue": q} for n, q in TASK_QUEUES.items()}


def test_every_legacy_job_type_is_in_the_registry_and_its_tasks_on_its_queue() -> None:
    assert set(JOB_TYPES) <= set(JOBS)
    for spec in JOBS.values():
        assert spec.tasks and all(TASK_QUEUES[task] == spec.queue for task in spec.tasks), spec.type
        assert all(task in _registered() for task in spec.tasks), spec.type


def test_limits_and_annotations_come_from_the_registry() -> None:
    annotations = app.conf.task_annotations
    for spec in JOBS.values():
        for task, (soft, hard) in spec.time_limits_s.items():
            assert (annotations[task]["soft_time_limit"], annotations[task]["time_limit"]) == (soft, hard), task
        # a chain's intermediate steps hand their state over in the message: no result stored
        for step in spec.steps:
            assert annotations[step.task].get("ignore_result", False) is (step is not spec.steps[-1]), step.task
    # the dispatcher runs the single pipeline of the jobs on its queue itself: their limits at least
    single_here = [s.single_time_limit_s for s in JOBS.values() if s.single_time_limit_s and s.queue == TASK_QUEUES["ai.job"]]
    assert all(annotations["ai.job"]["time_limit"] >= hard for _, hard in single_here)


def test_queues_are_explicit_and_json_only() -> None:
    assert [q.name for q in app.conf.task_queues] == list(QUEUE_NAMES)
    assert app.conf.task_create_missing_queues is False
    assert app.conf.accept_content == ["json"] and app.conf.task_serializer == "json"
    assert app.conf.result_accept_content == ["json"]


def test_rabbitmq_delivery_limit_is_well_above_the_poison_counter() -> None:
    """Issue-18 chaos: RabbitMQ also counts returns of messages that never ran (a worker or the broker dropped).

    Our counter (ai_tasks/poison.py) must fire first; the broker's limit is a backstop with room for them.
    """
    from ai_tasks.routing import BROKER_RETURNS_ALLOWED, DEAD_LETTER_EXCHANGE, build_queues

    assert BROKER_RETURNS_ALLOWED >= 10
    for max_deliveries in (1, 3, 10):
        for q in build_queues(amqp=True, max_deliveries=max_deliveries):
            args = q.queue_arguments
            assert args["x-delivery-limit"] >= max_deliveries + BROKER_RETURNS_ALLOWED
            assert args["x-dead-letter-exchange"] == DEAD_LETTER_EXCHANGE and args["x-queue-type"] == "quorum"
    assert all(q.queue_arguments is None for q in build_queues(amqp=True, quorum=False))


@pytest.mark.parametrize(("broker", "confirmed"), [
    ("redis://127.0.0.1:6379/0", False),
    ("amqp://guest:guest@127.0.0.1:5672//", True),
])
def test_workers_publish_with_confirms_on_rabbitmq(broker: str, confirmed: bool) -> None:
    """Issue-18 chaos: a hand-over published on a connection a broker restart had closed vanished unconfirmed."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    code = "import celeryconfig; print(celeryconfig.broker_transport_options.get('confirm_publish', False))"
    root = Path(__file__).resolve().parents[2]
    env = {**os.environ, "CELERY_BROKER_URL": broker, "PYTHONPATH": str(root)}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, cwd=root, check=True)
    assert out.stdout.strip() == str(confirmed)


def test_reliability_settings() -> None:
    c = app.conf
    assert c.task_acks_late and c.task_reject_on_worker_lost and c.worker_prefetch_multiplier == 1
    assert c.worker_send_task_events and c.task_send_sent_event
    hard = [lim["time_limit"] for lim in c.task_annotations.values() if "time_limit" in lim]
    assert c.task_annotations["*"]["max_retries"] >= 1 and c.task_annotations["*"]["retry_jitter"] is True
    # every task has its own limits, except the two that only wrap a result
    assert set(TASK_QUEUES) - {n for n, a in c.task_annotations.items() if "time_limit" in a} == {
        "ai.job.failed",
        "ai.job.finalize",
    }
    for name, lim in c.task_annotations.items():
        if "time_limit" in lim:
            assert lim["soft_time_limit"] < lim["time_limit"], name
    # leases are renewed by live workers (ai_tasks/broker.py): a dead worker's
    # message comes back within about twice the shortest hard limit
    vt = c.broker_transport_options["visibility_timeout"]
    assert vt + c.broker_transport_options["unacked_restore_interval"] <= 2 * min(hard)
    assert c.worker_max_memory_per_child >= 100_000


def test_intermediate_steps_send_no_events_unless_asked() -> None:
    """Flower sees a chain as its ai.job and its last step; AI_WORKER_STEP_EVENTS=true shows every step."""
    _registered()
    ann = app.conf.task_annotations
    for spec in JOBS.values():
        for step in spec.steps[:-1]:
            assert ann[step.task]["send_events"] is False and app.tasks[step.task].send_events is False
        assert "send_events" not in ann[spec.steps[-1].task]
    assert "send_events" not in ann["ai.job"] and "send_events" not in ann["ai.job.finalize"]

    def sent_event(name: str) -> object:
        return app.amqp.as_task_v2("t1", name, args=({"job": {"id": 1}},), create_sent_event=True).sent_event

    assert sent_event("ai.omr.fetch") is None  # no task-sent either
    assert sent_event("ai.omr.read") is not None and sent_event("ai.job") is not None


def test_published_reprs_are_redacted_whatever_the_caller_passed() -> None:
    """One place redacts a publish (RedactingAMQP): the headers and the task-sent event."""
    url = "https://b/x.jpg?X-Amz-Signature=s3cr3t"
    msg = app.amqp.as_task_v2("t1", "ai.job", [{"download_url": url, "cookie": "sid=1"}], {}, None, None,
                              create_sent_event=True, argsrepr=f"['{url}']")
    for text in (msg.headers["argsrepr"], msg.sent_event["args"]):
        assert "s3cr3t" not in text and "sid=1" not in text and "https://b/x.jpg" in text
    assert msg.headers["kwargsrepr"] == "{}"
