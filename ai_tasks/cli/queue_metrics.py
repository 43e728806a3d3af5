"""``ai-worker queue-metrics``: queue length and oldest-message age per queue, for an autoscaler.

``--once`` prints one JSON sample and exits; otherwise it serves Prometheus'
text format on ``http://127.0.0.1:<port>/metrics`` (``--address`` to listen
elsewhere), sampling the broker on every scrape. The broker is
``--broker``, else ``CELERY_BROKER_URL``, else ``redis://127.0.0.1:6379/0``
(celeryconfig's default); it is only ever shown without its password.
What each figure means: :mod:`ai_tasks.queue_metrics`.

Examples:
    >>> from ai_tasks.cli.output import CLIParser
    >>> p = CLIParser(prog="ai-worker")
    >>> add_parser(p.add_subparsers(dest="command"))
    >>> a = p.parse_args(["queue-metrics", "--once", "--queue", "llm", "--queue", "cpu-vision"])
    >>> a.once, a.queue, a.port
    (True, ['llm', 'cpu-vision'], 9808)
"""

from __future__ import annotations

import argparse
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from ai_tasks.cli.output import fail, int_in, print_json

__all__ = ["DEFAULT_PORT", "add_parser", "make_server", "run"]

#: Where the exporter listens unless ``--port`` says otherwise.
DEFAULT_PORT = 9808
#: celeryconfig's broker when ``CELERY_BROKER_URL`` is unset.
DEFAULT_BROKER = "redis://127.0.0.1:6379/0"


def _broker(explicit: str | None) -> str:
    if explicit:
        return explicit
    from ai_tasks.settings import get_settings

    return get_settings().broker_url or DEFAULT_BROKER


def make_server(broker_url: str, queues: tuple[str, ...], address: str, port: int) -> ThreadingHTTPServer:
    """An HTTP server answering ``GET /metrics`` with a fresh sample (``serve_forever`` to run it).

    A broker that does not answer gives ``ai_worker_queue_up 0`` (HTTP 200), so
    the scraper sees the outage instead of a failed scrape.
    """
    from ai_tasks.queue_metrics import broker_kind, prometheus_text, sample

    kind = broker_kind(broker_url)
    lock = threading.Lock()  # one sample at a time, however many scrapers

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 - http.server's name
            if self.path.split("?", 1)[0] != "/metrics":
                self.send_error(404, "only /metrics here")
                return
            with lock:
                try:
                    body = prometheus_text(sample(broker_url, queues), broker=kind)
                except Exception:  # noqa: BLE001 - any broker failure is "down", never a traceback
                    body = prometheus_text([], broker=kind, up=False)
            data = body.encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - http.server's name
            return  # one line per scrape would drown the log

    return ThreadingHTTPServer((address, port), Handler)


def run(args: argparse.Namespace) -> int:
    """Run ``ai-worker queue-metrics``; returns the exit code (2 on error)."""
    from ai_tasks.queue_metrics import broker_kind, default_queues, sample
    from ai_tasks.redact import redact_url

    url = _broker(args.broker)
    shown = redact_url(url)
    try:
        kind = broker_kind(url)
    except ValueError as exc:
        return fail("broker_unsupported", f"{exc} ({shown})")
    queues = tuple(dict.fromkeys(args.queue)) if args.queue else default_queues()
    if args.once:
        try:
            samples = sample(url, queues)
        except Exception as exc:  # noqa: BLE001 - redis, socket or kombu errors alike
            return fail("broker_unavailable", f"broker {shown} does not answer: {type(exc).__name__}")
        print_json({"broker": shown, "broker_kind": kind, "queues": [s.to_dict() for s in samples]})
        return 0
    try:
        server = make_server(url, queues, args.address, args.port)
    except OSError as exc:
        return fail("address_in_use", f"cannot listen on {args.address}:{args.port}: {exc.strerror or exc}")
    sys.stderr.write(f"ai-worker: queue metrics of {shown} on http://{args.address}:{server.server_port}/metrics\n")
    sys.stderr.flush()
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``queue-metrics`` command to a CLI's sub-parsers."""
    p = subparsers.add_parser(
        "queue-metrics", help="queue length and oldest-message age per queue (Prometheus or --once JSON)",
        description="Serve queue length and the age of the oldest waiting message per queue in Prometheus' "
                    "text format on http://ADDRESS:PORT/metrics, or print one JSON sample with --once. "
                    "Redis and RabbitMQ brokers.",
    )
    p.add_argument("--broker", default=None, metavar="URL",
                   help=f"broker URL (default: CELERY_BROKER_URL, else {DEFAULT_BROKER})")
    p.add_argument("--queue", action="append", default=None, metavar="NAME",
                   help="a queue to watch, repeatable (default: cpu-vision, gpu-embed, llm, celery)")
    p.add_argument("--once", action="store_true", help="print one JSON sample and exit")
    p.add_argument("--address", default="127.0.0.1", help="listen address (default 127.0.0.1)")
    p.add_argument("--port", type=int_in(0, 65535), default=DEFAULT_PORT,
                   help=f"listen port (default {DEFAULT_PORT}; 0 picks a free one)")
    p.set_defaults(func=run)
