"""``ai-worker dead-letters [--redis URL] [--limit N]``: messages that killed their worker too often.

The dead letters live in the Redis that the workers share for their
delivery counters (:func:`ai_tasks.task.delivery_redis_url`: the broker if
it is Redis, else the result backend, whose default is
``redis://127.0.0.1:6379/0``). ``--redis`` names another one. Which Redis
was read, and why that one, is said on stderr (without its password); the
list, newest first, goes to stdout as JSON. A Redis that does not answer is
``redis_unavailable`` (exit 2), never a traceback.

Examples:
    >>> from ai_tasks.cli.output import CLIParser
    >>> p = CLIParser(prog="ai-worker")
    >>> add_parser(p.add_subparsers(dest="command"))
    >>> a = p.parse_args(["dead-letters", "--redis", "redis://cache:6379/2", "--limit", "5"])
    >>> a.redis, a.limit
    ('redis://cache:6379/2', 5)
"""

from __future__ import annotations

import argparse
import sys

from ai_tasks.cli.output import fail, int_in, print_json

__all__ = ["add_parser", "redis_source", "run"]

def redis_source(explicit: str | None) -> tuple[str | None, str]:
    """The Redis URL to read, and where it came from (for the stderr line).

    Examples:
        >>> redis_source("redis://h:6379/1")
        ('redis://h:6379/1', '--redis')
    """
    if explicit:
        return explicit, "--redis"
    from ai_tasks.settings import get_settings
    from ai_tasks.task import delivery_redis_url

    s = get_settings()
    url = delivery_redis_url()
    if url is None:
        return None, "neither CELERY_BROKER_URL nor CELERY_RESULT_BACKEND is Redis"
    if s.broker_url and url == s.broker_url:
        return url, "CELERY_BROKER_URL"
    if s.result_backend:
        return url, "CELERY_RESULT_BACKEND"
    return url, "the default; set CELERY_BROKER_URL, CELERY_RESULT_BACKEND or --redis"


def run(args: argparse.Namespace) -> int:
    """Run ``ai-worker dead-letters``; returns the exit code (2 on error)."""
    import redis

    from ai_tasks.poison import DeliveryCounter
    from ai_tasks.redact import redact_url
    from ai_tasks.task import DELIVERY_COUNTER_TTL_S

    url, why = redis_source(args.redis)
    if url is None:
        return fail("no_redis", f"dead letters live in Redis; {why} (name one with --redis URL)")
    sys.stderr.write(f"ai-worker: dead letters from {redact_url(url)} ({why})\n")
    try:
        letters = DeliveryCounter(url, max_deliveries=1, ttl_s=DELIVERY_COUNTER_TTL_S).dead_letters(args.limit)
    except (redis.RedisError, OSError, ValueError) as exc:
        return fail("redis_unavailable", f"Redis {redact_url(url)} ({why}) does not answer: {type(exc).__name__}: {exc}")
    print_json(letters)
    return 0


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``dead-letters`` command to a CLI's sub-parsers."""
    p = subparsers.add_parser(
        "dead-letters", help="list messages that killed their worker too often (from Redis)",
        description="Print the dead letters (newest first) kept in the workers' Redis: CELERY_BROKER_URL when "
                    "it is Redis, else CELERY_RESULT_BACKEND, else redis://127.0.0.1:6379/0. stderr names the "
                    "Redis read.",
    )
    p.add_argument("--redis", default=None, metavar="URL",
                   help="read this Redis instead (default: the broker if Redis, else CELERY_RESULT_BACKEND, "
                        "else redis://127.0.0.1:6379/0)")
    p.add_argument("--limit", type=int_in(1, 10_000), default=20, help="how many, newest first (default 20)")
    p.set_defaults(func=run)
