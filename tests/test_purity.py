"""The libraries stay pure: importable with Celery and ai_tasks blocked, and apart.

``omr``, ``vision`` and ``nlp`` never import Celery, ``ai_tasks`` or each
other; all of them may import ``aicore`` (the shared error root), which
imports none of them and nothing outside the standard library.
"""

from __future__ import annotations

import ast
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.integration.conftest import ROOT

BLOCK = "import sys\nfor m in ('celery', 'kombu', 'ai_tasks', 'redis'):\n    sys.modules[m] = None\n"


@pytest.mark.parametrize("package", ["aicore", "omr", "omr.synth", "vision", "nlp"])
def test_library_imports_without_celery(package: str) -> None:
    code = BLOCK + f"import importlib; importlib.import_module({package!r}); print('ok')"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=60)
    assert out.returncode == 0 and out.stdout.strip() == "ok", out.stderr[-2000:]


IMPORT_RE = re.compile(r"^\s*(from|import)\s+(celery|kombu|ai_tasks)\b", re.MULTILINE)
LIBRARIES = ("omr", "vision", "nlp")


def _imported_roots(path: Path) -> set[str]:
    """Top-level names a module imports, lazily (inside functions) included."""
    roots: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            roots.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            roots.add(node.module.split(".")[0])
    return roots


def test_no_library_module_imports_celery_even_lazily() -> None:
    offenders = [
        str(p.relative_to(ROOT))
        for pkg in (*LIBRARIES, "aicore")
        for p in (ROOT / pkg).rglob("*.py")
        if IMPORT_RE.search(p.read_text())
    ]
    assert offenders == []


def test_libraries_never_import_each_other() -> None:
    offenders = [
        f"{p.relative_to(ROOT)} imports {other}"
        for pkg in LIBRARIES
        for p in sorted((ROOT / pkg).rglob("*.py"))
        for other in sorted(_imported_roots(p) & (set(LIBRARIES) - {pkg}))
    ]
    assert offenders == []


def test_aicore_imports_only_the_standard_library() -> None:
    allowed = set(sys.stdlib_module_names) | {"aicore", "__future__"}
    offenders = [
        f"{p.relative_to(ROOT)} imports {root}"
        for p in sorted((ROOT / "aicore").rglob("*.py"))
        for root in sorted(_imported_roots(p) - allowed)
    ]
    assert offenders == []
