"""Test-wide environment: set before anything imports ``ai_tasks.settings``.

Tests talk to local HTTP servers on 127.0.0.1 (allowlisted, plain http) and
keep artifacts in a private folder; broker variables of the shell are
ignored so a developer's environment cannot leak into a run.
"""

from __future__ import annotations

import os
import tempfile

for _name in list(os.environ):
    if _name.startswith(("AI_WORKER_", "CELERY_")) or _name in ("API_BASE_URL", "INTERNAL_WORKER_TOKEN"):
        del os.environ[_name]
os.environ["AI_WORKER_DOWNLOAD_ALLOW_HTTP"] = "true"
os.environ["AI_WORKER_DOWNLOAD_ALLOWLIST"] = "127.0.0.1"
os.environ["AI_WORKER_ARTIFACT_URL"] = tempfile.mkdtemp(prefix="ai-worker-test-artifacts-")
