"""The hostile-input corpus through real workers: every reason code as in process, and the worker
still serves afterwards, on both brokers (issue 12)."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from tests.ai_tasks._http import LocalServer, body, serve
from tests.hostile.corpus import SAMPLES, cases, files, special_routes
from tests.integration.conftest import Workers


@pytest.fixture(scope="module")
def server() -> Iterator[LocalServer]:
    with serve() as srv:
        for path, data in files().items():
            srv.route(path, body(data))
        for path, route in special_routes().items():
            srv.route(path, route)
        yield srv


@pytest.mark.timeout(400)
def test_corpus_through_a_worker(workers: Workers, server: LocalServer) -> None:
    # one quick retry for the retryable cases (an HTTP 500), so the test does not wait out the backoff
    workers.env.update(AI_WORKER_MAX_RETRIES="1", AI_WORKER_RETRY_BACKOFF_MAX_S="1")
    node = workers.start("cpu-vision", name="hostile", concurrency=2, tmp=workers.tmp)  # type: ignore[attr-defined]
    main = workers.procs[node].pid
    sent = [(c, workers.client.send_task("ai.job", args=[c.resolved(server.base_url)])) for c in cases()]
    wrong = {}
    for case, r in sent:
        out = r.get(timeout=120)
        code = (out.get("error") or {}).get("reason_code")
        if out["status"] != "FAILED" or code != case.reason_code:
            wrong[case.name] = (out["status"], code, case.reason_code)
    assert not wrong, wrong
    meta = json.loads((SAMPLES / "meta_20q.json").read_text())
    good = workers.client.send_task("ai.job", args=[{
        "id": "after", "type": "omr_grading",
        "payload": {"download_url": server.url("/photo.jpg"), "mode": "photo", "template_meta": meta}}])
    assert good.get(timeout=60)["status"] == "DONE"
    assert workers.procs[node].poll() is None and workers.procs[node].pid == main
    log = workers.log_text(node)
    assert "internal_error" not in log and "Unrecoverable" not in log
