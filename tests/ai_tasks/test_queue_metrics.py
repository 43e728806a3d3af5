"""Queue metrics on a real Redis (database 3, this file's own) and a real RabbitMQ.

Messages are published the way production publishes them (a Celery client
configured from ``celeryconfig``), then sampled without being consumed.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import socket
import threading
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator

import pytest
import redis
from celery import Celery

from ai_tasks.cli import main
from ai_tasks.cli.queue_metrics import make_server
from ai_tasks.queue_metrics import (
    OBSERVED_KEY,
    prometheus_text,
    redis_list_keys,
    sample,
    sample_redis,
)
from ai_tasks.routing import build_queues

REDIS_URL = "redis://127.0.0.1:6379/3"
AMQP_URL = "amqp://guest:guest@127.0.0.1:5672//"


def _need(port: int, what: str) -> None:
    with socket.socket() as s:
        s.settimeout(1)
        if s.connect_ex(("127.0.0.1", port)) == 0:
            return
    if os.environ.get("CI"):
        pytest.fail(f"{what} does not answer on 127.0.0.1:{port}")
    pytest.skip(f"{what} not running on 127.0.0.1:{port}")


@pytest.fixture()
def db() -> Iterator[redis.Redis]:
    _need(6379, "Redis")
    client = redis.Redis.from_url(REDIS_URL)
    client.flushdb()
    yield client
    client.flushdb()
    client.close()


@pytest.fixture()
def client_app(db: redis.Redis) -> Iterator[Celery]:
    app = Celery("queue_metrics_test")
    app.config_from_object("celeryconfig")
    app.conf.update(broker_url=REDIS_URL, result_backend=None, task_queues=build_queues(amqp=False))
    yield app
    app.close()


def _send(app: Celery, queue: str, **options: object) -> None:
    app.send_task("ai.job", [{"type": "ocr"}], queue=queue, **options)


def test_empty_queues_report_zero(db: redis.Redis) -> None:
    got = sample_redis(db, ["cpu-vision", "llm"])
    assert [(s.queue, s.messages, s.oldest_age_s, s.age_source) for s in got] == [
        ("cpu-vision", 0, 0.0, "empty"), ("llm", 0, 0.0, "empty")]


def test_length_counts_every_priority_list(db: redis.Redis, client_app: Celery) -> None:
    for _ in range(3):
        _send(client_app, "cpu-vision")
    _send(client_app, "cpu-vision", priority=5)  # kombu's sub-list cpu-vision\x06\x163
    _send(client_app, "llm")
    assert db.llen("cpu-vision") == 3 and db.llen(redis_list_keys("cpu-vision")[1]) == 1
    got = {s.queue: s.messages for s in sample_redis(db, ["cpu-vision", "gpu-embed", "llm"])}
    assert got == {"cpu-vision": 4, "gpu-embed": 0, "llm": 1}
    assert db.llen("cpu-vision") == 3  # sampling consumes nothing


def test_age_from_a_published_at_header(db: redis.Redis, client_app: Celery) -> None:
    now = time.time()
    _send(client_app, "llm", headers={"published_at": now - 30})  # the oldest: at the consumer's end
    _send(client_app, "llm", headers={"published_at": now - 5})
    (s,) = sample_redis(db, ["llm"], now=now)
    assert (s.messages, s.age_source) == (2, "header")
    assert s.oldest_age_s == pytest.approx(30, abs=0.01)


def test_age_observed_when_no_header(db: redis.Redis, client_app: Celery) -> None:
    _send(client_app, "cpu-vision")
    _send(client_app, "cpu-vision")
    t0 = 1_000_000.0
    first = sample_redis(db, ["cpu-vision"], now=t0)[0]
    assert (first.oldest_age_s, first.age_source) == (0.0, "observed")  # first sighting: a lower bound
    later = sample_redis(db, ["cpu-vision"], now=t0 + 7)[0]
    assert (later.messages, later.oldest_age_s, later.age_source) == (2, 7.0, "observed")
    db.rpop("cpu-vision")  # a worker took the oldest: the next one is seen afresh
    after = sample_redis(db, ["cpu-vision"], now=t0 + 9)[0]
    assert (after.messages, after.oldest_age_s) == (1, 0.0)
    assert sample_redis(db, ["cpu-vision"], now=t0 + 12)[0].oldest_age_s == 3.0
    db.rpop("cpu-vision")
    assert sample_redis(db, ["cpu-vision"], now=t0 + 13)[0].age_source == "empty"
    assert db.hlen(OBSERVED_KEY) == 0  # an empty list's observation is dropped


def test_a_foreign_message_is_counted_not_misread(db: redis.Redis) -> None:
    db.lpush("llm", b"not json at all")
    (s,) = sample_redis(db, ["llm"], now=100.0)
    assert (s.messages, s.age_source) == (1, "observed")


def test_prometheus_text_of_a_real_sample(db: redis.Redis, client_app: Celery) -> None:
    _send(client_app, "gpu-embed", headers={"published_at": time.time() - 60})
    text = prometheus_text(sample(REDIS_URL, ["gpu-embed", "llm"]), broker="redis")
    assert 'ai_worker_queue_messages{queue="gpu-embed",broker="redis"} 1' in text
    assert 'ai_worker_queue_messages{queue="llm",broker="redis"} 0' in text
    age = [ln for ln in text.splitlines() if ln.startswith('ai_worker_queue_oldest_message_age_seconds{queue="gpu')]
    assert len(age) == 1 and 'source="header"' in age[0] and float(age[0].split()[-1]) >= 60


def test_rabbitmq_passive_declare() -> None:
    _need(5672, "RabbitMQ")
    from kombu import Connection, Exchange, Producer, Queue

    name = f"ai-qm-test-{uuid.uuid4().hex[:8]}"
    with Connection(AMQP_URL, connect_timeout=10) as conn:
        queue = Queue(name, Exchange(name, type="direct"), routing_key=name, auto_delete=False)
        queue.bind(conn.default_channel).declare()
        try:
            producer = Producer(conn.default_channel, exchange=queue.exchange, routing_key=name)
            for i in range(3):
                producer.publish({"i": i})
            deadline = time.monotonic() + 10
            while True:  # the broker counts a publish a moment after it is sent
                got = {s.queue: s for s in sample(AMQP_URL, [name, f"{name}-missing"])}
                if got[name].messages == 3 or time.monotonic() > deadline:
                    break
                time.sleep(0.1)
        finally:
            queue.bind(conn.default_channel).delete()
            queue.exchange.bind(conn.default_channel).delete()
    assert (got[name].messages, got[name].consumers, got[name].age_source) == (3, 0, "unknown")
    assert got[name].oldest_age_s is None
    assert (got[f"{name}-missing"].messages, got[f"{name}-missing"].age_source) == (0, "empty")


def _cli(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(["queue-metrics", *argv])
    return code, out.getvalue(), err.getvalue()


def test_cli_once_prints_json(db: redis.Redis, client_app: Celery) -> None:
    _send(client_app, "llm")
    code, out, _ = _cli("--once", "--broker", REDIS_URL, "--queue", "llm", "--queue", "cpu-vision")
    body = json.loads(out)
    assert code == 0 and body["broker"] == REDIS_URL and body["broker_kind"] == "redis"
    assert [(q["queue"], q["messages"]) for q in body["queues"]] == [("llm", 1), ("cpu-vision", 0)]


def test_cli_never_prints_broker_credentials() -> None:
    _need(5672, "RabbitMQ")
    code, out, err = _cli("--once", "--broker", AMQP_URL, "--queue", "llm")
    assert code == 0 and json.loads(out)["broker"] == "amqp://127.0.0.1:5672//"
    code, out, err = _cli("--once", "--broker", "redis://:hunter2@127.0.0.1:1/3")
    assert code == 2 and json.loads(err)["reason_code"] == "broker_unavailable"
    assert "hunter2" not in out + err and "guest:guest" not in out + err
    code, _, err = _cli("--once", "--broker", "sqs://key:secret@x")
    assert code == 2 and json.loads(err)["reason_code"] == "broker_unsupported" and "secret" not in err


def _get(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=10) as resp:
            return resp.status, resp.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, ""


@pytest.mark.parametrize("broker_up", [True, False])
def test_exporter_serves_metrics(db: redis.Redis, client_app: Celery, broker_up: bool) -> None:
    url = REDIS_URL if broker_up else "redis://127.0.0.1:1/3"
    _send(client_app, "cpu-vision")
    server = make_server(url, ("cpu-vision",), "127.0.0.1", 0)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        base = f"http://127.0.0.1:{server.server_port}"
        status, text = _get(base + "/metrics")
        assert status == 200
        if broker_up:
            assert 'ai_worker_queue_messages{queue="cpu-vision",broker="redis"} 1' in text
            assert 'ai_worker_queue_up{broker="redis"} 1' in text
        else:
            assert 'ai_worker_queue_up{broker="redis"} 0' in text and "queue_messages" not in text
        assert _get(base + "/")[0] == 404
    finally:
        server.shutdown()
        server.server_close()
