"""The test worker app with a 4 s Redis visibility timeout: proves that live workers renew their leases."""

from __future__ import annotations

from tests.integration.worker_app import app

VISIBILITY_TIMEOUT_S = 4
app.conf.broker_transport_options = {
    **app.conf.broker_transport_options,
    "visibility_timeout": VISIBILITY_TIMEOUT_S,
    "unacked_restore_interval": 1,
    "unacked_restore_throttle": 1,
}
