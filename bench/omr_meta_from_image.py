"""``meta-from-image`` on generated blank cards: how close each proposed bubble centre lies to its truth.

Run (from the repository root)::

    .venv/bin/python bench/omr_meta_from_image.py [--count 3] [--seed 1] [--write-blank DIR]

Blank cards come from ``bench/_card_draw.py`` (the independent Korean card:
pink, red or black print, digits inside vertical ovals, a 6-digit 수험번호
grid, timing marks, header boxes, a 결시 oval), scanned at 200 and 300 dpi
(the card alone: blur, grain, JPEG). :func:`omr.propose.propose_meta` proposes
a meta; every true bubble (``card_meta``) is paired with the proposed bubble of
the same question and label (or ID digit and number). Reported per set: the
share of bubbles within 0.3 mm of their truth (target >= 99 %), the worst
distance, whether the questions, choices and ID digits came out as printed,
the timing bars found and the print colour. ``--write-blank DIR`` also writes
each blank scan with its true meta (``NNNN.jpg``, ``NNNN.meta.json``).
"""

from __future__ import annotations

import argparse
import io
import json
import math
import sys
from pathlib import Path
from typing import Any

import cv2
import numpy as np
from PIL import Image

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
TOLERANCE_MM = 0.3


def blank_scan(card: Any, ink: str, dpi: float, rng: np.random.Generator) -> bytes:
    """A flatbed scan of the blank card alone (the scanner crops to the card): JPEG bytes."""
    import _card_draw as cd

    rgb = cd.print_card(card, ink, rng)
    s = dpi / 25.4 / cd.PX_PER_MM
    out = cv2.resize(rgb, None, fx=s, fy=s, interpolation=cv2.INTER_AREA)
    out = cv2.GaussianBlur(out, (0, 0), rng.uniform(0.3, 0.7))
    out = np.clip(out + rng.normal(0, 0.006, out.shape).astype(np.float32), 0, 1)
    buf = io.BytesIO()
    Image.fromarray((out * 255 + 0.5).astype(np.uint8)).save(buf, "JPEG", quality=int(rng.integers(85, 96)))
    return buf.getvalue()


def _bubbles(meta: dict[str, Any]) -> dict[tuple[str, int, str], tuple[float, float]]:
    out = {("q", q["question_number"], c["label"]): (c["center"]["x"], c["center"]["y"])
           for q in meta["questions"] for c in q["choices"]}
    out.update({("id", b["digit_index"], str(b["number"])): (b["center"]["x"], b["center"]["y"])
                for b in (meta.get("identifier") or {}).get("bubbles", [])})
    return out


def compare(truth: dict[str, Any], proposed: dict[str, Any]) -> dict[str, Any]:
    """Distances (mm) of every true bubble to its proposed twin; a missing twin counts as infinitely far."""
    t, p = _bubbles(truth), _bubbles(proposed)
    d = [math.hypot(x - p[k][0], y - p[k][1]) if k in p else math.inf for k, (x, y) in t.items()]
    bars_t = len((truth.get("timing") or {}).get("bars", []))
    bars_p = len((proposed.get("timing") or {}).get("bars", []))
    return {"bubbles": len(d), "within": sum(v <= TOLERANCE_MM for v in d), "worst_mm": max(d),
            "structure": (len(truth["questions"]) == len(proposed["questions"])
                          and truth["identifier"]["digits"] == proposed["identifier"]["digits"] and len(p) == len(t)),
            "bars": f"{bars_p}/{bars_t}", "colour": (proposed.get("print") or {}).get("colour")}


def main() -> None:
    """Generate blank scans, propose metas, print the table."""
    import _card_draw as cd

    from omr.propose import propose_meta

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--count", type=int, default=3)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--sets", default="pink20,pink45,red20,black20")
    ap.add_argument("--write-blank", type=Path, default=None)
    args = ap.parse_args()
    print("| set | dpi | cards | bubbles within 0.3 mm | worst (mm) | structure right | timing bars | colour |")
    print("|---|---|---|---|---|---|---|---|")
    total = within = 0
    for name in args.sets.split(","):
        ink = name.rstrip("0123456789")
        card = cd.layout(int(name[len(ink):]))
        truth = cd.card_meta(card, ink=ink, extended=True)
        for dpi in (200.0, 300.0):
            rows = []
            for i in range(args.count):
                rng = np.random.default_rng([args.seed, int(dpi), i, len(name)])
                data = blank_scan(card, ink, dpi, rng)
                if args.write_blank:
                    args.write_blank.mkdir(parents=True, exist_ok=True)
                    stem = args.write_blank / f"{name}_{int(dpi)}_{i:04d}"
                    stem.with_suffix(".jpg").write_bytes(data)
                    stem.with_suffix(".meta.json").write_text(json.dumps(truth, ensure_ascii=False))
                bgr = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
                rows.append(compare(truth, propose_meta(bgr, dpi=dpi).meta))
            n, w = sum(r["bubbles"] for r in rows), sum(r["within"] for r in rows)
            total, within = total + n, within + w
            print(f"| {name} | {int(dpi)} | {len(rows)} | {w}/{n} ({100 * w / n:.2f} %) | "
                  f"{max(r['worst_mm'] for r in rows):.3f} | {sum(r['structure'] for r in rows)}/{len(rows)} | "
                  f"{', '.join(sorted({r['bars'] for r in rows}))} | {', '.join(sorted({str(r['colour']) for r in rows}))} |")
    print(f"\nall: {within}/{total} bubbles within {TOLERANCE_MM} mm ({100 * within / max(1, total):.2f} %; target >= 99 %)")


if __name__ == "__main__":
    main()
