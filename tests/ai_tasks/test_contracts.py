from __future__ import annotations

import json

import pytest

from ai_tasks.contracts import AIJob, AIResult, JobError
from ai_tasks.errors import DownloadError, JobPayloadError


@pytest.mark.parametrize(
    "bad",
    [None, [], {}, {"id": "", "type": "ocr"}, {"id": 1}, {"id": 1, "type": 3}, {"id": 1, "type": "ocr", "payload": []}],
)
def test_malformed_jobs_are_refused_with_a_reason(bad: object) -> None:
    with pytest.raises(JobPayloadError) as err:
        AIJob.from_dict(bad)
    assert err.value.reason_code == "job_invalid"


def test_seed_job_round_trips_through_json() -> None:
    seed = {"id": 17, "type": "omr_grading", "payload": {"download_url": "https://x/y.jpg", "mode": "photo"}, "source_id": 99}
    job = AIJob.from_dict(json.loads(json.dumps(seed)))
    assert job.id == "17" and job.source_id == "99"
    assert AIJob.from_dict(json.loads(json.dumps(job.to_dict()))) == job


def test_results_round_trip_and_accept_the_legacy_error_string() -> None:
    done = AIResult.done("1", {"text": "hi"})
    assert AIResult.from_dict(json.loads(json.dumps(done.to_dict()))) == done
    legacy = AIResult.from_dict({"job_id": "1", "status": "FAILED", "result": None, "error": "cannot read image"})
    assert legacy.error == JobError("legacy_error", "cannot read image")
    with pytest.raises(JobPayloadError):
        AIResult.from_dict({"job_id": "1", "status": "MAYBE"})


def test_failed_result_from_an_exception_keeps_its_code() -> None:
    r = AIResult.from_exception("9", DownloadError("download_too_large", "body exceeds 10 MB"))
    assert r.to_dict()["error"] == {"reason_code": "download_too_large", "message": "body exceeds 10 MB"}
    assert AIResult.from_exception("9", RuntimeError("boom")).to_dict()["error"]["reason_code"] == "internal_error"
