"""Start and stop a real ``celery worker`` process for a benchmark."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


@contextmanager
def worker(
    app: str, queue: str, env: dict[str, str], concurrency: int = 2, extra_args: tuple[str, ...] = (),
    launcher: tuple[str, ...] = ("-m", "celery"), on_stop: Callable[[subprocess.Popen[bytes]], None] | None = None,
) -> Iterator[str]:
    """Run ``celery -A app worker -Q queue -c concurrency [extra_args]`` until the block ends; yields the node name.

    ``launcher``: what follows the interpreter instead of ``-m celery`` (a
    wrapper that ends by calling Celery's main); ``on_stop`` is called with
    the process before it is stopped.
    """
    node = f"bench-{uuid.uuid4().hex[:6]}@bench"
    log = Path(tempfile.mkstemp(prefix="bench-worker-", suffix=".log")[1])
    path = [p for p in (env.get("PYTHONPATH"), str(ROOT), str(ROOT / "bench")) if p]
    full_env = {**os.environ, **env, "PYTHONPATH": os.pathsep.join(path)}
    cmd = [
        sys.executable,
        *launcher,
        "-A",
        app,
        "worker",
        "-Q",
        queue,
        "-n",
        node,
        "-c",
        str(concurrency),
        "-P",
        "prefork",
        "--without-mingle",
        "--without-gossip",
        "--loglevel",
        "INFO",
        *extra_args,
    ]
    with open(log, "wb") as fh:
        proc = subprocess.Popen(cmd, cwd=ROOT, env=full_env, stdout=fh, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 60
        while b"ready." not in log.read_bytes():
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"worker did not start: {log.read_text()[-2000:]}")
            time.sleep(0.1)
        yield node
    finally:
        if on_stop is not None:
            on_stop(proc)
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.unlink(missing_ok=True)
