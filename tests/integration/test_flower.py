"""Flower fails closed, sees our tasks, and never the secrets a legacy payload carries."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import redis
import requests

from tests.integration.conftest import REDIS_ARTIFACTS, REDIS_BACKEND, ROOT, Workers

SECRETS = ("COOKIE-SECRET", "BEARER-SECRET", "SIG-SECRET")
USER, PASSWORD = "ops", "flower-PASSWORD-1234"
ELSEWHERE = Path("/tmp")  # not the repository root: no flowerconfig.py in the working directory


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _env(**flower: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("FLOWER_", "AI_WORKER_", "CELERY_"))}
    env.update(PYTHONPATH=str(ROOT), **flower)
    return env


@pytest.mark.parametrize(("flower_env", "reason"), [
    ({}, "flower_credentials_missing"),
    ({"FLOWER_USER": "", "FLOWER_PASSWORD": ""}, "flower_credentials_missing"),  # the README's old `--basic-auth=:`
    ({"FLOWER_USER": "ops"}, "flower_credentials_missing"),
    ({"FLOWER_PASSWORD": PASSWORD}, "flower_credentials_missing"),
    ({"FLOWER_USER": "ops", "FLOWER_PASSWORD": "short-pw"}, "flower_password_too_short"),
    ({"FLOWER_USER": "o:ps", "FLOWER_PASSWORD": PASSWORD}, "flower_user_invalid"),
])
def test_flower_without_credentials_refuses_to_start(flower_env: dict[str, str], reason: str) -> None:
    """Issue 15, point 4: a clear JSON error, exit 2, no traceback, the password never echoed."""
    out = subprocess.run([sys.executable, "-m", "ai_tasks.flower", f"--port={_free_port()}"],
                         cwd=ELSEWHERE, env=_env(**flower_env), capture_output=True, text=True, timeout=60)
    assert out.returncode == 2, out.stderr[-2000:]
    assert out.stdout == "" and "Traceback" not in out.stderr
    error = json.loads(out.stderr.strip().splitlines()[-1])
    assert error["reason_code"] == reason and error["message"].startswith("Flower refuses to start")
    assert "FLOWER_" in error["message"]
    if flower_env.get("FLOWER_PASSWORD"):
        assert flower_env["FLOWER_PASSWORD"] not in out.stderr


def test_flower_started_by_hand_in_the_repository_without_credentials_refuses_too() -> None:
    """`celery -A ai_tasks flower` in the repository root reads flowerconfig.py, which fails closed."""
    out = subprocess.run([sys.executable, "-m", "celery", "-A", "ai_tasks", "flower", f"--port={_free_port()}"],
                         cwd=ROOT, env=_env(), capture_output=True, text=True, timeout=60)
    assert out.returncode != 0
    assert "Flower refuses to start: flower_credentials_missing" in out.stderr
    assert "Traceback" not in out.stderr


def test_flower_shows_tasks_with_redacted_arguments(workers: Workers, tmp_path) -> None:  # type: ignore[no-untyped-def]
    if not any(n.startswith("cpu-vision-") for n in workers.procs):
        workers.start("cpu-vision", tmp=workers.tmp)  # type: ignore[attr-defined]
    port = _free_port()
    log = open(tmp_path / "flower.log", "wb")  # noqa: SIM115
    # issue 15, point 4: started from /tmp, credentials from the environment, no address given
    env = {**workers.env, "FLOWER_USER": USER, "FLOWER_PASSWORD": PASSWORD, "FLOWER_PORT": str(port)}
    flower = subprocess.Popen([sys.executable, "-m", "ai_tasks.flower"],
                              cwd=ELSEWHERE, env=env, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    auth = (USER, PASSWORD)
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                if requests.get(f"{base}/healthcheck", timeout=1).status_code in (200, 401):
                    break
            except requests.ConnectionError:
                assert flower.poll() is None, (tmp_path / "flower.log").read_text()[-3000:]
                time.sleep(0.3)
        assert requests.get(f"{base}/api/tasks", timeout=5).status_code == 401  # basic auth is on
        # issue 12, fault 9 and issue 15, point 4: /metrics and /healthcheck too, wherever it starts
        for path in ("/metrics", "/healthcheck"):
            assert requests.get(f"{base}{path}", timeout=5).status_code == 401, path
            assert requests.get(f"{base}{path}", auth=(USER, "wrong-password"), timeout=5).status_code == 401, path
            assert requests.get(f"{base}{path}", auth=auth, timeout=5).status_code == 200, path
        # the compose healthcheck: the same probe, credentials from the environment
        probe = subprocess.run([sys.executable, "-m", "ai_tasks.flower", "healthcheck"],
                               cwd=ELSEWHERE, env=env, capture_output=True, text=True, timeout=30)
        assert probe.returncode == 0, probe.stderr
        # loopback only unless FLOWER_ADDRESS says otherwise
        listening = subprocess.run(["ss", "-Hltn", f"sport = :{port}"], capture_output=True, text=True).stdout
        assert listening.split() and all(
            line.split()[3].startswith("127.0.0.1:") for line in listening.strip().splitlines()
        ), listening
        assert PASSWORD not in (tmp_path / "flower.log").read_text()
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
            tasks = requests.get(f"{base}/api/tasks", auth=auth, timeout=5).json()
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
