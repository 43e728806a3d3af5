"""docker-compose.yml stays honest: no Docker engine here, so its structure is checked.

Against the code (queues from ``ai_tasks/routing.py``, settings from
``ai_tasks/settings.py``), the docs (``docs/configuration.md``), the env file
operators copy (``.env.example``) and the Dockerfile's targets.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from ai_tasks.routing import QUEUE_NAMES

ROOT = Path(__file__).resolve().parents[1]
#: docker compose's own ``${VAR}``, ``${VAR:-default}``, ``${VAR:?error}`` references.
INTERPOLATION = re.compile(r"\$\{([A-Z0-9_]+)(?::?[-?][^}]*)?\}")
SECRETS = ("INTERNAL_WORKER_TOKEN", "AI_WORKER_TEMPLATE_BEARER_TOKEN", "OPENAI_API_KEY", "FLOWER_PASSWORD")


def _compose() -> dict:  # type: ignore[type-arg]
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def _workers() -> dict[str, dict]:  # type: ignore[type-arg]
    return {name: s for name, s in _compose()["services"].items() if name.startswith("worker-")}


def _documented_settings() -> list[str]:
    """Every variable in a table of docs/configuration.md, in order."""
    text = (ROOT / "docs" / "configuration.md").read_text()
    return re.findall(r"^\| `([A-Z][A-Z0-9_]+)` \|", text, re.MULTILINE)


def _env_example() -> dict[str, tuple[str, bool]]:
    """``.env.example``: name -> (value, commented out)."""
    out: dict[str, tuple[str, bool]] = {}
    for line in (ROOT / ".env.example").read_text().splitlines():
        m = re.match(r"^(#\s*)?([A-Z][A-Z0-9_]+)=(\S*)", line)
        if m:
            out[m.group(2)] = (m.group(3), bool(m.group(1)))
    return out


def test_one_worker_service_per_queue_consuming_only_that_queue() -> None:
    workers = _workers()
    assert sorted(workers) == sorted(f"worker-{q}" for q in QUEUE_NAMES)
    for queue in QUEUE_NAMES:
        cmd = workers[f"worker-{queue}"]["command"]
        assert cmd[:4] == ["celery", "-A", "ai_tasks", "worker"]
        assert cmd.count("-Q") == 1 and cmd[cmd.index("-Q") + 1] == queue
        assert cmd[cmd.index("-n") + 1] == f"{queue}@%h"


def test_llm_worker_runs_threads_as_documented() -> None:
    """docs/operations.md and docs/jobs/problem.md: ``-P threads -c 16``."""
    cmd = _workers()["worker-llm"]["command"]
    assert cmd[cmd.index("--pool") + 1] == "threads" and cmd[cmd.index("--concurrency") + 1] == "16"
    for doc in ("docs/operations.md", "docs/jobs/problem.md", "README.md"):
        assert "-Q llm -n llm@%h -P threads -c 16" in re.sub(r" +", " ", (ROOT / doc).read_text()), doc


@pytest.mark.parametrize("service", [f"worker-{q}" for q in QUEUE_NAMES])
def test_every_worker_has_a_ping_healthcheck_on_its_own_node(service: str) -> None:
    queue = service.removeprefix("worker-")
    check = _compose()["services"][service]["healthcheck"]
    kind, script = check["test"]
    assert kind == "CMD-SHELL"
    # $$ is compose's escape: the container's shell expands $HOSTNAME (= %h of -n)
    assert script.startswith(f"celery -A ai_tasks inspect ping -d {queue}@$$HOSTNAME ")
    assert check["interval"] and check["timeout"] and check["retries"]


def test_every_service_is_built_from_its_own_dockerfile_target() -> None:
    services = _compose()["services"]
    targets = {name: s["build"]["target"] for name, s in services.items() if "build" in s}
    assert targets == {**{f"worker-{q}": q for q in QUEUE_NAMES}, "flower": "flower"}
    for name, target in targets.items():
        assert services[name]["build"]["context"] == "."
        assert services[name]["image"] == f"ai-worker-{target}:latest"
    stages = set(re.findall(r"^FROM \S+ AS (\S+)$", (ROOT / "Dockerfile").read_text(), re.MULTILINE))
    assert set(targets.values()) <= stages, "Dockerfile lacks a target compose builds"


def test_every_documented_setting_is_in_the_env_file_and_reaches_every_service() -> None:
    """Issue 15, point 7: every setting of docs/configuration.md reachable through .env."""
    documented = _documented_settings()
    assert len(documented) >= 40 and "OPENAI_API_KEY" in documented and "FLOWER_PASSWORD" in documented
    example = _env_example()
    assert [n for n in documented if n not in example] == []
    for name in SECRETS:  # secrets are never committed
        assert example[name] == ("", False), name
    for name, (value, commented) in example.items():
        assert commented or value == "", f"{name}: an uncommented line sets a value for everyone"
    for name, service in _compose()["services"].items():
        if name.startswith("worker-") or name == "flower":
            assert service["env_file"] == ".env", name
    assert "/.env" in (ROOT / ".gitignore").read_text().splitlines()  # the filled-in copy stays out of git


def test_every_setting_the_code_reads_is_documented() -> None:
    """docs/configuration.md lists every variable ai_tasks/settings.py knows, and nothing else."""
    from ai_tasks.settings import _AI_WORKER_VARS, _OTHER_VARS

    assert sorted(_documented_settings()) == sorted({*_AI_WORKER_VARS, *_OTHER_VARS})


def test_compose_environment_names_known_settings_only() -> None:
    from ai_tasks.settings import _AI_WORKER_VARS, _OTHER_VARS, Settings

    known = {*_AI_WORKER_VARS, *_OTHER_VARS}
    for name, service in _compose()["services"].items():
        if name.startswith("worker-") or name == "flower":
            env = service["environment"]
            assert set(env) <= known, name
            assert {"CELERY_BROKER_URL", "CELERY_RESULT_BACKEND", "AI_WORKER_ARTIFACT_URL"} <= set(env), name
    # compose's defaults are valid settings
    env = _compose()["services"]["worker-cpu-vision"]["environment"]
    defaults = {k: re.sub(r"^\$\{[A-Z0-9_]+:-(.*)\}$", r"\1", v) for k, v in env.items()}
    assert Settings.from_env(defaults).broker_url == "redis://redis:6379/0"


def test_compose_variables_are_in_the_env_file() -> None:
    """Every ${VAR} docker-compose.yml interpolates can be set in .env."""
    used = set(INTERPOLATION.findall((ROOT / "docker-compose.yml").read_text()))
    assert used and used <= set(_env_example())


def test_brokers() -> None:
    services = _compose()["services"]
    assert services["redis"]["healthcheck"]
    assert services["rabbitmq"]["profiles"] == ["rabbitmq"]


def test_flower_requires_credentials_and_checks_its_health_with_them() -> None:
    """Issue 15, points 4 and 7: compose refuses to start without credentials; the launcher checks them."""
    flower = _compose()["services"]["flower"]
    assert flower["command"] == ["python", "-m", "ai_tasks.flower"]
    env = flower["environment"]
    assert env["FLOWER_USER"].startswith("${FLOWER_USER:?")
    assert env["FLOWER_PASSWORD"].startswith("${FLOWER_PASSWORD:?")
    assert flower["healthcheck"]["test"] == ["CMD", "python", "-m", "ai_tasks.flower", "healthcheck"]
    assert "--basic-auth" not in " ".join(flower["command"])  # never a password on a command line


def test_redis_persists_and_every_service_restarts() -> None:
    """Issue 12, faults 3 and 10: a Redis restart keeps queued jobs and results; exited services come back."""
    services = _compose()["services"]
    cmd = services["redis"]["command"]
    assert cmd[cmd.index("--appendonly") + 1] == "yes"
    assert "--save" not in cmd or cmd[cmd.index("--save") + 1] != ""
    assert any(v.endswith(":/data") for v in services["redis"]["volumes"])
    for name, service in services.items():
        assert service.get("restart") == "unless-stopped", name


def test_flower_is_not_open_to_the_network() -> None:
    """Issue 12, fault 9: loopback only, and flowerconfig.py guards /metrics and /healthcheck."""
    flower = _compose()["services"]["flower"]
    assert all(str(p).startswith("127.0.0.1:") for p in flower["ports"])
    assert "flowerconfig.py" in (ROOT / "Dockerfile").read_text()
    from flower.views import monitor

    import flowerconfig  # noqa: F401

    for handler in (monitor.Metrics, monitor.Healthcheck):
        assert getattr(handler.get, "__wrapped__", None) is not None
