"""Flower's configuration file, passed by absolute path: ``python -m ai_tasks.flower``.

The launcher (:mod:`ai_tasks.flower`) checks the credentials and starts
``celery -A ai_tasks flower --conf=<this file>``, so this file applies
wherever Flower is started from. Flower executes it and takes these names as
options:

* ``basic_auth`` from ``FLOWER_USER`` / ``FLOWER_PASSWORD``: without them
  Flower does not start (here too, for a ``celery ... flower`` started by
  hand in this folder, which reads this file from the working directory);
* ``address`` from ``FLOWER_ADDRESS``, ``127.0.0.1`` unless told otherwise
  (compose sets ``0.0.0.0`` inside the container and publishes the port on
  the host's loopback only); ``port`` from ``FLOWER_PORT`` (5555).

Flower answers ``/metrics`` (task names, worker names, traffic) and
``/healthcheck`` without authentication even when ``--basic-auth`` or OAuth is
on (Flower 2.2). Here both require the same authentication as every other
page; a probe that must reach ``/healthcheck`` sends the basic-auth header
(``python -m ai_tasks.flower healthcheck``, ``docs/operations.md``).
"""

from __future__ import annotations

import tornado.web
from flower.views import monitor

for _handler in (monitor.Metrics, monitor.Healthcheck):
    if not getattr(_handler.get, "__wrapped__", None):
        _handler.get = tornado.web.authenticated(_handler.get)

# Flower runs this file with a namespace holding only ``__file__`` (tornado's
# parse_config_file); an ``import flowerconfig`` (tests) has a ``__name__``
# and only gets the patch above.
if "__name__" not in globals():
    from ai_tasks.flower import check_credentials
    from ai_tasks.settings import SettingsError, get_settings

    _settings = get_settings()
    try:
        _user = check_credentials(_settings)
    except SettingsError as _exc:
        raise SystemExit(f"Flower refuses to start: {_exc}") from None
    assert _settings.flower_password is not None  # checked above
    basic_auth = [f"{_user}:{_settings.flower_password.reveal()}"]
    address = _settings.flower_address
    port = _settings.flower_port
