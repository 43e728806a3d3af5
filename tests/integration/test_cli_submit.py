"""``ai-worker submit`` through a real broker: waits for and prints the AIResult."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from tests.integration.conftest import ROOT, Workers


def _cli(workers: Workers, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**workers.env}
    return subprocess.run(
        [sys.executable, "-m", "ai_tasks.cli", *args], capture_output=True, text=True, env=env, cwd=ROOT, timeout=90
    )


def test_submit_waits_for_the_result(workers: Workers) -> None:
    if not any(n.startswith("cpu-vision-") for n in workers.procs):
        workers.start("cpu-vision", tmp=workers.tmp)  # type: ignore[attr-defined]
    out = _cli(workers, "submit", "ocr", "--payload", "{}", "--id", "cli-1")
    assert out.returncode == 1, out.stderr
    result = json.loads(out.stdout)
    assert result["job_id"] == "cli-1" and result["error"]["reason_code"] == "download_url_missing"
    assert "in-process" not in out.stderr

    out = _cli(workers, "submit", "ocr", "--payload", "{}", "--no-wait")
    assert out.returncode == 0 and json.loads(out.stdout)["task_id"]
    assert os.environ.get("CELERY_BROKER_URL") is None  # the test process itself stays broker-less
