"""One bridge run under fire, shared by tests/integration/test_bridge.py and bench/bridge.py.

A local legacy API queues ``jobs`` jobs (OMR sheets on the committed sample
photo, through the single and the chain pipeline, and one in ten without a
``download_url``, which answers FAILED) and serves the photo. ``ai-worker
bridge`` runs as a process, as an operator starts it; one ``cpu-vision``
worker serves it. Broker, result backend and artifact store are a private
redis-server (AOF, fsync always). As results come back, at set shares of
the jobs:

* the worker is SIGKILLed (main process and pool) and a new one started, twice;
* Redis is killed and restarted once;
* the bridge is stopped with SIGTERM and started again once (it resumes from its ledger).

:func:`run` returns what the API received: per job, how many result POSTs
it accepted, and whether each says what the job should have ended as.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.ai_tasks._http import body
from tests.ai_tasks._legacy_api import LegacyAPI, legacy_api
from tests.integration._private_redis import PrivateRedis
from tests.integration.conftest import ROOT, Workers, _worker_env

TOKEN = "bridge-worker-token-SECRET"
SIGNATURE = "SIGNATURE-SECRET"
SAMPLES = ROOT / "omr" / "samples"
#: share of the jobs posted back -> what happens then
SCHEDULE: tuple[tuple[float, str], ...] = (
    (0.15, "kill_worker"), (0.35, "restart_redis"), (0.50, "restart_bridge"), (0.65, "kill_worker"),
)


@dataclass
class Report:
    """What the API received, and what happened on the way."""

    jobs: int
    accepted: dict[str, int]
    wrong: dict[str, str]
    events: list[tuple[float, str]] = field(default_factory=list)
    bridge_counts: list[dict[str, Any]] = field(default_factory=list)
    elapsed_s: float = 0.0
    secrets_in_logs: list[str] = field(default_factory=list)

    @property
    def missing(self) -> list[str]:
        return [str(i) for i in range(self.jobs) if self.accepted.get(str(i), 0) == 0]

    @property
    def duplicated(self) -> dict[str, int]:
        return {j: n for j, n in self.accepted.items() if n > 1}

    def summary(self) -> dict[str, Any]:
        return {
            "jobs": self.jobs, "posted_once": sum(1 for n in self.accepted.values() if n == 1),
            "lost": len(self.missing), "duplicated": len(self.duplicated), "wrong_status": len(self.wrong),
            "elapsed_s": round(self.elapsed_s, 1), "jobs_per_s": round(self.jobs / self.elapsed_s, 2),
            "events": [f"{t:.1f}s {what}" for t, what in self.events], "bridge_runs": self.bridge_counts,
            "secrets_in_logs": self.secrets_in_logs,
        }


def _jobs(n: int, photo_url: str, meta: dict[str, Any]) -> list[dict[str, Any]]:
    out = []
    for i in range(n):
        payload: dict[str, Any] = {"download_url": photo_url, "mode": "photo", "template_meta": meta,
                                   "pipeline": "chain" if i % 10 in (7, 8) else "single"}
        if i % 10 == 9:
            del payload["download_url"]
        out.append({"id": i, "type": "omr_grading", "payload": payload, "source_id": str(5000 + i)})
    return out


def _expected(job_id: int) -> tuple[str, str | None]:
    return ("FAILED", "download_url_missing") if job_id % 10 == 9 else ("DONE", None)


class _Bridge:
    """``ai-worker bridge`` as a process (its counts come back as JSON on stdout)."""

    def __init__(self, env: dict[str, str], api_url: str, folder: Path, republish_after_s: float) -> None:
        self.env, self.api_url, self.folder = env, api_url, folder
        self.republish_after_s = republish_after_s
        self.proc: subprocess.Popen[bytes] | None = None
        self.runs = 0

    def start(self) -> None:
        self.runs += 1
        self.out = self.folder / f"bridge-{self.runs}.out"
        self.err = self.folder / f"bridge-{self.runs}.log"
        cmd = [sys.executable, "-m", "ai_tasks.cli", "bridge", "--api-url", self.api_url, "--exit-when-idle",
               "--max-in-flight", "48", "--poll-interval", "0.2", "--max-backoff", "2", "--progress-every", "5",
               "--republish-after", str(self.republish_after_s)]
        with open(self.out, "wb") as out, open(self.err, "wb") as err:
            self.proc = subprocess.Popen(cmd, cwd=ROOT, env=self.env, stdout=out, stderr=err)

    def stop(self, sig: int = signal.SIGTERM, timeout_s: float = 60) -> dict[str, Any]:
        assert self.proc is not None
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        return self.wait(timeout_s)

    def wait(self, timeout_s: float) -> dict[str, Any]:
        assert self.proc is not None
        rc = self.proc.wait(timeout=timeout_s)
        if rc != 0:
            raise RuntimeError(f"bridge exited {rc}: {self.err.read_text(errors='replace')[-3000:]}")
        return dict(json.loads(self.out.read_text()))

    def logs(self) -> str:
        return "\n".join(p.read_text(errors="replace") for p in sorted(self.folder.glob("bridge-*.log")))


def run(jobs: int, folder: Path, *, app: str = "tests.integration.lease_app", timeout_s: float = 150.0,
        republish_after_s: float = 30.0, concurrency: int = 2,
        say: Callable[[str], None] = lambda _m: None) -> Report:
    """Run ``jobs`` jobs through the bridge while the worker, Redis and the bridge are broken; see the module.

    ``republish_after_s`` must exceed a killed worker's redelivery delay (the
    app's visibility timeout) plus the backlog of ``--max-in-flight`` jobs, or
    jobs that are merely late run twice (still posted once).
    """
    redis_srv = PrivateRedis(folder / "redis").start()
    broker, backend = redis_srv.url(0), redis_srv.url(1)
    worker_env = _worker_env(broker, redis_srv.url(2))
    worker_env["CELERY_RESULT_BACKEND"] = backend
    for name in ("API_BASE_URL", "INTERNAL_WORKER_TOKEN"):
        worker_env.pop(name, None)  # the bridge posts the results, not the workers
    bridge_env = {**worker_env, "INTERNAL_WORKER_TOKEN": TOKEN}
    workers = Workers(broker, backend, worker_env)
    meta = json.loads((SAMPLES / "meta_20q.json").read_text())
    photo = body((SAMPLES / "photo_20q.jpg").read_bytes())
    started = time.monotonic()
    events: list[tuple[float, str]] = []
    counts: list[dict[str, Any]] = []

    def note(what: str) -> None:
        events.append((time.monotonic() - started, what))
        say(f"{events[-1][0]:7.1f}s  {what}")

    api: LegacyAPI
    try:
        with legacy_api(TOKEN, routes={"/photo.jpg": photo}) as api:
            api.add(_jobs(jobs, api.server.url(f"/photo.jpg?X-Amz-Signature={SIGNATURE}"), meta))  # type: ignore[union-attr]
            node = workers.start("cpu-vision", concurrency=concurrency, tmp=folder, app=app)
            bridge = _Bridge(bridge_env, api.base_url, folder, republish_after_s)
            bridge.start()
            note(f"{jobs} jobs queued at the legacy API; worker and bridge started")
            schedule = list(SCHEDULE)
            deadline = started + timeout_s
            while time.monotonic() < deadline:
                posted = sum(api.accepted().values())
                if schedule and posted >= schedule[0][0] * jobs:
                    _, what = schedule.pop(0)
                    if what == "kill_worker":
                        workers.kill(node)
                        note(f"worker SIGKILLed after {posted} results")
                        node = workers.start("cpu-vision", concurrency=concurrency, tmp=folder, app=app)
                        note("new worker ready")
                    elif what == "restart_redis":
                        redis_srv.restart(down_s=1.5)
                        note(f"Redis killed and restarted after {posted} results")
                    elif what == "restart_bridge":
                        counts.append(bridge.stop())
                        note(f"bridge stopped (SIGTERM) after {posted} results, holding "
                             f"{counts[-1]['in_flight']} jobs; started again")
                        bridge.start()
                    continue
                assert bridge.proc is not None
                if bridge.proc.poll() is not None:
                    break
                time.sleep(0.1)
            if bridge.proc is not None and bridge.proc.poll() is None:
                note("deadline: bridge stopped")
                counts.append(bridge.stop())
            else:
                counts.append(bridge.wait(10))
                note("bridge exited: intake empty, every result posted")
            elapsed = time.monotonic() - started
            accepted = dict(api.accepted())
            wrong = {}
            for job_id, sent in api.bodies().items():
                want = _expected(int(job_id))
                got = (sent["status"], (sent.get("error") or {}).get("reason_code"))
                if got != want or sent["submission_id"] != 5000 + int(job_id):
                    wrong[job_id] = f"{got} (want {want}), submission_id {sent['submission_id']}"
            logs = bridge.logs() + "".join(workers.log_text(n) for n in workers.procs)
            leaks = [s for s in (TOKEN, SIGNATURE) if s in logs]
    finally:
        workers.stop()
        redis_srv.stop()
    return Report(jobs, accepted, wrong, events, counts, elapsed, leaks)
