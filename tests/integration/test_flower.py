"""Flower sees our tasks, and never the secrets a legacy payload carries."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time

import redis
import requests

from tests.integration.conftest import REDIS_ARTIFACTS, REDIS_BACKEND, ROOT, Workers

SECRETS = ("COOKIE-SECRET", "BEARER-SECRET", "SIG-SECRET")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_flower_shows_tasks_with_redacted_arguments(workers: Workers, tmp_path) -> None:  # type: ignore[no-untyped-def]
    if not any(n.startswith("cpu-vision-") for n in workers.procs):
        workers.start("cpu-vision", tmp=workers.tmp)  # type: ignore[attr-defined]
    port = _free_port()
    log = open(tmp_path / "flower.log", "wb")  # noqa: SIM115
    flower = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "ai_tasks", "flower", f"--port={port}", "--address=127.0.0.1",
         "--basic-auth=ops:pw"],
        cwd=ROOT, env=workers.env, stdout=log, stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                if requests.get(f"{base}/healthcheck", timeout=1).status_code in (200, 401):
                    break
            except requests.ConnectionError:
                time.sleep(0.3)
        assert requests.get(f"{base}/api/tasks", timeout=5).status_code == 401  # basic auth is on
        # issue 12, fault 9: /metrics and /healthcheck too (flowerconfig.py)
        for path in ("/metrics", "/healthcheck"):
            assert requests.get(f"{base}{path}", timeout=5).status_code == 401, path
            assert requests.get(f"{base}{path}", auth=("ops", "pw"), timeout=5).status_code == 200, path
        time.sleep(1.0)  # let Flower subscribe to events before the job is sent
        job = {
            "id": "flower-1",
            "type": "omr_grading",
            "payload": {
                "download_url": "https://bucket.example/x.jpg?X-Amz-Signature=SIG-SECRET",
                "question_count": 20,
                "template_fetch": {"base_url": "http://10.0.0.1", "cookie": "s=COOKIE-SECRET",
                                   "bearer_token": "BEARER-SECRET"},
            },
        }
        result = workers.client.send_task("ai.job", args=[job]).get(timeout=60)
        assert result["status"] == "FAILED"  # a private template URL is refused: a clear failure
        assert all(s not in json.dumps(result) for s in SECRETS)
        tasks: dict = {}  # type: ignore[type-arg]
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            tasks = requests.get(f"{base}/api/tasks", auth=("ops", "pw"), timeout=5).json()
            if any(t.get("name") == "ai.job" and "flower-1" in str(t.get("args")) for t in tasks.values()):
                break
            time.sleep(0.5)
        mine = [t for t in tasks.values() if "flower-1" in str(t.get("args"))]
        assert mine, f"Flower did not see the job: {list(tasks.values())[:3]}"
        text = json.dumps(tasks)
        for secret in SECRETS:
            assert secret not in text
        # nor in the result backend (no args copied there) or the artifact store
        for url in (REDIS_BACKEND, REDIS_ARTIFACTS):
            db = redis.Redis.from_url(url)
            dump = b" ".join(v for k in db.scan_iter() if db.type(k) == b"string" and (v := db.get(k)))
            assert all(secret.encode() not in dump for secret in SECRETS)
    finally:
        flower.terminate()
        flower.wait(timeout=20)
        log.close()
