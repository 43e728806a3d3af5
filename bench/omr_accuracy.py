"""OMR accuracy benchmark on synthetic phone photos and scans.

Run::

    .venv/bin/python bench/omr_accuracy.py [--photos 200] [--scans 200] [--questions 20]
        [--seed 1] [--workers 2] [--mode auto] [--save-failures 12] [--no-sheet 20]

Sheets are generated with ``omr.synth`` into a cache under ``bench/out/omr_synth/``
(keyed by kind, question count, seed and a hash of the generator's source, so
a generator change regenerates), graded in-process with ``omr.grade_image``
(``mode="auto"`` unless ``--mode kind`` passes the true capture kind), and
scored against the ground-truth JSON next to each image.

What counts (see ``bench/_omr_scoring.py`` for the code):

* A *mark* is one question of one sheet. It is **flagged** when the engine
  sends it to review: status ``multi``, ``ambiguous``, ``low_confidence`` or
  ``error`` (``omr.review.FLAG_STATUSES``), a sheet-level ``alignment_*``
  review reason (every mark of that sheet), or a rejected sheet (exception):
  every mark of a rejected sheet is flagged.
* A mark is **right** when it is not flagged and the engine's set of marked
  labels (``detected``) equals the truth (empty = blank). A true multi-mark
  (two labels in the truth) read as ``multi`` with exactly those labels is
  right. For a question whose truth is ``flag_ok`` (a tiny fill, an X over a
  bubble) a flag is also right ("read correctly OR flagged").
* A **silent error** is an unflagged mark whose labels differ from the truth:
  a wrong answer reported as ``ok``. It is counted for ``flag_ok`` questions
  too. "% of marks" divides by all marks.
* **Flagged rate** = flagged marks / all marks (including acceptable flags).
* **Sensitivity / specificity** are per bubble, over non-``flag_ok`` questions
  of sheets that were not rejected, ignoring flags.
* **ID exact**: the 8 digits equal the truth and the ID is not flagged; if the
  truth has a blank column, the engine must flag the ID or show the blank.
* **Sheet fully right with no review**: every mark right (acceptable flags on
  ``flag_ok`` questions allowed) and ID right. The *strict* variant also
  forbids any flag on the sheet.

``--erasures`` grades sheets drawn from ``omr.synth.ERASURE_EVENTS`` instead
(erased-pencil residue alone, ``residue``, and beside a changed answer,
``residue_refill``), cached in their own folder; the per-fill table then
shows the flag rate of each. Without it the default sets are unchanged.

``--no-sheet N`` also grades N phone photos without any answer sheet (half
show a blank white page): every one must be rejected.

Targets: photos >= 99.9% marks right, silent <= 0.01% of marks, >= 98% sheets
fully right, ID exact >= 99.5%; scans >= 99.97% marks right and zero silent
errors. A JSON summary goes to ``bench/out/omr_accuracy.json``.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import multiprocessing
import os
import sys
import time
import traceback
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from _omr_scoring import Read, SheetScore, normalise, score_sheet  # noqa: E402

OUT = ROOT / "bench" / "out"
TARGETS = {
    "photo": {"right_pct": 99.9, "silent_pct_max": 0.01, "sheets_pct": 98.0, "id_pct": 99.5},
    "scan": {"right_pct": 99.97, "silent_max": 0},
}


def generator_hash() -> str:
    """Short hash of the generator's source, so a changed generator regenerates."""
    h = hashlib.sha1()
    for p in sorted((ROOT / "omr" / "synth").glob("*.py")) + [ROOT / "omr" / "template.py"]:
        h.update(p.read_bytes())
    return h.hexdigest()[:8]


def engine_commit() -> str:
    """Last commit touching the engine (``omr/`` outside ``omr/synth``), plus ``+dirty`` if edited."""
    import subprocess

    def git(*a: str) -> str:
        return subprocess.run(["git", *a], cwd=ROOT, capture_output=True, text=True).stdout.strip()

    rev = git("log", "-1", "--format=%h %s", "--", "omr", ":!omr/synth")
    dirty = git("status", "--porcelain", "--", "omr", ":!omr/synth")
    return rev + (" +dirty" if dirty else "")


def dataset(
    kind: str, count: int, questions: int, seed: int, workers: int, erasures: bool = False
) -> tuple[list[Path], dict]:
    """Generate (or reuse) the cached dataset; returns image paths and the meta."""
    from omr.synth import generate_dataset
    from omr.template import build_template

    meta = build_template(questions)
    extra = "_erasures" if erasures else ""
    folder = OUT / "omr_synth" / f"{kind}_q{questions}_s{seed}{extra}_{generator_hash()}"
    t0 = time.perf_counter()
    paths = generate_dataset(
        folder, kind, count, meta, seed=seed, workers=workers, erasures=erasures
    )
    print(
        f"[{kind}] {count} sheets ready in {folder.relative_to(ROOT)} ({time.perf_counter() - t0:.0f} s)"
    )
    return paths, meta


_META: dict[str, Any] = {}


def _init(meta: dict[str, Any]) -> None:
    import cv2

    cv2.setNumThreads(1)
    _META["meta"] = meta


def _grade(job: tuple[str, str]) -> tuple[str, dict[str, Any], float, dict[str, Any]]:
    """Grade one image in a worker.

    Returns (path, normalised read as dict, seconds, full result): the full
    result is the engine's output, or ``{"rejected": reason}``.
    """
    import omr
    from omr.grade import grade_image

    path, mode = job
    data = Path(path).read_bytes()
    t0 = time.perf_counter()
    full: dict[str, Any]
    try:
        result = grade_image(data, _META["meta"], mode=mode)
        read = normalise(result)
        full = result
    except omr.OMRError as exc:
        read = Read(rejected=str(getattr(exc, "reason_code", None) or type(exc).__name__))
        full = {"rejected": read.rejected}
    except Exception as exc:  # noqa: BLE001 - a crash is a finding, not a bench failure
        read = Read(rejected=f"crash:{type(exc).__name__}: {exc}")
        full = {"rejected": read.rejected}
        traceback.print_exc()
    return path, read.__dict__, time.perf_counter() - t0, full


def _bucket_fns(kind: str) -> dict[str, Callable[[dict[str, Any]], str]]:
    def num(key: str, edges: list[float], fmt: str = "{:g}") -> Callable[[dict[str, Any]], str]:
        def f(c: dict[str, Any]) -> str:
            v = float(c.get(key, 0))
            lo = max([e for e in edges if e <= v], default=edges[0])
            hi = min([e for e in edges if e > v], default=None)
            return f"{fmt.format(lo)}-{fmt.format(hi)}" if hi is not None else f">={fmt.format(lo)}"

        return f

    common = {
        "instrument": lambda c: str(c.get("instrument")),
        "jpeg_quality": num("jpeg_quality", [50, 65, 80, 96] if kind == "photo" else [70, 80, 90]),
        "noise_sigma": num("noise_sigma", [0, 3, 5]),
        "blur_sigma_px": num("blur_sigma_px", [0, 1.0, 1.6] if kind == "photo" else [0, 0.6]),
        "handwriting": lambda c: (
            ("id+name" if c.get("handwriting", {}).get("name") else "id")
            if c.get("handwriting", {}).get("id_digits")
            else ("name" if c.get("handwriting", {}).get("name") else "none")
        ),
        "stray_marks": lambda c: (
            str(min(3, len(c.get("stray", [])))) + ("+" if len(c.get("stray", [])) >= 3 else "")
        ),
    }
    if kind == "photo":
        return {
            **common,
            "tilt_deg": num("tilt_deg", [0, 10, 20, 30]),
            "rotation": lambda c: (
                "axis"
                if min(abs((float(c["rotation_deg"]) + 45) % 90 - 45), 90) < 15
                else "oblique"
            ),
            "area_fraction": num("area_fraction", [0.0, 0.55, 0.7]),
            "motion_blur": lambda c: "yes" if c.get("motion_px") else "no",
            "shadows": lambda c: str(c.get("shadows")),
            "glare": lambda c: "yes" if c.get("glare") else "no",
            "light": num("light", [0, 0.75, 0.9]),
            "background": lambda c: str(c.get("background")),
            "thumb": lambda c: "yes" if c.get("thumb_marker") else "no",
            "frame_mp": lambda c: f"{c['frame_wh'][0] * c['frame_wh'][1] / 1e6:.1f}",
        }
    return {
        **common,
        "dpi": lambda c: str(c.get("dpi")),
        "feed_rotation_deg": lambda c: str(c.get("feed_rotation_deg")),
        "dirty": lambda c: str(c.get("dirty")),
        "color": lambda c: str(c.get("color")),
        "print_scale": num("print_scale", [0.94, 0.97]),
        "skew_deg": lambda c: "<1" if abs(float(c.get("skew_deg", 0))) < 1 else ">=1",
    }


def _pct(a: float, b: float) -> float:
    return 100.0 * a / b if b else 0.0


def summarise(scores: list[SheetScore]) -> dict[str, Any]:
    """Aggregate sheet scores into the headline numbers."""
    tot = {
        k: sum(getattr(s, k) for s in scores)
        for k in ("marks", "right", "flagged", "silent", "tp", "fn", "tn", "fp")
    }
    n = len(scores)
    return {
        "sheets": n,
        "marks": tot["marks"],
        "sensitivity_pct": _pct(tot["tp"], tot["tp"] + tot["fn"]),
        "specificity_pct": _pct(tot["tn"], tot["tn"] + tot["fp"]),
        "right_pct": _pct(tot["right"], tot["marks"]),
        "silent": tot["silent"],
        "silent_pct": _pct(tot["silent"], tot["marks"]),
        "flagged_pct": _pct(tot["flagged"], tot["marks"]),
        "sheets_fully_right_pct": _pct(sum(s.fully_right for s in scores), n),
        "sheets_strict_pct": _pct(sum(s.strict for s in scores), n),
        "id_exact_pct": _pct(sum(s.id_right for s in scores), n),
    }


def verdict(kind: str, summ: dict[str, Any]) -> list[tuple[str, bool]]:
    """PASS/FAIL lines against the targets."""
    t = TARGETS[kind]
    checks = [(f"marks right+unflagged >= {t['right_pct']}%", summ["right_pct"] >= t["right_pct"])]
    if kind == "photo":
        checks += [
            (
                f"silent <= {t['silent_pct_max']}% of marks",
                summ["silent_pct"] <= t["silent_pct_max"],
            ),
            (
                f"sheets fully right, no review >= {t['sheets_pct']}%",
                summ["sheets_fully_right_pct"] >= t["sheets_pct"],
            ),
            (f"ID exact >= {t['id_pct']}%", summ["id_exact_pct"] >= t["id_pct"]),
        ]
    else:
        checks.append(("zero silent errors", summ["silent"] == 0))
    return checks


def _line(name: str, summ: dict[str, Any]) -> str:
    return (
        f"  {name:<22} sheets {summ['sheets']:>4}  right {summ['right_pct']:7.3f}%  "
        f"flagged {summ['flagged_pct']:6.2f}%  silent {summ['silent']:>3}  "
        f"sheets ok {summ['sheets_fully_right_pct']:6.2f}%  id {summ['id_exact_pct']:6.2f}%"
    )


REVIEW_STATUSES = frozenset({"ambiguous", "low_confidence", "error"})
"""Question statuses that send a mark to a teacher for no reason the student gave (multi aside)."""


def review_by_fill(rows: list[tuple[dict[str, Any], SheetScore, Read, float]]) -> dict[str, int]:
    """Marks per fill type sent to review as ambiguous, low_confidence or error (or a whole sheet)."""
    out: dict[str, int] = {}
    for truth, _, read, _ in rows:
        for q, label in truth.get("fills", {}).items():
            fill = label.split("/")[1] if "/" in label else "?"
            status = read.marks.get(q, ([], "missing"))[1]
            hit = read.rejected is not None or read.sheet_flag is not None or status in REVIEW_STATUSES
            out[fill] = out.get(fill, 0) + int(hit)
    return out


def report(
    kind: str, rows: list[tuple[dict[str, Any], SheetScore, Read, float]], erasures: bool = False
) -> dict[str, Any]:
    """Print the report for one capture kind and return its JSON summary."""
    scores = [r[1] for r in rows]
    summ = summarise(scores)
    secs = sorted(r[3] for r in rows)
    rejected: dict[str, int] = {}
    for _, _, read, _ in rows:
        if read.rejected:
            key = (
                read.rejected.split(":")[0] if read.rejected.startswith("crash") else read.rejected
            )
            rejected[key] = rejected.get(key, 0) + 1
    print(f"\n=== {kind.upper()}S: {summ['sheets']} sheets, {summ['marks']} marks ===")
    print(f"  per-bubble sensitivity      {summ['sensitivity_pct']:.4f}%")
    print(f"  per-bubble specificity      {summ['specificity_pct']:.4f}%")
    print(f"  marks right and unflagged   {summ['right_pct']:.4f}%")
    print(f"  silent errors               {summ['silent']} ({summ['silent_pct']:.4f}% of marks)")
    print(f"  flagged rate                {summ['flagged_pct']:.3f}%")
    print(
        f"  sheets fully right, no review {summ['sheets_fully_right_pct']:.2f}%  (strict, no flag at all: {summ['sheets_strict_pct']:.2f}%)"
    )
    print(f"  ID exact                    {summ['id_exact_pct']:.2f}%")
    print(f"  rejected sheets             {sum(rejected.values())} {rejected or ''}")
    print(
        f"  grade time per sheet        median {secs[len(secs) // 2] * 1000:.0f} ms, max {secs[-1] * 1000:.0f} ms (in-process, busy host)"
    )
    breakdown: dict[str, dict[str, Any]] = {}
    print("  -- by capture condition --")
    for dim, fn in _bucket_fns(kind).items():
        groups: dict[str, list[SheetScore]] = {}
        for truth, score, _, _ in rows:
            groups.setdefault(fn(truth["condition"]), []).append(score)
        breakdown[dim] = {}
        for key in sorted(groups):
            s = summarise(groups[key])
            breakdown[dim][key] = s
            print(_line(f"{dim}={key}", s))
    print("  -- by fill type (per mark; review = ambiguous/low_confidence/error, true multi-marks aside) --")
    fills: dict[str, list[int]] = {}
    for sc in scores:
        for fill, c in sc.per_fill.items():
            acc = fills.setdefault(fill, [0, 0, 0, 0])
            for i in range(4):
                acc[i] += c[i]
    review = review_by_fill(rows)
    breakdown["fill"] = {}
    for fill in sorted(fills):
        m, r, f, si = fills[fill]
        breakdown["fill"][fill] = {
            "marks": m,
            "right_pct": _pct(r, m),
            "flagged_pct": _pct(f, m),
            "silent": si,
        }
        print(
            f"  fill={fill:<17} marks {m:>5}  right {_pct(r, m):7.3f}%  flagged {_pct(f, m):6.2f}%  "
            f"review {_pct(review.get(fill, 0), m):6.2f}%  silent {si:>3}"
        )
    n_review = sum(review.values())
    print(f"  review (ambiguous/low_confidence/error), all marks: {_pct(n_review, summ['marks']):.3f}%")
    if erasures:  # kept out of the default sets' JSON, which runs are compared on
        breakdown["fill_review_pct"] = {f: _pct(review.get(f, 0), fills[f][0]) for f in sorted(fills)}
        breakdown["review_pct"] = _pct(n_review, summ["marks"])  # type: ignore[assignment]
    checks = verdict(kind, summ)
    for name, ok in checks:
        print(f"  {'PASS' if ok else 'FAIL'}  {name}")
    return {
        **summ,
        "rejected": rejected,
        "breakdown": breakdown,
        "median_grade_ms": secs[len(secs) // 2] * 1000,
        "checks": {n: ok for n, ok in checks},
    }


def save_failures(
    kind: str,
    rows: list[tuple[dict[str, Any], SheetScore, Read, float]],
    paths: dict[int, Path],
    meta: dict[str, Any],
    limit: int,
) -> list[dict[str, Any]]:
    """Copy the worst sheets (silent errors first) with an overlay to bench/out/omr_failures/."""
    from _omr_overlay import write_overlay

    folder = OUT / "omr_failures"
    folder.mkdir(parents=True, exist_ok=True)
    for old in folder.glob(f"{kind}_*"):
        old.unlink()
    bad = [r for r in rows if r[1].errors]
    bad.sort(key=lambda r: (-r[1].silent, r[2].rejected is None, -len(r[1].errors)))
    listed = []
    for truth, score, read, _ in bad[:limit]:
        idx = int(truth["condition"]["index"])
        src = paths[idx]
        stem = folder / f"{kind}_{idx:05d}"
        stem.with_suffix(".jpg").write_bytes(src.read_bytes())
        info = {
            "image": str(src),
            "rejected": read.rejected,
            "errors": score.errors,
            "condition": truth["condition"],
            "fills": truth.get("fills"),
        }
        stem.with_suffix(".json").write_text(json.dumps(info, indent=1, default=str))
        try:
            write_overlay(src, meta, truth, read, stem.with_suffix(".overlay.png"), mode=kind)
        except Exception as exc:  # noqa: BLE001 - overlays are best effort
            info["overlay_error"] = repr(exc)
        listed.append(info)
    return listed


def run_kind(kind: str, count: int, args: argparse.Namespace) -> dict[str, Any]:
    """Generate, grade and report one capture kind."""
    paths, meta = dataset(kind, count, args.questions, args.seed, args.workers, args.erasures)
    choices = {
        str(q["question_number"]): [str(c["label"]) for c in q["choices"]]
        for q in meta["questions"]
    }
    mode = kind if args.mode == "kind" else args.mode
    t0 = time.perf_counter()
    jobs = [(str(p), mode) for p in paths]
    if args.workers <= 1:
        _init(meta)
        results = [_grade(j) for j in jobs]
    else:
        with ProcessPoolExecutor(
            args.workers, multiprocessing.get_context("spawn"), initializer=_init, initargs=(meta,)
        ) as pool:
            results = list(pool.map(_grade, jobs, chunksize=2))
    print(
        f"[{kind}] graded {len(results)} sheets in {time.perf_counter() - t0:.0f} s (mode={mode})"
    )
    rows = []
    by_index: dict[int, Path] = {}
    full_results: dict[int, dict[str, Any]] = {}
    for path, read_dict, secs, full in results:
        truth = json.loads(Path(path).with_suffix(".json").read_text())
        read = Read(**read_dict)
        rows.append((truth, score_sheet(truth, read, choices), read, secs))
        by_index[int(truth["condition"]["index"])] = Path(path)
        full_results[int(truth["condition"]["index"])] = full
    summary = report(kind, rows, args.erasures)
    summary["per_sheet"] = [
        {
            "index": int(t["condition"]["index"]),
            "rejected": r.rejected,
            "review": r.review_reasons,
            "alignment": {k: r.alignment.get(k) for k in ("method", "rotation", "fit_error_mm")},
            "right": sc.right,
            "silent": sc.silent,
            "id_right": sc.id_right,
            "errors": sc.errors,
        }
        for t, sc, r, _ in rows
    ]
    if args.full_results:
        for entry in summary["per_sheet"]:
            entry["result"] = full_results[entry["index"]]
    if args.save_failures:
        summary["failures"] = save_failures(kind, rows, by_index, meta, args.save_failures)
    return summary


def run_no_sheet(count: int, seed: int, meta: dict[str, Any]) -> dict[str, Any]:
    """Photos with no answer sheet (half with a blank white page): all must be rejected."""
    import numpy as np

    from omr.grade import grade_image
    from omr.synth import no_sheet_photo

    accepted = []
    for i in range(count):
        rng = np.random.default_rng([seed, 3, i])
        data, cond = no_sheet_photo(rng, blank_paper=i % 2 == 1)
        try:
            result = grade_image(data, meta)
        except Exception as exc:  # noqa: BLE001 - any refusal is the right answer here
            _ = exc
            continue
        accepted.append({"index": i, **cond, "review": result.get("review")})
    ok = not accepted
    print(f"\n=== NO-SHEET PHOTOS: {count} images (half with a blank white page) ===")
    print(f"  accepted as a sheet         {len(accepted)} (must be 0)")
    print(f"  {'PASS' if ok else 'FAIL'}  every no-sheet photo rejected")
    return {"count": count, "accepted": accepted, "checks": {"no-sheet photos rejected": ok}}


def main(argv: list[str] | None = None) -> int:
    """Entry point; exit status 0 when every target passes, else 1."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--photos", type=int, default=200)
    parser.add_argument("--scans", type=int, default=200)
    parser.add_argument("--questions", type=int, default=20)
    parser.add_argument("--no-sheet", type=int, default=20, help="photos without a sheet")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--workers", type=int, default=min(2, os.cpu_count() or 1))
    parser.add_argument(
        "--mode", default="auto", help="auto | photo | scan | kind (the true capture kind)"
    )
    parser.add_argument(
        "--save-failures", type=int, default=12, help="failing sheets to keep per kind"
    )
    parser.add_argument("--json", type=Path, default=OUT / "omr_accuracy.json")
    parser.add_argument(
        "--full-results",
        action="store_true",
        help="keep each sheet's full engine result in the JSON (for bench/compare_results.py)",
    )
    parser.add_argument(
        "--erasures",
        action="store_true",
        help="sheets rich in erased-pencil residue (omr.synth ERASURE_EVENTS); default sets unchanged",
    )
    args = parser.parse_args(argv)
    summary: dict[str, Any] = {
        "args": {k: str(v) for k, v in vars(args).items()},
        "generator": generator_hash(),
        "engine_commit": engine_commit(),
    }
    print(f"engine: {summary['engine_commit']}  generator: {summary['generator']}")
    for kind, count in (("photo", args.photos), ("scan", args.scans)):
        if count > 0:
            summary[kind] = run_kind(kind, count, args)
    if args.no_sheet > 0:
        from omr.template import build_template

        summary["no_sheet"] = run_no_sheet(args.no_sheet, args.seed, build_template(args.questions))
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(summary, indent=1, default=str))
    kinds = ("photo", "scan", "no_sheet")
    ok = all(all(summary[k]["checks"].values()) for k in kinds if k in summary)
    print(
        f"\nOVERALL {'PASS' if ok else 'FAIL'}  (summary: {args.json.relative_to(ROOT) if args.json.is_relative_to(ROOT) else args.json})"
    )
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
