"""OMR grading end to end through real workers: the chain, the single task, and failures."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis

from tests.ai_tasks._http import LocalServer, body, serve
from tests.integration.conftest import REDIS_ARTIFACTS, Workers

SAMPLES = Path(__file__).resolve().parents[2] / "omr" / "samples"


@pytest.fixture(scope="module")
def files() -> Iterator[LocalServer]:
    with serve() as srv:
        srv.route("/photo.jpg", body((SAMPLES / "photo_20q.jpg").read_bytes()))
        srv.route("/truncated.jpg", body((SAMPLES / "photo_20q.jpg").read_bytes()[:20000]))
        yield srv


def _cpu(workers: Workers) -> None:
    if not any(n.startswith("cpu-vision-") for n in workers.procs):
        workers.start("cpu-vision", tmp=workers.tmp)  # type: ignore[attr-defined]


def _payload(url: str) -> dict:  # type: ignore[type-arg]
    return {
        "download_url": url,
        "mode": "photo",
        "template_meta": json.loads((SAMPLES / "meta_20q.json").read_text()),
        "answer_key": json.loads((SAMPLES / "key_20q.json").read_text()),
        "overlay": True,
    }


def test_omr_job_runs_as_a_chain_and_returns_one_airesult(workers: Workers, files: LocalServer) -> None:
    _cpu(workers)
    job = {"id": "omr-1", "type": "omr_grading", "payload": _payload(files.url("/photo.jpg")), "source_id": "77"}
    r = workers.client.send_task("ai.job", args=[job])
    out = r.get(timeout=60)
    assert out["status"] == "DONE" and out["job_id"] == "omr-1", out
    res = out["result"]
    assert len(res["answers"]) == 20 and res["score"]["max"] > 0
    assert {"fetch", "warp", "identifier", "answers"} <= set(res["timings_ms"])
    # the dispatcher fetched (the chain's first step, on its own queue), ai.omr.read read the sheet
    # and ended the job: no ai.omr.fetch task, no ai.job.finalize
    # (the read step logs its line just after it stored the job's result: allow it a moment)
    deadline = time.monotonic() + 10
    while '"task":"ai.omr.read"' not in (log := "".join(workers.log_text(n) for n in workers.procs)):
        assert time.monotonic() < deadline, log[-3000:]
        time.sleep(0.05)
    mine = [line for line in log.splitlines() if '"job_id":"omr-1"' in line]
    assert [t for t in ("ai.job", "ai.omr.read", "ai.omr.fetch", "ai.job.finalize")
            if any(f'"task":"{t}"' in line for line in mine)] == ["ai.job", "ai.omr.read"], mine
    # only the overlay remains in the artifact store; the photo and meta are gone
    # (released by the read step once the job's result is stored, so allow it a moment)
    store = redis.Redis.from_url(REDIS_ARTIFACTS)
    deadline = time.monotonic() + 10
    while (keys := [k.decode() for k in store.keys("ai:artifact:*")]) != [f"ai:artifact:{res['overlay_key']}"]:
        assert time.monotonic() < deadline, keys
        time.sleep(0.05)


def test_single_pipeline_gives_the_chain_result_with_every_guarantee(workers: Workers, files: LocalServer) -> None:
    _cpu(workers)
    payload = {**_payload(files.url("/photo.jpg") + "?sig=SECRET"), "overlay": False}
    single = workers.client.send_task(
        "ai.job", args=[{"id": "omr-2", "type": "omr_grading", "payload": {**payload, "pipeline": "single"}}]
    ).get(timeout=60)
    chained = workers.client.send_task(
        "ai.job", args=[{"id": "omr-3", "type": "omr_grading", "payload": payload}]
    ).get(timeout=60)
    assert single["status"] == chained["status"] == "DONE" and single["job_id"] == "omr-2"
    assert single["result"].pop("timings_ms").keys() == chained["result"].pop("timings_ms").keys()
    assert single["result"] == chained["result"]
    # the single pipeline ran inside the dispatcher: no step task for omr-2 (its log line may land
    # just after the result: the task stores and delivers before it logs)
    deadline = time.monotonic() + 10
    while not ('"task":"ai.job","task_id"' in (log := "".join(workers.log_text(n) for n in workers.procs))
               and '"job_id":"omr-2"' in log) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert '"task":"ai.job","task_id"' in log and '"job_id":"omr-2"' in log
    assert not any('"job_id":"omr-2"' in line and '"task":"ai.omr.' in line for line in log.splitlines())
    assert "SECRET" not in log


def test_bad_image_fails_the_job_with_a_reason_code(workers: Workers, files: LocalServer) -> None:
    _cpu(workers)
    t0 = time.monotonic()
    job = {"id": "omr-bad", "type": "omr_grading", "payload": _payload(files.url("/truncated.jpg"))}
    out = workers.client.send_task("ai.job", args=[job]).get(timeout=60)
    assert out["status"] == "FAILED" and out["error"]["reason_code"] == "image_truncated", out
    assert time.monotonic() - t0 < 30  # permanent: no retry loop
