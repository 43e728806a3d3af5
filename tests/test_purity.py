"""The libraries stay pure: importable with Celery and ai_tasks blocked, and apart.

``omr``, ``vision`` and ``nlp`` never import Celery, ``ai_tasks`` or each
other; all of them may import ``aicore`` (the shared error root), which
imports none of them and nothing outside the standard library. ``aicore.page``
(the page layer ``omr`` and ``vision`` share) is the one part of ``aicore``
that needs the ``vision`` extra: ``aicore`` itself never imports it, so a
worker without that extra (the llm queue's) never loads numpy or OpenCV.
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


@pytest.mark.parametrize("package", ["aicore", "aicore.page", "omr", "omr.synth", "vision", "nlp"])
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


#: what the page layer may import besides the standard library and ``aicore`` (the ``vision`` extra).
PAGE_LAYER_ALLOWED = {"numpy", "cv2", "pypdfium2", "pytesseract", "tesserocr", "PIL"}


def test_aicore_imports_only_the_standard_library() -> None:
    allowed = set(sys.stdlib_module_names) | {"aicore", "__future__"}
    page = ROOT / "aicore" / "page"
    offenders = [
        f"{p.relative_to(ROOT)} imports {root}"
        for p in sorted((ROOT / "aicore").rglob("*.py"))
        for root in sorted(_imported_roots(p) - allowed - (PAGE_LAYER_ALLOWED if page in p.parents else set()))
    ]
    assert offenders == []


def _imported_modules(path: Path) -> set[str]:
    """Full dotted names a module imports (``aicore.page.pdf``), lazily included."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module)
    return names


def test_nothing_else_in_aicore_imports_the_page_layer() -> None:
    outside = [p for p in sorted((ROOT / "aicore").rglob("*.py")) if (ROOT / "aicore" / "page") not in p.parents]
    offenders = [
        f"{p.relative_to(ROOT)} imports {name}"
        for p in outside
        for name in sorted(_imported_modules(p))
        if name == "aicore.page" or name.startswith("aicore.page.")
    ]
    assert outside and offenders == []


def test_aicore_top_level_loads_no_page_layer_and_no_numpy() -> None:
    code = (
        "import sys\nfor m in ('numpy', 'cv2', 'pypdfium2', 'pytesseract', 'tesserocr', 'PIL'):\n    sys.modules[m] = None\n"
        "import aicore, aicore.errors, aicore.fonts\n"
        "print(sorted(m for m in sys.modules if m.startswith('aicore.page')))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=60)
    assert out.returncode == 0 and out.stdout.strip() == "[]", out.stderr[-2000:]


def test_the_page_layer_imports_no_library() -> None:
    offenders = [
        f"{p.relative_to(ROOT)} imports {root}"
        for p in sorted((ROOT / "aicore" / "page").rglob("*.py"))
        for root in sorted(_imported_roots(p) & {*LIBRARIES, "ai_tasks", "celery"})
    ]
    assert offenders == []
