"""Compare two runs of the OMR benchmarks, timings aside: prints ``identical`` or the differences.

Run (from the repository root)::

    .venv/bin/python bench/compare_results.py bench/out/baseline bench/out/after

Each folder holds the outputs of one engine (the other run from a ``git
archive`` of the commit to compare against, so one tree's edits cannot leak
into the other's run)::

    for s in 1 2 3; do .venv/bin/python bench/omr_accuracy.py --seed $s --save-failures 0 \
        --full-results --json OUT/accuracy_s$s.json; done
    for s in 1 2 3; do .venv/bin/python bench/omr_independent.py --seed $s --photos 40 --regrade; \
        mkdir -p OUT/independent_s$s; for d in bench/out/independent/seed$s/p*; do \
        cp $d/result.json OUT/independent_s$s/$(basename $d).json; done; done

* ``accuracy_s<S>.json``: ``bench/omr_accuracy.py --seed S --full-results
  --json ...``; compared are every sheet's full engine result (answers with
  statuses, fills, confidences and detected labels; identifier with digits;
  alignment; review; score) and its scoring, the no-sheet rejections and every
  summary figure;
* ``independent_s<S>/p<NNNN>.json``: the ``result.json`` that
  ``bench/omr_independent.py --seed S`` wrote for each photo.

Keys that hold timings (:data:`TIMING_KEYS`) and the run's own arguments,
commit and generator hash (:data:`RUN_KEYS`) are dropped before comparing; everything else must be
equal, floats included (the engine is deterministic). Exit status 0 when
identical, 1 otherwise.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

TIMING_KEYS = frozenset({"timings_ms", "timing", "timing_s", "seconds", "sheets_per_s", "grade_s", "wall_s",
                         "median_grade_ms"})
"""Keys whose values are timings: dropped wherever they appear."""
RUN_KEYS = frozenset({"args", "engine_commit", "generator", "json"})
"""Keys that describe the run, not the results: dropped at the top level. (``generator`` is a
hash of the generator's source, ``omr/template.py`` included: a refactor of the template
changes it and regenerates the same images into a new folder; compare the images' bytes
to check that.)"""
MAX_SHOWN = 40
"""Differences printed in full; the rest are counted."""


def strip(value: Any) -> Any:
    """``value`` without timing keys, recursively.

    Examples:
        >>> strip({"a": 1, "timings_ms": {"warp": 3.0}, "b": [{"timing": 2, "c": 3}]})
        {'a': 1, 'b': [{'c': 3}]}
    """
    if isinstance(value, dict):
        return {k: strip(v) for k, v in value.items() if k not in TIMING_KEYS}
    if isinstance(value, list):
        return [strip(v) for v in value]
    return value


def diff(a: Any, b: Any, where: str, out: list[str]) -> None:
    """Append a line to ``out`` for every place where ``a`` and ``b`` differ.

    Examples:
        >>> found: list[str] = []
        >>> diff({"x": [1, 2], "y": 0}, {"x": [1, 3], "z": 0}, "$", found)
        >>> found
        ['$.x[1]: 2 != 3', '$.y: only in the first', '$.z: only in the second']
    """
    if isinstance(a, dict) and isinstance(b, dict):
        for k in sorted(set(a) | set(b), key=str):
            if k not in b:
                out.append(f"{where}.{k}: only in the first")
            elif k not in a:
                out.append(f"{where}.{k}: only in the second")
            else:
                diff(a[k], b[k], f"{where}.{k}", out)
    elif isinstance(a, list) and isinstance(b, list):
        if len(a) != len(b):
            out.append(f"{where}: {len(a)} items != {len(b)}")
        for i, (x, y) in enumerate(zip(a, b, strict=False)):
            diff(x, y, f"{where}[{i}]", out)
    elif a != b:
        out.append(f"{where}: {a!r} != {b!r}")


def load(path: Path) -> Any:
    data = strip(json.loads(path.read_text()))
    if isinstance(data, dict):
        data = {k: v for k, v in data.items() if k not in RUN_KEYS}
    return data


def compare(first: Path, second: Path) -> tuple[int, list[str]]:
    """Files compared and the differences between the runs in folders ``first`` and ``second``."""
    out: list[str] = []
    names = sorted({p.relative_to(first).as_posix() for p in first.rglob("*.json")}
                   | {p.relative_to(second).as_posix() for p in second.rglob("*.json")})
    names = [n for n in names if n.startswith(("accuracy_", "independent_"))]
    for name in names:
        a, b = first / name, second / name
        if not a.exists() or not b.exists():
            out.append(f"{name}: only in the {'second' if not a.exists() else 'first'} run")
            continue
        diff(load(a), load(b), name, out)
    return len(names), out


def main(argv: list[str] | None = None) -> int:
    """Entry point; exit status 0 when the runs are identical."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("first", type=Path)
    parser.add_argument("second", type=Path)
    args = parser.parse_args(argv)
    n, found = compare(args.first, args.second)
    if n == 0:
        print("nothing to compare")
        return 1
    if not found:
        print(f"identical ({n} files, timings aside)")
        return 0
    for line in found[:MAX_SHOWN]:
        print(line)
    if len(found) > MAX_SHOWN:
        print(f"... and {len(found) - MAX_SHOWN} more")
    print(f"DIFFERENT: {len(found)} differences in {n} files")
    return 1


if __name__ == "__main__":
    sys.exit(main())
