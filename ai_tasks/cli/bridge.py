"""``ai-worker bridge``: poll the legacy intake, run each job through the broker, post its result back.

Reads ``API_BASE_URL`` (or ``--api-url``), ``INTERNAL_WORKER_TOKEN`` (the
legacy worker's token; never printed), ``CELERY_BROKER_URL`` and the Redis
that holds its ledger (the broker's, else the result backend's). Refuses to
start, with a JSON error and exit code 2, when one is missing. Logs a
progress line every ``--progress-every`` seconds on stderr; on SIGTERM or
SIGINT it stops polling, leaves the jobs it holds in the ledger for its next
start, prints its counts as JSON on stdout and exits 0 (``docs/bridge.md``).

Examples:
    >>> p = argparse.ArgumentParser(prog="ai-worker")
    >>> add_parser(p.add_subparsers(dest="command"))
    >>> a = p.parse_args(["bridge", "--api-url", "http://api:8000", "--max-in-flight", "8"])
    >>> a.api_url, a.max_in_flight, a.republish_after, a.exit_when_idle
    ('http://api:8000', 8, 1800.0, False)
"""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import threading
from typing import Any

from ai_tasks.cli.output import fail as _fail
from ai_tasks.cli.output import print_json as _print_json

__all__ = ["add_parser", "run"]


def _positive(kind: type) -> Any:
    def parse(text: str) -> Any:
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a {kind.__name__}, got {text!r}") from None
        if not value > 0 or value != value or value == float("inf"):
            raise argparse.ArgumentTypeError(f"must be > 0, got {text}")
        return value

    parse.__name__ = kind.__name__
    return parse


def _log_to_stderr() -> None:
    from ai_tasks.redact import RedactingFilter

    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s [%(levelname)s] %(message)s"))
    handler.addFilter(RedactingFilter())
    root = logging.getLogger("ai_tasks")
    root.addHandler(handler)
    root.setLevel(logging.INFO)


def run(args: argparse.Namespace) -> int:
    """Run ``ai-worker bridge`` until SIGTERM/SIGINT (or idle with ``--exit-when-idle``)."""
    from ai_tasks.bridge import Bridge, Ledger, LegacyIntake, celery_publisher, celery_results
    from ai_tasks.delivery import DeliveredMarker
    from ai_tasks.errors import PermanentError
    from ai_tasks.redact import redact_url
    from ai_tasks.settings import get_settings
    from ai_tasks.task import delivery_redis_url

    s = get_settings()
    api_url = args.api_url or s.api_base_url
    if not api_url:
        return _fail("api_url_missing", "no API to poll: pass --api-url or set API_BASE_URL")
    if not s.internal_worker_token:
        return _fail("token_missing", "INTERNAL_WORKER_TOKEN is not set: the legacy intake needs the worker token")
    if not s.broker_url:
        return _fail("broker_missing", "CELERY_BROKER_URL is not set: the bridge only publishes to a broker")
    redis_url = delivery_redis_url()
    if redis_url is None:
        return _fail("no_redis", "the bridge's ledger lives in Redis; neither the broker nor the result "
                                 "backend is Redis")
    try:
        intake = LegacyIntake(api_url, s.internal_worker_token)
    except ValueError as exc:
        return _fail("api_url_invalid", str(exc))
    poll_s = args.poll_interval or s.bridge_poll_interval_s
    backoff_s = args.max_backoff or s.bridge_max_backoff_s

    import redis

    from ai_tasks.celery import app

    client = redis.Redis.from_url(redis_url, socket_timeout=5, socket_connect_timeout=5)
    bridge = Bridge(
        intake, Ledger(client), DeliveredMarker(redis_url, fail_open=False),
        celery_publisher(app, deadline_s=args.republish_after),
        celery_results(app), api_base_url=api_url, token=s.internal_worker_token,
        max_in_flight=args.max_in_flight, poll_interval_s=poll_s, max_backoff_s=backoff_s,
        republish_after_s=args.republish_after, progress_every_s=args.progress_every,
    )
    stop = threading.Event()

    def _stop(signum: int, _frame: Any) -> None:
        logging.getLogger("ai_tasks.bridge").warning("bridge: signal %d received; stopping", signum)
        stop.set()

    previous = {sig: signal.signal(sig, _stop) for sig in (signal.SIGTERM, signal.SIGINT)}
    _log_to_stderr()
    logging.getLogger("ai_tasks.bridge").info(
        "bridge: polling %s every %.1f s, at most %d job(s) in flight, ledger in %s", intake.where, poll_s,
        args.max_in_flight, redact_url(redis_url))
    try:
        counts = bridge.run(stop, exit_when_idle=args.exit_when_idle)
    except PermanentError as exc:
        return _fail(exc.reason_code, exc.message)
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    _print_json({**counts.to_dict(), "in_flight": len(bridge.jobs)})
    return 0


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``bridge`` command to a CLI's sub-parsers."""
    p = subparsers.add_parser("bridge", help="poll the legacy job intake, run jobs through the broker, post results")
    p.add_argument("--api-url", help="the academy API (default: API_BASE_URL)")
    p.add_argument("--max-in-flight", type=_positive(int), default=64,
                   help="most jobs held at once; the intake is not polled beyond it (default 64)")
    p.add_argument("--poll-interval", type=_positive(float), default=None,
                   help="seconds to wait after the intake had no job (default AI_WORKER_POLL_INTERVAL, 1)")
    p.add_argument("--max-backoff", type=_positive(float), default=None,
                   help="cap of the waits after failures, s (default AI_WORKER_MAX_BACKOFF, 30)")
    p.add_argument("--republish-after", type=_positive(float), default=1800.0,
                   help="publish a job again when its result is this late, s (default 1800)")
    p.add_argument("--progress-every", type=_positive(float), default=10.0,
                   help="seconds between progress lines (default 10)")
    p.add_argument("--exit-when-idle", action="store_true",
                   help="exit once the intake has no job and every held job's result is posted")
    p.set_defaults(func=run)
