"""Make the golden images of ``tests/omr/assets/`` with ``omr.synth`` (run once; the files are committed).

Run (from the repository root)::

    .venv/bin/python bench/_omr_golden.py [--out tests/omr/assets]

Four small captures of ``build_template(20)`` sheets, each the first sheet (by
index, seed ``SEED``) that has what its name says and that the engine reads
right (every mark as the truth says, ``flag_ok`` questions flagged or right,
the ID exact):

* ``clean_scan.jpg``: a 120 dpi scan, no crossed-out, tiny or erased mark;
* ``thumb_photo.jpg``: a 1280 x 960 phone photo with a thumb over a corner marker;
* ``hatched_scan.jpg``: a 120 dpi scan filled in pencil (the synth fill is a
  zig-zag scribble: hatching) including a partial fill;
* ``crossed_photo.jpg``: a 1280 x 960 photo with an X over a bubble.

``expected.json`` records, per image, the engine's read at the time (status
and detected labels per question, the identifier's status and digits) and
the synth truth: ``tests/omr/test_golden.py`` asserts the read exactly.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import cv2
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

SEED = 77
QUESTIONS = 20
SCAN_DPI = 120
PHOTO_WH = (1280, 960)
JPEG_QUALITY = 80
MAX_BYTES = 150_000
FLAGS = {"multi", "ambiguous", "low_confidence", "error"}


def _reencode(data: bytes) -> bytes:
    img = np.asarray(cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_GRAYSCALE), np.uint8)
    return cv2.imencode(".jpg", img, [cv2.IMWRITE_JPEG_QUALITY, JPEG_QUALITY])[1].tobytes()


def _right(result: dict[str, Any], truth: Any) -> bool:
    for a in result["answers"]:
        q = str(a["question_id"])
        flagged = a["status"] in FLAGS
        if q in truth.flag_ok and flagged:
            continue
        want = sorted(truth.answers[q])
        if len(want) >= 2:
            if not (a["status"] == "multi" and sorted(a["detected"]) == want):
                return False
        elif flagged or sorted(a["detected"]) != want:
            return False
    return bool(result["identifier"]["identifier"] == truth.identifier)


def _events(truth: Any) -> set[str]:
    return {f.split("/")[1] for f in truth.fills.values()}


def main(argv: list[str] | None = None) -> int:
    """Write the four images and ``expected.json``."""
    from omr.grade import grade_image
    from omr.synth import fill_sheet, render_page, sheet_rng, simulate_photo, simulate_scan
    from omr.template import build_template

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=ROOT / "tests" / "omr" / "assets")
    args = parser.parse_args(argv)
    meta = build_template(QUESTIONS)
    page = render_page(meta)

    def capture(kind: str, index: int, thumb: bool) -> tuple[bytes, Any]:
        rng = sheet_rng(SEED, kind, index)
        canvas = np.asarray(cv2.cvtColor(page, cv2.COLOR_GRAY2BGR), np.uint8)
        truth = fill_sheet(canvas, meta, 300, rng)
        if kind == "photo":
            data, _ = simulate_photo(canvas, 300, meta, rng, thumb=thumb, frame_wh=PHOTO_WH)
        else:
            data, _ = simulate_scan(canvas, 300, meta, rng, dpi=SCAN_DPI)
        return _reencode(data), truth

    wanted: dict[str, tuple[str, bool, Callable[[Any], bool]]] = {
        "clean_scan": ("scan", False, lambda t: not (_events(t) & {"crossed", "crossed_refill", "tiny", "erased",
                                                                     "erased_refill"})),
        "thumb_photo": ("photo", True, lambda t: True),
        "hatched_scan": ("scan", False, lambda t: t.condition["instrument"].startswith("pencil")
                         and "partial" in _events(t)),
        "crossed_photo": ("photo", False, lambda t: bool(_events(t) & {"crossed", "crossed_refill"})),
    }
    args.out.mkdir(parents=True, exist_ok=True)
    expected: dict[str, Any] = {}
    for name, (kind, thumb, ok) in wanted.items():
        for index in range(200):
            data, truth = capture(kind, index, thumb)
            if not ok(truth) or len(data) > MAX_BYTES:
                continue
            result = grade_image(data, meta, mode="auto")
            if not _right(result, truth):
                continue
            (args.out / f"{name}.jpg").write_bytes(data)
            expected[name] = {
                "seed": SEED, "index": index, "kind": kind,
                "answers": {str(a["question_id"]): [a["status"], a["detected"]] for a in result["answers"]},
                "identifier": [result["identifier"]["status"], result["identifier"]["identifier"],
                               result["identifier"]["raw_identifier"]],
                "truth": truth.to_dict() | {"condition": {"instrument": truth.condition["instrument"]}},
            }
            print(f"{name}: index {index}, {len(data)} bytes")
            break
        else:
            print(f"{name}: no sheet found")
            return 1
    (args.out / "expected.json").write_text(json.dumps(expected, indent=1, sort_keys=True) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
