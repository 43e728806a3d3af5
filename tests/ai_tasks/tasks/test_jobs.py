"""The ai.job dispatcher: permanent errors answer at once, transient ones are retried, then answered."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from ai_tasks.celery import app
from tests.ai_tasks._http import LocalServer, serve, status


@pytest.fixture()
def api() -> Iterator[LocalServer]:
    with serve() as srv:
        srv.route("/api/v1/assets/omr/objective/meta/", status(503))
        yield srv


def _dispatch(job: dict) -> dict:  # type: ignore[type-arg]
    app.loader.import_default_modules()
    return app.tasks["ai.job"].apply(args=[job]).get()  # type: ignore[no-any-return]


def test_unknown_type_and_malformed_jobs_answer_failed() -> None:
    assert _dispatch({"id": 1, "type": "teleport"})["error"]["reason_code"] == "unknown_job_type"
    assert _dispatch({"type": "ocr"})["error"]["reason_code"] == "job_invalid"


def test_transient_template_fetch_is_retried_then_answered(api: LocalServer) -> None:
    job = {
        "id": "r1",
        "type": "omr_grading",
        "payload": {
            "download_url": "https://x/y.jpg",
            "question_count": 20,
            "template_fetch": {"base_url": api.base_url, "cookie": "s=legacy"},
        },
    }
    out = _dispatch(job)
    assert out["status"] == "FAILED" and out["error"]["reason_code"] == "download_http_5xx"
    attempts = [r for r in api.requests if r.path.startswith("/api/v1/assets/omr/objective/meta/")]
    assert len(attempts) == app.tasks["ai.job"].max_retries + 1
