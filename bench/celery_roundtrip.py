"""Round-trip latency and throughput of a trivial task, Redis vs RabbitMQ, and what our settings cost.

Run: ``.venv/bin/python bench/celery_roundtrip.py [--latency-runs 300] [--throughput-tasks 2000]``

For each broker (Redis 127.0.0.1:6379, RabbitMQ 127.0.0.1:5672) and each
profile (``project``: this project's celeryconfig - acks_late, prefetch 1,
events, quorum queues on RabbitMQ; ``defaults``: Celery's defaults with JSON),
one worker process of concurrency 2 is started and measured:

* latency: ``send_task(...).get()`` one at a time; median and p99 in ms;
* throughput: N tasks sent at once, time until every result is back; tasks/s.

Results come back through Redis in every case. Numbers depend on the machine:
compare rows of one run, not runs of different machines.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from _worker import worker  # noqa: E402

BROKERS = {"redis": "redis://127.0.0.1:6379/7", "rabbitmq": "amqp://guest:guest@127.0.0.1:5672//"}


def _client(profile: str, broker: str):  # type: ignore[no-untyped-def]
    os.environ.update(BENCH_PROFILE=profile, BENCH_BROKER=broker)
    import _bench_app

    return importlib.reload(_bench_app).app


def measure(profile: str, broker_name: str, latency_runs: int, tasks: int) -> dict[str, float]:
    broker = BROKERS[broker_name]
    app = _client(profile, broker)
    env = {"BENCH_PROFILE": profile, "BENCH_BROKER": broker}
    with worker("_bench_app", f"bench-{profile}", env, concurrency=2):
        for i in range(20):  # warm up connections and pool processes
            app.send_task("bench.noop", args=[i]).get(timeout=30)
        lat = []
        for i in range(latency_runs):
            t0 = time.perf_counter()
            app.send_task("bench.noop", args=[i]).get(timeout=30)
            lat.append((time.perf_counter() - t0) * 1000)
        t0 = time.perf_counter()
        results = [app.send_task("bench.noop", args=[i]) for i in range(tasks)]
        for r in results:
            r.get(timeout=120)
        elapsed = time.perf_counter() - t0
    app.close()
    lat.sort()
    return {
        "median_ms": statistics.median(lat),
        "p99_ms": lat[min(len(lat) - 1, int(len(lat) * 0.99))],
        "throughput_per_s": tasks / elapsed,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--latency-runs", type=int, default=300)
    parser.add_argument("--throughput-tasks", type=int, default=2000)
    parser.add_argument("--json", type=Path, help="also write the numbers here")
    args = parser.parse_args()
    rows = {}
    print(f"{'broker':<9} {'profile':<9} {'median ms':>10} {'p99 ms':>8} {'tasks/s':>9}")
    for broker_name in BROKERS:
        for profile in ("defaults", "project"):
            r = measure(profile, broker_name, args.latency_runs, args.throughput_tasks)
            rows[f"{broker_name}/{profile}"] = r
            print(
                f"{broker_name:<9} {profile:<9} {r['median_ms']:>10.2f} {r['p99_ms']:>8.2f} {r['throughput_per_s']:>9.0f}"
            )
    print("\noverhead of this project's settings over Celery's defaults:")
    for broker_name in BROKERS:
        d, p = rows[f"{broker_name}/defaults"], rows[f"{broker_name}/project"]
        print(
            f"  {broker_name:<9} latency {p['median_ms'] - d['median_ms']:+.2f} ms median, "
            f"throughput {100 * (p['throughput_per_s'] / d['throughput_per_s'] - 1):+.0f}%"
        )
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
