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
    body = (args, {}, {"callbacks": None, "errbacks": None, "chain": None, "chord": None})
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
