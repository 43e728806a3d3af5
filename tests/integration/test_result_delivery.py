"""Results are POSTed to the API's internal endpoint with the worker's token, retried on 5xx."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler

import pytest

from tests.ai_tasks._http import LocalServer, serve
from tests.integration.conftest import Workers

TOKEN = "worker-token-SECRET"


@pytest.fixture(scope="module")
def api() -> Iterator[LocalServer]:
    seen: set[str | None] = set()

    def flaky_result_endpoint(h: BaseHTTPRequestHandler) -> None:
        key = h.headers.get("Idempotency-Key")
        code = 503 if key not in seen else 200  # the API hiccups once per result (per broker run)
        seen.add(key)
        h.send_response(code)
        h.send_header("Content-Length", "2")
        h.end_headers()
        h.wfile.write(b"{}")

    with serve() as srv:
        srv.route("/api/v1/internal/ai/job/result/", flaky_result_endpoint)
        yield srv


def test_result_is_delivered_with_the_worker_token(workers: Workers, api: LocalServer) -> None:
    workers.env.update(API_BASE_URL=api.base_url, INTERNAL_WORKER_TOKEN=TOKEN)
    node = workers.start("cpu-vision", tmp=workers.tmp)  # type: ignore[attr-defined]
    job = {"id": "d1", "type": "ocr", "payload": {}, "source_id": "314"}
    r = workers.client.send_task("ai.job", args=[job])
    result = r.get(timeout=60)
    assert result["status"] == "FAILED" and result["error"]["reason_code"] == "download_url_missing", result

    deadline = time.monotonic() + 30
    key = f"d1:{r.id}"  # one idempotency key per submission (issue 12, fault 4)

    def mine() -> list:  # type: ignore[type-arg]
        return [p for p in api.requests if p.method == "POST" and p.headers.get("Idempotency-Key") == key]

    while time.monotonic() < deadline and len(mine()) < 2:
        time.sleep(0.2)
    posts = mine()
    assert len(posts) == 2, "one 503, then a retried delivery"
    last = posts[-1]
    assert last.headers["X-Worker-Token"] == TOKEN
    body = json.loads(last.body)
    assert body == {
        "job_id": "d1",
        "submission_id": 314,
        "status": "FAILED",
        "result": None,
        "error": result["error"],
        "idempotency_key": key,
    }
    assert last.headers["Idempotency-Key"] == key == posts[0].headers["Idempotency-Key"]
    # the token came from the worker's environment: it is in no message and no log
    assert TOKEN not in workers.log_text(node)
