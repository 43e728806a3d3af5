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
    calls = {"n": 0}

    def flaky_result_endpoint(h: BaseHTTPRequestHandler) -> None:
        calls["n"] += 1
        code = 503 if calls["n"] == 1 else 200  # the API hiccups once
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
    result = workers.client.send_task("ai.job", args=[job]).get(timeout=60)
    assert result["status"] == "FAILED" and result["error"]["reason_code"] == "not_implemented"

    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and len([r for r in api.requests if r.method == "POST"]) < 2:
        time.sleep(0.2)
    posts = [r for r in api.requests if r.method == "POST"]
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
    }
    # the token came from the worker's environment: it is in no message and no log
    assert TOKEN not in workers.log_text(node)
