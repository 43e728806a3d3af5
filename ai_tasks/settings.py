"""One frozen settings object, built once from the environment.

``os.environ`` is read here and in ``celeryconfig.py`` only. Every variable
that starts with ``AI_WORKER_`` must be one this module knows: a misspelt
setting is an error at start-up, not a silently ignored default.

Examples:
    >>> s = Settings.from_env({"AI_WORKER_MAX_DELIVERIES": "4"})
    >>> s.max_deliveries, s.broker_url
    (4, None)
    >>> Settings.from_env({"AI_WORKER_MAX_DELIVERISE": "4"})
    Traceback (most recent call last):
    ...
    ai_tasks.settings.SettingsError: settings_unknown: unknown setting AI_WORKER_MAX_DELIVERISE (did you mean AI_WORKER_MAX_DELIVERIES?)
    >>> "s3cr3t" in repr(Settings.from_env({"INTERNAL_WORKER_TOKEN": "s3cr3t"}))
    False
"""

from __future__ import annotations

import difflib
import os
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from functools import lru_cache
from pathlib import Path
from typing import Any

from ai_tasks.download import DownloadPolicy
from ai_tasks.errors import PermanentError

__all__ = ["Secret", "Settings", "SettingsError", "get_settings"]


class SettingsError(PermanentError):
    """A setting is unknown, malformed or out of range."""


class Secret(str):
    """A string that never shows itself in ``repr``/``str`` formatting of containers.

    Use :meth:`reveal` at the single place the value is sent on the wire.

    Examples:
        >>> s = Secret("tok")
        >>> repr(s), s.reveal()
        ("Secret('***')", 'tok')
    """

    def __repr__(self) -> str:
        return "Secret('***')"

    def reveal(self) -> str:
        return str.__str__(self)


def _bool(raw: str) -> bool:
    low = raw.strip().lower()
    if low in ("1", "true", "yes", "on"):
        return True
    if low in ("0", "false", "no", "off", ""):
        return False
    raise ValueError(f"expected a boolean (true/false), got {raw!r}")


# env name -> (field name, parser). Only these AI_WORKER_* names exist.
_AI_WORKER_VARS: dict[str, tuple[str, Any]] = {
    "AI_WORKER_DOWNLOAD_MAX_BYTES": ("download_max_bytes", int),
    "AI_WORKER_DOWNLOAD_CONNECT_TIMEOUT_S": ("download_connect_timeout_s", float),
    "AI_WORKER_DOWNLOAD_READ_TIMEOUT_S": ("download_read_timeout_s", float),
    "AI_WORKER_DOWNLOAD_TOTAL_TIMEOUT_S": ("download_total_timeout_s", float),
    "AI_WORKER_DOWNLOAD_ALLOW_HTTP": ("download_allow_http", _bool),
    "AI_WORKER_DOWNLOAD_ALLOWLIST": (
        "download_allowlist",
        lambda v: tuple(p.strip() for p in v.split(",") if p.strip()),
    ),
    "AI_WORKER_TMP_DIR": ("tmp_dir", lambda v: Path(v) if v else None),
    "AI_WORKER_ARTIFACT_URL": ("artifact_url", str),
    "AI_WORKER_ARTIFACT_TTL_S": ("artifact_ttl_s", int),
    "AI_WORKER_MAX_DELIVERIES": ("max_deliveries", int),
    "AI_WORKER_MAX_RETRIES": ("max_retries", int),
    "AI_WORKER_RETRY_BACKOFF_MAX_S": ("retry_backoff_max_s", int),
    "AI_WORKER_MAX_MEMORY_PER_CHILD_KB": ("max_memory_per_child_kb", int),
    "AI_WORKER_PROC_ALIVE_TIMEOUT_S": ("proc_alive_timeout_s", float),
    "AI_WORKER_TEMPLATE_BASE_URL": ("template_base_url", str),
    "AI_WORKER_TEMPLATE_BEARER_TOKEN": ("template_bearer_token", Secret),
    "AI_WORKER_RABBITMQ_QUORUM": ("rabbitmq_quorum", _bool),
    "AI_WORKER_LOG_LEVEL": ("log_level", str),
}

# Names without the AI_WORKER_ prefix that we also read (kept from the seed).
_OTHER_VARS: dict[str, tuple[str, Any]] = {
    "CELERY_BROKER_URL": ("broker_url", str),
    "CELERY_RESULT_BACKEND": ("result_backend", str),
    "API_BASE_URL": ("api_base_url", str),
    "INTERNAL_WORKER_TOKEN": ("internal_worker_token", Secret),
}


@dataclass(frozen=True)
class Settings:
    """Everything the worker can be told by its environment.

    ``docs/configuration.md`` lists each variable with its default.
    """

    broker_url: str | None = None
    result_backend: str | None = None
    api_base_url: str | None = None
    internal_worker_token: Secret | None = field(default=None, repr=False)
    template_base_url: str | None = None
    template_bearer_token: Secret | None = field(default=None, repr=False)

    # download defaults are DownloadPolicy's: one source of truth
    download_max_bytes: int = DownloadPolicy.max_bytes
    download_connect_timeout_s: float = DownloadPolicy.connect_timeout_s
    download_read_timeout_s: float = DownloadPolicy.read_timeout_s
    download_total_timeout_s: float = DownloadPolicy.total_timeout_s
    download_allow_http: bool = DownloadPolicy.allow_http
    download_allowlist: tuple[str, ...] = DownloadPolicy.allowlist

    tmp_dir: Path | None = None
    artifact_url: str = ""
    artifact_ttl_s: int = 3600

    max_deliveries: int = 3
    max_retries: int = 5
    retry_backoff_max_s: int = 300
    max_memory_per_child_kb: int = 1_500_000
    proc_alive_timeout_s: float = 60.0
    rabbitmq_quorum: bool = True
    log_level: str = "INFO"

    def __post_init__(self) -> None:
        checks = [
            (self.download_max_bytes > 0, "AI_WORKER_DOWNLOAD_MAX_BYTES must be > 0"),
            (self.download_connect_timeout_s > 0, "AI_WORKER_DOWNLOAD_CONNECT_TIMEOUT_S must be > 0"),
            (self.download_read_timeout_s > 0, "AI_WORKER_DOWNLOAD_READ_TIMEOUT_S must be > 0"),
            (self.download_total_timeout_s > 0, "AI_WORKER_DOWNLOAD_TOTAL_TIMEOUT_S must be > 0"),
            (self.artifact_ttl_s > 0, "AI_WORKER_ARTIFACT_TTL_S must be > 0"),
            (1 <= self.max_deliveries <= 100, "AI_WORKER_MAX_DELIVERIES must be in 1..100"),
            (0 <= self.max_retries <= 100, "AI_WORKER_MAX_RETRIES must be in 0..100"),
            (self.retry_backoff_max_s >= 1, "AI_WORKER_RETRY_BACKOFF_MAX_S must be >= 1"),
            (self.max_memory_per_child_kb >= 100_000, "AI_WORKER_MAX_MEMORY_PER_CHILD_KB must be >= 100000"),
        ]
        for ok, message in checks:
            if not ok:
                raise SettingsError("settings_invalid", message)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        """Build settings from ``environ`` (default ``os.environ``), strictly."""
        env = os.environ if environ is None else environ
        known = {**_AI_WORKER_VARS, **_OTHER_VARS}
        for name in env:
            if name.startswith("AI_WORKER_") and name not in _AI_WORKER_VARS:
                hint = difflib.get_close_matches(name, list(_AI_WORKER_VARS), n=1)
                extra = f" (did you mean {hint[0]}?)" if hint else ""
                raise SettingsError("settings_unknown", f"unknown setting {name}{extra}")
        values: dict[str, Any] = {}
        for name, (attr, parse) in known.items():
            raw = env.get(name)
            if raw is None or raw == "":
                continue
            try:
                values[attr] = parse(raw)
            except ValueError as exc:
                raise SettingsError("settings_invalid", f"{name}: {exc}") from None
        return cls(**values)

    @property
    def resolved_result_backend(self) -> str:
        """The result backend: explicit, else the Redis broker, else local Redis."""
        if self.result_backend:
            return self.result_backend
        if self.broker_url and self.broker_url.startswith(("redis://", "rediss://")):
            return self.broker_url
        return "redis://127.0.0.1:6379/0"

    @property
    def resolved_artifact_url(self) -> str:
        """Artifact store: explicit, else a local folder under the temp dir."""
        if self.artifact_url:
            return self.artifact_url
        base = self.tmp_dir or Path(os.environ.get("TMPDIR", "/tmp"))
        return str(base / "ai-worker-artifacts")

    def public_dict(self) -> dict[str, Any]:
        """Settings as a dict with every secret masked (for logs and docs)."""
        out: dict[str, Any] = {}
        for f in fields(self):
            value = getattr(self, f.name)
            out[f.name] = "***" if isinstance(value, Secret) else value
        return out


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings, built on first use."""
    return Settings.from_env()
