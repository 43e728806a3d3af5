"""Korean OMR cards the project did not design: generate, grade, and the side-by-side table of issue 17.

Run (from the repository root)::

    .venv/bin/python bench/omr_cards.py [--count 10] [--seed 1] [--sets pink20-photo,pink20-scan]
        [--extended-meta] [--accuracy bench/out/omr_accuracy.json] [--real bench/out/omr_real.json]

Cards come from ``bench/_card_draw.py`` (an independent drawing: drop-out ink,
digits inside vertical ovals, 수험번호 grid, timing marks, header boxes, a 결시
oval, felt-tip fills, correction tape, stray ticks; phone photos and flatbed
scans with white all round). Each set is cached under
``bench/out/omr_cards/<set>_s<seed>_<generator hash>/`` (``NNNN.jpg``,
``NNNN.truth.json``, ``meta.json``) and graded with ``omr.grade.grade_image``; marks are scored by
``bench/_omr_scoring.py`` (the same rules as ``bench/omr_accuracy.py``: a
sheet-level ``alignment_*`` review reason, ``alignment_uncertain`` included,
flags every mark; a refused sheet flags every mark).

A set is ``<ink><questions>-<capture>``: ink ``pink``, ``red`` or ``black``;
20 or 45 questions; ``photo`` or ``scan``. The table also shows, when their
JSON summaries are given, our own sheets (``bench/omr_accuracy.py``) and the
real sheets (``bench/omr_real.py``), side by side.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
OUT = ROOT / "bench" / "out"
DEFAULT_SETS = "pink20-photo,pink20-scan,pink45-photo,pink45-scan,black20-photo"


def parse_set(name: str) -> tuple[str, int, str]:
    """``pink20-photo`` -> ``("pink", 20, "photo")``.

    Examples:
        >>> parse_set("red45-scan")
        ('red', 45, 'scan')
    """
    head, capture = name.split("-")
    ink = head.rstrip("0123456789")
    return ink, int(head[len(ink):]), capture


def generate(name: str, count: int, seed: int, extended: bool) -> Path:
    """Draw ``count`` cards of set ``name`` (cached); returns the folder."""
    import _card_draw as cd

    ink, n, capture = parse_set(name)
    digest = hashlib.sha1((ROOT / "bench" / "_card_draw.py").read_bytes()).hexdigest()[:8]
    folder = OUT / "omr_cards" / f"{name}_s{seed}_{digest}"  # a generator change draws new cards
    folder.mkdir(parents=True, exist_ok=True)
    card = cd.layout(n)
    (folder / "meta.json").write_text(json.dumps(cd.card_meta(card, ink=ink, extended=extended), ensure_ascii=False))
    for i in range(count):
        img = folder / f"{i:04d}.jpg"
        if img.exists():
            continue
        rng = np.random.default_rng([seed, n, i, ["pink", "red", "black"].index(ink), capture == "scan"])
        blank = cd.print_card(card, ink, rng)
        filled, truth = cd.fill_card(card, blank, rng)
        data = cd.photograph(filled, rng) if capture == "photo" else cd.scan(filled, rng)
        (folder / f"{i:04d}.truth.json").write_text(json.dumps(truth.to_dict()))
        img.write_bytes(data)
    return folder


def grade_set(folder: Path, count: int, verbose: bool) -> dict[str, Any]:
    """Grade the first ``count`` cards of ``folder``; the issue's four figures and the details."""
    from _omr_scoring import Read, normalise, score_sheet

    from omr.errors import OMRError
    from omr.grade import grade_image

    meta = json.loads((folder / "meta.json").read_text())
    choices = {str(q["question_number"]): [c["label"] for c in q["choices"]] for q in meta["questions"]}
    tot = {"sheets": 0, "graded": 0, "marks": 0, "right": 0, "flagged": 0, "silent": 0, "id_exact": 0,
           "refused": {}, "reasons": {}}
    for i in range(count):
        truth = json.loads((folder / f"{i:04d}.truth.json").read_text())
        tot["sheets"] += 1
        try:
            result = grade_image(folder / f"{i:04d}.jpg", meta)
            read = normalise(result)
            tot["graded"] += 1
        except OMRError as exc:
            read = Read(rejected=exc.reason_code)
            tot["refused"][exc.reason_code] = tot["refused"].get(exc.reason_code, 0) + 1
            if verbose:
                print(f"  {folder.name}/{i:04d}: {exc.reason_code}: {exc.message}")
        s = score_sheet(truth, read, choices)
        for k in ("marks", "right", "flagged", "silent"):
            tot[k] += getattr(s, k)
        tot["id_exact"] += s.id_right and read.rejected is None
        for r in read.review_reasons:
            key = r if not r.startswith("question_") else "question_*_" + r.rsplit("_", 1)[-1]
            tot["reasons"][key] = tot["reasons"].get(key, 0) + 1
        if verbose and s.silent:
            bad = [e for e in s.errors if e.get("silent")]
            print(f"  {folder.name}/{i:04d}: {s.silent} silent {bad[:3]} alignment={read.alignment}")
    return tot


def row(name: str, t: dict[str, Any]) -> str:
    """One markdown table row: sheets graded, right & unflagged, silent errors, ID exact."""
    marks = max(1, t["marks"])
    ident = "n/a" if t["id_exact"] == "-" else f"{t['id_exact']}/{t['sheets']}"
    return (f"| {name} | {t['graded']}/{t['sheets']} | {100 * t['right'] / marks:.1f} % | "
            f"{t['silent']} ({100 * t['silent'] / marks:.1f} %) | {ident} |")


def _from_accuracy(path: Path) -> list[tuple[str, dict[str, Any]]]:
    """Rows for our own sheets from ``bench/omr_accuracy.py --json`` (``photo`` / ``scan`` summaries)."""
    data = json.loads(path.read_text())
    out = []
    for kind in ("photo", "scan"):
        s = data.get(kind)
        if not isinstance(s, dict) or not s.get("sheets"):
            continue
        marks, sheets = int(s["marks"]), int(s["sheets"])
        rejected = s.get("rejected", 0)
        rejected = len(rejected) if isinstance(rejected, list | dict) else int(rejected)
        out.append((f"our sheets, {kind}s", {
            "sheets": sheets, "graded": sheets - rejected, "marks": marks,
            "right": round(marks * float(s["right_pct"]) / 100), "silent": int(s["silent"]),
            "id_exact": round(sheets * float(s["id_exact_pct"]) / 100)}))
    return out


def _from_real(path: Path) -> list[tuple[str, dict[str, Any]]]:
    """Rows for the real sheets from ``bench/omr_real.py --json`` (a list of sources; no ID grids)."""
    data = json.loads(path.read_text())
    sources = data if isinstance(data, list) else data.get("sources", [])
    return [(f"real: {src['source']}", {"sheets": src["sheets"], "graded": src["graded"], "marks": src["marks"],
                                        "right": src["right"], "silent": src["silent"], "id_exact": "-"})
            for src in sources]


def main() -> None:
    """Generate, grade and print the table."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--count", type=int, default=10)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--sets", default=DEFAULT_SETS)
    ap.add_argument("--extended-meta", action="store_true", help="describe the cards with the optional fields")
    ap.add_argument("--accuracy", type=Path, help="bench/omr_accuracy.py's --json summary")
    ap.add_argument("--real", type=Path, help="bench/omr_real.py's --json summary")
    ap.add_argument("--json", type=Path, default=OUT / "omr_cards.json")
    ap.add_argument("--verbose", action="store_true")
    args = ap.parse_args()
    rows: list[tuple[str, dict[str, Any]]] = []
    for name in args.sets.split(","):
        folder = generate(name, args.count, args.seed, args.extended_meta)
        rows.append((f"cards: {name}", grade_set(folder, args.count, args.verbose)))
    if args.accuracy and args.accuracy.exists():
        rows += _from_accuracy(args.accuracy)
    if args.real and args.real.exists():
        rows += _from_real(args.real)
    print("| set | sheets graded | right & unflagged | silent errors | ID exact |")
    print("|---|---|---|---|---|")
    for name, t in rows:
        print(row(name, t))
    for name, t in rows:
        if t.get("refused") or t.get("reasons"):
            print(f"{name}: refused {t.get('refused')}; review reasons {t.get('reasons')}")
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps({"args": {k: str(v) for k, v in vars(args).items()},
                                     "rows": [{"set": n, **t} for n, t in rows]}, indent=1))


if __name__ == "__main__":
    main()
