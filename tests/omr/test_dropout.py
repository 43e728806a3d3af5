"""Cards printed by others: drop-out print and the digits printed inside the ovals.

The sample is a phone photo of a pink 컴퓨터용 card (20 questions, a 6-digit
수험번호 grid, digits inside 2.5 x 5 mm ovals, black felt-tip marks) drawn by
``bench/_card_draw.py``, described by its ``objective_v1`` meta (circles of
r = 1.25 mm inside the ovals), with its truth; and the same card printed in
black (``black_photo.jpg``, ``black_truth.json``: no drop-out, the digits
absorb ~70 % of the light; its ID 044406 marks three of the six "4"s).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from omr.decide import DEFAULT_THRESHOLDS
from omr.dropout import DropoutImage, estimate_print_colour, split
from omr.grade import grade_image
from omr.image import decode_image

ASSETS = Path(__file__).parent / "assets" / "korean_card"


def _load(ink: str = "pink") -> tuple[bytes, dict[str, Any], dict[str, Any]]:
    truth = "truth.json" if ink == "pink" else f"{ink}_truth.json"
    return ((ASSETS / f"{ink}_photo.jpg").read_bytes(), json.loads((ASSETS / "meta.json").read_text("utf-8")),
            json.loads((ASSETS / truth).read_text()))


def test_print_colour_is_estimated_on_the_card() -> None:
    import cv2
    import numpy as np

    data, _meta, _truth = _load()
    bgr = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
    r, g, b = estimate_print_colour(bgr) or (0, 0, 0)
    assert r >= 0.75 and r - g >= 0.2, (r, g, b)  # pink: bright in red, darker in green
    views = decode_image(data, print_colour="auto")
    assert isinstance(views, DropoutImage) and views.marks_gray.shape == views.print_gray.shape
    # black print does not drop out: plain grayscale
    assert split(bgr, (0.2, 0.2, 0.2)).ndim == 2


@pytest.mark.parametrize(("ink", "print_colour"), [("pink", None), ("pink", "auto"), ("pink", "#ec7096"),
                                                   ("black", None)])
def test_digits_inside_ovals_are_not_marks(ink: str, print_colour: str | None) -> None:
    # black print cannot drop out: each label's print is the median of its lighter siblings,
    # each bubble sampled where its digit meets theirs (sub-pixel), and subtracted
    data, meta, truth = _load(ink)
    if print_colour is not None:
        meta = {**meta, "print": {"colour": print_colour}}
    r = grade_image(data, meta)
    assert r["review"]["reasons"] == []
    assert r["identifier"]["identifier"] == truth["identifier"]
    for a in r["answers"]:
        want = truth["answers"][str(a["question_id"])]
        assert a["detected"] == want, a
        # every unmarked oval, its printed digit included, reads as an empty ring does
        # (an empty ring of our own sheets in a photo: fill 0-0.02, blank confidence >= 0.88)
        assert a["status"] == ("ok" if want else "blank"), a
        assert a["confidence"] >= (1.0 if want else 0.88), a
        for label, fill in a["fills"].items():
            if label not in want:
                assert fill < DEFAULT_THRESHOLDS.blank_fill, (a["question_id"], label, fill)


def test_print_block_is_validated_and_optional() -> None:
    from omr.errors import MetaError
    from omr.meta import load_meta

    _data, meta, _truth = _load()
    assert load_meta(meta).print_colour is None
    assert load_meta({**meta, "print": {"colour": "auto", "mark_colour": "#000000"}}).print_colour == "auto"
    with pytest.raises(MetaError, match="print.colour"):
        load_meta({**meta, "print": {"colour": "pink"}})
