"""Bridge bench: legacy-API jobs through ``ai-worker bridge`` while workers, Redis and the bridge fail.

The same run as tests/integration/test_bridge.py (tests/integration/_bridge_run.py),
with more jobs: a local API speaking the legacy worker's contract queues
``--jobs`` OMR jobs (one in ten answers FAILED at the door); the bridge runs
as a process; a ``cpu-vision`` worker serves it on a private Redis. At 15 %
and 65 % of the results the worker is SIGKILLed (main process and pool) and
a new one started; at 35 % Redis is killed and restarted; at 50 % the bridge
is stopped with SIGTERM and started again.

Printed: jobs, results posted exactly once, lost, duplicated, wrong status,
elapsed time and throughput, what happened when, each bridge run's counts.

    .venv/bin/python bench/bridge.py --jobs 1000
    .venv/bin/python bench/bridge.py --jobs 200 --app tests.integration.lease_app   # 4 s visibility timeout

``--app ai_tasks`` (the default) is the production configuration: a killed
worker's messages come back after the 60 s Redis visibility timeout.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.integration import _bridge_run  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=1000)
    parser.add_argument("--app", default="ai_tasks", help="celery app of the worker (default: production ai_tasks)")
    parser.add_argument("--concurrency", type=int, default=2, help="worker pool processes (default 2)")
    parser.add_argument("--timeout", type=float, default=1800.0, help="give up after this many seconds")
    parser.add_argument("--republish-after", type=float, default=150.0,
                        help="the bridge's --republish-after, s: above the app's redelivery delay (60-66 s for "
                             "ai_tasks, about 5 s for tests.integration.lease_app) plus the backlog (default 150)")
    parser.add_argument("--out", type=Path, help="also write the summary JSON here")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-bridge-") as tmp:
        report = _bridge_run.run(args.jobs, Path(tmp), app=args.app, timeout_s=args.timeout,
                                 republish_after_s=args.republish_after, concurrency=args.concurrency,
                                 say=lambda m: print(m, flush=True))
    summary = report.summary()
    summary["lost_ids"] = report.missing[:20]
    summary["duplicated_ids"] = dict(list(report.duplicated.items())[:20])
    summary["wrong"] = dict(list(report.wrong.items())[:20])
    text = json.dumps(summary, indent=1)
    print(text)
    if args.out:
        args.out.write_text(text + "\n")
    ok = not (report.missing or report.duplicated or report.wrong or report.secrets_in_logs)
    print(f"bridge: {summary['posted_once']}/{args.jobs} posted exactly once, lost {summary['lost']}, "
          f"duplicated {summary['duplicated']}, wrong status {summary['wrong_status']}, "
          f"{summary['elapsed_s']} s ({summary['jobs_per_s']} jobs/s)")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
