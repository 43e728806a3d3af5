"""The hostile-input corpus, in process: every case answers FAILED with its reason code, and the
process still grades a real sheet afterwards (issue 12: bad input and secrets in ``make test``).

The same corpus goes through real workers in ``tests/integration/test_hostile_worker.py``.
"""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from ai_tasks.inprocess import run_job
from tests.ai_tasks._http import LocalServer, body, serve
from tests.hostile.corpus import SAMPLES, Case, cases, files, special_routes

CASES = cases()


@pytest.fixture(scope="module")
def server() -> Iterator[LocalServer]:
    with serve() as srv:
        for path, data in files().items():
            srv.route(path, body(data))
        for path, route in special_routes().items():
            srv.route(path, route)
        yield srv


def test_the_corpus_is_big_and_names_are_unique() -> None:
    assert len(CASES) >= 50
    assert len({c.name for c in CASES}) == len(CASES)
    assert all(c.reason_code != "internal_error" for c in CASES)


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_hostile_input_fails_with_its_reason_code(case: Case, server: LocalServer) -> None:
    out = run_job(case.resolved(server.base_url))
    assert out["status"] == "FAILED", out
    assert out["error"]["reason_code"] == case.reason_code, out["error"]
    assert out["result"] is None
    # the error message never echoes a credential-looking query string
    assert "X-Amz" not in json.dumps(out)


def test_the_process_still_serves_after_the_corpus(server: LocalServer) -> None:
    for case in CASES:
        run_job(case.resolved(server.base_url))
    meta = json.loads((SAMPLES / "meta_20q.json").read_text())
    good = run_job({"id": "after", "type": "omr_grading",
                    "payload": {"download_url": server.url("/photo.jpg"), "mode": "photo", "template_meta": meta}})
    assert good["status"] == "DONE", good
    assert len(good["result"]["answers"]) == 20
