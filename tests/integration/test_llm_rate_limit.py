"""The recommended llm worker (``-P threads`` plus a per-worker ``rate_limit``) spaces its calls.

Three jobs sent at once to a 4-thread worker limited to 60/m reach the model
server about a second apart instead of together: the token bucket, not the
thread count, sets the pace.
"""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler
from typing import Any

import pytest

from tests.integration.conftest import ROOT, Workers
from tests.nlp.problem._chat_server import ScriptedServer, completion, scripted_server

GOOD = {"body": "2+3=?", "choices": [], "answer": "5", "difficulty": 1, "tag": "수학", "summary": "덧셈", "explanation": "5"}
JOBS = 3


@pytest.fixture(scope="module")
def llm_server() -> Iterator[ScriptedServer]:
    with scripted_server() as srv:
        yield srv


def _start(workers: Workers, app: str, queue: str, pool: str, concurrency: int) -> None:
    node = f"{queue}-{pool}-{uuid.uuid4().hex[:6]}@test"
    log = workers.tmp / f"{node}.log"  # type: ignore[attr-defined]
    cmd = [sys.executable, "-m", "celery", "-A", app, "worker", "-Q", queue, "-n", node, "-P", pool,
           "-c", str(concurrency), "--without-mingle", "--without-gossip", "--loglevel", "INFO"]
    fh = open(log, "wb")  # noqa: SIM115  (closed with the process)
    workers.procs[node] = subprocess.Popen(cmd, cwd=ROOT, env=workers.env, stdout=fh, stderr=subprocess.STDOUT)
    workers.logs[node] = log
    deadline = time.monotonic() + 60
    while b"ready." not in log.read_bytes():
        if workers.procs[node].poll() is not None or time.monotonic() > deadline:
            raise RuntimeError(f"worker {node} did not start: {log.read_text()[-3000:]}")
        time.sleep(0.2)


def test_rate_limit_spaces_calls_on_a_threads_worker(workers: Workers, llm_server: ScriptedServer) -> None:
    workers.env.update(OPENAI_BASE_URL=llm_server.base_url, OPENAI_API_KEY="sk-integration", AI_WORKER_LLM_TIMEOUT_S="10")
    if not any(n.startswith("cpu-vision-") for n in workers.procs):
        workers.start("cpu-vision", tmp=workers.tmp)  # type: ignore[attr-defined]
    _start(workers, "tests.integration.llm_rate_app", "llm", "threads", 4)

    arrivals: list[float] = []
    lock = threading.Lock()

    def stamped(h: BaseHTTPRequestHandler) -> None:
        with lock:
            arrivals.append(time.monotonic())
        completion(json.dumps(GOOD))(h)

    # Warm-up: the first job in a worker pays importing openai and building the
    # client (~1-2 s on a busy box), which would bunch the calls behind it.
    llm_server.expect("warm-up", [completion(json.dumps(GOOD))])
    warm = {"id": f"warm-{uuid.uuid4().hex[:6]}", "type": "problem_generation", "payload": {"ocr_text": "1+1=? warm-up"}}
    assert workers.client.send_task("ai.job", args=[warm]).get(timeout=90)["status"] == "DONE"

    llm_server.extend([stamped] * JOBS)
    jobs: list[dict[str, Any]] = [
        {"id": f"rate-{i}-{uuid.uuid4().hex[:6]}", "type": "problem_generation", "payload": {"ocr_text": f"2+3=? #{i}"}}
        for i in range(JOBS)
    ]
    results = [workers.client.send_task("ai.job", args=[job]) for job in jobs]
    outs = [r.get(timeout=90) for r in results]
    assert all(o["status"] == "DONE" for o in outs), outs
    assert len(arrivals) == JOBS
    gaps = [b - a for a, b in zip(sorted(arrivals), sorted(arrivals)[1:], strict=False)]
    assert min(gaps) > 0.5, gaps  # without the limit the 4 threads would call within milliseconds
