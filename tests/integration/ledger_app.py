"""The test worker app with a 1 s ledger sweep and a 4 s visibility timeout (tests/integration/test_ledger.py)."""

from __future__ import annotations

import ai_tasks.ledger
from tests.integration.worker_app import app

ai_tasks.ledger.SWEEP_INTERVAL_S = 1.0
app.conf.broker_transport_options = {
    **app.conf.broker_transport_options,
    "visibility_timeout": 4,
    "unacked_restore_interval": 1,
    "unacked_restore_throttle": 1,
}
