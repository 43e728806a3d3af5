"""Flower's configuration file (read from the working directory by ``celery flower``).

Flower answers ``/metrics`` (task names, worker names, traffic) and
``/healthcheck`` without authentication even when ``--basic-auth`` or OAuth is
on (Flower 2.2). Here both require the same authentication as every other
page; a probe that must reach ``/healthcheck`` sends the basic-auth header,
or runs inside the container (``docs/operations.md``).
"""

from __future__ import annotations

import tornado.web
from flower.views import monitor

for _handler in (monitor.Metrics, monitor.Healthcheck):
    if not getattr(_handler.get, "__wrapped__", None):
        _handler.get = tornado.web.authenticated(_handler.get)
