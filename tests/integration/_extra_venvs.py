"""Virtual environments installed from one queue's lock file only, built once and cached.

``ensure_venv("llm")`` gives a venv made by ``python -m venv`` with nothing but
``requirements/tools.txt`` (setuptools for the editable build),
``requirements/llm.txt`` and ``pip install --no-deps -e .``: what an llm
worker's machine or image installs (README "Running workers"). The venvs live
under ``$AIW_EXTRA_VENVS`` (default ``<repo>/.venv-extras``, gitignored); a
venv is rebuilt only when the files it was built from change (a stamp in it
holds their hash). A file lock keeps two test runs from building the same
venv at once.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

__all__ = ["BUILD_TIMEOUT_S", "ROOT", "cache_dir", "clean_env", "ensure_venv", "lock_hash"]

ROOT = Path(__file__).resolve().parents[2]
#: A cold embed venv installs torch and transformers (a few minutes from the local wheels).
BUILD_TIMEOUT_S = 1200
_STAMP = ".aiw-lock"


def cache_dir() -> Path:
    """Where the per-extra venvs live: ``$AIW_EXTRA_VENVS`` or ``<repo>/.venv-extras``."""
    return Path(os.environ.get("AIW_EXTRA_VENVS") or ROOT / ".venv-extras")


def lock_hash(extra: str) -> str:
    """sha256 of what a venv is built from: its lock, the build tools' lock, the interpreter.

    Not pyproject.toml: its dependencies reach the venv only through the lock,
    and the workers run this checkout's code through ``PYTHONPATH``.
    """
    h = hashlib.sha256(sys.version.encode())
    for path in (ROOT / "requirements" / f"{extra}.txt", ROOT / "requirements" / "tools.txt"):
        h.update(path.name.encode() + b"\0" + path.read_bytes())
    return h.hexdigest()


def clean_env(**extra: str) -> dict[str, str]:
    """This process's environment without its venv, its PYTHONPATH or any ai-worker setting."""
    drop = ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV", "PIP_REQUIRE_VIRTUALENV")
    env = {k: v for k, v in os.environ.items() if k not in drop and not k.startswith(("AI_WORKER_", "CELERY_"))}
    venv_bin = str(Path(sys.prefix) / "bin")
    env["PATH"] = os.pathsep.join(p for p in env.get("PATH", "").split(os.pathsep) if p != venv_bin)
    env.update(PIP_DISABLE_PIP_VERSION_CHECK="1", PYTHONDONTWRITEBYTECODE="1", **extra)
    return env


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def _run(cmd: list[str], log: Path) -> None:
    with open(log, "ab") as out:
        out.write(f"$ {' '.join(cmd)}\n".encode())
        out.flush()
        done = subprocess.run(cmd, cwd=ROOT, env=clean_env(), stdout=out, stderr=subprocess.STDOUT,
                              timeout=BUILD_TIMEOUT_S)
    if done.returncode != 0:
        tail = log.read_text(errors="replace")[-3000:]
        raise RuntimeError(f"{' '.join(cmd[:4])} ... failed ({done.returncode}); {log}:\n{tail}")


def ensure_venv(extra: str) -> Path:
    """The venv of ``extra`` (``llm``, ``embed``, ``vision``), built from the lock if missing or stale."""
    venv = cache_dir() / extra
    want = lock_hash(extra)
    stamp = venv / _STAMP
    with _locked(cache_dir() / f".{extra}.lock"):
        if stamp.is_file() and stamp.read_text().strip() == want:
            return venv
        shutil.rmtree(venv, ignore_errors=True)
        log = cache_dir() / f"{extra}.build.log"
        log.unlink(missing_ok=True)
        py = venv / "bin" / "python"
        _run([sys.executable, "-m", "venv", str(venv)], log)
        # python -m venv brings pip 23: the locked setuptools builds the editable install
        _run([str(py), "-m", "pip", "install", "--quiet", "--require-hashes", "-r", "requirements/tools.txt"], log)
        _run([str(py), "-m", "pip", "install", "--quiet", "--require-hashes", "-r", f"requirements/{extra}.txt"], log)
        _run([str(py), "-m", "pip", "install", "--quiet", "--no-deps", "--no-build-isolation", "-e", "."], log)
        stamp.write_text(want + "\n")
    return venv
