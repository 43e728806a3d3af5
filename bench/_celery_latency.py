"""Added latency of the OMR Celery chain over the single task ``ai.omr.grade``, through Redis.

Used by ``bench/omr_speed.py --chain``. Starts a real cpu-vision worker
(concurrency 1, so both paths run in one warm process), serves the photo from
a local HTTP server, and times, one sheet at a time from a client:

* ``ai.omr.grade``: download + all four steps in one task;
* the chain ``ai.omr.fetch -> warp -> identifier -> answers`` (artifact keys between steps);
* ``ai.job`` (what the API calls): dispatcher + chain + finalize.
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


def chain_latency(data: bytes, meta: dict[str, Any], runs: int) -> dict[str, float]:
    """Chain overhead with the local artifact store (one machine) and with Redis (several)."""
    out: dict[str, float] = {}
    for label, url in (("local store", ""), ("redis store", "redis://127.0.0.1:6379/4")):
        for k, v in _measure(data, meta, runs, url).items():
            out[f"{label}: {k}"] = v
    return out


def _measure(data: bytes, meta: dict[str, Any], runs: int, artifact_url: str) -> dict[str, float]:
    """Median per-sheet latency (ms) of the single task, the chain and ai.job, and the differences."""
    env = {
        "CELERY_BROKER_URL": BROKER,
        "CELERY_RESULT_BACKEND": BACKEND,
        "AI_WORKER_DOWNLOAD_ALLOW_HTTP": "true",
        "AI_WORKER_DOWNLOAD_ALLOWLIST": "127.0.0.1",
        "AI_WORKER_ARTIFACT_URL": artifact_url,
    }
    os.environ.update(env)
    sys.path.insert(0, str(ROOT))
    from _worker import worker

    from ai_tasks.celery import app
    from ai_tasks.tasks.cpu_vision import omr_chain

    server, url = _serve(data)
    payload = {"download_url": url, "mode": "photo", "template_meta": meta}
    state = {"job": {"id": "bench", "type": "omr_grading"}, "payload": payload}
    job = {"id": "bench", "type": "omr_grading", "payload": payload}
    times: dict[str, list[float]] = {"single": [], "chain": [], "ai_job": []}
    try:
        with worker("ai_tasks", "cpu-vision", {**env, "OMP_NUM_THREADS": "1"}, concurrency=1):
            for _ in range(3):  # warm up: imports, template caches, connections
                app.send_task("ai.omr.grade", args=[state]).get(timeout=60)
                omr_chain(state).apply_async().get(timeout=60)
            for _ in range(runs):
                t0 = time.perf_counter()
                app.send_task("ai.omr.grade", args=[state]).get(timeout=60)
                t1 = time.perf_counter()
                omr_chain(state).apply_async().get(timeout=60)
                t2 = time.perf_counter()
                app.send_task("ai.job", args=[job]).get(timeout=60)
                t3 = time.perf_counter()
                times["single"].append((t1 - t0) * 1000)
                times["chain"].append((t2 - t1) * 1000)
                times["ai_job"].append((t3 - t2) * 1000)
    finally:
        server.shutdown()
        app.close()
    med = {k: statistics.median(v) for k, v in times.items()}
    return {
        "ai.omr.grade median": med["single"],
        "chain median": med["chain"],
        "ai.job (dispatch+chain+finalize)": med["ai_job"],
        "chain added over single": med["chain"] - med["single"],
        "ai.job added over single": med["ai_job"] - med["single"],
    }


if __name__ == "__main__":
    import json

    samples = ROOT / "omr" / "samples"
    out = chain_latency(
        (samples / "photo_20q.jpg").read_bytes(),
        json.loads((samples / "meta_20q.json").read_text()),
        15,
    )
    for k, v in out.items():
        print(f"{k:<50} {v:8.1f} ms")
