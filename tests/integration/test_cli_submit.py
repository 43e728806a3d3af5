"""``ai-worker submit`` through a real broker: waits for and prints the AIResult.

The README's ``omr_grading`` example runs as written (its payload, with the
photo's URL pointed at a local server) and finishes DONE: the worker fetches
the meta from its own API (``"template_fetch": {}``), a local HTTP server
that speaks the academy's meta endpoint. A FAILED job exits 2 with its error
on stderr; no result in time names the queue that no worker consumes.
"""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.ai_tasks._http import LocalServer, body, serve
from tests.integration.conftest import ROOT, Workers
from tests.test_readme import COMMANDS, split_env

SAMPLES = ROOT / "omr" / "samples"


@pytest.fixture(scope="module")
def academy() -> Iterator[LocalServer]:
    """The photo's bucket and the academy API's meta endpoint, on one local server."""
    with serve() as srv:
        srv.route("/bucket/sheet.jpg", body((SAMPLES / "photo_20q.jpg").read_bytes()))
        srv.route("/api/v1/assets/omr/objective/meta/", body((SAMPLES / "meta_20q.json").read_bytes()))
        yield srv


@pytest.fixture(scope="module")
def cpu_worker(workers: Workers, academy: LocalServer) -> Workers:
    """A cpu-vision worker whose own API (``AI_WORKER_TEMPLATE_BASE_URL``) is the local server."""
    workers.env["AI_WORKER_TEMPLATE_BASE_URL"] = academy.base_url
    if not any(n.startswith("cpu-vision-") for n in workers.procs):
        workers.start("cpu-vision", tmp=workers.tmp)  # type: ignore[attr-defined]
    return workers


def _cli(workers: Workers, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**workers.env}
    return subprocess.run(
        [sys.executable, "-m", "ai_tasks.cli", *args], capture_output=True, text=True, env=env, cwd=ROOT, timeout=180
    )


def _error(err: str) -> dict[str, str]:
    return json.loads(err.strip().splitlines()[-1])


def test_submit_waits_for_the_result(cpu_worker: Workers) -> None:
    out = _cli(cpu_worker, "submit", "ocr", "--payload", "{}", "--id", "cli-1")
    assert out.returncode == 2 and out.stdout == "", out.stderr  # FAILED: exit 2, the error on stderr
    error = _error(out.stderr)
    assert error["job_id"] == "cli-1" and error["reason_code"] == "download_url_missing"
    assert "in-process" not in out.stderr
    assert "waiting up to 300 s" in out.stderr and "queue cpu-vision" in out.stderr

    out = _cli(cpu_worker, "submit", "ocr", "--payload", "{}", "--no-wait")
    assert out.returncode == 0 and json.loads(out.stdout)["task_id"]
    assert os.environ.get("CELERY_BROKER_URL") is None  # the test process itself stays broker-less


@pytest.mark.timeout(200)  # a loaded CI box: one sheet through the chain, cold pool processes
def test_the_readmes_submit_example_finishes_done(cpu_worker: Workers, academy: LocalServer, tmp_path: Path) -> None:
    [example] = [c for c in COMMANDS if "submit omr_grading" in c and "'{" in c]
    env, words = split_env(example)
    assert env == {"CELERY_BROKER_URL": "redis://127.0.0.1:6379/0"}  # here: this test's broker instead
    payload = json.loads(words[words.index("--payload") + 1])
    assert payload["template_fetch"] == {}
    payload["download_url"] = academy.url("/bucket/sheet.jpg") + "?sig=SECRET"
    job = tmp_path / "job.json"
    job.write_text(json.dumps(payload), encoding="utf-8")
    out = _cli(cpu_worker, *words[1:words.index("--payload")], "--payload", f"@{job}", "--timeout", "150")
    logs = "".join(cpu_worker.log_text(n)[-4000:] for n in cpu_worker.procs)
    assert out.returncode == 0, f"{shlex.join(words)}: {out.stderr}\nworker log: {logs}"
    result = json.loads(out.stdout)
    assert result["status"] == "DONE", result
    assert (result["result"]["meta_used"], result["result"]["meta_source"]) == (True, "api")
    assert result["result"]["identifier"]["identifier"] == "15346893"
    assert "SECRET" not in out.stderr
    assert any(r.path.startswith("/api/v1/assets/omr/objective/meta/?question_count=20") for r in academy.requests)


def test_a_timeout_names_the_queue_no_worker_consumes(cpu_worker: Workers) -> None:
    assert not any(n.startswith("gpu-embed-") for n in cpu_worker.procs)
    out = _cli(cpu_worker, "submit", "embedding", "--payload", '{"texts": ["a"]}', "--timeout", "3")
    assert out.returncode == 2 and out.stdout == "", out.stderr
    assert "embedding runs on gpu-embed" in out.stderr
    error = _error(out.stderr)
    assert error["reason_code"] == "result_timeout"
    assert "no worker consumes queue gpu-embed" in error["message"] and "within 3 s" in error["message"]
