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
    r = app.send_task("ai.problem.generate", args=[{"job": {"id": "r1", "type": "problem_generation"}, "payload": {}}])
    r.get(timeout=30, propagate=False)
    assert r.state == "FAILURE"  # not implemented yet: a clear failure, not a fake result
    assert "not_implemented" in str(r.result)
    nodes = [n for n in workers.procs if f"ai.problem.generate[{r.id}] received" in workers.log_text(n)]
    assert len(nodes) == 1 and nodes[0].startswith("llm-")
