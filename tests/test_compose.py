"""docker-compose.yml stays honest: no Docker engine here, so its structure is checked."""

from __future__ import annotations

from pathlib import Path

import yaml

from ai_tasks.routing import QUEUE_NAMES

ROOT = Path(__file__).resolve().parents[1]


def _compose() -> dict:  # type: ignore[type-arg]
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def test_one_worker_service_per_queue_consuming_only_that_queue() -> None:
    services = _compose()["services"]
    workers = {name: s for name, s in services.items() if name.startswith("worker-")}
    assert sorted(workers) == sorted(f"worker-{q}" for q in QUEUE_NAMES)
    for queue in QUEUE_NAMES:
        cmd = workers[f"worker-{queue}"]["command"]
        assert cmd[:4] == ["celery", "-A", "ai_tasks", "worker"]
        assert cmd[cmd.index("-Q") + 1] == queue
        assert cmd[cmd.index("-n") + 1] == f"{queue}@%h"
        env = workers[f"worker-{queue}"]["environment"]
        assert {"CELERY_BROKER_URL", "CELERY_RESULT_BACKEND", "INTERNAL_WORKER_TOKEN"} <= set(env)


def test_brokers_and_flower() -> None:
    services = _compose()["services"]
    assert services["redis"]["healthcheck"]
    assert services["rabbitmq"]["profiles"] == ["rabbitmq"]
    flower = " ".join(services["flower"]["command"])
    assert flower.startswith("celery -A ai_tasks flower")
    assert "--basic-auth=${FLOWER_USER" in flower and "FLOWER_PASSWORD" in flower


def test_gpu_and_llm_images_do_not_install_the_vision_extra_and_vice_versa() -> None:
    services = _compose()["services"]
    assert services["worker-gpu-embed"]["build"]["args"]["EXTRAS"] == "embed,ops"
    assert services["worker-llm"]["build"]["args"]["EXTRAS"] == "llm,ops"
    assert "ARG EXTRAS=vision,ops" in (ROOT / "Dockerfile").read_text()


def test_every_env_var_in_compose_is_a_known_setting() -> None:
    from ai_tasks.settings import Settings

    names = set()
    for s in _compose()["services"].values():
        names |= {k for k in (s.get("environment") or {}) if k.startswith("AI_WORKER_")}
    env = {n: "redis://x/2" for n in names}
    Settings.from_env(env)  # raises on an unknown AI_WORKER_ name


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
