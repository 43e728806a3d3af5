from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from ai_tasks.settings import Secret, Settings, SettingsError


def test_defaults_from_empty_environment() -> None:
    s = Settings.from_env({})
    assert s.broker_url is None
    assert s.resolved_result_backend == "redis://127.0.0.1:6379/0"
    assert s.download_allow_http is False and s.download_allowlist == ()


def test_misspelt_setting_is_an_error_with_a_hint() -> None:
    with pytest.raises(SettingsError) as err:
        Settings.from_env({"AI_WORKER_DOWNLOAD_MAX_BYTE": "10"})
    assert err.value.reason_code == "settings_unknown"
    assert "AI_WORKER_DOWNLOAD_MAX_BYTES" in err.value.message


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("AI_WORKER_DOWNLOAD_MAX_BYTES", "lots"),
        ("AI_WORKER_DOWNLOAD_MAX_BYTES", "0"),
        ("AI_WORKER_DOWNLOAD_ALLOW_HTTP", "maybe"),
        ("AI_WORKER_MAX_DELIVERIES", "0"),
        ("AI_WORKER_DOWNLOAD_ALLOWLIST", "minio:9000"),
        ("AI_WORKER_DOWNLOAD_ALLOWLIST", "10.0.0.0/33"),
        ("AI_WORKER_DOWNLOAD_ALLOWLIST", "127.0.0.1, *.internal"),
        ("AI_WORKER_DOWNLOAD_ALLOWLIST", "https://minio.internal"),
        ("AI_WORKER_DOWNLOAD_ALLOWLIST", "256.1.1.1"),
        ("AI_WORKER_DOWNLOAD_ALLOWLIST", "10.0.0.0/8 10.1.0.0/16"),
        ("AI_WORKER_DOWNLOAD_ALLOWLIST", "a..b"),
    ],
)
def test_malformed_values_are_refused(name: str, value: str) -> None:
    with pytest.raises(SettingsError) as err:
        Settings.from_env({name: value})
    assert err.value.reason_code == "settings_invalid"
    assert name in err.value.message


def test_parsing_of_typed_values() -> None:
    s = Settings.from_env(
        {
            "AI_WORKER_DOWNLOAD_ALLOW_HTTP": "yes",
            "AI_WORKER_DOWNLOAD_ALLOWLIST": "127.0.0.1, 10.0.0.0/8",
            "CELERY_BROKER_URL": "amqp://guest:guest@127.0.0.1:5672//",
        }
    )
    assert s.download_allow_http is True
    assert s.download_allowlist == ("127.0.0.1", "10.0.0.0/8")
    # a RabbitMQ broker never doubles as result backend
    assert s.resolved_result_backend == "redis://127.0.0.1:6379/0"


def test_secrets_never_show() -> None:
    s = Settings.from_env({"INTERNAL_WORKER_TOKEN": "tok-123", "AI_WORKER_TEMPLATE_BEARER_TOKEN": "bear-456"})
    assert isinstance(s.internal_worker_token, Secret)
    assert s.internal_worker_token.reveal() == "tok-123"
    for text in (repr(s), str(s), repr(s.public_dict()), f"{s.internal_worker_token!r}"):
        assert "tok-123" not in text and "bear-456" not in text


def test_a_secret_is_not_a_string_and_never_formats_its_value(caplog: pytest.LogCaptureFixture) -> None:
    import json
    import logging
    import pickle

    token = Settings.from_env({"OPENAI_API_KEY": "sk-live-789"}).openai_api_key
    assert token is not None and not isinstance(token, str)
    for text in (str(token), f"{token}", f"{token:>20}", "%s" % token, "{}".format(token), repr([token])):  # noqa: UP031, UP032
        assert "sk-live-789" not in text
    with pytest.raises(TypeError):
        json.dumps({"key": token})
    with pytest.raises(TypeError):
        pickle.dumps(token)
    with caplog.at_level(logging.INFO):
        logging.getLogger("t").info("key is %s / %r", token, token)
    assert "sk-live-789" not in caplog.text
    assert token.reveal() == "sk-live-789" and bool(token) and token == Secret("sk-live-789")


def test_a_malformed_allowlist_stops_the_worker_at_start_up() -> None:
    """Not every download job failing later as internal_error: the worker does not start."""
    root = Path(__file__).resolve().parents[2]
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AI_WORKER_", "CELERY_"))}
    env.update(PYTHONPATH=str(root), AI_WORKER_DOWNLOAD_ALLOWLIST="10.0.0.0/8,minio:9000")
    done = subprocess.run([sys.executable, "-m", "celery", "-A", "ai_tasks", "worker", "-Q", "cpu-vision"],
                          capture_output=True, text=True, env=env, cwd=root, timeout=120)
    assert done.returncode != 0
    assert "settings_invalid: AI_WORKER_DOWNLOAD_ALLOWLIST: allowlist entry 'minio:9000'" in done.stderr
