"""omr/propose.py: a meta proposed from a scan of a blank card (``ai-worker omr meta-from-image``)."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest

from omr.errors import AlignmentError, ImageError
from omr.meta import load_meta
from omr.propose import propose_meta, propose_meta_from_file

BLANK = Path(__file__).parent / "assets" / "blank_card"


def _centres(meta: dict) -> dict[tuple[str, int, str], tuple[float, float]]:
    out = {("q", q["question_number"], c["label"]): (c["center"]["x"], c["center"]["y"])
           for q in meta["questions"] for c in q["choices"]}
    out.update({("id", b["digit_index"], str(b["number"])): (b["center"]["x"], b["center"]["y"])
                for b in meta["identifier"]["bubbles"]})
    return out


def test_an_empty_page_has_no_grid() -> None:
    with pytest.raises(AlignmentError):
        propose_meta(np.full((400, 300, 3), 250, np.uint8), dpi=150)


def test_what_is_not_an_image_is_refused(tmp_path: Path) -> None:
    junk = tmp_path / "blank.jpg"
    junk.write_bytes(b"not an image at all, really")
    with pytest.raises(ImageError):
        propose_meta_from_file(junk, dpi=150)


def test_the_korean_blank_card_is_proposed_as_printed() -> None:
    """A pink 20-question card scanned at 150 dpi (bench/_card_draw.py): every bubble within 0.3 mm."""
    truth = json.loads((BLANK / "truth_meta.json").read_text())
    proposal = propose_meta_from_file(BLANK / "pink20_150dpi.jpg", dpi=150)
    meta = proposal.meta
    load_meta(meta)
    want, got = _centres(truth), _centres(meta)
    assert set(got) == set(want)  # 20 questions of 1..5, a 6-digit ID grid of 0..9
    worst = max(math.dist(want[k], got[k]) for k in want)
    assert worst <= 0.3
    assert meta["bubble"]["shape"] == "oval" and abs(meta["bubble"]["height"] - 5.0) < 0.4
    assert meta["timing"]["side"] == "left" and len(meta["timing"]["bars"]) == 10
    assert len(meta["extra_ovals"]) == 1  # the 결시 oval is not a question
    r, g, b = (int(meta["print"]["colour"][i:i + 2], 16) for i in (1, 3, 5))
    assert r > g + 30 and r > b  # pink
    assert proposal.overlay.shape[:2] == (round(truth["page"]["size"]["height"] * 150 / 25.4),
                                          round(truth["page"]["size"]["width"] * 150 / 25.4))
