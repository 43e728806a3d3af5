"""``ai-worker submit TYPE --payload JSON|@FILE``: any job, through the broker or in-process.

With ``CELERY_BROKER_URL`` set, the job goes to ``ai.job`` on its
dispatcher queue (``cpu-vision``) exactly as the academy's API sends it;
the command says on stderr where it sent it and how long it waits
(``--timeout``, 300 s by default), then prints the ``AIResult`` on stdout.
``--no-wait`` prints ``{task_id, job_id, queue}`` instead. Without a broker
the same step code runs in this process, and stderr says so.

``--payload`` is a JSON object, ``@FILE`` reads it from a file (a real
template meta is tens of kilobytes) and ``@-`` from stdin.

Errors, a ``FAILED`` result included, exit 2 with one JSON line on stderr
(``{"reason_code", "message"}``, and ``job_id`` for a job that ran). A broker
or result backend that does not answer is ``broker_unavailable`` within a
few seconds, naming the URL without its password; no result in time is
``result_timeout``, naming the queues no worker consumes.

Examples:
    >>> read_payload('{"question_count": 20}')
    {'question_count': 20}
    >>> read_payload("[1]")
    Traceback (most recent call last):
    ...
    ai_tasks.errors.JobPayloadError: payload_invalid: --payload must be a JSON object, got list
"""

from __future__ import annotations

import argparse
import json
import sys
import uuid
from pathlib import Path
from typing import Any

from ai_tasks.cli.output import fail, float_in, print_json
from ai_tasks.errors import JobPayloadError

__all__ = ["DEFAULT_TIMEOUT_S", "add_parser", "read_payload", "run"]

#: How long ``submit`` waits for a result unless told otherwise (an OMR sheet takes a second or two).
DEFAULT_TIMEOUT_S = 300.0
#: Connection attempts before the broker is called unavailable (about 3 s in all, not Celery's ~25 s).
BROKER_CONNECT_RETRIES = 3
#: Connect / socket timeout of the result backend's ping.
BACKEND_PING_TIMEOUT_S = 3.0
#: How long the workers get to say which queues they consume, after a timeout.
INSPECT_TIMEOUT_S = 1.5


def read_payload(raw: str) -> dict[str, Any]:
    """The payload of ``--payload``: JSON text, ``@FILE`` or ``@-`` (stdin).

    Raises:
        JobPayloadError: ``input_not_found`` (no such file), ``input_unreadable``
            (not readable as UTF-8) or ``payload_invalid`` (not a JSON object).
    """
    source = "--payload"
    text = raw
    if raw.startswith("@"):
        name = raw[1:]
        source = "stdin" if name == "-" else name
        try:
            text = sys.stdin.read() if name == "-" else Path(name).read_text(encoding="utf-8")
        except FileNotFoundError:
            raise JobPayloadError("input_not_found", f"payload file {name} does not exist") from None
        except (OSError, UnicodeDecodeError) as exc:
            raise JobPayloadError("input_unreadable", f"cannot read payload file {name} as UTF-8: {exc}") from None
    try:
        payload = json.loads(text)
    except json.JSONDecodeError as exc:
        raise JobPayloadError("payload_invalid", f"{source} is not JSON: {exc}") from None
    if not isinstance(payload, dict):
        raise JobPayloadError("payload_invalid", f"{source} must be a JSON object, got {type(payload).__name__}")
    return payload


def _answer(result: Any) -> int:
    """Print a DONE result on stdout (exit 0); a FAILED one is an error line on stderr (exit 2)."""
    if isinstance(result, dict) and result.get("status") == "DONE":
        print_json(result)
        return 0
    if isinstance(result, dict) and isinstance(result.get("error"), dict):
        err = result["error"]
        return fail(str(err.get("reason_code") or "job_failed"), str(err.get("message") or ""),
                    job_id=result.get("job_id"))
    return fail("job_failed", f"the job ended without an AIResult: {result!r}"[:500])


def _unreachable(app: Any, url: str) -> str | None:
    """Why the broker at ``url`` cannot be reached, or None when it answers."""
    try:
        with app.connection_for_write() as conn:
            conn.ensure_connection(max_retries=BROKER_CONNECT_RETRIES, interval_start=0.5, interval_step=0.5,
                                   interval_max=1.0)
    except Exception as exc:  # any transport's connection error: refused, DNS, auth, timeout
        return f"{type(exc).__name__}: {exc}"
    return None


def _backend_unreachable(url: str) -> str | None:
    """Why a Redis result backend cannot be reached (other backends are not probed)."""
    if not url.startswith(("redis://", "rediss://", "unix://")):
        return None
    import redis

    try:
        redis.Redis.from_url(url, socket_connect_timeout=BACKEND_PING_TIMEOUT_S,
                             socket_timeout=BACKEND_PING_TIMEOUT_S).ping()
    except (redis.RedisError, OSError) as exc:
        return f"{type(exc).__name__}: {exc}"
    return None


def _idle_queues(app: Any, queues: list[str]) -> list[str] | None:
    """The queues of ``queues`` that no live worker consumes (None when the workers cannot be asked)."""
    try:
        replies = app.control.inspect(timeout=INSPECT_TIMEOUT_S).active_queues() or {}
    except Exception:  # the broker went away meanwhile: say nothing rather than guess
        return None
    consumed = {q.get("name") for qs in replies.values() for q in (qs or [])}
    return [q for q in queues if q not in consumed]


def run(args: argparse.Namespace) -> int:
    """Run ``ai-worker submit``; returns the exit code (2 on error)."""
    from ai_tasks.jobs import job_spec
    from ai_tasks.redact import redact_url
    from ai_tasks.routing import TASK_QUEUES
    from ai_tasks.settings import get_settings

    payload = read_payload(args.payload)
    job = {"id": args.id or uuid.uuid4().hex, "type": args.type, "payload": payload, "source_id": args.source_id}
    settings = get_settings()
    if not settings.broker_url:
        from ai_tasks.inprocess import run_job

        sys.stderr.write("ai-worker: no CELERY_BROKER_URL set; running the job in-process (embedded default)\n")
        return _answer(run_job(job))

    from celery.exceptions import TimeoutError as ResultTimeout

    from ai_tasks.celery import app

    broker = redact_url(settings.broker_url)
    why = _unreachable(app, settings.broker_url)
    if why:
        return fail("broker_unavailable", f"the broker {broker} (CELERY_BROKER_URL) does not answer: {why}")
    backend = settings.resolved_result_backend
    why = _backend_unreachable(backend) if args.wait else None
    if why:
        return fail("broker_unavailable", f"the result backend {redact_url(backend)} does not answer: {why}")
    dispatcher = TASK_QUEUES["ai.job"]
    queue = job_spec(args.type).queue
    queues = list(dict.fromkeys((dispatcher, queue)))
    from ai_tasks.ledger import submit_job

    # the job ledger: on Redis a message lost on its way is republished (docs/reliability.md)
    async_result = app.AsyncResult(submit_job(app, job, queue=dispatcher))
    if not args.wait:
        print_json({"task_id": async_result.id, "job_id": job["id"], "queue": queue})
        return 0
    runs_on = "" if queue == dispatcher else f"; {args.type} runs on {queue}"
    sys.stderr.write(
        f"ai-worker: sent job {job['id']} (task {async_result.id}) to {broker}, queue {dispatcher}{runs_on}; "
        f"waiting up to {args.timeout:g} s for the result (--timeout S, or --no-wait)\n"
    )
    try:
        result = async_result.get(timeout=args.timeout, propagate=False)
    except ResultTimeout:
        idle = _idle_queues(app, queues)
        if idle:
            hint = f"no worker consumes queue {', '.join(idle)} (start one: celery -A ai_tasks worker -Q {idle[0]})"
        elif idle is None:
            hint = f"is a worker consuming {' and '.join(queues)}?"
        else:
            hint = f"workers consume {' and '.join(queues)}, but the job has not finished (still queued or running)"
        return fail("result_timeout", f"no result for job {job['id']} (task {async_result.id}) within "
                    f"{args.timeout:g} s: {hint}", job_id=job["id"])
    except Exception as exc:  # the backend went away while waiting
        return fail("broker_unavailable", f"lost the result backend {redact_url(backend)} while waiting for task "
                    f"{async_result.id}: {type(exc).__name__}: {exc}", job_id=job["id"])
    return _answer(result)


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``submit`` command to a CLI's sub-parsers."""
    from ai_tasks.jobs import JOBS

    p = subparsers.add_parser(
        "submit", help="submit a job (through the broker, or in-process without one)",
        description="Send one job to ai.job through CELERY_BROKER_URL and wait for its AIResult "
                    f"(up to --timeout, {DEFAULT_TIMEOUT_S:g} s by default); without CELERY_BROKER_URL, "
                    "run it in this process. A FAILED result exits 2 with its error on stderr.",
    )
    p.add_argument("type", choices=sorted(JOBS), help="the AIJob type")
    p.add_argument("--payload", default="{}", metavar="JSON|@FILE",
                   help="the job payload: a JSON object, @FILE to read it from a file, @- from stdin")
    p.add_argument("--id", help="job id (default: a new uuid)")
    p.add_argument("--source-id", help="the API object this job belongs to")
    p.add_argument("--no-wait", dest="wait", action="store_false", help="print the task id and return")
    p.add_argument("--timeout", type=float_in(1, 86_400), default=DEFAULT_TIMEOUT_S,
                   help=f"seconds to wait for the result (default {DEFAULT_TIMEOUT_S:g})")
    p.set_defaults(func=run)
