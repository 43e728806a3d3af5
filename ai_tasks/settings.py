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
    >>> Settings.from_env({"AI_WORKER_DOWNLOAD_ALLOWLIST": "10.0.0.0/8, minio:9000"})
    Traceback (most recent call last):
    ...
    ai_tasks.settings.SettingsError: settings_invalid: AI_WORKER_DOWNLOAD_ALLOWLIST: allowlist entry 'minio:9000' is not a host name, IP address or CIDR
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


class Secret:
    """A secret value that never shows itself: not a ``str``, so ``str()``,
    f-strings, ``%s`` logging and ``json.dumps`` cannot print it by accident.

    Use :meth:`reveal` at the single place the value is sent on the wire.

    Examples:
        >>> s = Secret("tok")
        >>> repr(s), str(s), f"{s}", "%s" % s, s.reveal()
        ("Secret('***')", '***', '***', '***', 'tok')
        >>> import json
        >>> json.dumps({"k": s})
        Traceback (most recent call last):
        ...
        TypeError: Object of type Secret is not JSON serializable
    """

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        if not isinstance(value, str):
            raise TypeError("Secret wraps a str")
        self._value = value

    def __repr__(self) -> str:
        return "Secret('***')"

    def __str__(self) -> str:
        return "***"

    def __format__(self, spec: str) -> str:
        return "***"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(("Secret", self._value))

    def __bool__(self) -> bool:
        return bool(self._value)

    def __reduce__(self) -> Any:
        raise TypeError("a Secret is never pickled")

    def reveal(self) -> str:
        return self._value


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
    "AI_WORKER_STEP_EVENTS": ("step_events", _bool),
    # image jobs
    "AI_WORKER_MAX_PIXELS": ("max_pixels", int),
    "AI_WORKER_MAX_PAGES": ("max_pages", int),
    "AI_WORKER_GOOGLE_VISION_ENDPOINT": ("google_vision_endpoint", str),
    "AI_WORKER_VIDEO_MAX_DURATION_S": ("video_max_duration_s", float),
    "AI_WORKER_VIDEO_MAX_FRAMES": ("video_max_frames", int),
    # text jobs
    "AI_WORKER_EMBED_MAX_TEXTS": ("embed_max_texts", int),
    "AI_WORKER_EMBED_MAX_CHARS": ("embed_max_chars", int),
    "AI_WORKER_EMBED_CACHE_TTL_S": ("embed_cache_ttl_s", int),
    "AI_WORKER_EMBED_CACHE_MAX_ITEMS": ("embed_cache_max_items", int),
    "AI_WORKER_LLM_TIMEOUT_S": ("llm_timeout_s", float),
    "AI_WORKER_LLM_RATE_LIMIT": ("llm_rate_limit", str),
    # ai-worker bridge, named as in the legacy worker's run.py
    "AI_WORKER_POLL_INTERVAL": ("bridge_poll_interval_s", float),
    "AI_WORKER_MAX_BACKOFF": ("bridge_max_backoff_s", float),
}

# Names without the AI_WORKER_ prefix that we also read (kept from the seed).
_OTHER_VARS: dict[str, tuple[str, Any]] = {
    "CELERY_BROKER_URL": ("broker_url", str),
    "CELERY_RESULT_BACKEND": ("result_backend", str),
    "API_BASE_URL": ("api_base_url", str),
    "INTERNAL_WORKER_TOKEN": ("internal_worker_token", Secret),
    # engine settings, named as in the legacy worker
    "OCR_ENGINE": ("ocr_engine", str),
    "GOOGLE_APPLICATION_CREDENTIALS": ("google_application_credentials", str),
    "QUESTION_SEGMENTATION_ENGINE": ("segmentation_engine", str),
    "YOLO_QUESTION_MODEL_PATH": ("yolo_model_path", str),
    "YOLO_QUESTION_INPUT_SIZE": ("yolo_input_size", int),
    "YOLO_QUESTION_CONF_THRESHOLD": ("yolo_conf_threshold", float),
    "YOLO_QUESTION_IOU_THRESHOLD": ("yolo_iou_threshold", float),
    "EMBEDDING_BACKEND": ("embedding_backend", str),
    "EMBEDDING_LOCAL_MODEL": ("embedding_local_model", str),
    "EMBEDDING_OPENAI_MODEL": ("embedding_openai_model", str),
    "OPENAI_API_KEY": ("openai_api_key", Secret),
    "OPENAI_BASE_URL": ("openai_base_url", str),
    "PROBLEM_GEN_MODEL": ("problem_gen_model", str),
    # the Flower dashboard (python -m ai_tasks.flower; flowerconfig.py)
    "FLOWER_USER": ("flower_user", str),
    "FLOWER_PASSWORD": ("flower_password", Secret),
    "FLOWER_ADDRESS": ("flower_address", str),
    "FLOWER_PORT": ("flower_port", int),
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
    #: Flower events (received, started, succeeded, sent) for the intermediate steps of a
    #: chain too; off, a job shows as its ``ai.job`` and its last step (``celeryconfig.py``).
    step_events: bool = False

    # image jobs (vision/)
    max_pixels: int = 60_000_000
    max_pages: int = 50
    ocr_engine: str = "auto"
    google_application_credentials: str | None = None
    google_vision_endpoint: str | None = None
    segmentation_engine: str = "auto"
    yolo_model_path: str | None = None
    yolo_input_size: int = 640
    yolo_conf_threshold: float = 0.4
    yolo_iou_threshold: float = 0.5
    video_max_duration_s: float = 3600.0
    video_max_frames: int = 200_000

    # text jobs (nlp/)
    embedding_backend: str = "auto"
    embedding_local_model: str | None = None  # None: the offline default (docs/configuration.md)
    embedding_openai_model: str = "text-embedding-3-small"
    openai_api_key: Secret | None = field(default=None, repr=False)
    openai_base_url: str | None = None
    problem_gen_model: str = "gpt-4.1-mini"
    embed_max_texts: int = 2048
    embed_max_chars: int = 8192
    embed_cache_ttl_s: int = 7 * 24 * 3600
    embed_cache_max_items: int = 200_000
    llm_timeout_s: float = 60.0
    llm_rate_limit: str | None = None  # Celery rate limit per llm worker, e.g. "60/m"

    # Flower (ai_tasks/flower.py refuses to start it without user and password)
    flower_user: str | None = None
    flower_password: Secret | None = field(default=None, repr=False)
    flower_address: str = "127.0.0.1"
    flower_port: int = 5555

    # ai-worker bridge (legacy intake poller)
    bridge_poll_interval_s: float = 1.0
    bridge_max_backoff_s: float = 30.0

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
            (0 < self.bridge_poll_interval_s <= 3600, "AI_WORKER_POLL_INTERVAL must be in (0, 3600] s"),
            (1 <= self.bridge_max_backoff_s <= 3600, "AI_WORKER_MAX_BACKOFF must be in 1..3600 s"),
        ]
        for ok, message in checks:
            if not ok:
                raise SettingsError("settings_invalid", message)
        try:  # the allow-list's syntax: a typo stops the worker here, not every download job later
            DownloadPolicy(allowlist=self.download_allowlist)
        except ValueError as exc:
            raise SettingsError("settings_invalid", f"AI_WORKER_DOWNLOAD_ALLOWLIST: {exc}") from None

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
