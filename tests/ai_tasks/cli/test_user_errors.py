"""Anything a user types gets one JSON error line on stderr and exit 2, never a traceback.

One row per input of issue 15 ("What a new user hits", points 6 to 9), run
through :func:`ai_tasks.cli.main` in this process (an exception escaping it
would fail the test), and the inputs that need a broker or Redis run as the
real ``python -m ai_tasks.cli`` process against ports where nothing listens.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import cv2
import pytest

from ai_tasks.cli import main
from omr.template import build_template, render_sheet

ROOT = Path(__file__).resolve().parents[3]
SAMPLES = ROOT / "omr" / "samples"
#: A TCP port where nothing listens (connections are refused at once).
DEAD = "127.0.0.1:1"


@pytest.fixture()
def files(tmp_path: Path) -> Path:
    """A folder with what the rows below refer to: a PNG, a plain file, an empty folder, keys."""
    cv2.imwrite(str(tmp_path / "sheet.png"), render_sheet(build_template(20), dpi=100))
    (tmp_path / "a-file").write_text("not a folder")
    (tmp_path / "empty").mkdir()
    (tmp_path / "key99.json").write_text(json.dumps({"1": "3", "99": "1"}))
    (tmp_path / "key7.json").write_text(json.dumps({"answers": {"1": "3", "2": "7"}}))
    return tmp_path


META = str(SAMPLES / "meta_20q.json")
PHOTO = str(SAMPLES / "photo_20q.jpg")

ROWS = [
    # omr template
    (["omr", "template", "--questions", "10", "--out", "{d}/t", "--dpi", "0"], "option_invalid"),
    (["omr", "template", "--questions", "10", "--out", "{d}/t", "--dpi", "20000"], "option_invalid"),
    (["omr", "template", "--questions", "10", "--out", "{d}/a-file"], "output_exists"),
    (["omr", "template", "--questions", "0", "--out", "{d}/t"], "option_invalid"),
    (["omr", "template", "--questions", "ten", "--out", "{d}/t"], "option_invalid"),
    # omr grade
    (["omr", "grade", PHOTO, "--meta", "{d}/sheet.png"], "meta_invalid"),
    (["omr", "grade", PHOTO, "--meta", "{d}/missing.json"], "input_not_found"),
    (["omr", "grade", "{d}/missing.jpg", "--meta", META], "input_not_found"),
    (["omr", "grade", PHOTO, "--meta", META, "--key", "{d}/key99.json"], "key_invalid"),
    (["omr", "grade", PHOTO, "--meta", META, "--key", "{d}/key7.json"], "key_invalid"),
    (["omr", "grade", PHOTO, "--meta", META, "--key", "{d}/missing.json"], "input_not_found"),
    (["omr", "grade", PHOTO, "--meta", META, "--overlay", "{d}/no/such/o.png"], "output_unwritable"),
    # omr grade-batch
    (["omr", "grade-batch", "{d}", "--meta", META, "--out", "{d}/r.csv", "--dpi", "0"], "option_invalid"),
    (["omr", "grade-batch", "{d}", "--meta", META, "--out", "{d}/r.csv", "--processes", "-3"], "option_invalid"),
    (["omr", "grade-batch", "{d}/empty", "--meta", META, "--out", "{d}/r.csv"], "input_empty"),
    (["omr", "grade-batch", "{d}", "--meta", META, "--out", "{d}/r.csv", "--timeout", "5"], "option_invalid"),
    (["omr", "grade-batch", "{d}", "--meta", META, "--out", "{d}/r.csv", "--pipeline", "chain"], "option_invalid"),
    (["omr", "grade-batch", "{d}", "--meta", META, "--out", "{d}/r.csv", "--key", "{d}/key99.json"], "key_invalid"),
    (["omr", "grade-batch", "{d}", "--meta", META, "--out", "{d}/r.csv", "--key", "{d}/key7.json"], "key_invalid"),
    (["omr", "grade-batch", "{d}", "--meta", META, "--out", "{d}/no/such/r.csv"], "output_unwritable"),
    (["omr", "grade-batch", "{d}/missing", "--meta", META, "--out", "{d}/r.csv"], "input_not_found"),
    # the other commands
    (["segment", "{d}/sheet.png", "--crops", "{d}/a-file"], "output_exists"),
    (["segment", "{d}/sheet.png", "--overlay", "{d}/no/such/o.png"], "output_unwritable"),
    (["video", "{d}/sheet.png", "--min-frame-count", "-5"], "option_invalid"),
    (["video", "{d}/sheet.png", "--sample-every", "nan"], "option_invalid"),
    (["ocr", "{d}/sheet.png", "--dpi", "5"], "option_invalid"),
    (["handwriting", "{d}/missing.jpg"], "input_not_found"),
    (["submit", "ocr", "--payload", "@{d}/missing.json"], "input_not_found"),
    (["submit", "ocr", "--timeout", "-1"], "option_invalid"),
    (["dead-letters", "--limit", "0"], "option_invalid"),
    (["teleport"], "option_invalid"),
]


@pytest.mark.parametrize(("argv", "code"), ROWS, ids=[" ".join(a[:3]) + f" -> {c}" for a, c in ROWS])
def test_bad_input_is_one_json_line_and_exit_2(
    files: Path, capsys: pytest.CaptureFixture[str], argv: list[str], code: str
) -> None:
    rc = main([a.replace("{d}", str(files)) for a in argv])
    out, err = capsys.readouterr()
    assert rc == 2, err
    error = json.loads(err.strip().splitlines()[-1])
    assert error["reason_code"] == code and error["message"], error
    assert out == ""


def test_template_refuses_to_overwrite_unless_forced(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["omr", "template", "--questions", "10", "--out", str(tmp_path), "--dpi", "50"]
    assert main(argv) == 0
    capsys.readouterr()
    assert main(argv) == 2
    error = json.loads(capsys.readouterr().err)
    assert error["reason_code"] == "output_exists" and "--force" in error["message"]
    assert main([*argv, "--force"]) == 0


def test_cli_and_worker_agree_on_meta_source(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["omr", "grade", PHOTO, "--meta", META]) == 0
    result = json.loads(capsys.readouterr().out)
    # the worker's answer for a payload's template_meta (tests/ai_tasks/jobs/test_omr.py)
    assert (result["meta_used"], result["meta_source"]) == (False, "payload")


def _cli(env: dict[str, str], *argv: str) -> tuple[int, str, str, float]:
    full = {k: v for k, v in os.environ.items() if not k.startswith(("AI_WORKER_", "CELERY_"))}
    full.update(env, PYTHONPATH=str(ROOT))
    t0 = time.monotonic()
    done = subprocess.run([sys.executable, "-m", "ai_tasks.cli", *argv], capture_output=True, text=True,
                          env=full, cwd=ROOT, timeout=60)
    return done.returncode, done.stdout, done.stderr, time.monotonic() - t0


@pytest.mark.parametrize(
    ("env", "argv", "code"),
    [
        ({"CELERY_BROKER_URL": f"redis://:hunter2@{DEAD}/0"}, ["submit", "ocr"], "broker_unavailable"),
        ({"CELERY_BROKER_URL": f"amqp://guest:hunter2@{DEAD}//"}, ["submit", "ocr"], "broker_unavailable"),
        ({"CELERY_RESULT_BACKEND": f"redis://:hunter2@{DEAD}/0"}, ["dead-letters"], "redis_unavailable"),
        ({}, ["dead-letters", "--redis", f"redis://:hunter2@{DEAD}/3"], "redis_unavailable"),
        ({}, ["embed", "x", "--cache-url", f"redis://:hunter2@{DEAD}/0"], "redis_unavailable"),
        ({"AI_WORKER_DOWNLOAD_ALLOWLIST": "10.0.0.0/8,minio:9000"}, ["submit", "ocr"], "settings_invalid"),
    ],
    ids=["submit-redis-down", "submit-rabbitmq-down", "dead-letters-redis-down", "dead-letters-redis-option",
         "embed-cache-down", "bad-allowlist"],
)
def test_services_down_are_reported_fast_and_without_secrets(env: dict[str, str], argv: list[str], code: str) -> None:
    rc, out, err, took_s = _cli(env, *argv)
    assert rc == 2 and out == "", err
    assert "Traceback" not in err and "hunter2" not in err
    error = json.loads(err.strip().splitlines()[-1])
    assert error["reason_code"] == code, error
    if code != "settings_invalid":
        assert "127.0.0.1:1" in error["message"]  # names where it looked, without the password
    assert took_s < 20


def test_stderr_names_the_redis_that_hidden_defaults_would_use() -> None:
    rc, _, err, _ = _cli({"CELERY_RESULT_BACKEND": f"redis://{DEAD}/0"}, "dead-letters")
    assert rc == 2 and err.splitlines()[0] == f"ai-worker: dead letters from redis://{DEAD}/0 (CELERY_RESULT_BACKEND)"


def test_the_default_redis_is_named_not_hidden(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    """With nothing configured, dead-letters and embed --cache say they use the local Redis, and how to change it."""
    import ai_tasks.settings
    import ai_tasks.task
    from ai_tasks.cli.dead_letters import redis_source
    from ai_tasks.cli.embed import _open_cache
    from ai_tasks.settings import Settings

    bare = Settings.from_env({})
    monkeypatch.setattr(ai_tasks.settings, "get_settings", lambda: bare)
    monkeypatch.setattr(ai_tasks.task, "get_settings", lambda: bare)
    url, why = redis_source(None)
    assert url == "redis://127.0.0.1:6379/0" and "the default" in why and "--redis" in why
    _cache, where = _open_cache(None)
    assert where.startswith("redis://127.0.0.1:6379/0 (the default") and "--cache-url" in where
    for argv in (["dead-letters", "--help"], ["embed", "--help"]):
        assert main(argv) == 0
        assert "127.0.0.1:6379" in capsys.readouterr().out
