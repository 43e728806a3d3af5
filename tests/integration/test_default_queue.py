"""Issue 12, fault 8: a client that sets nothing sends ``ai.job`` to Celery's default queue; it runs."""

from __future__ import annotations

from celery import Celery

from tests.integration.conftest import REDIS_BACKEND, Workers


def test_a_bare_client_job_is_run(workers: Workers) -> None:
    if not any(n.startswith("cpu-vision-") for n in workers.procs):
        workers.start("cpu-vision", tmp=workers.tmp)  # type: ignore[attr-defined]
    bare = Celery("bare", broker=workers.broker_url, backend=REDIS_BACKEND, set_as_current=False)
    try:
        r = bare.send_task("ai.job", [{"id": "dq-1", "type": "teleport", "payload": {}}])
        assert r.get(timeout=60) == {
            "job_id": "dq-1", "status": "FAILED", "result": None,
            "error": {"reason_code": "unknown_job_type", "message": r.result["error"]["message"]},
        }
        node = next(n for n in workers.procs if n.startswith("cpu-vision-"))
        assert "also consuming Celery's default queue" in workers.log_text(node)
    finally:
        bare.close()
