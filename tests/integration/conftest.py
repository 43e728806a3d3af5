"""Real brokers, real worker processes.

Each test module gets worker processes started with ``celery worker`` against
Redis and RabbitMQ on 127.0.0.1, on dedicated Redis databases (9-13) and a
dedicated RabbitMQ vhost; database 0 is never touched. With ``CI`` set, a
broker that does not answer fails the run instead of skipping it.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import redis

from tests.integration._private_redis import PrivateRedis

ROOT = Path(__file__).resolve().parents[2]
REDIS_BROKER = "redis://127.0.0.1:6379/9"
REDIS_BACKEND = "redis://127.0.0.1:6379/10"
REDIS_ARTIFACTS = "redis://127.0.0.1:6379/11"
PROBE_DB = 13
VHOST = "ai-worker-test"
AMQP_BROKER = f"amqp://guest:guest@127.0.0.1:5672/{VHOST}"
MAX_DELIVERIES = 3


def _port_open(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(1)
        return s.connect_ex(("127.0.0.1", port)) == 0


def _need(port: int, what: str) -> None:
    if not _port_open(port):
        if os.environ.get("CI"):
            pytest.fail(f"{what} does not answer on 127.0.0.1:{port} (run scripts/ensure_services.sh)")
        pytest.skip(f"{what} not running on 127.0.0.1:{port}")


def _ensure_vhost() -> str:
    """Create the test vhost; fall back to '/' where rabbitmqctl is not ours to run."""
    ctl = shutil.which("rabbitmqctl") or "/usr/sbin/rabbitmqctl"
    try:
        subprocess.run([ctl, "add_vhost", VHOST], capture_output=True, timeout=60)
        done = subprocess.run(
            [ctl, "set_permissions", "-p", VHOST, "guest", ".*", ".*", ".*"], capture_output=True, timeout=60
        )
        if done.returncode == 0:
            return AMQP_BROKER
    except (OSError, subprocess.TimeoutExpired):
        pass
    return "amqp://guest:guest@127.0.0.1:5672//"


@dataclass
class Workers:
    """Worker processes on one broker, and a client app to talk to them."""

    broker_url: str
    backend_url: str
    env: dict[str, str]
    procs: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)
    logs: dict[str, Path] = field(default_factory=dict)

    @property
    def client(self):  # type: ignore[no-untyped-def]
        from tests.integration.worker_app import client_app

        if not hasattr(self, "_client"):
            self._client = client_app(self.broker_url, self.backend_url)
        return self._client

    def start(
        self, queue: str, *, concurrency: int = 2, name: str | None = None, tmp: Path,
        app: str = "tests.integration.worker_app",
    ) -> str:
        node = f"{name or queue}-{uuid.uuid4().hex[:6]}@test"
        log = tmp / f"{node}.log"
        cmd = [
            sys.executable, "-m", "celery", "-A", app, "worker",
            "-Q", queue, "-n", node, "-c", str(concurrency), "-P", "prefork",
            "--without-mingle", "--without-gossip", "--loglevel", "INFO",
        ]
        fh = open(log, "wb")  # noqa: SIM115  (closed with the process)
        proc = subprocess.Popen(cmd, cwd=ROOT, env=self.env, stdout=fh, stderr=subprocess.STDOUT)
        self.procs[node], self.logs[node] = proc, log
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                raise RuntimeError(f"worker {node} exited: {log.read_text()[-3000:]}")
            if b"ready." in log.read_bytes():
                return node
            time.sleep(0.2)
        raise RuntimeError(f"worker {node} not ready in 60 s: {log.read_text()[-3000:]}")

    def log_text(self, node: str) -> str:
        return self.logs[node].read_text(errors="replace")

    def child_pids(self, node: str) -> list[int]:
        parent = self.procs[node].pid
        out = subprocess.run(["ps", "-o", "pid=", "--ppid", str(parent)], capture_output=True, text=True)
        return [int(p) for p in out.stdout.split()]

    def kill(self, node: str, children: list[int] | None = None) -> None:
        """SIGKILL the main process and its pool: the whole worker is gone (a lost machine, an OOM
        kill of the container), nothing acked; waits for the main process.

        ``children``: the pool's pids, read beforehand by a caller that must kill at once.
        """
        children = self.child_pids(node) if children is None else children
        proc = self.procs[node]
        for pid in [proc.pid, *children]:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        proc.wait(timeout=10)

    def stop(self) -> None:
        stop_processes(self.procs.values(), timeout_s=15)


def stop_processes(procs: Iterable[subprocess.Popen[bytes]], *, timeout_s: float) -> None:
    """SIGTERM every live process (a warm shutdown), then wait; SIGKILL one still there after ``timeout_s``."""
    procs = list(procs)
    for proc in procs:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
    for proc in procs:
        try:
            proc.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@pytest.fixture()
def private(tmp_path: Path) -> Iterator[PrivateRedis]:
    """A redis-server of the test's own (AOF on) that it may kill and restart; skipped without redis-server."""
    try:
        srv = PrivateRedis(tmp_path / "redis").start()
    except RuntimeError as exc:
        pytest.skip(str(exc))
    yield srv
    srv.stop()


def _flush_redis_dbs() -> None:
    for db in (9, 10, 11, PROBE_DB):
        redis.Redis(host="127.0.0.1", port=6379, db=db).flushdb()


def _purge_amqp(broker_url: str) -> None:
    """Delete the test vhost's queues: the workers declare them afresh, with this tree's arguments.

    A purge would keep a quorum queue declared by another tree, and RabbitMQ
    refuses a declaration whose arguments differ (``x-delivery-limit``).
    """
    from kombu import Connection

    with Connection(broker_url, connect_timeout=10) as conn:
        channel = conn.channel()
        for q in ("cpu-vision", "gpu-embed", "llm", "ai.dead-letter"):
            try:
                channel.queue_delete(q)
            except Exception:
                channel = conn.channel()  # queue does not exist yet: fine


@pytest.fixture(scope="session")
def artifact_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("artifacts")


def _worker_env(broker_url: str, artifact_url: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AI_WORKER_", "CELERY_"))}
    env.update(
        CELERY_BROKER_URL=broker_url,
        CELERY_RESULT_BACKEND=REDIS_BACKEND,
        AI_WORKER_ARTIFACT_URL=artifact_url,
        AI_WORKER_DOWNLOAD_ALLOW_HTTP="true",
        AI_WORKER_DOWNLOAD_ALLOWLIST="127.0.0.1",
        AI_WORKER_MAX_DELIVERIES=str(MAX_DELIVERIES),
        PYTHONPATH=str(ROOT),
    )
    return env


@pytest.fixture(params=["redis", "rabbitmq"], scope="module")
def broker(request: pytest.FixtureRequest) -> str:
    """The broker URL, parametrised over Redis and RabbitMQ."""
    _need(6379, "Redis")
    if request.param == "redis":
        return REDIS_BROKER
    _need(5672, "RabbitMQ")
    return _ensure_vhost()


@pytest.fixture(scope="module")
def workers(broker: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Workers]:
    """Start nothing yet; tests start the workers they need (stopped at module end)."""
    _flush_redis_dbs()
    if broker.startswith("amqp"):
        _purge_amqp(broker)
    w = Workers(broker, REDIS_BACKEND, _worker_env(broker, REDIS_ARTIFACTS))
    w.tmp = tmp_path_factory.mktemp("workers")  # type: ignore[attr-defined]
    yield w
    w.stop()
    w.client.close()
    if broker.startswith("amqp"):
        _purge_amqp(broker)  # a tree with other queue arguments declares them again


@pytest.fixture()
def probe() -> redis.Redis:
    """Where probe tasks leave their side effects."""
    return redis.Redis(host="127.0.0.1", port=6379, db=PROBE_DB)
