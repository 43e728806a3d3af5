"""The lock (requirements/*.txt) is what every install reads: make, Docker, CI.

These checks keep it honest without a network: every line is an exact pin with
hashes, the per-queue sets agree with dev.txt, pyproject caps the native
libraries' majors, and each install path (Makefile, Dockerfile) reads the lock
with ``--require-hashes``.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
REQ = ROOT / "requirements"
SETS = ("dev", "vision", "embed", "llm", "ops", "tools")
NATIVE = ("opencv-python-headless", "numpy", "pillow", "pypdfium2", "av", "onnxruntime", "tesserocr")
_PIN = re.compile(r"^([A-Za-z0-9_.\-\[\]]+)==([^\s\\;]+)")


def _pins(name: str) -> dict[str, str]:
    """package (lower case) -> version, checking that every requirement has hashes."""
    text = (REQ / f"{name}.txt").read_text()
    pins: dict[str, str] = {}
    for block in re.split(r"\n(?=[^\s#])", text):
        first = block.strip().splitlines()[0] if block.strip() else ""
        if not first or first.startswith("#"):
            continue
        m = _PIN.match(first)
        assert m, f"{name}.txt: not an exact pin: {first!r}"
        assert "--hash=sha256:" in block, f"{name}.txt: {m.group(1)} has no hash"
        pins[m.group(1).lower()] = m.group(2)
    return pins


@pytest.mark.parametrize("name", SETS)
def test_every_line_is_an_exact_pin_with_hashes(name: str) -> None:
    assert _pins(name)


@pytest.mark.parametrize("name", ["vision", "embed", "llm", "ops"])
def test_queue_sets_agree_with_dev(name: str) -> None:
    dev, sub = _pins("dev"), _pins(name)
    differ = {p: (v, dev.get(p)) for p, v in sub.items() if dev.get(p) != v}
    assert not differ, f"{name}.txt disagrees with dev.txt: {differ}"


def test_queue_sets_hold_only_their_extra() -> None:
    assert "opencv-python-headless" not in _pins("llm")
    assert "torch" not in _pins("llm") and "torch" not in _pins("vision")
    assert "opencv-python-headless" not in _pins("embed")
    assert _pins("embed")["torch"].endswith("+cpu"), "torch must be the CPU build, never PyPI's CUDA one"


def test_native_libraries_have_an_upper_bound() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    reqs = list(project["dependencies"])
    for extra in project["optional-dependencies"].values():
        reqs += extra
    for req in reqs:
        name = re.split(r"[<>=!\[ ;]", req, maxsplit=1)[0].lower()
        if name in NATIVE:
            assert "<" in req or "==" in req, f"{req}: a native library needs an upper bound on its major"


def test_makefile_installs_from_the_lock() -> None:
    make = (ROOT / "Makefile").read_text()
    installs = [ln for ln in make.splitlines() if "pip install" in ln]
    assert installs
    # the one exception: `make test-latest`'s canary venv upgrades the native libraries past the
    # lock on purpose (README "Newest native releases"); it never touches .venv
    canary = [ln for ln in installs if "VENV_LATEST" in ln and "--require-hashes" not in ln]
    assert all("native.txt" in ln for ln in canary), canary
    for line in (ln for ln in installs if ln not in canary):
        assert "--require-hashes" in line or "--no-deps" in line, line


def _dockerfile_stages() -> dict[str, str]:
    text = (ROOT / "Dockerfile").read_text()
    stages: dict[str, str] = {}
    for part in re.split(r"^FROM ", text, flags=re.M)[1:]:
        head = part.splitlines()[0]
        m = re.search(r"\bAS (\S+)", head)
        if m:
            stages[m.group(1)] = part
    return stages


@pytest.mark.parametrize(
    ("target", "lock"), [("cpu-vision", "vision"), ("gpu-embed", "embed"), ("llm", "llm"), ("flower", "ops")]
)
def test_each_docker_target_installs_its_own_lock(target: str, lock: str) -> None:
    stage = _dockerfile_stages()[target]
    runs = " ".join(stage.split("\\\n"))
    installs = [ln for ln in runs.splitlines() if "pip install" in ln]
    assert any(f"requirements/{lock}.txt" in ln and "--require-hashes" in ln for ln in installs), installs
    assert all("--require-hashes" in ln or "--no-deps" in ln for ln in installs), installs


def test_docker_source_stage_copies_every_package() -> None:
    include = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"]["find"]["include"]
    source = _dockerfile_stages()["source"]
    for pattern in include:
        package = pattern.rstrip("*")
        assert f"COPY {package} /src/{package}" in source, f"Dockerfile does not copy {package}/"
