"""The card's own furniture in the meta: oval bubbles sampled as ovals, extra ovals read or ignored,
write-in boxes (``bubble``, ``extra_ovals``, ``write_in``; docs/omr-meta.md).

The sample is the pink card photo of ``tests/omr/test_dropout.py`` (its 결시 oval is empty).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from omr.compiled import compile_sheet
from omr.errors import MetaError
from omr.grade import grade_image
from omr.meta import load_meta
from omr.types import BubbleShape, ExtraOval, WriteIn

ASSETS = Path(__file__).parent / "assets" / "korean_card"
CARD = {"bubble": {"shape": "oval", "width": 2.5, "height": 5.0, "label_inside": True},
        "extra_ovals": [{"id": "결시", "center": {"x": 113.7, "y": 14.0}, "use": "field"}],
        "write_in": [{"x": 14.0, "y": 30.5, "width": 4.2, "height": 8.0}]}


def _meta(**extra: Any) -> dict[str, Any]:
    return {**json.loads((ASSETS / "meta.json").read_text("utf-8")), **extra}


def test_card_blocks_are_parsed() -> None:
    sheet = load_meta(_meta(**CARD))
    assert sheet.bubble == BubbleShape("oval", 2.5, 5.0, 0.0)
    assert sheet.extra_ovals == (ExtraOval("결시", 113.7, 14.0, "field"),)
    assert sheet.write_in == (WriteIn(14.0, 30.5, 4.2, 8.0),)
    plain = load_meta(_meta())
    assert (plain.bubble, plain.extra_ovals, plain.write_in) == (None, (), ())


@pytest.mark.parametrize(("block", "code"), [
    ({"bubble": {"shape": "oval", "width": 2.5}}, "meta_invalid"),  # an oval needs both sides
    ({"bubble": {"shape": "oval", "width": 2.5, "height": 30}}, "meta_absurd_size"),
    ({"bubble": {"shape": "star"}}, "meta_invalid"),
    ({"extra_ovals": [{"id": "a", "center": {"x": 5, "y": 5}, "use": "maybe"}]}, "meta_invalid"),
    ({"extra_ovals": [{"id": "a", "center": {"x": 5, "y": 5}}] * 2}, "meta_invalid"),  # duplicated id
    ({"write_in": [{"x": 100, "y": 5, "width": 40, "height": 5}]}, "meta_bubble_off_page"),
])
def test_card_blocks_are_validated(block: dict[str, Any], code: str) -> None:
    with pytest.raises(MetaError) as err:
        load_meta(_meta(**block))
    assert err.value.reason_code == code


def test_oval_bubbles_are_sampled_as_ovals() -> None:
    # the inner oval reaches 1.85 mm up and down (5 / 2 - 0.65), the circle of r = 1.25 mm only 0.6 mm
    ovals = compile_sheet(load_meta(_meta(**CARD)), 6.0).masks("answers")
    circles = compile_sheet(load_meta(_meta()), 6.0).masks("answers")
    assert np.abs(ovals.inner_off[:, 0]).max() == pytest.approx(1.85 * 6, abs=1)
    assert np.abs(ovals.inner_off[:, 1]).max() == pytest.approx(0.6 * 6, abs=1)
    assert np.abs(circles.inner_off).max() == pytest.approx(0.6 * 6, abs=1)
    turned = compile_sheet(load_meta(_meta(bubble={**CARD["bubble"], "rotation": 90})), 6.0).masks("answers")
    assert np.abs(turned.inner_off[:, 1]).max() == pytest.approx(1.85 * 6, abs=1)


def test_card_read_with_ovals_and_its_extra_oval() -> None:
    truth = json.loads((ASSETS / "truth.json").read_text())
    r = grade_image((ASSETS / "pink_photo.jpg").read_bytes(), _meta(**CARD))
    assert r["review"]["reasons"] == []
    assert r["identifier"]["identifier"] == truth["identifier"]
    assert {str(a["question_id"]): a["detected"] for a in r["answers"]} == truth["answers"]
    (absent,) = r["extra_ovals"]
    assert (absent["id"], absent["marked"], absent["status"]) == ("결시", False, "blank")
    ignored = grade_image((ASSETS / "pink_photo.jpg").read_bytes(), _meta(**{**CARD, "extra_ovals": [
        {"id": "결시", "center": {"x": 113.7, "y": 14.0}, "use": "ignore"}]}))
    assert "extra_ovals" not in ignored
