"""Start Flower closed: ``python -m ai_tasks.flower [flower options]``.

Flower with no ``--basic-auth`` is open to anyone who reaches its port, and a
``--basic-auth=$FLOWER_USER:$FLOWER_PASSWORD`` with both unset becomes
``--basic-auth=:``, which empty credentials pass. This launcher refuses to
start unless ``FLOWER_USER`` and ``FLOWER_PASSWORD`` are set (the password at
least :data:`MIN_PASSWORD_CHARS` characters; it is never printed), then runs
``celery -A ai_tasks flower --conf=<absolute path of flowerconfig.py>``.
``flowerconfig.py`` sets the credentials, binds ``FLOWER_ADDRESS``
(``127.0.0.1`` unless told otherwise) and ``FLOWER_PORT``, and puts
``/metrics`` and ``/healthcheck`` behind the same authentication as every
other page, wherever Flower is started from (``docs/operations.md``).

``python -m ai_tasks.flower healthcheck`` asks the running Flower's
``/healthcheck`` with the credentials (the compose healthcheck).

Examples:
    >>> from ai_tasks.settings import Settings
    >>> check_credentials(Settings.from_env({}))
    Traceback (most recent call last):
    ...
    ai_tasks.settings.SettingsError: flower_credentials_missing: FLOWER_USER and FLOWER_PASSWORD must be set: Flower does not start without authentication
    >>> check_credentials(Settings.from_env({"FLOWER_USER": "ops", "FLOWER_PASSWORD": "short"}))
    Traceback (most recent call last):
    ...
    ai_tasks.settings.SettingsError: flower_password_too_short: FLOWER_PASSWORD must have at least 12 characters, got 5
    >>> check_credentials(Settings.from_env({"FLOWER_USER": "ops", "FLOWER_PASSWORD": "correct-horse-battery"}))
    'ops'
"""

from __future__ import annotations

import base64
import importlib.util
import sys
import urllib.error
import urllib.request
from collections.abc import Sequence
from pathlib import Path

from ai_tasks.settings import Settings, SettingsError, get_settings

__all__ = ["MIN_PASSWORD_CHARS", "check_credentials", "config_path", "main"]

#: Shortest FLOWER_PASSWORD accepted: the dashboard can revoke tasks and shut workers down.
MIN_PASSWORD_CHARS = 12
#: How long the healthcheck waits for Flower's answer.
HEALTHCHECK_TIMEOUT_S = 5.0


def check_credentials(settings: Settings) -> str:
    """Return the Flower user name, or raise if the credentials would leave Flower open.

    Raises:
        SettingsError: ``flower_credentials_missing`` (user or password unset
            or empty), ``flower_user_invalid`` (a ``:`` or ``,`` in the name:
            Flower splits on both), ``flower_password_too_short``.
    """
    user, password = settings.flower_user, settings.flower_password
    if not user or not password:
        raise SettingsError(
            "flower_credentials_missing",
            "FLOWER_USER and FLOWER_PASSWORD must be set: Flower does not start without authentication",
        )
    if ":" in user or "," in user:
        raise SettingsError("flower_user_invalid", "FLOWER_USER may not contain ':' or ','")
    if len(password.reveal()) < MIN_PASSWORD_CHARS:
        raise SettingsError(
            "flower_password_too_short",
            f"FLOWER_PASSWORD must have at least {MIN_PASSWORD_CHARS} characters, got {len(password.reveal())}",
        )
    return user


def config_path() -> Path:
    """The absolute path of ``flowerconfig.py``: beside ``ai_tasks/`` (a checkout), else importable (installed, cwd).

    Raises:
        SettingsError: ``flower_config_missing`` when neither exists (Flower
            would then answer ``/metrics`` without authentication).
    """
    candidates = [Path(__file__).resolve().parents[1] / "flowerconfig.py"]
    spec = importlib.util.find_spec("flowerconfig")
    if spec is not None and spec.origin:
        candidates.append(Path(spec.origin))
    for path in candidates:
        if path.is_file():
            return path.resolve()
    raise SettingsError("flower_config_missing", "flowerconfig.py not found (it ships beside ai_tasks/)")


def healthcheck(settings: Settings) -> int:
    """Ask the local Flower's ``/healthcheck`` with the credentials; 0 when it answers 200."""
    user = check_credentials(settings)
    assert settings.flower_password is not None  # checked above
    host = settings.flower_address if settings.flower_address not in ("", "0.0.0.0", "::") else "127.0.0.1"
    token = base64.b64encode(f"{user}:{settings.flower_password.reveal()}".encode()).decode()
    request = urllib.request.Request(f"http://{host}:{settings.flower_port}/healthcheck",
                                     headers={"Authorization": f"Basic {token}"})
    try:
        with urllib.request.urlopen(request, timeout=HEALTHCHECK_TIMEOUT_S) as answer:
            return 0 if answer.status == 200 else 1
    except (urllib.error.URLError, OSError) as exc:
        sys.stderr.write(f"flower healthcheck: {exc}\n")
        return 1


def main(argv: Sequence[str] | None = None) -> int:
    """Check the credentials, then run Flower (``healthcheck``: probe a running one)."""
    from ai_tasks.cli.output import fail

    args = list(sys.argv[1:] if argv is None else argv)
    try:
        settings = get_settings()
        if args[:1] == ["healthcheck"]:
            return healthcheck(settings)
        check_credentials(settings)
        conf = config_path()
    except SettingsError as exc:
        doing = "flower healthcheck" if args[:1] == ["healthcheck"] else "Flower refuses to start"
        return fail(exc.reason_code, f"{doing}: {exc.message}")
    from celery.bin.celery import main as celery_main

    # Credentials, address and port come from flowerconfig.py (never the
    # command line, which `ps` shows); options given here win over it.
    sys.argv = ["celery", "-A", "ai_tasks", "flower", f"--conf={conf}", *args]
    return int(celery_main() or 0)


if __name__ == "__main__":
    sys.exit(main())
