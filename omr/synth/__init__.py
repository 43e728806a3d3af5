"""Synthetic OMR answer sheets: student fills, scanner and phone-camera captures.

Pure numpy/OpenCV; used by ``bench/omr_accuracy.py`` and the tests. Typical use::

    from omr.template import build_template
    from omr.synth import generate_dataset
    meta = build_template(20)
    generate_dataset(Path("out/photos"), "photo", 200, meta, seed=1, workers=2)
"""

from omr.synth.dataset import KINDS, generate_dataset, make_sheet, render_page, sheet_rng
from omr.synth.fills import ERASURE_EVENTS, EVENTS, FLAG_OK_EVENTS, fill_sheet
from omr.synth.photo import no_sheet_photo, simulate_photo
from omr.synth.scan import simulate_scan
from omr.synth.truth import BLANK_DIGIT, SheetTruth

__all__ = [
    "BLANK_DIGIT",
    "ERASURE_EVENTS",
    "EVENTS",
    "FLAG_OK_EVENTS",
    "KINDS",
    "SheetTruth",
    "fill_sheet",
    "generate_dataset",
    "make_sheet",
    "no_sheet_photo",
    "render_page",
    "sheet_rng",
    "simulate_photo",
    "simulate_scan",
]
