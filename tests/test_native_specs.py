"""scripts/native_specs.py: the ranges ``make test-latest`` upgrades the native libraries within."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "scripts" / "native_specs.py"


def _native() -> list[str]:
    found = re.search(r"^NATIVE\s*:?=\s*(.+)$", (ROOT / "Makefile").read_text(), re.M)
    assert found, "Makefile defines NATIVE"
    return found.group(1).split()


def test_every_native_library_has_a_capped_range() -> None:
    names = _native()
    assert {"opencv-python-headless", "numpy", "Pillow", "pypdfium2", "av", "onnxruntime"} <= set(names)
    out = subprocess.run([sys.executable, str(SCRIPT), *names], capture_output=True, text=True, check=True)
    specs = out.stdout.split()
    for name in names:
        mine = [s for s in specs if s.lower().startswith(name.lower())]
        assert mine and all("<" in s for s in mine), (name, specs)  # a new major is not "newest"


def test_an_unknown_name_exits_2() -> None:
    out = subprocess.run([sys.executable, str(SCRIPT), "numpy", "no-such-package"], capture_output=True, text=True)
    assert out.returncode == 2 and "no-such-package" in out.stderr and out.stdout == ""
