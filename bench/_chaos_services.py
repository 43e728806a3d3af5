"""What bench/chaos.py starts and breaks: its own brokers, worker processes, a fake API, an event tap.

Nothing here touches the machine's shared Redis (6379) or RabbitMQ (5672):
each broker is a private instance on a free port, persistent (Redis: AOF
with ``appendfsync always``; RabbitMQ: its own node, durable quorum queues),
in a temporary folder.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
RESULT_PATH = "/api/v1/internal/ai/job/result/"
#: The chat-completions route of the OpenAI-compatible server the llm worker talks to (``OPENAI_BASE_URL`` is
#: ``<base>/v1``); every request gets the same valid generated problem.
CHAT_PATH = "/v1/chat/completions"
_PROBLEM = {"body": "2+3=?", "choices": ["4", "5"], "answer": "5", "difficulty": 1, "tag": "수학", "summary": "덧셈",
            "explanation": "5"}
CHAT_REPLY = json.dumps({
    "id": "chatcmpl-chaos", "object": "chat.completion", "created": 1_700_000_000, "model": "chaos-model",
    "choices": [{"index": 0, "finish_reason": "stop",
                 "message": {"role": "assistant", "content": json.dumps(_PROBLEM, ensure_ascii=False), "refusal": None}}],
    "usage": {"prompt_tokens": 100, "completion_tokens": 50, "total_tokens": 150},
}, ensure_ascii=False).encode()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait_port(port: int, timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        with socket.socket() as s:
            s.settimeout(0.5)
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.2)
    raise RuntimeError(f"nothing listens on 127.0.0.1:{port} after {timeout_s} s")


class RedisServer:
    """A private ``redis-server`` (AOF, fsync always) that can be killed and restarted on its port."""

    def __init__(self, folder: Path, *, aof: bool = True) -> None:
        self.folder = folder
        self.aof = aof  # off for the artifact store: transient bytes, never restarted here
        self.port = free_port()
        self.proc: subprocess.Popen[bytes] | None = None

    def url(self, db: int) -> str:
        return f"redis://127.0.0.1:{self.port}/{db}"

    def start(self) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        exe = shutil.which("redis-server") or "redis-server"
        self.proc = subprocess.Popen(
            [exe, "--port", str(self.port), "--bind", "127.0.0.1", "--dir", str(self.folder),
             "--appendonly", "yes" if self.aof else "no", "--appendfsync", "always", "--save", "",
             "--logfile", str(self.folder / "redis.log")],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        _wait_port(self.port, 20)

    def stop(self, sig: int = signal.SIGTERM) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(sig)
            self.proc.wait(timeout=30)
        self.proc = None

    def restart(self, down_s: float) -> None:
        self.stop(signal.SIGKILL)  # fsync always: a kill loses nothing acknowledged
        time.sleep(down_s)
        self.start()


class RabbitServer:
    """A private RabbitMQ node (own name, ports, data folder), started in the foreground as a child.

    ``rabbitmq-server -detached`` through the distribution's wrapper switches
    to the ``rabbitmq`` user and drops the environment, so the node is started
    with ``/usr/lib/rabbitmq/bin/rabbitmq-server`` directly (``HOME`` holds its
    Erlang cookie).
    """

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.port = free_port()
        self.dist_port = free_port()
        self.node = f"chaos-{self.port}@localhost"
        self.proc: subprocess.Popen[bytes] | None = None

    def url(self) -> str:
        return f"amqp://guest:guest@127.0.0.1:{self.port}//"

    def _env(self) -> dict[str, str]:
        self.folder.mkdir(parents=True, exist_ok=True)
        (self.folder / "enabled_plugins").write_text("[].\n")
        (self.folder / "rabbitmq.conf").write_text("loopback_users = none\nconsumer_timeout = 3600000\n")
        return {
            **os.environ, "HOME": str(self.folder), "RABBITMQ_NODENAME": self.node,
            "RABBITMQ_NODE_PORT": str(self.port), "RABBITMQ_DIST_PORT": str(self.dist_port),
            "RABBITMQ_MNESIA_BASE": str(self.folder / "mnesia"), "RABBITMQ_LOG_BASE": str(self.folder / "log"),
            "RABBITMQ_ENABLED_PLUGINS_FILE": str(self.folder / "enabled_plugins"),
            "RABBITMQ_CONFIG_FILE": str(self.folder / "rabbitmq"), "RABBITMQ_PID_FILE": str(self.folder / "pid"),
        }

    def start(self) -> None:
        exe = "/usr/lib/rabbitmq/bin/rabbitmq-server"
        if not Path(exe).exists():
            raise RuntimeError("RabbitMQ is not installed (/usr/lib/rabbitmq/bin/rabbitmq-server)")
        self.proc = subprocess.Popen(
            [exe], env=self._env(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True
        )
        _wait_port(self.port, 90)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        self.proc = None
        # epmd may keep the node name registered a moment
        time.sleep(1.0)

    def restart(self, down_s: float) -> None:
        self.stop()
        time.sleep(down_s)
        self.start()


class _QuietServer(ThreadingHTTPServer):
    """A client killed mid-download (the bench SIGKILLs workers) is expected: no traceback for it."""

    def handle_error(self, request: Any, client_address: Any) -> None:
        if isinstance(sys.exc_info()[1], (BrokenPipeError, ConnectionResetError)):
            return
        super().handle_error(request, client_address)


@dataclass
class FakeAPI:
    """The academy API's result endpoint and a file server for the photos; records every POST."""

    files: dict[str, bytes]
    stall_until: float = 0.0
    posts: dict[str, list[tuple[int, str | None]]] = field(default_factory=lambda: defaultdict(list))
    lock: threading.Lock = field(default_factory=threading.Lock)
    server: Any = None
    llm_calls: int = 0

    def start(self) -> FakeAPI:
        api = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_GET(self) -> None:
                data = api.files.get(self.path.split("?", 1)[0])
                self.send_response(200 if data is not None else 404)
                self.send_header("Content-Length", str(len(data or b"")))
                self.end_headers()
                self.wfile.write(data or b"")

            def do_POST(self) -> None:
                raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                if self.path.startswith(CHAT_PATH):  # the llm worker's OpenAI-compatible server
                    with api.lock:
                        api.llm_calls += 1
                    self.send_response(200)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(CHAT_REPLY)))
                    self.end_headers()
                    self.wfile.write(CHAT_REPLY)
                    return
                code = 503 if time.monotonic() < api.stall_until else 200
                try:
                    job_id = str(json.loads(raw)["job_id"])
                except (ValueError, KeyError, TypeError):
                    job_id, code = "?", 400
                with api.lock:
                    api.posts[job_id].append((code, self.headers.get("Idempotency-Key")))
                self.send_response(code)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"{}")

        self.server = _QuietServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def accepted(self) -> Counter[str]:
        """2xx POSTs per job id."""
        with self.lock:
            return Counter({j: sum(1 for c, _ in calls if 200 <= c < 300) for j, calls in self.posts.items()})

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@dataclass
class Worker:
    """One ``celery -A ai_tasks worker`` process, started as an operator would."""

    queue: str
    index: int
    env: dict[str, str]
    folder: Path
    concurrency: int = 2
    proc: subprocess.Popen[bytes] | None = None
    generation: int = 0
    started_at: float = 0.0
    ready_at: float = 0.0  #: when its log first said "ready." (0: not yet)

    @property
    def node(self) -> str:
        return f"{self.queue}-{self.index}-g{self.generation}@chaos"

    def start(self) -> None:
        self.generation += 1
        self.started_at = time.monotonic()
        self.ready_at = 0.0
        log = self.folder / f"{self.node}.log"
        cmd = [sys.executable, "-m", "celery", "-A", "ai_tasks", "worker", "-Q", self.queue, "-n", self.node,
               "-c", str(self.concurrency), "--loglevel", "INFO"]
        with open(log, "wb") as fh:
            self.proc = subprocess.Popen(cmd, cwd=ROOT, env=self.env, stdout=fh, stderr=subprocess.STDOUT)
        self.log = log

    def wait_ready(self, timeout_s: float = 90) -> None:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.proc is None or self.proc.poll() is not None:
                raise RuntimeError(f"worker {self.node} exited: {self.log.read_text(errors='replace')[-2000:]}")
            if b"ready." in self.log.read_bytes():
                return
            time.sleep(0.2)
        raise RuntimeError(f"worker {self.node} not ready")

    def ready_for_s(self) -> float:
        """Seconds since this generation logged "ready." (0 while it starts).

        A pool process killed before its worker's first event loop checked
        the pool makes Celery give up ("Could not start worker processes"):
        the restart policy covers that, it is not what the bench measures.
        """
        if not self.ready_at and self.proc is not None and self.proc.poll() is None:
            with open(self.log, "rb") as fh:
                if b" ready." in fh.read(200_000):
                    self.ready_at = time.monotonic()
        return time.monotonic() - self.ready_at if self.ready_at else 0.0

    def children(self) -> list[int]:
        if self.proc is None:
            return []
        out = subprocess.run(["ps", "-o", "pid=", "--ppid", str(self.proc.pid)], capture_output=True, text=True)
        return [int(p) for p in out.stdout.split()]

    def kill(self) -> None:
        """SIGKILL the main process and its pool (a machine lost, an OOM kill of the whole container)."""
        if self.proc is None:
            return
        kids = self.children()
        try:
            os.kill(self.proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        for pid in kids:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        self.proc.wait()

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.kill()


class EventTap:
    """Collect worker events (task-started/succeeded/...) with their receive time; reconnects after restarts."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.events: list[dict[str, Any]] = []
        self.stopping = False
        self._recv: Any = None
        self._thread = threading.Thread(target=self._run, daemon=True)

    #: The events kept, and of each only the fields the bench reads (10,000 jobs send ~300,000 events).
    KEPT = frozenset({"task-received", "task-started", "task-succeeded", "task-failed"})

    def _on(self, event: dict[str, Any]) -> None:
        kind = event.get("type")
        if kind not in self.KEPT:
            return
        kept = {"type": kind, "uuid": event.get("uuid"), "hostname": event.get("hostname"), "t_recv": time.monotonic()}
        if kind == "task-received":
            kept["root_id"] = event.get("root_id")
            kept["name"] = event.get("name")
        self.events.append(kept)

    def _run(self) -> None:
        while not self.stopping:
            try:
                with self.app.connection_for_read() as conn:
                    self._recv = self.app.events.Receiver(conn, handlers={"*": self._on})
                    self._recv.capture(limit=None, timeout=None, wakeup=False)
            except Exception:
                time.sleep(1.0)

    def start(self) -> EventTap:
        self._thread.start()
        time.sleep(1.5)
        return self

    def stop(self) -> None:
        self.stopping = True
        if self._recv is not None:
            self._recv.should_stop = True
        self._thread.join(timeout=5)
