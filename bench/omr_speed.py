"""OMR speed benchmark on ONE core: a 12 MP phone JPEG and a 200 dpi A4 scan.

Run::

    .venv/bin/python bench/omr_speed.py [--runs 21] [--seed 1] [--chain]

Threads are pinned to one (``OMP/OPENBLAS/MKL_NUM_THREADS=1`` before numpy is
imported, ``cv2.setNumThreads(1)``). Everything is timed on the CPU-time clock
(``time.process_time``: other processes on a shared host do not count). For
each image the script prints the median over ``--runs`` of:

* ``imdecode``: just ``cv2.imdecode(buf, cv2.IMREAD_COLOR)`` of the same bytes,
  measured interleaved with the grading runs (same cache and clock state);
* ``grade_image``: the whole call;
* the stage split, from a second run of the same steps one by one (decode,
  warp, identifier, answers; ``grade_image`` is their composition), and the
  warp's own split: detection images, the marker search (``windows``: the
  marker-window fast path; ``whole image``: the full search, when the fast
  path was not conclusive), markers re-located at full resolution, the warp
  itself and the ring check (``refine``);
* the ratio ``grade_image / imdecode`` of the medians and of the minimums:
  targets <= 1.0x for the 12 MP photo and <= 3x for the 200 dpi scan (issues
  17 and 18), judged on the worse of the two.

The median is over runs of a busy host too; on one as loaded as ours (2 cores,
load 10+), compare minimums as well, or count instructions
(``valgrind --tool=callgrind``).

``--chain`` adds what the Celery chain ``ai.omr.fetch -> warp -> identifier ->
answers`` adds over the single task ``ai.omr.grade``, end to end through Redis
with real worker processes (``bench/_celery_latency.py``): per worker
configuration, with Celery's own floor for the three extra hops measured on
the same worker (target: chain adds <= 15 ms on the deployed configuration).
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMEXPR_NUM_THREADS"):
    os.environ[_var] = "1"

import argparse  # noqa: E402
import json  # noqa: E402
import statistics  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

import cv2  # noqa: E402
import numpy as np  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
OUT = ROOT / "bench" / "out"


def make_inputs(seed: int, questions: int) -> tuple[dict[str, bytes], dict[str, Any]]:
    """One 4000x3000 phone JPEG and one 200 dpi scan JPEG of the same template."""
    from omr.synth import make_sheet, render_page, sheet_rng, simulate_scan
    from omr.synth.fills import fill_sheet
    from omr.template import build_template

    meta = build_template(questions)
    page = render_page(meta)
    photo, _ = make_sheet(meta, page, "photo", seed, 0, frame_wh=(4000, 3000), thumb=False)
    rng = sheet_rng(seed, "scan", 0)
    canvas = np.asarray(cv2.cvtColor(page, cv2.COLOR_GRAY2BGR), np.uint8)
    fill_sheet(canvas, meta, 300, rng)
    scan, _ = simulate_scan(canvas, 300, meta, rng, dpi=200)
    return {"photo_12mp": photo, "scan_200dpi": scan}, meta


def _median(xs: list[float]) -> float:
    return statistics.median(xs) if xs else float("nan")


PHOTO_RATIO_TARGET = 1.0
"""grade_image over imdecode, 12 MP photo (issue 18)."""
SCAN_RATIO_TARGET = 3.0
"""grade_image over imdecode, 200 dpi scan (issue 18)."""
WARP_PARTS = {
    "_detection_images": "detection images",
    "_window_hypotheses": "marker search, windows",
    "_fiducial_hypotheses": "marker search, whole image",
    "_first_consistent": "markers re-located",
    "_warp_once": "page warp (warpAffine when affine)",
    "verify_and_correct": "ring check (refine)",
}
"""``omr.warp`` functions timed inside ``warp_page``, and their labels."""


def _cpu_ms(fn: Any, *args: Any, **kwargs: Any) -> tuple[Any, float]:
    t0 = time.process_time()
    out = fn(*args, **kwargs)
    return out, (time.process_time() - t0) * 1000


def _split_once(data: bytes, meta: dict[str, Any], mode: str) -> dict[str, float]:
    """One grading, step by step as ``grade_image_with_page`` composes it, CPU ms per step
    and per :data:`WARP_PARTS` entry (wrapped for the call, then restored)."""
    import omr.warp as warp_mod
    from omr.answers import read_answers
    from omr.identifier import read_identifier
    from omr.image import decode_image
    from omr.meta import as_sheet_meta

    parts: dict[str, float] = {}
    saved = {name: getattr(warp_mod, name) for name in WARP_PARTS if hasattr(warp_mod, name)}  # older trees too

    def timed(name: str) -> Any:
        fn = saved[name]

        def run(*a: Any, **k: Any) -> Any:
            out, ms = _cpu_ms(fn, *a, **k)
            parts[WARP_PARTS[name]] = parts.get(WARP_PARTS[name], 0.0) + ms
            return out
        return run

    for name in saved:
        setattr(warp_mod, name, timed(name))
    try:
        sheet, t_meta = _cpu_ms(as_sheet_meta, meta)
        gray, t_dec = _cpu_ms(decode_image, data, print_colour=sheet.print_colour)
        page, t_warp = _cpu_ms(warp_mod.warp_page, gray, sheet, mode)
        _, t_id = _cpu_ms(read_identifier, page, sheet)
        _, t_ans = _cpu_ms(read_answers, page, sheet)
    finally:
        for name, fn in saved.items():
            setattr(warp_mod, name, fn)
    out = {"meta": t_meta, "decode": t_dec, "warp": t_warp, "identifier": t_id, "answers": t_ans}
    out.update({f"warp: {k}": v for k, v in parts.items()})
    return out


def time_image(
    name: str, data: bytes, meta: dict[str, Any], runs: int, mode: str
) -> dict[str, Any]:
    """Interleave imdecode, grade_image and step-by-step runs; return CPU medians in ms."""
    from omr.grade import grade_image

    buf = np.frombuffer(data, np.uint8)
    decode_ms: list[float] = []
    total_ms: list[float] = []
    stages: dict[str, list[float]] = {}
    grade_image(data, meta, mode=mode)  # warm caches (template masks, imports)
    img = None
    for _ in range(runs):
        img, ms = _cpu_ms(cv2.imdecode, buf, cv2.IMREAD_COLOR)
        decode_ms.append(ms)
        assert img is not None
        total_ms.append(_cpu_ms(grade_image, data, meta, mode=mode)[1])
        for k, v in _split_once(data, meta, mode).items():
            stages.setdefault(k, []).append(v)
    assert img is not None
    h, w = img.shape[:2]
    out = {
        "image": name,
        "size_wh": [w, h],
        "megapixels": round(w * h / 1e6, 2),
        "jpeg_kb": len(data) // 1024,
        "runs": runs,
        "clock": "process_time",
        "imdecode_ms": _median(decode_ms),
        "grade_ms": _median(total_ms),
        "imdecode_min_ms": min(decode_ms),
        "grade_min_ms": min(total_ms),
        "stages_ms": {k: _median(v) for k, v in stages.items()},
    }
    out["ratio_vs_imdecode"] = out["grade_ms"] / out["imdecode_ms"]
    out["ratio_of_minimums"] = out["grade_min_ms"] / out["imdecode_min_ms"]
    return out


def print_row(r: dict[str, Any]) -> None:
    """Print one image's timings."""
    print(
        f"\n{r['image']}: {r['size_wh'][0]}x{r['size_wh'][1]} ({r['megapixels']} MP, {r['jpeg_kb']} KiB), median of {r['runs']}"
    )
    print(f"  cv2.imdecode(IMREAD_COLOR)       {r['imdecode_ms']:8.1f} ms CPU (min {r['imdecode_min_ms']:.1f})")
    for k, v in r["stages_ms"].items():
        label = f"    {k[6:]}" if k.startswith("warp: ") else f"  stage {k}"
        print(f"{label:<34} {v:8.1f} ms")
    print(f"  grade_image total                {r['grade_ms']:8.1f} ms CPU (min {r['grade_min_ms']:.1f})")
    print(f"  ratio grade / imdecode           {r['ratio_vs_imdecode']:8.2f}x "
          f"(of minimums {r['ratio_of_minimums']:.2f}x)")


# --- chain latency over ai.omr.grade through Redis -----------------------------------------
def run_chain(data: bytes, meta: dict[str, Any], runs: int) -> list[dict[str, Any]]:
    """End-to-end latency of the chain over ``ai.omr.grade``; measured by ``bench/_celery_latency.py``."""
    from _celery_latency import chain_latency, print_rows

    rows: list[dict[str, Any]] = chain_latency(data, meta, runs)
    print("\nchain fetch->warp->identifier->answers over ai.omr.grade, through Redis:")
    print_rows(rows)
    # the verdict is for the worker as deployed: one pool process per core, local artifact store
    r = rows[0]
    verdict = "PASS" if r["chain_added_ms"] <= 15.0 else "FAIL"
    print(
        f"{verdict}  chain added over ai.omr.grade <= 15 ms ({r['chain_added_ms']:.1f} ms; "
        f"{r['pool_processes']} pool processes, local store; Celery's own floor for the 3 hops "
        f"on that worker: {r['floor_added_ms']:.1f} ms)"
    )
    return rows


# -----------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    """Entry point; exit status 1 when a ratio misses its target."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--runs", type=int, default=21)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--questions", type=int, default=20)
    parser.add_argument("--mode", default="auto")
    parser.add_argument(
        "--chain", action="store_true", help="also time ai.omr.grade over the broker"
    )
    parser.add_argument("--json", type=Path, default=OUT / "omr_speed.json")
    args = parser.parse_args(argv)
    cv2.setNumThreads(1)
    images, meta = make_inputs(args.seed, args.questions)
    print(
        f"one core: cv2 threads={cv2.getNumThreads()}, OMP_NUM_THREADS={os.environ['OMP_NUM_THREADS']}"
    )
    rows = [time_image(name, data, meta, args.runs, args.mode) for name, data in images.items()]
    for r in rows:
        print_row(r)
    print()
    ok = True
    for r, target in zip(rows, (PHOTO_RATIO_TARGET, SCAN_RATIO_TARGET), strict=True):
        # the worse of the medians' and the minimums' ratio: on a loaded host the decode's
        # median alone swings by 20 % and can pass a slower engine
        ratio = max(r["ratio_vs_imdecode"], r["ratio_of_minimums"])
        ok &= ratio <= target
        print(f"{'PASS' if ratio <= target else 'FAIL'}  {r['image']} grade_image <= {target:g}x imdecode "
              f"({ratio:.2f}x, the worse of medians {r['grade_ms']:.1f} / {r['imdecode_ms']:.1f} ms CPU "
              f"and minimums {r['grade_min_ms']:.1f} / {r['imdecode_min_ms']:.1f})")
    summary: dict[str, Any] = {"rows": rows, "ratios_ok": ok}
    if args.chain:
        summary["chain"] = run_chain(images["photo_12mp"], meta, args.runs)
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(summary, indent=1))
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
