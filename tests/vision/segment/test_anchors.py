"""Anchor parsing (pure) and the one-call Tesseract strip (real Tesseract)."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image, ImageDraw

from vision.segment.anchors import Anchor, parse_anchor, read_anchor_texts
from vision.synth.fonts import load_font


@pytest.mark.parametrize(
    ("text", "want"),
    [
        ("", None),
        ("다음 중 옳은 것은?", None),
        ("2배 한 값은", None),
        ("(1) 사과", Anchor("question", 1, 1)),  # a bracketed number parses; the layout keeps choices off the margin
        ("1. 다음", Anchor("question", 1, 1)),
        ("12) Find", Anchor("question", 12, 12)),
        ("3, Which", Anchor("question", 3, 3)),
        ("[7]", Anchor("question", 7, 7)),
        ("(3] x", Anchor("question", 3, 3)),
        ("[31", Anchor("question", 3, 3)),
        ("문제 14", Anchor("question", 14, 14)),
        ("문제14", Anchor("question", 14, 14)),
        ("그 제 9", Anchor("question", 9, 9)),
        ("[4~6] 다음 글을", Anchor("range", 4, 6)),
        ("[8-9]", Anchor("range", 8, 9)),
        ("[8~91", Anchor("range", 8, 9)),
        ("[9~2]", None),  # a backwards range is nothing
        ("1234.", None),
        ("0.", None),
        ("l.", None),
        ("1l.", Anchor("question", 11, 11)),
    ],
)
def test_parse_anchor(text: str, want: Anchor | None) -> None:
    assert parse_anchor(text) == want


def _crop(text: str) -> np.ndarray:
    font = load_font("gothic_bold", 30)
    img = Image.new("L", (int(font.getlength(text)) + 20, 50), 255)
    ImageDraw.Draw(img).text((10, 8), text, font=font, fill=0)
    return np.asarray(img)


def test_one_call_reads_every_crop_in_order() -> None:
    texts = ["12.", "[3]", "문제 4", "7)", "[1~2]"]
    got = read_anchor_texts([_crop(t) for t in texts], text_px=26)
    parsed = [parse_anchor(g) for g in got]
    assert parsed[0] == Anchor("question", 12, 12), got
    # a lone bracketed digit is sometimes read with a stray 1 ("[13]"): the layout's sequence check fixes it
    assert parsed[1] in (Anchor("question", 3, 3), Anchor("question", 13, 13)), got
    assert parsed[2:] == [Anchor("question", 4, 4), Anchor("question", 7, 7), Anchor("range", 1, 2)], got


def test_no_crops_no_call() -> None:
    assert read_anchor_texts([], text_px=20) == []
