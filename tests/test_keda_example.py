"""The scaling recipes of docs/operations.md ("Scaling a queue") stay true to the code.

``docs/examples/keda-cpu-vision.yaml`` scales the queue ``ai_tasks/routing.py``
routes to, on the Redis list kombu keeps for it, with a grace period that
covers the queue's longest hard time limit; the compose service can be
``--scale``d (no fixed container name or host port).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from ai_tasks.queue_metrics import redis_list_keys
from ai_tasks.routing import CPU_VISION, QUEUE_NAMES, TASK_QUEUES

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "docs" / "examples" / "keda-cpu-vision.yaml"


def _docs() -> dict[str, dict[str, Any]]:
    docs = [d for d in yaml.safe_load_all(EXAMPLE.read_text()) if d]
    return {d["kind"]: d for d in docs}


def _queue_arg(args: list[str]) -> str:
    return args[args.index("-Q") + 1]


def test_keda_scales_the_routed_queue_on_its_redis_list() -> None:
    docs = _docs()
    assert set(docs) == {"Deployment", "Secret", "TriggerAuthentication", "ScaledObject"}
    deployment, scaled = docs["Deployment"], docs["ScaledObject"]
    assert scaled["apiVersion"] == "keda.sh/v1alpha1"
    assert scaled["spec"]["scaleTargetRef"]["name"] == deployment["metadata"]["name"]
    (container,) = deployment["spec"]["template"]["spec"]["containers"]
    queue = _queue_arg(container["args"])
    assert queue == CPU_VISION and queue in QUEUE_NAMES
    triggers = {t["type"]: t for t in scaled["spec"]["triggers"]}
    redis_trigger = triggers["redis"]["metadata"]
    assert redis_trigger["listName"] == queue == redis_list_keys(queue)[0]  # kombu: list key = queue name
    assert int(redis_trigger["listLength"]) > 0
    assert f'queue="{queue}"' in triggers["prometheus"]["metadata"]["query"]
    assert "ai_worker_queue_oldest_message_age_seconds" in triggers["prometheus"]["metadata"]["query"]
    assert triggers["redis"]["authenticationRef"]["name"] == docs["TriggerAuthentication"]["metadata"]["name"]


def test_keda_grace_period_covers_the_longest_job_of_the_queue() -> None:
    import celeryconfig

    deployment = _docs()["Deployment"]
    queue = _queue_arg(deployment["spec"]["template"]["spec"]["containers"][0]["args"])
    hard_limits = [celeryconfig.TASK_TIME_LIMITS_S[t][1] for t, q in TASK_QUEUES.items()
                   if q == queue and t in celeryconfig.TASK_TIME_LIMITS_S]
    assert deployment["spec"]["template"]["spec"]["terminationGracePeriodSeconds"] >= max(hard_limits)


def test_compose_workers_can_be_scaled() -> None:
    services = yaml.safe_load((ROOT / "docker-compose.yml").read_text())["services"]
    for queue in QUEUE_NAMES:
        service = services[f"worker-{queue}"]
        assert "container_name" not in service and "ports" not in service  # both block --scale
        assert service["stop_grace_period"]  # SIGTERM first: a warm shutdown
        assert _queue_arg(service["command"]) == queue


def test_operations_md_documents_scaling() -> None:
    text = (ROOT / "docs" / "operations.md").read_text()
    section = text.split("## Scaling a queue", 1)[1].split("\n## ", 1)[0]
    for needle in ("--scale worker-cpu-vision=4", "--autoscale=8,2", "docs/examples/keda-cpu-vision.yaml",
                   "ai-worker queue-metrics", "tests/integration/test_scale_down.py"):
        assert needle in section
