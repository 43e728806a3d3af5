"""``ai-worker``: submit jobs, grade OMR sheets, inspect dead letters.

Examples:
    >>> build_parser().parse_args(["submit", "ocr", "--payload", "{}"]).wait
    True
"""

from __future__ import annotations

import argparse
import json
import sys
import uuid
from collections.abc import Sequence

from ai_tasks.cli.output import fail as _fail
from ai_tasks.cli.output import print_json as _print_json
from ai_tasks.errors import AIWorkerError

__all__ = ["build_parser", "main"]


def _cmd_submit(args: argparse.Namespace) -> int:
    from ai_tasks.jobs import job_spec
    from ai_tasks.settings import get_settings

    try:
        payload = json.loads(args.payload)
    except json.JSONDecodeError as exc:
        return _fail("payload_invalid", f"--payload is not JSON: {exc}")
    if not isinstance(payload, dict):
        return _fail("payload_invalid", "--payload must be a JSON object")
    job = {"id": args.id or uuid.uuid4().hex, "type": args.type, "payload": payload, "source_id": args.source_id}
    settings = get_settings()
    if not settings.broker_url:
        from ai_tasks.inprocess import run_job

        sys.stderr.write("ai-worker: no CELERY_BROKER_URL set; running the job in-process (embedded default)\n")
        result = run_job(job)
        _print_json(result)
        return 0 if result["status"] == "DONE" else 1

    from ai_tasks.celery import app

    queue = job_spec(args.type).queue
    # ai.job itself always runs on cpu-vision (it only dispatches).
    from ai_tasks.ledger import submit_job

    async_result = app.AsyncResult(submit_job(app, job, queue="cpu-vision"))  # the ledger: never lost on Redis
    if not args.wait:
        _print_json({"task_id": async_result.id, "job_id": job["id"], "queue": queue})
        return 0
    try:
        result = async_result.get(timeout=args.timeout, propagate=False)
    except Exception as exc:  # TimeoutError, broker down: say so, keep the id
        return _fail("result_timeout", f"no result for task {async_result.id} within {args.timeout}s: {exc}")
    if not isinstance(result, dict):
        return _fail("job_failed", f"task {async_result.id} ended {async_result.state}: {result!r}")
    _print_json(result)
    return 0 if result.get("status") == "DONE" else 1


def _cmd_dead_letters(args: argparse.Namespace) -> int:
    from ai_tasks.task import delivery_counter

    counter = delivery_counter()
    if counter is None:
        return _fail("no_redis", "dead letters live in Redis; no Redis broker or result backend is configured")
    _print_json(counter.dead_letters(args.limit))
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="ai-worker", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)

    submit = sub.add_parser("submit", help="submit a job (through the broker, or in-process without one)")
    from ai_tasks.jobs import JOBS

    submit.add_argument("type", choices=sorted(JOBS), help="the AIJob type")
    submit.add_argument("--payload", default="{}", help="the job payload as a JSON object")
    submit.add_argument("--id", help="job id (default: a new uuid)")
    submit.add_argument("--source-id", help="the API object this job belongs to")
    submit.add_argument("--no-wait", dest="wait", action="store_false", help="print the task id and return")
    submit.add_argument("--timeout", type=float, default=300.0, help="seconds to wait for the result")
    submit.set_defaults(func=_cmd_submit)

    dead = sub.add_parser("dead-letters", help="list messages that killed their worker too often")
    dead.add_argument("--limit", type=int, default=20)
    dead.set_defaults(func=_cmd_dead_letters)

    try:
        from ai_tasks.cli import omr as omr_cli
    except ImportError:  # the vision extra is not installed on this box
        omr_cli = None  # type: ignore[assignment]
    if omr_cli is not None:
        omr_cli.register(sub)
    from ai_tasks.cli import problem as problem_cli
    from ai_tasks.cli import wrong_note as wrong_note_cli

    problem_cli.add_parser(sub)
    wrong_note_cli.add_parser(sub)
    from ai_tasks.cli import segment as segment_cli

    segment_cli.add_parser(sub)
    from ai_tasks.cli import ocr as ocr_cli

    ocr_cli.add_parser(sub)
    from ai_tasks.cli import embed as embed_cli

    embed_cli.add_parser(sub)
    from ai_tasks.cli import handwriting as handwriting_cli
    from ai_tasks.cli import video as video_cli

    handwriting_cli.add_parser(sub)
    video_cli.add_parser(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``ai-worker`` command."""
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args))
    except AIWorkerError as exc:
        return _fail(exc.reason_code, exc.message)
    except Exception as exc:  # library errors carry a reason code too
        code = getattr(exc, "reason_code", None)
        if not isinstance(code, str):
            raise
        return _fail(code, str(getattr(exc, "message", exc)))


