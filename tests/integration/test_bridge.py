"""Issue 15 point 8: jobs from a legacy API through ``ai-worker bridge`` end as one result each, posted once.

A local API speaking the legacy worker's contract queues the jobs; the
bridge (a process) polls it, real ``cpu-vision`` worker processes run them on
a private Redis. Meanwhile the worker is SIGKILLed twice, Redis is
restarted once and the bridge itself is stopped and started again once
(tests/integration/_bridge_run.py). ``bench/bridge.py --jobs 1000`` runs the
same with more jobs.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.integration import _bridge_run

JOBS = 100


@pytest.mark.timeout(240)
def test_every_job_ends_as_one_result_posted_once(tmp_path: Path) -> None:
    if shutil.which("redis-server") is None:
        pytest.skip("redis-server is not installed")
    report = _bridge_run.run(JOBS, tmp_path, timeout_s=180)
    summary = report.summary()
    assert [what.split(" ")[0] for _, what in report.events].count("worker") >= 2, summary
    assert report.missing == [], summary
    assert report.duplicated == {}, summary
    assert report.wrong == {}, summary
    assert summary["posted_once"] == JOBS
    assert report.secrets_in_logs == [], summary
    # the second bridge resumed what the first held when it was stopped
    first, second = report.bridge_counts
    assert first["in_flight"] > 0 and second["fetched"] + first["fetched"] == JOBS, summary
