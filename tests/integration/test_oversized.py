"""Issue 12, fault 6: an oversized job is refused at once, before decoding, and the worker stays small."""

from __future__ import annotations

import json
import time
from pathlib import Path

import celeryconfig
from tests.integration.conftest import Workers


def _rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def test_oversized_job_fails_fast_and_the_main_process_does_not_grow(workers: Workers) -> None:
    node = workers.start("cpu-vision", name="size", concurrency=1, tmp=workers.tmp)  # type: ignore[attr-defined]
    main = workers.procs[node].pid
    # a first small job pays the consumer's one-time allocations, so what is
    # measured below is the oversized message alone
    warm = {"id": "warm-1", "type": "teleport", "payload": {}}
    assert workers.client.send_task("ai.job", args=[warm]).get(timeout=60)["status"] == "FAILED"
    before_mb = _rss_mb(main)
    bubbles = [{"q": i // 5, "c": i % 5, "x": 10.5, "y": 20.25, "r": 3.0} for i in range(120_000)]
    job = {"id": "huge-1", "type": "omr_grading",
           "payload": {"download_url": "https://b.example/x.jpg", "template_meta": {"bubbles": bubbles}}}
    t0 = time.monotonic()
    out = workers.client.send_task("ai.job", args=[job]).get(timeout=60)
    assert out["status"] == "FAILED" and out["error"]["reason_code"] == "payload_too_large", out
    assert out["job_id"] == "huge-1"
    assert time.monotonic() - t0 < 30
    grown_mb = _rss_mb(main) - before_mb
    message_mb = len(json.dumps(job)) / 2**20
    assert message_mb * 2**20 > celeryconfig.MAX_MESSAGE_BYTES
    # decoded, such a message costs about 10x its size in Python objects, kept by
    # the allocator; refused on its raw bytes it costs a few copies of them at most
    # (the raw body, its base64 on Redis, the envelope: up to ~5x measured here)
    assert grown_mb < 6 * message_mb, f"main process grew by {grown_mb:.0f} MB for a {message_mb:.0f} MB message"
    # the worker still serves
    ok = workers.client.send_task("ai.job", args=[{"id": "small", "type": "teleport"}]).get(timeout=30)
    assert ok["error"]["reason_code"] == "unknown_job_type"
