"""Each queue's tasks run on that queue's workers only (Redis and RabbitMQ)."""

from __future__ import annotations

from tests.integration.conftest import Workers


def test_tasks_run_only_on_their_queue_workers(workers: Workers) -> None:
    cpu = workers.start("cpu-vision", tmp=workers.tmp)  # type: ignore[attr-defined]
    llm = workers.start("llm", tmp=workers.tmp)  # type: ignore[attr-defined]
    app = workers.client

    cpu_results = [app.send_task("ai.test.where_cpu") for _ in range(6)]
    llm_results = [app.send_task("ai.test.where_llm") for _ in range(6)]

    for r in cpu_results:
        out = r.get(timeout=30)
        assert out["hostname"] == cpu
        assert out["queue"] == "cpu-vision"
    for r in llm_results:
        out = r.get(timeout=30)
        assert out["hostname"] == llm
        assert out["queue"] == "llm"


def test_production_routes_send_llm_jobs_to_llm_workers(workers: Workers) -> None:
    """A production task on the llm queue is received by the llm worker, never by cpu-vision."""
    if not workers.procs:
        workers.start("cpu-vision", tmp=workers.tmp)  # type: ignore[attr-defined]
        workers.start("llm", tmp=workers.tmp)  # type: ignore[attr-defined]
    app = workers.client
    job = {"id": "r1", "type": "problem_generation", "payload": {"ocr_text": "1. 2 + 3 = ?"}}
    out = app.send_task("ai.job", args=[job]).get(timeout=30)
    assert out["job_id"] == "r1" and out["status"] in ("DONE", "FAILED")  # no LLM configured here: FAILED
    nodes = [n for n in workers.procs if "ai.problem.generate[" in workers.log_text(n)]
    assert len(nodes) == 1 and nodes[0].startswith("llm-")
