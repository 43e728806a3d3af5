"""Chaos bench: mixed jobs through a broker while processes, workers, the broker and the API fail.

For each broker (Redis, RabbitMQ), on a private instance started here with
persistence on (the machine's shared brokers are never touched):

* worker processes started as operators start them
  (``celery -A ai_tasks worker -Q <queue> -c 2``), two for ``cpu-vision``;
* a local API that records every result POST (with its idempotency key) and
  serves the photos;
* ``--jobs`` mixed jobs from a client that sets nothing but the broker and
  the backend (so they travel through Celery's default queue): OMR photos
  through the chain and the single task, bad photos, bad metas, refused
  URLs, unknown fields, and every other job type with inputs that fail at
  the door;
* meanwhile: a random pool process SIGKILLed every ``--pool-kill-s``, a
  whole worker (main process and pool) SIGKILLed and restarted every
  ``--worker-kill-s``, the broker killed and restarted every
  ``--broker-restart-s``, and the API answering 503 for ``--stall-s``.

Printed per broker: sent, results (missing, duplicated), callbacks
(missing, duplicated), redelivery delay after a worker's death, p50/p99
end-to-end latency, throughput, worker exits not caused by the script.

    .venv/bin/python bench/chaos.py                 # 300 jobs, both brokers, a few minutes
    .venv/bin/python bench/chaos.py --jobs 2000 --brokers redis --out /tmp/chaos.json
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench._chaos_services import (  # noqa: E402
    ROOT,
    EventTap,
    FakeAPI,
    RabbitServer,
    RedisServer,
    Worker,
)

SAMPLES = ROOT / "omr" / "samples"
TOKEN = "chaos-worker-token"
#: Pool processes of a worker younger than this are not killed (see Chaos.run).
STARTUP_GRACE_S = 15.0
#: Shares of the job mix (weights); the bad ones answer FAILED with a reason code.
MIX: tuple[tuple[str, int], ...] = (
    ("omr_chain", 50), ("omr_single", 10), ("omr_truncated", 5), ("omr_not_image", 3), ("omr_ssrf", 3),
    ("omr_bad_meta", 3), ("omr_unknown_field", 2), ("ocr_404", 4), ("segmentation_bad", 3),
    ("handwriting_bad", 3), ("video_bad", 3), ("embedding_bad", 3), ("problem_bad", 3), ("wrong_note_bad", 3),
    ("unknown_type", 2),
)


def make_job(kind: str, job_id: str, base: str, meta: dict[str, Any]) -> dict[str, Any]:
    """One AIJob of the given kind (photos served by the fake API at ``base``)."""
    photo = f"{base}/photo.jpg?X-Amz-Signature=CHAOS-SIG-{job_id}"
    omr = {"download_url": photo, "mode": "photo", "template_meta": meta}
    payloads: dict[str, tuple[str, dict[str, Any]]] = {
        "omr_chain": ("omr_grading", omr),
        "omr_single": ("omr_grading", {**omr, "pipeline": "single"}),
        "omr_truncated": ("omr_grading", {**omr, "download_url": f"{base}/truncated.jpg"}),
        "omr_not_image": ("omr_grading", {**omr, "download_url": f"{base}/not_image.jpg"}),
        "omr_ssrf": ("omr_grading", {**omr, "download_url": "http://169.254.169.254/latest/meta-data/"}),
        "omr_bad_meta": ("omr_grading", {**omr, "template_meta": {"bubbles": "many"}}),
        "omr_unknown_field": ("omr_grading", {**omr, "surprise": 1}),
        "ocr_404": ("ocr", {"download_url": f"{base}/missing.png"}),
        "segmentation_bad": ("question_segmentation", {}),
        "handwriting_bad": ("handwriting_analysis", {}),
        "video_bad": ("homework_video_analysis", {}),
        "embedding_bad": ("embedding", {"texts": "not a list"}),
        "problem_bad": ("problem_generation", {}),
        "wrong_note_bad": ("wrong_note", {}),
        "unknown_type": ("teleport", {}),
    }
    job_type, payload = payloads[kind]
    return {"id": job_id, "type": job_type, "payload": payload, "source_id": "1"}


def _pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


class Chaos(threading.Thread):
    """Kills pool processes and workers, restarts the broker, stalls the API, on a schedule."""

    def __init__(self, args: argparse.Namespace, workers: list[Worker], broker: Any, api: FakeAPI) -> None:
        super().__init__(daemon=True)
        self.args, self.workers, self.broker, self.api = args, workers, broker, api
        self.stopping = threading.Event()
        self.sending_done_at: float | None = None
        self.pool_kills = 0
        self.worker_kills: list[tuple[float, str]] = []  # (monotonic time, node)
        self.broker_restarts = 0
        self.expected_down: set[int] = set()
        self.rng = random.Random(args.seed)
        self.lock = threading.Lock()

    def run(self) -> None:
        t0 = time.monotonic()
        next_pool = t0 + self.args.pool_kill_s
        next_worker = t0 + self.args.worker_kill_s
        next_broker = t0 + self.args.broker_restart_s
        stall_at = t0 + self.args.stall_after_s
        stalled = False
        cpu = [w for w in self.workers if w.queue == "cpu-vision"]
        while not self.stopping.wait(0.2):
            now = time.monotonic()
            if self.sending_done_at is not None and now > self.sending_done_at + self.args.chaos_tail_s:
                return  # the storm is over: now everything must come back
            if not stalled and now >= stall_at and self.args.stall_s > 0:
                self.api.stall_until = now + self.args.stall_s
                stalled = True
            if now >= next_pool and self.args.pool_kill_s > 0:
                next_pool = now + self.args.pool_kill_s
                # a pool process killed while its worker is still starting makes Celery give up
                # ("Could not start worker processes"); the restart policy covers that, it is
                # not what this bench measures
                kids = [pid for w in cpu if now - w.started_at > STARTUP_GRACE_S for pid in w.children()]
                if kids:
                    try:
                        os.kill(self.rng.choice(kids), 9)
                        self.pool_kills += 1
                    except ProcessLookupError:
                        pass
            if now >= next_worker and self.args.worker_kill_s > 0:
                next_worker = now + self.args.worker_kill_s
                victim = self.rng.choice(cpu)
                with self.lock:
                    node = victim.node
                    victim.kill()
                    self.worker_kills.append((time.monotonic(), node))
                    time.sleep(1.0)
                    victim.start()
            if now >= next_broker and self.args.broker_restart_s > 0:
                next_broker = now + self.args.broker_restart_s
                self.broker.restart(self.args.broker_down_s)
                self.broker_restarts += 1


def run_broker(name: str, args: argparse.Namespace, folder: Path) -> dict[str, Any]:
    """Start everything for one broker, run the storm, stop everything (also on errors and SIGTERM)."""
    import signal

    started: list[Any] = []
    signal.signal(signal.SIGTERM, lambda *_: (_ for _ in ()).throw(KeyboardInterrupt()))
    try:
        return _run_broker(name, args, folder, started)
    finally:
        for thing in reversed(started):
            try:
                thing.stop()
            except Exception as exc:  # clean-up goes on
                print(f"  stop {thing}: {exc}", file=sys.stderr)


def _run_broker(name: str, args: argparse.Namespace, folder: Path, started: list[Any]) -> dict[str, Any]:
    from celery import Celery

    meta = json.loads((SAMPLES / "meta_20q.json").read_text())
    photo = (SAMPLES / "photo_20q.jpg").read_bytes()
    api = FakeAPI({"/photo.jpg": photo, "/truncated.jpg": photo[:20000], "/not_image.jpg": b"GIF89a nope"}).start()
    started.append(api)
    store = RedisServer(folder / "redis")
    store.start()
    started.append(store)
    broker: Any
    if name == "redis":
        broker, broker_url = store, store.url(0)
    else:
        broker = RabbitServer(folder / "rabbitmq")
        broker.start()
        started.append(broker)
        broker_url = broker.url()
    backend_url = store.url(1)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AI_WORKER_", "CELERY_"))}
    env.update(
        CELERY_BROKER_URL=broker_url, CELERY_RESULT_BACKEND=backend_url, AI_WORKER_ARTIFACT_URL=store.url(2),
        AI_WORKER_DOWNLOAD_ALLOW_HTTP="true", AI_WORKER_DOWNLOAD_ALLOWLIST="127.0.0.1",
        API_BASE_URL=api.base_url, INTERNAL_WORKER_TOKEN=TOKEN, PYTHONPATH=str(ROOT),
        AI_WORKER_STEP_EVENTS="true",  # redelivery delays are read from every step's task-started events
    )
    workers = [Worker("cpu-vision", i, env, folder, args.concurrency) for i in range(args.cpu_workers)]
    workers += [Worker(q, i, env, folder, 1) for q in ("gpu-embed", "llm") for i in range(args.other_workers)]
    for w in workers:
        w.start()
        started.append(w)
    for w in workers:
        w.wait_ready()
    client = Celery("chaos-client", broker=broker_url, backend=backend_url, set_as_current=False)
    tap = EventTap(client).start()
    chaos = Chaos(args, workers, broker, api)
    rng = random.Random(args.seed)
    kinds = [k for k, _ in MIX]
    weights = [w for _, w in MIX]
    sent: dict[str, tuple[Any, float, str]] = {}
    unexpected_exits = 0
    t_start = time.monotonic()
    chaos.start()
    for i in range(args.jobs):
        job_id = f"{name}-{i}"
        kind = rng.choices(kinds, weights)[0]
        job = make_job(kind, job_id, api.base_url, meta)
        while True:
            try:
                r = client.send_task("ai.job", args=[job])
                break
            except Exception:
                time.sleep(0.5)  # the broker is restarting
        sent[job_id] = (r, time.monotonic(), kind)
        if args.rate > 0:
            time.sleep(1.0 / args.rate)
    chaos.sending_done_at = time.monotonic()
    # collect results
    done: dict[str, tuple[dict[str, Any], float]] = {}
    deadline = time.monotonic() + args.deadline_s
    while len(done) < len(sent) and time.monotonic() < deadline:
        for job_id, (r, _, _) in sent.items():
            if job_id in done:
                continue
            try:
                if r.ready():
                    done[job_id] = (r.result, time.monotonic())
            except Exception:
                time.sleep(0.5)
                break
        with chaos.lock:
            for w in workers:
                if w.proc is not None and w.proc.poll() is not None:
                    unexpected_exits += 1
                    print(f"  worker {w.node} exited by itself (rc {w.proc.returncode}); restarting",
                          file=sys.stderr)
                    w.start()
        time.sleep(0.5)
    chaos.stopping.set()
    chaos.join(timeout=120)
    # callbacks: wait for the API stall's retries to land
    cb_deadline = time.monotonic() + args.callback_wait_s
    while time.monotonic() < cb_deadline and len(api.accepted()) < len(done):
        time.sleep(1.0)
    t_end = max((t for _, t in done.values()), default=time.monotonic())
    time.sleep(2.0)
    tap.stop()
    accepted = api.accepted()
    keys_per_job = {j: {k for c, k in calls if 200 <= c < 300} for j, calls in api.posts.items()}
    latencies = [t - sent[j][1] for j, (_, t) in done.items()]
    # redelivery: tasks started on a killed worker and unfinished, then started again elsewhere
    starts_by_task: dict[str, list[tuple[float, str]]] = {}
    finished: dict[str, float] = {}
    final_runs: Counter[str] = Counter()
    for e in tap.events:
        uid = e.get("uuid")
        if not uid:
            continue
        if e["type"] == "task-started":
            starts_by_task.setdefault(uid, []).append((e["t_recv"], str(e.get("hostname"))))
        elif e["type"] in ("task-succeeded", "task-failed"):
            finished.setdefault(uid, e["t_recv"])
            if e["type"] == "task-succeeded":
                final_runs[uid] += 1
    delays: list[float] = []
    for t_kill, node in chaos.worker_kills:
        for uid, starts in starts_by_task.items():
            before = [s for s in starts if s[0] <= t_kill and s[1] == node]
            if not before or finished.get(uid, float("inf")) <= t_kill:
                continue
            after = [s[0] for s in starts if s[0] > t_kill]
            if after:
                delays.append(min(after) - t_kill)
    statuses = Counter(str(res.get("status")) if isinstance(res, dict) else "not-an-AIResult"
                       for res, _ in done.values())
    codes = Counter((res.get("error") or {}).get("reason_code") for res, _ in done.values()
                    if isinstance(res, dict) and res.get("status") == "FAILED")
    leaked = sum(1 for w in workers if w.log.exists() and "CHAOS-SIG" in w.log.read_text(errors="replace"))
    out = {
        "broker": name,
        "sent": len(sent),
        "results": len(done),
        "results_missing": len(sent) - len(done),
        "results_missing_ids": sorted(set(sent) - set(done))[:20],
        "results_duplicated": 0,  # one AIResult key per job id, written only by finalize/failed
        "step_tasks_run_twice": sum(1 for n in final_runs.values() if n > 1),
        "statuses": dict(statuses),
        "reason_codes": dict(codes.most_common()),
        "callbacks_missing": len([j for j in done if accepted.get(j, 0) == 0]),
        "callbacks_duplicated": len([j for j, n in accepted.items() if n > 1]),
        "idempotency_keys_per_job_max": max((len(k) for k in keys_per_job.values()), default=0),
        "redelivery_after_worker_death_s": {"n": len(delays), "max": max(delays, default=float("nan")),
                                            "p50": _pct(delays, 0.5)},
        "latency_s": {"p50": _pct(latencies, 0.5), "p99": _pct(latencies, 0.99), "max": max(latencies, default=0)},
        "throughput_jobs_per_s": len(done) / max(t_end - t_start, 1e-9),
        "worker_exits_not_caused_by_script": unexpected_exits,
        "chaos": {"pool_kills": chaos.pool_kills, "worker_kills": len(chaos.worker_kills),
                  "broker_restarts": chaos.broker_restarts, "api_stall_s": args.stall_s},
        "logs_with_presigned_signature": leaked,
    }
    chaos.stopping.set()
    sent.clear()  # drop the AsyncResults while their backend still answers
    done.clear()
    for w in workers:
        w.stop()
    if args.keep:
        import shutil

        args.keep.mkdir(parents=True, exist_ok=True)
        for log in folder.glob("*.log"):
            shutil.copy(log, args.keep / f"{name}-{log.name}")
    client.close()
    return out


def print_table(rows: list[dict[str, Any]]) -> None:
    lines = [
        ("sent", "sent"), ("results (AIResult per job id)", "results"), ("  missing", "results_missing"),
        ("  duplicated", "results_duplicated"), ("  tasks whose step ran twice (at-least-once)", "step_tasks_run_twice"),
        ("callbacks missing", "callbacks_missing"), ("callbacks duplicated (2xx twice)", "callbacks_duplicated"),
        ("worker exits not caused by the script", "worker_exits_not_caused_by_script"),
        ("logs carrying a presigned signature", "logs_with_presigned_signature"),
    ]
    head = f"{'':44}" + "".join(f"{r['broker']:>14}" for r in rows)
    print(head)
    for label, key in lines:
        print(f"{label:44}" + "".join(f"{r[key]:>14}" for r in rows))
    for label, fn in (
        ("redelivery after worker death max (s)", lambda r: f"{r['redelivery_after_worker_death_s']['max']:.1f}"),
        ("  (in-flight tasks measured)", lambda r: str(r["redelivery_after_worker_death_s"]["n"])),
        ("latency p50 / p99 (s)", lambda r: f"{r['latency_s']['p50']:.1f}/{r['latency_s']['p99']:.1f}"),
        ("throughput (jobs/s)", lambda r: f"{r['throughput_jobs_per_s']:.2f}"),
        ("pool kills / worker kills / broker restarts",
         lambda r: f"{r['chaos']['pool_kills']}/{r['chaos']['worker_kills']}/{r['chaos']['broker_restarts']}"),
        ("statuses", lambda r: ",".join(f"{k}:{v}" for k, v in r["statuses"].items())),
    ):
        print(f"{label:44}" + "".join(f"{fn(r):>14}" for r in rows))
    for r in rows:
        print(f"{r['broker']} reason codes: {r['reason_codes']}")


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--jobs", type=int, default=300, help="jobs per broker (the issue asks for 10,000)")
    p.add_argument("--brokers", default="redis,rabbitmq")
    p.add_argument("--cpu-workers", type=int, default=2, help="cpu-vision worker processes")
    p.add_argument("--other-workers", type=int, default=1, help="gpu-embed and llm worker processes each")
    p.add_argument("--concurrency", type=int, default=2, help="pool processes per cpu-vision worker")
    p.add_argument("--rate", type=float, default=4.0, help="jobs sent per second (0: all at once)")
    p.add_argument("--pool-kill-s", type=float, default=3.0)
    p.add_argument("--worker-kill-s", type=float, default=25.0)
    p.add_argument("--broker-restart-s", type=float, default=30.0)
    p.add_argument("--broker-down-s", type=float, default=2.0)
    p.add_argument("--chaos-tail-s", type=float, default=30.0, help="chaos goes on this long after the last send")
    p.add_argument("--stall-after-s", type=float, default=10.0)
    p.add_argument("--stall-s", type=float, default=60.0, help="the API answers 503 this long")
    p.add_argument("--deadline-s", type=float, default=900.0, help="give up waiting for results after this")
    p.add_argument("--callback-wait-s", type=float, default=400.0)
    p.add_argument("--seed", type=int, default=12)
    p.add_argument("--out", type=Path)
    p.add_argument("--keep", type=Path, help="copy the worker logs here")
    args = p.parse_args(argv)
    rows = []
    for name in args.brokers.split(","):
        with tempfile.TemporaryDirectory(prefix=f"chaos-{name}-") as tmp:
            print(f"== {name}: {args.jobs} jobs ...", file=sys.stderr, flush=True)
            rows.append(run_broker(name, args, Path(tmp)))
            print(json.dumps(rows[-1], default=str), file=sys.stderr, flush=True)
    print_table(rows)
    if args.out:
        args.out.write_text(json.dumps(rows, indent=2, default=str))
    ok = all(r["results_missing"] == 0 and r["callbacks_duplicated"] == 0 and r["callbacks_missing"] == 0
             and r["worker_exits_not_caused_by_script"] == 0 for r in rows)
    print("targets met" if ok else "TARGETS MISSED")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
