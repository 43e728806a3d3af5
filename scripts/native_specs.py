"""Print pyproject.toml's requirements on the packages named in argv, one per line.

``make test-latest`` upgrades the native libraries to their newest releases
inside the ranges that pyproject.toml allows (its caps on major versions), so
it reads those ranges here rather than writing them a second time.

Example: ``python scripts/native_specs.py numpy av`` prints ``numpy>=1.26,<3``
and ``av>=12,<19``.
"""

from __future__ import annotations

import re
import sys
import tomllib
from pathlib import Path

PYPROJECT = Path(__file__).resolve().parents[1] / "pyproject.toml"


def _name(requirement: str) -> str:
    """The normalised distribution name of a requirement string (PEP 503)."""
    found = re.match(r"\s*([A-Za-z0-9][A-Za-z0-9._-]*)", requirement)
    return re.sub(r"[-_.]+", "-", found.group(1)).lower() if found else ""


def main(names: list[str]) -> int:
    project = tomllib.loads(PYPROJECT.read_text(encoding="utf-8"))["project"]
    every = list(project.get("dependencies", []))
    for extra in project.get("optional-dependencies", {}).values():
        every += extra
    wanted = {_name(n) for n in names}
    specs = sorted({r for r in every if _name(r) in wanted})
    missing = wanted - {_name(r) for r in specs}
    if missing:
        print(f"not in pyproject.toml: {', '.join(sorted(missing))}", file=sys.stderr)
        return 2
    print("\n".join(specs))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
