"""A/B CPU time of two OMR engine trees, interleaved in one process (a fair speed check on a busy host).

Run (from the repository root)::

    git archive <old-commit> omr | tar -x -C /tmp/old          # the tree to compare against
    .venv/bin/python bench/_omr_ab_cpu.py /tmp/old . [--runs 40]

Each tree's ``omr/`` is copied into a temporary folder as its own package
(``omr_a``, ``omr_b``; imports rewritten), so both engines load in the same
process and are timed alternately on the same bytes: the photo and the scan of
``bench/omr_speed.py`` (seed 1, 20 questions). One thread, ``time.process_time``
per ``grade_image`` call (CPU time, not wall time: other processes on the host
do not count). Prints the median and the minimum per image and engine, and
checks that both engines return the same result, timings aside.
"""

from __future__ import annotations

import os

for _v in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_v] = "1"

import argparse  # noqa: E402
import importlib  # noqa: E402
import re  # noqa: E402
import shutil  # noqa: E402
import statistics  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))

IMPORT_RE = re.compile(r"\bomr\b(?=[.\s])")


def _copy_as(src: Path, dst_root: Path, name: str) -> None:
    """Copy ``src/omr`` to ``dst_root/name`` with every ``omr`` import renamed."""
    dst = dst_root / name
    shutil.copytree(src / "omr", dst, ignore=shutil.ignore_patterns("__pycache__", "samples", "schema"))
    shutil.copytree(src / "omr" / "schema", dst / "schema")
    for p in dst.rglob("*.py"):
        text = p.read_text()
        text = re.sub(r"\b(from|import) omr\b", rf"\1 {name}", text)
        text = re.sub(r"\bomr\.(?=[a-z_])", f"{name}.", text)
        text = text.replace('resources.files("omr")', f'resources.files("{name}")')
        p.write_text(text)


def main(argv: list[str] | None = None) -> int:
    """Entry point."""
    import cv2

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("a", type=Path, help="first tree (holds omr/)")
    parser.add_argument("b", type=Path, help="second tree (holds omr/)")
    parser.add_argument("--runs", type=int, default=40)
    args = parser.parse_args(argv)
    cv2.setNumThreads(1)
    from omr_speed import make_inputs

    images, meta = make_inputs(1, 20)
    with tempfile.TemporaryDirectory() as tmp:
        _copy_as(args.a, Path(tmp), "omr_a")
        _copy_as(args.b, Path(tmp), "omr_b")
        sys.path.insert(0, tmp)
        engines: dict[str, Any] = {k: importlib.import_module(f"omr_{k}.grade") for k in ("a", "b")}
        for name, data in images.items():
            ra, rb = (engines[k].grade_image(data, meta) for k in ("a", "b"))
            ra.pop("timings_ms")
            rb.pop("timings_ms")
            same = "same result" if ra == rb else "RESULTS DIFFER"
            cpu: dict[str, list[float]] = {"a": [], "b": []}
            for i in range(args.runs):
                for k in ("a", "b") if i % 2 else ("b", "a"):
                    t0 = time.process_time()
                    engines[k].grade_image(data, meta)
                    cpu[k].append((time.process_time() - t0) * 1e3)
            print(f"{name}: {same}; CPU ms per grade_image, median / min of {args.runs}: "
                  + ", ".join(f"{k}={statistics.median(v):.1f} / {min(v):.1f}" for k, v in cpu.items()))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
