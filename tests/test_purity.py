"""The libraries stay pure: importable with Celery and ai_tasks blocked."""

from __future__ import annotations

import re
import subprocess
import sys

import pytest

from tests.integration.conftest import ROOT

BLOCK = "import sys\nfor m in ('celery', 'kombu', 'ai_tasks', 'redis'):\n    sys.modules[m] = None\n"


@pytest.mark.parametrize("package", ["omr", "omr.synth", "vision", "nlp"])
def test_library_imports_without_celery(package: str) -> None:
    code = BLOCK + f"import importlib; importlib.import_module({package!r}); print('ok')"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=60)
    assert out.returncode == 0 and out.stdout.strip() == "ok", out.stderr[-2000:]


IMPORT_RE = re.compile(r"^\s*(from|import)\s+(celery|kombu|ai_tasks)\b", re.MULTILINE)


def test_no_library_module_imports_celery_even_lazily() -> None:
    offenders = [
        str(p.relative_to(ROOT))
        for pkg in ("omr", "vision", "nlp")
        for p in (ROOT / pkg).rglob("*.py")
        if IMPORT_RE.search(p.read_text())
    ]
    assert offenders == []
