"""Chaos bench: mixed jobs through a broker while pool processes, workers and the broker are SIGKILLed.

For each broker (Redis, RabbitMQ), on a private instance started here with
persistence on (the machine's shared brokers are never touched: Redis is a
``redis-server`` on a free port with AOF, RabbitMQ its own node on free ports
with its own data folder):

* worker processes started as operators start them
  (``celery -A ai_tasks worker -Q <queue> -c N``): two ``cpu-vision``, one
  ``gpu-embed`` (the bundled local embedding model), one ``llm`` (against the
  OpenAI-compatible server of the fake API);
* a local API that records every result POST (with its idempotency key),
  serves the inputs and answers the llm worker's chat completions;
* ``--jobs`` jobs submitted through the job ledger's submit path
  (``ai_tasks.ledger.submit_job``: on Redis one Lua script pushes the message
  and writes the ledger entry, and the cpu-vision workers' sweeper republishes
  a lost one; on RabbitMQ a publish with publisher confirms, as
  docs/reliability.md recommends per broker), at most ``--max-in-flight``
  unanswered at once. The mix (:data:`MIX`): OMR through the chain and the
  single task, OCR of a PDF with a text layer, question segmentation,
  embedding, problem generation, and a few inputs that must fail with a
  reason code. Inputs are small so that the bench measures the plumbing;
* meanwhile: a random pool process of any worker SIGKILLed every
  ``--pool-kill-s``, a whole worker (main process and pool) SIGKILLed and
  restarted every ``--worker-kill-s``, the broker SIGKILLed and restarted
  every ``--broker-restart-s``, and the API answering 503 to result POSTs for
  ``--stall-s``.

Printed per broker and per job type: sent, results missing, results
duplicated (a stored AIResult that changed after it was first read),
callbacks missing and duplicated (two 2xx POSTs for one job), ledger
republishes, latency percentiles; per broker the redelivery delay after a
worker's death (p50/p90/max), the worker exits not caused by the script, and
the log lines that carry a presigned signature.

    .venv/bin/python bench/chaos.py --jobs 500 --brokers redis        # a shake-out, a few minutes
    .venv/bin/python bench/chaos.py --jobs 10000 --out /tmp/chaos.json  # issue 18's size, both brokers
    .venv/bin/python bench/chaos.py --jobs 10000 --send-budget-s 2400 --max-in-flight 60 \
        --pool-kill-s 4 --worker-kill-s 45 --broker-restart-s 90 --brokers redis   # what fitted a loaded 2-core box
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import sys
import tempfile
import threading
import time
from collections import Counter, defaultdict
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
#: Pool processes of a worker are killed only this long after it logged "ready." (Worker.ready_for_s).
STARTUP_GRACE_S = 5.0
#: The OMR photo is shrunk to this width (px) before it is served: the bench measures the plumbing.
PHOTO_WIDTH_PX = 1200
#: Shares of the job mix (weights); the ``*_bad`` ones answer FAILED with a reason code.
MIX: tuple[tuple[str, int], ...] = (
    ("omr_chain", 30), ("omr_single", 20), ("ocr", 14), ("segmentation", 5), ("embedding", 12),
    ("problem_generation", 12), ("omr_bad", 3), ("ocr_bad", 2), ("embedding_bad", 1), ("unknown_type", 1),
)
#: Ledger republishes logged by the sweeper (``ai_tasks/ledger.py``).
_REPUBLISHED = re.compile(r"job (\S+) had no result by its deadline .*republished")


def make_job(kind: str, job_id: str, base: str, meta: dict[str, Any]) -> dict[str, Any]:
    """One AIJob of the given kind (inputs served by the fake API at ``base``)."""
    photo = f"{base}/photo.jpg?X-Amz-Signature=CHAOS-SIG-{job_id}"
    omr = {"download_url": photo, "mode": "photo", "template_meta": meta}
    payloads: dict[str, tuple[str, dict[str, Any]]] = {
        "omr_chain": ("omr_grading", omr),
        "omr_single": ("omr_grading", {**omr, "pipeline": "single"}),
        "ocr": ("ocr", {"download_url": f"{base}/text_layer.pdf?X-Amz-Signature=CHAOS-SIG-{job_id}"}),
        "segmentation": ("question_segmentation", {"download_url": f"{base}/page.png", "engine": "opencv"}),
        "embedding": ("embedding", {"texts": [f"삼각형의 넓이 {job_id}", "triangle area"], "backend": "local"}),
        "problem_generation": ("problem_generation", {"ocr_text": f"2+3=? ({job_id})"}),
        "omr_bad": ("omr_grading", {**omr, "download_url": f"{base}/truncated.jpg"}),
        "ocr_bad": ("ocr", {"download_url": f"{base}/missing.png"}),
        "embedding_bad": ("embedding", {"texts": "not a list"}),
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
        self.rng = random.Random(args.seed)
        self.lock = threading.Lock()

    def run(self) -> None:
        t0 = time.monotonic()
        next_pool = t0 + self.args.pool_kill_s
        next_worker = t0 + self.args.worker_kill_s
        next_broker = t0 + self.args.broker_restart_s
        stall_at = t0 + self.args.stall_after_s
        stalled = False
        while not self.stopping.wait(0.2):
            now = time.monotonic()
            if self.sending_done_at is not None and now > self.sending_done_at + self.args.chaos_tail_s:
                return  # the storm is over: now everything must come back
            if not stalled and now >= stall_at and self.args.stall_s > 0:
                self.api.stall_until = now + self.args.stall_s
                stalled = True
            if now >= next_pool and self.args.pool_kill_s > 0:
                next_pool = now + self.args.pool_kill_s
                kids = [pid for w in self.workers if w.ready_for_s() > STARTUP_GRACE_S for pid in w.children()]
                if kids:
                    try:
                        os.kill(self.rng.choice(kids), 9)
                        self.pool_kills += 1
                    except ProcessLookupError:
                        pass
            if now >= next_worker and self.args.worker_kill_s > 0:
                next_worker = now + self.args.worker_kill_s
                victim = self.rng.choice(self.workers)
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


def _inputs() -> dict[str, bytes]:
    """What the fake API serves: a shrunk OMR photo, a bad one, a PDF with a text layer, an exam page."""
    import cv2

    image = cv2.imread(str(SAMPLES / "photo_20q.jpg"))
    height, width = image.shape[:2]
    small = cv2.resize(image, (PHOTO_WIDTH_PX, round(height * PHOTO_WIDTH_PX / width)), interpolation=cv2.INTER_AREA)
    ok, jpeg = cv2.imencode(".jpg", small, [cv2.IMWRITE_JPEG_QUALITY, 85])
    assert ok
    photo = bytes(jpeg)
    return {
        "/photo.jpg": photo, "/truncated.jpg": photo[: len(photo) // 3],
        "/text_layer.pdf": (ROOT / "tests" / "vision" / "ocr" / "assets" / "text_layer.pdf").read_bytes(),
        "/page.png": (ROOT / "tests" / "vision" / "segment" / "assets" / "indep_16062.png").read_bytes(),
    }


def _client(broker_url: str, backend_url: str) -> Any:
    """The submitting app: configured like production (``celeryconfig``, the declared queues), as the API's is."""
    from celery import Celery

    from ai_tasks.routing import build_queues

    client = Celery("chaos-client", set_as_current=False)
    client.config_from_object("celeryconfig")
    client.conf.update(broker_url=broker_url, result_backend=backend_url,
                       task_queues=build_queues(amqp=broker_url.startswith("amqp")))
    return client


def _submit(client: Any, job: dict[str, Any], deadline_s: float) -> str:
    """``submit_job`` until the broker takes it (it restarts under us); idempotent, so a retry is safe."""
    from ai_tasks.ledger import submit_job

    for _ in range(600):
        try:
            return submit_job(client, job, deadline_s=deadline_s)
        except Exception:
            time.sleep(0.5)
    raise RuntimeError(f"job {job['id']} could not be submitted in 5 min")


def _run_broker(name: str, args: argparse.Namespace, folder: Path, started: list[Any]) -> dict[str, Any]:
    from ai_tasks.bridge import celery_results, finished_result

    meta = json.loads((SAMPLES / "meta_20q.json").read_text())
    api = FakeAPI(_inputs()).start()
    started.append(api)
    store = RedisServer(folder / "redis")
    store.start()
    started.append(store)
    artifacts = RedisServer(folder / "artifacts", aof=False)
    artifacts.start()
    started.append(artifacts)
    broker: Any
    if name == "redis":
        broker, broker_url = store, store.url(0)
    else:
        broker = RabbitServer(folder / "rabbitmq")
        broker.start()
        started.append(broker)
        broker_url = broker.url()
    backend_url = store.url(1)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AI_WORKER_", "CELERY_", "OPENAI_"))}
    env.update(
        CELERY_BROKER_URL=broker_url, CELERY_RESULT_BACKEND=backend_url, AI_WORKER_ARTIFACT_URL=artifacts.url(0),
        AI_WORKER_DOWNLOAD_ALLOW_HTTP="true", AI_WORKER_DOWNLOAD_ALLOWLIST="127.0.0.1",
        API_BASE_URL=api.base_url, INTERNAL_WORKER_TOKEN=TOKEN, PYTHONPATH=str(ROOT),
        OPENAI_BASE_URL=f"{api.base_url}/v1", OPENAI_API_KEY="sk-chaos", PROBLEM_GEN_MODEL="chaos-model",
        AI_WORKER_LLM_TIMEOUT_S="10",
        AI_WORKER_STEP_EVENTS="true",  # redelivery delays are read from every step's task-started events
    )
    workers = [Worker("cpu-vision", i, env, folder, args.concurrency) for i in range(args.cpu_workers)]
    workers += [Worker(q, i, env, folder, 1) for q in ("gpu-embed", "llm") for i in range(args.other_workers)]
    for w in workers:
        w.start()
        started.append(w)
    for w in workers:
        w.wait_ready()
    client = _client(broker_url, backend_url)
    read_results = celery_results(client)
    tap = EventTap(client).start()
    chaos = Chaos(args, workers, broker, api)
    rng = random.Random(args.seed)
    kinds = [k for k, _ in MIX]
    weights = [w for _, w in MIX]
    sent: dict[str, tuple[str, float, str]] = {}  # task id -> (job id, submitted at, kind)
    done: dict[str, tuple[dict[str, Any], float]] = {}  # task id -> (first AIResult read, when)
    unexpected_exits = 0
    t_start = time.monotonic()
    chaos.start()
    deadline = float("inf")
    next_send = next_progress = t_start
    while len(done) < (len(sent) if chaos.sending_done_at else args.jobs) and time.monotonic() < deadline:
        # send while fewer than --max-in-flight are unanswered (and no faster than --rate)
        out_of_time = args.send_budget_s > 0 and time.monotonic() - t_start > args.send_budget_s
        while (len(sent) < args.jobs and not out_of_time and len(sent) - len(done) < args.max_in_flight
               and time.monotonic() >= next_send):
            job_id = f"{name}-{len(sent)}"
            kind = rng.choices(kinds, weights)[0]
            task_id = _submit(client, make_job(kind, job_id, api.base_url, meta), args.ledger_deadline_s)
            sent[task_id] = (job_id, time.monotonic(), kind)
            if args.rate > 0:
                next_send = time.monotonic() + 1.0 / args.rate
        if (len(sent) == args.jobs or out_of_time) and chaos.sending_done_at is None:
            chaos.sending_done_at = time.monotonic()
            deadline = chaos.sending_done_at + args.deadline_s
        pending = [t for t in sent if t not in done]
        try:
            for task_id, (state, value) in read_results(pending).items():
                result = finished_result(sent[task_id][0], state, value)
                if result is not None:
                    done[task_id] = (result, time.monotonic())
        except Exception:
            time.sleep(0.5)  # the backend restarts with the broker (Redis)
        with chaos.lock:
            for w in workers:
                if w.proc is not None and w.proc.poll() is not None:
                    unexpected_exits += 1
                    print(f"  worker {w.node} exited by itself (rc {w.proc.returncode}); restarting",
                          file=sys.stderr)
                    w.start()
        if args.progress_every and time.monotonic() >= next_progress:
            next_progress = time.monotonic() + args.progress_every
            print(f"  {name}: t={time.monotonic() - t_start:.0f}s sent={len(sent)} done={len(done)} "
                  f"pool_kills={chaos.pool_kills} worker_kills={len(chaos.worker_kills)} "
                  f"broker_restarts={chaos.broker_restarts}", file=sys.stderr, flush=True)
        time.sleep(0.5)
    if chaos.sending_done_at is None:
        chaos.sending_done_at = time.monotonic()
    t_end = max((t for _, t in done.values()), default=time.monotonic())
    chaos.stopping.set()
    chaos.join(timeout=120)
    # callbacks: wait for the API stall's retries to land
    cb_deadline = time.monotonic() + args.callback_wait_s
    while time.monotonic() < cb_deadline and len(api.accepted()) < len(done):
        time.sleep(1.0)
    time.sleep(2.0)
    tap.stop()
    # results duplicated: a stored AIResult that is not the one first read (the first stored result is kept)
    changed: set[str] = set()
    final: dict[str, tuple[str, Any]] = {}
    for _ in range(5):
        try:
            final = read_results(list(done))
            break
        except Exception:
            time.sleep(1.0)
    for task_id, (state, value) in final.items():
        if finished_result(sent[task_id][0], state, value) != done[task_id][0]:
            changed.add(task_id)
    for w in workers:
        w.stop()
    row = summarise(name, args, sent, done, changed, api, tap.events, chaos, workers, t_start, t_end)
    row["worker_exits_not_caused_by_script"] = unexpected_exits
    row["llm_calls"] = api.llm_calls
    if args.keep:
        import shutil

        args.keep.mkdir(parents=True, exist_ok=True)
        for log in folder.glob("*.log"):
            shutil.copy(log, args.keep / f"{name}-{log.name}")
    client.close()
    return row


def summarise(name: str, args: argparse.Namespace, sent: dict[str, tuple[str, float, str]],
              done: dict[str, tuple[dict[str, Any], float]], changed: set[str], api: FakeAPI,
              events: list[dict[str, Any]], chaos: Chaos, workers: list[Worker], t_start: float,
              t_end: float) -> dict[str, Any]:
    """The row of one broker: totals, then the same counts per job kind."""
    accepted = api.accepted()
    keys_per_job = {j: {k for c, k in calls if 200 <= c < 300} for j, calls in api.posts.items()}
    kind_of_task = {t: kind for t, (_, _, kind) in sent.items()}
    republished: Counter[str] = Counter()
    leaked = 0
    for w in workers:
        for log in sorted(w.folder.glob(f"{w.queue}-{w.index}-g*@chaos.log")):
            with open(log, errors="replace") as fh:
                text_leak = False
                for line in fh:
                    m = _REPUBLISHED.search(line)
                    if m:
                        republished[m.group(1)] += 1
                    text_leak = text_leak or "CHAOS-SIG" in line
                leaked += text_leak
    # redelivery: a task started on a killed worker and unfinished, then started again elsewhere
    starts_by_task: dict[str, list[tuple[float, str]]] = defaultdict(list)
    finished: dict[str, float] = {}
    root_of: dict[str, str] = {}
    succeeded: Counter[str] = Counter()
    for e in events:
        uid = e.get("uuid")
        if not uid:
            continue
        if e["type"] == "task-received" and e.get("root_id"):
            root_of[uid] = e["root_id"]
        elif e["type"] == "task-started":
            starts_by_task[uid].append((e["t_recv"], str(e.get("hostname"))))
        else:
            finished.setdefault(uid, e["t_recv"])
            if e["type"] == "task-succeeded":
                succeeded[uid] += 1
    delays: dict[str, list[float]] = defaultdict(list)
    for t_kill, node in chaos.worker_kills:
        for uid, starts in starts_by_task.items():
            if finished.get(uid, float("inf")) <= t_kill or not any(t <= t_kill and h == node for t, h in starts):
                continue
            after = [t for t, _ in starts if t > t_kill]
            if after:
                delays[kind_of_task.get(root_of.get(uid, uid), "?")].append(min(after) - t_kill)
    twice: Counter[str] = Counter(kind_of_task.get(root_of.get(u, u), "?") for u, n in succeeded.items() if n > 1)

    def counts(tasks: list[str]) -> dict[str, Any]:
        jobs = [sent[t][0] for t in tasks]
        answered = [t for t in tasks if t in done]
        lat = [done[t][1] - sent[t][1] for t in answered]
        statuses = Counter(str(done[t][0].get("status")) for t in answered)
        codes = Counter((done[t][0].get("error") or {}).get("reason_code") for t in answered
                        if done[t][0].get("status") == "FAILED")
        return {
            "sent": len(tasks), "results": len(answered), "results_missing": len(tasks) - len(answered),
            "results_missing_ids": sorted(sent[t][0] for t in tasks if t not in done)[:20],
            "results_duplicated": sum(1 for t in answered if t in changed),
            "callbacks_missing": sum(1 for t in answered if accepted.get(sent[t][0], 0) == 0),
            "callbacks_duplicated": sum(1 for j in jobs if accepted.get(j, 0) > 1),
            "idempotency_keys_per_job_max": max((len(keys_per_job.get(j, ())) for j in jobs), default=0),
            "ledger_republished": sum(1 for j in jobs if republished.get(j)),
            "job_lost_answers": codes.get("job_lost", 0),
            "latency_s": {"p50": _pct(lat, 0.5), "p99": _pct(lat, 0.99), "max": max(lat, default=float("nan"))},
            "statuses": dict(statuses), "reason_codes": dict(codes.most_common()),
        }

    all_delays = [d for ds in delays.values() for d in ds]
    by_kind: dict[str, list[str]] = defaultdict(list)
    for t, kind in kind_of_task.items():
        by_kind[kind].append(t)
    row: dict[str, Any] = {"broker": name, **counts(list(sent))}
    row.update({
        "per_kind": {k: {**counts(ts), "redelivered_after_worker_death": len(delays.get(k, ())),
                         "redelivery_p50_s": _pct(delays.get(k, []), 0.5),
                         "redelivery_max_s": max(delays.get(k, []), default=float("nan")),
                         "tasks_run_twice": twice.get(k, 0)}
                     for k, ts in sorted(by_kind.items(), key=lambda kv: -len(kv[1]))},
        "redelivery_after_worker_death_s": {"n": len(all_delays), "p50": _pct(all_delays, 0.5),
                                            "p90": _pct(all_delays, 0.9), "max": max(all_delays, default=float("nan"))},
        "tasks_run_twice": sum(twice.values()),
        "throughput_jobs_per_s": len(done) / max(t_end - t_start, 1e-9),
        "wall_s": t_end - t_start,
        "chaos": {"pool_kills": chaos.pool_kills, "worker_kills": len(chaos.worker_kills),
                  "broker_restarts": chaos.broker_restarts, "api_stall_s": args.stall_s},
        "logs_with_presigned_signature": leaked,
    })
    return row


def print_table(rows: list[dict[str, Any]]) -> None:
    lines = [
        ("sent", "sent"), ("results (AIResult per job id)", "results"), ("  missing", "results_missing"),
        ("  duplicated (stored result changed)", "results_duplicated"),
        ("  answered job_lost by the ledger", "job_lost_answers"),
        ("  republished by the ledger sweeper", "ledger_republished"),
        ("tasks that ran twice (at-least-once)", "tasks_run_twice"),
        ("callbacks missing", "callbacks_missing"), ("callbacks duplicated (2xx twice)", "callbacks_duplicated"),
        ("worker exits not caused by the script", "worker_exits_not_caused_by_script"),
        ("logs carrying a presigned signature", "logs_with_presigned_signature"),
    ]
    head = f"{'':44}" + "".join(f"{r['broker']:>14}" for r in rows)
    print(head)
    for label, key in lines:
        print(f"{label:44}" + "".join(f"{r[key]:>14}" for r in rows))
    for label, fn in (
        ("redelivery after worker death p50/p90/max",
         lambda r: "{p50:.0f}/{p90:.0f}/{max:.0f}".format(**r["redelivery_after_worker_death_s"])),
        ("  (in-flight tasks measured)", lambda r: str(r["redelivery_after_worker_death_s"]["n"])),
        ("latency p50 / p99 (s)", lambda r: f"{r['latency_s']['p50']:.1f}/{r['latency_s']['p99']:.1f}"),
        ("throughput (jobs/s)", lambda r: f"{r['throughput_jobs_per_s']:.2f}"),
        ("pool kills / worker kills / broker restarts",
         lambda r: f"{r['chaos']['pool_kills']}/{r['chaos']['worker_kills']}/{r['chaos']['broker_restarts']}"),
    ):
        print(f"{label:44}" + "".join(f"{fn(r):>14}" for r in rows))
    for r in rows:
        print(f"\n{r['broker']} per job kind: sent results missing dup-results cb-missing cb-dup republished "
              "job_lost twice redelivered(p50/max s) latency p50/p99 s")
        for kind, k in r["per_kind"].items():
            print(f"  {kind:20} {k['sent']:6} {k['results']:6} {k['results_missing']:4} {k['results_duplicated']:4}"
                  f" {k['callbacks_missing']:4} {k['callbacks_duplicated']:4} {k['ledger_republished']:4}"
                  f" {k['job_lost_answers']:4} {k['tasks_run_twice']:4} {k['redelivered_after_worker_death']:4}"
                  f" ({k['redelivery_p50_s']:.0f}/{k['redelivery_max_s']:.0f})"
                  f" {k['latency_s']['p50']:.1f}/{k['latency_s']['p99']:.1f}  {k['statuses']}")
        print(f"{r['broker']} reason codes: {r['reason_codes']}; missing: {r['results_missing_ids']}")


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--jobs", type=int, default=10000, help="jobs per broker (issue 18 asks for 10,000)")
    p.add_argument("--brokers", default="redis,rabbitmq")
    p.add_argument("--cpu-workers", type=int, default=2, help="cpu-vision worker processes")
    p.add_argument("--other-workers", type=int, default=1, help="gpu-embed and llm worker processes each")
    p.add_argument("--concurrency", type=int, default=2, help="pool processes per cpu-vision worker")
    p.add_argument("--max-in-flight", type=int, default=100, help="unanswered jobs at most (a client's backlog)")
    p.add_argument("--rate", type=float, default=0.0, help="jobs submitted per second at most (0: no cap)")
    p.add_argument("--send-budget-s", type=float, default=0.0,
                   help="stop submitting after this long even if fewer than --jobs were sent (0: no limit); "
                        "the table says how many were sent")
    p.add_argument("--ledger-deadline-s", type=float, default=120.0,
                   help="submit_job's deadline_s: a job with no result this long is republished by the sweeper")
    p.add_argument("--pool-kill-s", type=float, default=3.0)
    p.add_argument("--worker-kill-s", type=float, default=25.0)
    p.add_argument("--broker-restart-s", type=float, default=60.0)
    p.add_argument("--broker-down-s", type=float, default=2.0)
    p.add_argument("--chaos-tail-s", type=float, default=30.0, help="chaos goes on this long after the last send")
    p.add_argument("--stall-after-s", type=float, default=10.0)
    p.add_argument("--stall-s", type=float, default=60.0, help="the API answers 503 to result POSTs this long")
    p.add_argument("--deadline-s", type=float, default=900.0, help="give up waiting this long after the last send")
    p.add_argument("--callback-wait-s", type=float, default=300.0)
    p.add_argument("--progress-every", type=int, default=30, help="seconds between progress lines (0: none)")
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
            if args.out:
                args.out.write_text(json.dumps(rows, indent=2, default=str))
    print_table(rows)
    ok = all(r["results_missing"] == 0 and r["results_duplicated"] == 0 and r["callbacks_duplicated"] == 0
             and r["callbacks_missing"] == 0 and r["worker_exits_not_caused_by_script"] == 0 for r in rows)
    print("targets met" if ok else "TARGETS MISSED")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
