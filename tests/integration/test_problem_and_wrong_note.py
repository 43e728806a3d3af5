"""problem_generation on an ``llm`` worker (threads pool) and wrong_note on ``cpu-vision``, through real brokers.

The llm worker runs as docs/jobs/problem.md recommends: ``-P threads -c 8``.
A local chat-completions server answers slowly (0.5 s) and counts the
requests in flight, so the test sees the threads overlap calls.
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

import pypdfium2 as pdfium
import pytest

from ai_tasks.artifacts import open_artifact_store
from tests.integration.conftest import REDIS_ARTIFACTS, ROOT, Workers
from tests.nlp.problem._chat_server import ScriptedServer, completion, error, scripted_server

GOOD = {"body": "2+3=?", "choices": ["4", "5"], "answer": "5", "difficulty": 1, "tag": "수학", "summary": "덧셈", "explanation": "5"}
NOTE = {"enrollment_id": 17, "created_at": "2026-03-02",
        "items": [{"exam_id": 3, "question_id": 12, "answer": "②", "question_text": "다음 중 옳은 것은? ① 1 ② 2"}]}
LLM_THREADS = 8
SLOW_S = 0.5


class _InFlight:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.now = 0
        self.peak = 0


def _slow(route: Any, gauge: _InFlight) -> Any:
    def wrapped(h: BaseHTTPRequestHandler) -> None:
        with gauge.lock:
            gauge.now += 1
            gauge.peak = max(gauge.peak, gauge.now)
        try:
            time.sleep(SLOW_S)
            route(h)
        finally:
            with gauge.lock:
                gauge.now -= 1

    return wrapped


@pytest.fixture(scope="module")
def llm_server() -> Iterator[ScriptedServer]:
    with scripted_server() as srv:
        yield srv


def _start_threads_worker(workers: Workers, queue: str, concurrency: int) -> str:
    node = f"{queue}-threads-{uuid.uuid4().hex[:6]}@test"
    log = workers.tmp / f"{node}.log"  # type: ignore[attr-defined]
    cmd = [sys.executable, "-m", "celery", "-A", "tests.integration.worker_app", "worker", "-Q", queue, "-n", node,
           "-P", "threads", "-c", str(concurrency), "--without-mingle", "--without-gossip", "--loglevel", "INFO"]
    fh = open(log, "wb")  # noqa: SIM115  (closed with the process)
    workers.procs[node] = subprocess.Popen(cmd, cwd=ROOT, env=workers.env, stdout=fh, stderr=subprocess.STDOUT)
    workers.logs[node] = log
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if workers.procs[node].poll() is not None:
            raise RuntimeError(f"worker {node} exited: {log.read_text()[-3000:]}")
        if b"ready." in log.read_bytes():
            return node
        time.sleep(0.2)
    raise RuntimeError(f"worker {node} not ready in 60 s: {log.read_text()[-3000:]}")


@pytest.fixture(scope="module")
def running(workers: Workers, llm_server: ScriptedServer) -> Workers:
    workers.env.update(OPENAI_BASE_URL=llm_server.base_url, OPENAI_API_KEY="sk-integration", PROBLEM_GEN_MODEL="m",
                       AI_WORKER_LLM_TIMEOUT_S="10")
    if not any(n.startswith("cpu-vision-") for n in workers.procs):
        workers.start("cpu-vision", tmp=workers.tmp)  # type: ignore[attr-defined]
    _start_threads_worker(workers, "llm", LLM_THREADS)
    return workers


def _job(kind: str, payload: dict[str, Any]) -> dict[str, Any]:
    return {"id": f"{kind}-{uuid.uuid4().hex[:8]}", "type": kind, "payload": payload}


def _key() -> str:
    """A marker put in a job's OCR text: the server answers that job from its own script."""
    return f"case-{uuid.uuid4().hex[:10]}"


def test_llm_worker_on_threads_overlaps_calls(running: Workers, llm_server: ScriptedServer) -> None:
    gauge = _InFlight()
    keys = [_key() for _ in range(LLM_THREADS)]
    for key in keys:
        llm_server.expect(key, [_slow(completion(json.dumps(GOOD)), gauge)])
    sent = [running.client.send_task("ai.job", args=[_job("problem_generation", {"ocr_text": f"2+3=? {key}"})])
            for key in keys]
    outs = [r.get(timeout=90) for r in sent]
    assert all(o["status"] == "DONE" for o in outs), outs
    assert outs[0]["result"]["answer"] == "5" and outs[0]["result"]["usage"]["calls"] == 1
    assert gauge.peak >= 4  # prefork -c 1 would show 1; the threads pool serves calls side by side


def test_rate_limited_call_is_retried_after_retry_after(running: Workers, llm_server: ScriptedServer) -> None:
    key = _key()
    llm_server.expect(key, [error(429, "slow down", headers={"Retry-After": "1"}), completion(json.dumps(GOOD))])
    out = running.client.send_task("ai.job", args=[_job("problem_generation", {"ocr_text": f"2+3=? {key}"})]).get(timeout=90)
    assert out["status"] == "DONE", out
    assert llm_server.calls_with(key) == 2


@pytest.mark.parametrize(
    "payload, script, code",
    [
        ({"ocr_text": ""}, [], "ocr_text_missing"),
        ({"ocr_text": "x"}, [error(401, "Incorrect API key")], "llm_auth_failed"),
        ({"ocr_text": "x"}, [completion(None, refusal="no")], "llm_refused"),
        ({"ocr_text": "x"}, [completion("x" * (5 * 1024 * 1024))], "llm_output_too_large"),
    ],
)
def test_bad_llm_input_fails_and_the_worker_lives(running: Workers, llm_server: ScriptedServer,
                                                  payload: dict[str, Any], script: list[Any], code: str) -> None:
    key = _key()
    llm_server.expect(key, script)
    if payload["ocr_text"]:
        payload = {"ocr_text": f"{payload['ocr_text']} {key}"}
    out = running.client.send_task("ai.job", args=[_job("problem_generation", payload)]).get(timeout=90)
    assert out["status"] == "FAILED" and out["error"]["reason_code"] == code, out
    assert llm_server.calls_with(key) == len(script)  # permanent errors: no retry
    again_key = _key()
    llm_server.expect(again_key, [completion(json.dumps(GOOD))])
    again = running.client.send_task("ai.job", args=[_job("problem_generation", {"ocr_text": f"2+3=? {again_key}"})])
    assert again.get(timeout=90)["status"] == "DONE"


def test_wrong_note_pdf_lands_in_the_artifact_store(running: Workers) -> None:
    out = running.client.send_task("ai.job", args=[_job("wrong_note", NOTE)]).get(timeout=90)
    assert out["status"] == "DONE", out
    res = out["result"]
    assert (res["pages"], res["items"], res["exams"]) == (1, 1, 1)
    pdf = open_artifact_store(REDIS_ARTIFACTS, 60).get(res["pdf_key"])
    assert "다음 중 옳은 것은? ① 1 ② 2" in pdfium.PdfDocument(pdf)[0].get_textpage().get_text_range()
    bad = running.client.send_task("ai.job", args=[_job("wrong_note", {**NOTE, "items": []})]).get(timeout=90)
    assert bad["status"] == "FAILED" and bad["error"]["reason_code"] == "wrong_note_empty"


def test_submit_cli_runs_both_jobs(running: Workers, llm_server: ScriptedServer) -> None:
    key = _key()
    llm_server.expect(key, [completion(json.dumps(GOOD))])
    for kind, payload in (("problem_generation", {"ocr_text": f"2+3=? {key}"}), ("wrong_note", NOTE)):
        done = subprocess.run([sys.executable, "-m", "ai_tasks.cli", "submit", kind, "--payload", json.dumps(payload)],
                              capture_output=True, text=True, env=running.env, cwd=ROOT, timeout=90)
        assert done.returncode == 0, done.stderr
        assert json.loads(done.stdout)["status"] == "DONE"
