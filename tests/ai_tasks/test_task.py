"""The base task: secrets out of Flower's argument reprs and out of the job log line."""

from __future__ import annotations

import json
import logging

import pytest
from kombu import Message

from ai_tasks.celery import app
from ai_tasks.task import RedactingRequest, job_fields

LEGACY_JOB = {
    "id": "j9",
    "type": "omr_grading",
    "payload": {
        "download_url": "https://bucket/x.jpg?X-Amz-Signature=SIG",
        "template_fetch": {"base_url": "https://api", "cookie": "sessionid=COOKIE", "bearer_token": "BEARER"},
    },
}


def _request_for(args: list[object]) -> RedactingRequest:
    app.loader.import_default_modules()
    body: tuple[object, ...] = (args, {}, {"callbacks": None, "errbacks": None, "chain": None, "chord": None})
    headers = {"id": "t1", "task": "ai.job", "argsrepr": repr(args), "kwargsrepr": "{}"}
    msg = Message(body=json.dumps(body), headers=headers, content_type="application/json", content_encoding="utf-8")
    return RedactingRequest(msg, app=app, task=app.tasks["ai.job"])


def test_flower_sees_no_secret_even_if_the_client_put_them_in_argsrepr() -> None:
    req = _request_for([LEGACY_JOB])
    for secret in ("COOKIE", "BEARER", "SIG"):
        assert secret not in req.argsrepr
    assert "https://api" in req.argsrepr and "j9" in req.argsrepr
    assert req.args[0]["payload"]["template_fetch"]["cookie"] == "sessionid=COOKIE"  # the task still gets it


def test_job_log_line_is_redacted_json(caplog: pytest.LogCaptureFixture) -> None:
    app.loader.import_default_modules()
    task = app.tasks["ai.job"]
    with caplog.at_level(logging.INFO, logger="ai_tasks.jobs"):
        out = task.apply(args=[{"id": "j1", "type": "teleport", "payload": {"api_key": "KEY"}}]).get()
    assert out["error"]["reason_code"] == "unknown_job_type"
    lines = [json.loads(r.getMessage()) for r in caplog.records if r.name == "ai_tasks.jobs"]
    assert lines and lines[-1]["task"] == "ai.job" and lines[-1]["job_id"] == "j1"
    assert set(lines[-1]) >= {"task_id", "type", "queue", "attempt", "duration_ms", "outcome", "reason_code"}
    assert "KEY" not in caplog.text


def test_job_fields_degenerate() -> None:
    assert job_fields(()) == (None, None)
    assert job_fields(("not a dict",)) == (None, None)


def test_poison_guard_counts_only_redeliveries(monkeypatch: pytest.MonkeyPatch) -> None:
    """A first delivery costs no Redis round trip; redeliveries count from 2 and stop past the limit."""
    import uuid

    import redis

    import ai_tasks.task as task_module
    from ai_tasks.errors import PoisonMessageError
    from ai_tasks.poison import DEAD_LETTER_KEY, DeliveryCounter

    url = "redis://127.0.0.1:6379/14"
    monkeypatch.setattr(task_module, "_counter", DeliveryCounter(url, max_deliveries=3, ttl_s=60))
    probe = redis.Redis.from_url(url)
    task = app.tasks["ai.omr.fetch"]
    task_id = uuid.uuid4().hex

    def deliver(redelivered: bool) -> None:
        task.push_request(id=task_id, retries=0, args=[{"cookie": "c"}], kwargs={}, is_eager=False,
                          delivery_info={"redelivered": redelivered, "routing_key": "cpu-vision"})
        try:
            task._guard_poison()
        finally:
            task.pop_request()

    deliver(False)
    assert probe.get(f"ai:deliveries:{task_id}:0") is None  # first delivery: not counted
    deliver(True)  # 2nd
    deliver(True)  # 3rd
    assert int(probe.get(f"ai:deliveries:{task_id}:0") or 0) == 2
    with pytest.raises(PoisonMessageError):
        deliver(True)  # 4th > 3
    letter = json.loads(probe.lindex(DEAD_LETTER_KEY, 0))  # type: ignore[arg-type]
    assert letter["task_id"] == task_id and letter["deliveries"] == 4 and letter["args"] == [{"cookie": "***"}]
    probe.flushdb()


def test_expected_failures_log_a_warning_without_traceback_bugs_an_error(caplog: pytest.LogCaptureFixture) -> None:
    """Issue 12, fault 7: a blurry photo is not a crash in the logs."""
    from ai_tasks.task import EXPECTED_ERRORS
    from omr.errors import ImageError

    app.loader.import_default_modules()
    task = app.tasks["ai.job"]
    assert issubclass(ImageError, EXPECTED_ERRORS)  # Celery logs these as expected: no traceback
    with caplog.at_level(logging.INFO, logger="ai_tasks.jobs"):
        out = task.apply(args=[{"id": "j1", "type": "teleport"}]).get()
    assert out["status"] == "FAILED"
    rec = [r for r in caplog.records if r.name == "ai_tasks.jobs"][-1]
    assert json.loads(rec.getMessage())["outcome"] == "failed"  # the answer is FAILED: say so
    assert rec.levelno == logging.WARNING and rec.exc_info is None


def test_a_step_that_cannot_hand_over_is_requeued_not_acked(monkeypatch: pytest.MonkeyPatch) -> None:
    """Issue 12, fault 1: the broker is away when a step's successor must be published."""
    import kombu.exceptions
    from celery.canvas import Signature
    from celery.exceptions import Reject

    app.loader.import_default_modules()

    def refused(self, *a, **kw):
        raise kombu.exceptions.OperationalError("[Errno 111] Connection refused")

    monkeypatch.setattr(Signature, "apply_async", refused)
    task = app.tasks["ai.job.finalize"]
    nxt = app.signature("ai.job.deliver", args=(), queue="cpu-vision")
    task.push_request(id="t-hand", retries=0, is_eager=False, called_directly=False, chain=[dict(nxt)],
                      delivery_info={"routing_key": "cpu-vision", "redelivered": False})
    try:
        with pytest.raises(Reject) as err:
            task._hand_over({"x": 1})
        assert err.value.requeue is True
        assert task.request.chain  # not marked as published
    finally:
        task.pop_request()


def test_a_retry_that_cannot_be_published_is_requeued(monkeypatch: pytest.MonkeyPatch) -> None:
    """Celery rejects without requeue when the retry's publish fails: the job would vanish."""
    import kombu.exceptions
    from celery.canvas import Signature
    from celery.exceptions import Reject

    from ai_tasks.errors import TransientError

    app.loader.import_default_modules()

    def refused(self, *a, **kw):
        raise kombu.exceptions.OperationalError("[Errno 111] Connection refused")

    monkeypatch.setattr(Signature, "apply_async", refused)
    task = app.tasks["ai.omr.fetch"]
    task.push_request(id="t-retry", retries=0, is_eager=False, called_directly=False, args=[{}], kwargs={},
                      delivery_info={"routing_key": "cpu-vision", "redelivered": False})
    try:
        with pytest.raises(Reject) as err:
            task._retry_if_retryable(TransientError("upstream_unavailable", "503"))
        assert err.value.requeue is True
    finally:
        task.pop_request()


def test_refuse_oversized_answers_failed_and_acks(monkeypatch: pytest.MonkeyPatch) -> None:
    """Issue 12, fault 6: the message is refused on its size, from the raw bytes, never decoded."""
    from ai_tasks.task import refuse_oversized

    app.loader.import_default_modules()
    task = app.tasks["ai.job"]
    stored: dict[str, object] = {}
    monkeypatch.setattr(type(task.backend), "store_result",
                        lambda self, tid, result, state, **kw: stored.update(tid=tid, result=result, state=state))
    body = b'[[{"id": "big-1", "type": "omr_grading", "payload": {"template_meta": {"bubbles": [' + b"0," * 1000
    acked: list[bool] = []

    class Msg:
        headers = {"id": "task-big", "task": "ai.job"}

        def __init__(self) -> None:
            self.body = body

        def ack(self) -> None:
            acked.append(True)

        @property
        def payload(self):
            raise AssertionError("decoded")

    refuse_oversized(task, Msg(), len(body), 100)
    assert acked == [True]
    assert stored["tid"] == "task-big" and stored["state"] == "SUCCESS"
    result = stored["result"]
    assert result["job_id"] == "big-1" and result["error"]["reason_code"] == "payload_too_large"  # type: ignore[index]
