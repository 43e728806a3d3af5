"""Issue 12, fault 6: an oversized job is refused at once, before decoding, and the worker stays small.

The bound on the main process's growth (``GROWTH_PER_MESSAGE_BYTE``) sits between
what a refused message costs and what a decoded one costs, measured with kombu
5.7 / redis-py 8.2 on a 5.7 MB message:

* refused: the raw bytes' copies only. On Redis the reply buffer, the reply,
  its text, the envelope's base64 body, the decoded body, and the copy kombu
  re-serialises into the unacked hash are alive together: +21 MB (3.7x) after
  one message, 31-39 MB (6.5x) seen on fresh machines, and a plateau of about
  10x after several, as the allocator keeps the freed blocks. RabbitMQ: +6 MB.
* decoded (the regression: the size check removed, or moved after decoding):
  the copies plus the Python objects. The message below is 1.5 million empty
  objects, 4 bytes each on the wire and ~72 bytes each decoded, so decoding
  costs ~20x its size: +118 MB (RabbitMQ), +133 MB (Redis).

So the bound is 12x, and the control (the same message to a worker whose size
check is off, ``tests/integration/unchecked_app.py``) must grow past it: if it
does not, the bound has stopped meaning anything and the test says so.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import celeryconfig
from tests.integration.conftest import Workers

GROWTH_PER_MESSAGE_BYTE = 12
"""The main process may grow by at most this many bytes per byte of a refused message."""
EMPTY_OBJECTS = 1_500_000
"""``{}`` entries in the oversized template: about 6 MB of JSON, three times the limit."""


def _rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def _oversized(job_id: str) -> dict[str, Any]:
    return {"id": job_id, "type": "omr_grading",
            "payload": {"download_url": "https://b.example/x.jpg", "template_meta": {"bubbles": [{}] * EMPTY_OBJECTS}}}


def _growth_mb(workers: Workers, node: str, job: dict[str, Any]) -> tuple[float, dict[str, Any]]:
    """How much ``node``'s main process grows while it handles ``job``, after a first small job."""
    main = workers.procs[node].pid
    # a first small job pays the consumer's one-time allocations, so what is
    # measured is the oversized message alone
    warm = {"id": "warm-1", "type": "teleport", "payload": {}}
    assert workers.client.send_task("ai.job", args=[warm]).get(timeout=60)["status"] == "FAILED"
    before_mb = _rss_mb(main)
    out = workers.client.send_task("ai.job", args=[job]).get(timeout=90)
    return _rss_mb(main) - before_mb, out


def _stop(workers: Workers, node: str) -> None:
    proc = workers.procs.pop(node)
    proc.terminate()
    proc.wait(timeout=30)


def test_oversized_job_fails_fast_and_the_main_process_does_not_grow(workers: Workers) -> None:
    job = _oversized("huge-1")
    message_mb = len(json.dumps(job)) / 2**20
    assert message_mb * 2**20 > celeryconfig.MAX_MESSAGE_BYTES
    bound_mb = GROWTH_PER_MESSAGE_BYTE * message_mb

    node = workers.start("cpu-vision", name="size", concurrency=1, tmp=workers.tmp)  # type: ignore[attr-defined]
    t0 = time.monotonic()
    grown_mb, out = _growth_mb(workers, node, job)
    assert out["status"] == "FAILED" and out["error"]["reason_code"] == "payload_too_large", out
    assert out["job_id"] == "huge-1"
    assert time.monotonic() - t0 < 30
    assert grown_mb < bound_mb, f"main process grew by {grown_mb:.0f} MB for a {message_mb:.1f} MB message"
    # the worker still serves
    ok = workers.client.send_task("ai.job", args=[{"id": "small", "type": "teleport"}]).get(timeout=30)
    assert ok["error"]["reason_code"] == "unknown_job_type"
    _stop(workers, node)

    # the control: decoded, the same message costs more than the bound
    control = workers.start("cpu-vision", name="unchecked", concurrency=1, tmp=workers.tmp,  # type: ignore[attr-defined]
                            app="tests.integration.unchecked_app")
    decoded_mb, out = _growth_mb(workers, control, _oversized("huge-2"))
    assert out["error"]["reason_code"] != "payload_too_large", out
    assert decoded_mb > bound_mb, (
        f"decoding the message grew the main process by only {decoded_mb:.0f} MB, under the "
        f"{bound_mb:.0f} MB bound: the bound no longer tells a refused message from a decoded one")
    _stop(workers, control)
