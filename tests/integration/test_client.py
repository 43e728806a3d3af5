"""The API's view: a process that imports only ``celery`` sends ``ai.job`` by name and reads the AIResult."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

from tests.integration.conftest import Workers

CLIENT = textwrap.dedent(
    """
    import json, sys
    # this client may not use anything of ai-worker: block it outright
    for name in ("aicore", "ai_tasks", "omr", "vision", "nlp", "celeryconfig"):
        sys.modules[name] = None
    from celery import Celery

    broker, backend, job = sys.argv[1], sys.argv[2], json.loads(sys.argv[3])
    app = Celery(broker=broker, backend=backend)
    app.conf.update(task_serializer="json", accept_content=["json"], result_accept_content=["json"])
    # publish to the cpu-vision exchange: the workers declared the queue behind it
    r = app.send_task("ai.job", args=[job], exchange="cpu-vision", routing_key="cpu-vision")
    print(json.dumps({"task_id": r.id, "result": r.get(timeout=60)}))
    """
)


def _run_client(workers: Workers, job: dict) -> dict:  # type: ignore[type-arg]
    out = subprocess.run(
        [sys.executable, "-I", "-c", CLIENT, workers.broker_url, workers.backend_url, json.dumps(job)],
        capture_output=True, text=True, timeout=90, cwd="/",
    )
    assert out.returncode == 0, out.stderr[-3000:]
    return json.loads(out.stdout)


def _ensure_cpu(workers: Workers) -> None:
    if not any(n.startswith("cpu-vision-") for n in workers.procs):
        # the production app exactly as operators start it: celery -A ai_tasks worker -Q cpu-vision
        workers.start("cpu-vision", tmp=workers.tmp, app="ai_tasks")  # type: ignore[attr-defined]


def test_unknown_job_type_fails_with_reason(workers: Workers) -> None:
    _ensure_cpu(workers)
    res = _run_client(workers, {"id": "u1", "type": "teleport", "payload": {}})["result"]
    assert res["job_id"] == "u1" and res["status"] == "FAILED"
    assert res["error"]["reason_code"] == "unknown_job_type"


def test_chain_failure_becomes_a_failed_airesult(workers: Workers) -> None:
    """A private address passes the door but is refused by the ocr step: the errback writes AIResult FAILED."""
    _ensure_cpu(workers)
    job = {"id": 42, "type": "ocr", "payload": {"download_url": "https://10.0.0.1/y.png"}, "source_id": 7}
    result = _run_client(workers, job)["result"]
    assert (result["job_id"], result["status"], result["result"]) == ("42", "FAILED", None)
    assert result["error"]["reason_code"] == "download_address_refused"
    assert "10.0.0.1" in result["error"]["message"]
