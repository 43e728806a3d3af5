"""Per-process resources every job uses, built once from the settings.

Examples:
    >>> from ai_tasks.settings import Settings
    >>> download_policy(Settings.from_env({"AI_WORKER_DOWNLOAD_MAX_BYTES": "1000"})).max_bytes
    1000
"""

from __future__ import annotations

from ai_tasks.artifacts import ArtifactStore, open_artifact_store
from ai_tasks.download import DownloadPolicy
from ai_tasks.settings import Settings, get_settings

__all__ = ["artifact_store", "download_policy"]

_store: ArtifactStore | None = None


def artifact_store() -> ArtifactStore:
    """This process's artifact store (opened once; a folder or Redis, per ``AI_WORKER_ARTIFACT_URL``)."""
    global _store
    if _store is None:
        s = get_settings()
        _store = open_artifact_store(s.resolved_artifact_url, s.artifact_ttl_s)
    return _store


def download_policy(s: Settings | None = None) -> DownloadPolicy:
    """The download limits of ``AI_WORKER_DOWNLOAD_*``."""
    s = s or get_settings()
    return DownloadPolicy(
        max_bytes=s.download_max_bytes,
        connect_timeout_s=s.download_connect_timeout_s,
        read_timeout_s=s.download_read_timeout_s,
        total_timeout_s=s.download_total_timeout_s,
        allow_http=s.download_allow_http,
        allowlist=s.download_allowlist,
    )
