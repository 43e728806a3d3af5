"""Added latency of the OMR Celery chain over the single task ``ai.omr.grade``, through Redis.

Used by ``bench/omr_speed.py --chain``. For each worker configuration it starts
a real cpu-vision worker, serves the photo from a local HTTP server, and
times, one sheet at a time from a client (median of ``runs``):

* ``ai.omr.grade``: download + all four steps in one task;
* the chain ``ai.omr.fetch -> warp -> identifier -> answers`` (artifact keys between steps);
* ``ai.job`` (what the API calls): dispatcher + chain (the last step stores and delivers the result);
* the floor: a chain of four no-op steps against one no-op task, on the same
  worker and settings (``bench/_latency_tasks.py``): what Celery itself costs
  for the three extra hops, whatever the steps do;
* the busy floor: the same with steps that burn the CPU exactly as long as
  the OMR steps compute (their ``timings_ms`` from the warm-up), against one
  task that burns the sum: Celery's cost for the hops between real steps,
  wake-ups of idle processes included, with no page in any store.

Worker configurations: the deployment's (``celery worker`` with no ``-c``:
one pool process per core, as docker-compose runs it) and a single pool
process; artifact store: a local folder (one machine) and Redis (several).
"""

from __future__ import annotations

import os
import statistics
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
BROKER = "redis://127.0.0.1:6379/5"
BACKEND = "redis://127.0.0.1:6379/6"
REDIS_ARTIFACTS = "redis://127.0.0.1:6379/4"
WARM_UP = 5  # per path: imports, template caches, connections, every pool process


def _serve(data: bytes) -> tuple[ThreadingHTTPServer, str]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802
            self.send_response(200)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}/photo.jpg"


def configurations() -> list[tuple[int, str, str]]:
    """(pool processes, store label, artifact URL) in the order they are measured."""
    cores = os.cpu_count() or 1
    out = []
    for concurrency in dict.fromkeys((cores, 1)):
        out += [(concurrency, "local", ""), (concurrency, "redis", REDIS_ARTIFACTS)]
    return out


def chain_latency(data: bytes, meta: dict[str, Any], runs: int) -> list[dict[str, Any]]:
    """One row per worker configuration: medians in ms and what the chain adds."""
    return [_measure(data, meta, runs, c, store, url) for c, store, url in configurations()]


def _measure(
    data: bytes, meta: dict[str, Any], runs: int, concurrency: int, store: str, artifact_url: str
) -> dict[str, Any]:
    env = {
        "CELERY_BROKER_URL": BROKER,
        "CELERY_RESULT_BACKEND": BACKEND,
        "AI_WORKER_DOWNLOAD_ALLOW_HTTP": "true",
        "AI_WORKER_DOWNLOAD_ALLOWLIST": "127.0.0.1",
        "AI_WORKER_ARTIFACT_URL": artifact_url,
    }
    os.environ.update(env)
    for p in (str(ROOT), str(ROOT / "bench")):
        if p not in sys.path:
            sys.path.insert(0, p)
    from _latency_tasks import busy_last, busy_step, last, step
    from _worker import worker
    from celery import chain

    from ai_tasks.celery import app
    from ai_tasks.jobs.runner import build_signature, start_job

    server, url = _serve(data)
    payload = {"download_url": url, "mode": "photo", "template_meta": meta}
    job = {"id": "bench", "type": "omr_grading", "payload": payload}
    spec, first, _ = start_job(job)
    state = first.to_dict()

    def omr_chain(_state: dict[str, Any]) -> Any:
        return build_signature(spec, first, "chain")

    small = {"job": {"id": "bench", "type": "omr_grading"}, "payload": {"download_url": url, "mode": "photo"}}
    paths = {
        "single": lambda: app.send_task("ai.omr.grade", args=[state]).get(timeout=60),
        "chain": lambda: omr_chain(state).apply_async().get(timeout=60),
        "ai_job": lambda: app.send_task("ai.job", args=[job]).get(timeout=60),
        "noop_single": lambda: last.delay(small).get(timeout=60),
        "noop_chain": lambda: chain(step.s(small), step.s(), step.s(), last.s()).apply_async().get(timeout=60),
    }
    worker_env = {**env, "OMP_NUM_THREADS": "1"}
    try:
        with worker("ai_tasks", "cpu-vision", worker_env, concurrency, ("--include", "_latency_tasks")):
            for _ in range(WARM_UP):
                for run in paths.values():
                    run()
            seen = [omr_chain(state).apply_async().get(timeout=60)["timings_ms"] for _ in range(5)]
            steps_ms = [
                statistics.median(t["fetch"] for t in seen),
                statistics.median(t["warp"] for t in seen),
                statistics.median(t["identifier"] for t in seen),
                statistics.median(t["answers"] for t in seen),
            ]
            paths["busy_single"] = lambda: busy_last.delay(small, sum(steps_ms)).get(timeout=60)
            paths["busy_chain"] = lambda: chain(
                busy_step.s(small, steps_ms[0]), busy_step.s(steps_ms[1]), busy_step.s(steps_ms[2]),
                busy_last.s(steps_ms[3]),
            ).apply_async().get(timeout=60)
            for _ in range(2):
                paths["busy_single"]()
                paths["busy_chain"]()
            times: dict[str, list[float]] = {k: [] for k in paths}
            for _ in range(runs):  # interleaved, so drift on the host hits every path alike
                for name, run in paths.items():
                    t0 = time.perf_counter()
                    run()
                    times[name].append((time.perf_counter() - t0) * 1000)
    finally:
        server.shutdown()
        app.close()
    med = {k: statistics.median(v) for k, v in times.items()}
    return {
        "pool_processes": concurrency,
        "store": store,
        "single_ms": med["single"],
        "chain_ms": med["chain"],
        "ai_job_ms": med["ai_job"],
        "chain_added_ms": med["chain"] - med["single"],
        "ai_job_added_ms": med["ai_job"] - med["single"],
        "floor_added_ms": med["noop_chain"] - med["noop_single"],
        "busy_floor_added_ms": med["busy_chain"] - med["busy_single"],
        "steps_ms": [round(x, 1) for x in steps_ms],
    }


def print_rows(rows: list[dict[str, Any]]) -> None:
    """The table ``bench/omr_speed.py --chain`` prints."""
    print(
        f"  {'pool':>4} {'store':<6} {'grade':>7} {'chain':>7} {'added':>7}"
        f" {'floor':>7} {'busy fl':>7} {'ai.job':>7} {'added':>7}"
    )
    for r in rows:
        print(
            f"  {r['pool_processes']:>4} {r['store']:<6} {r['single_ms']:7.1f} {r['chain_ms']:7.1f} "
            f"{r['chain_added_ms']:+7.1f} {r['floor_added_ms']:+7.1f} {r['busy_floor_added_ms']:+7.1f} "
            f"{r['ai_job_ms']:7.1f} {r['ai_job_added_ms']:+7.1f}"
        )
    print(
        "  (ms, medians. floor: four no-op steps against one no-op task on the same worker;\n"
        "   busy fl: the same with steps that burn the CPU as long as the OMR steps compute,\n"
        f"   {rows[0]['steps_ms']} ms, against one task that burns their sum)"
    )


if __name__ == "__main__":
    import json

    samples = ROOT / "omr" / "samples"
    print_rows(
        chain_latency(
            (samples / "photo_20q.jpg").read_bytes(),
            json.loads((samples / "meta_20q.json").read_text()),
            15,
        )
    )
