"""vision.ocr.leaders: dot leaders of contents pages found geometrically and kept out of the read."""

from __future__ import annotations

import sys
from pathlib import Path

import cv2
import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageFont

from vision.ocr.leaders import find_leaders
from vision.ocr.pipeline import PageOptions, read_page
from vision.ocr.preprocess import estimate_glyph_height_px, ink_mask
from vision.ocr.quality import repeated_share

sys.path.insert(0, str(Path(__file__).resolve().parents[3] / "bench"))
from _ocr_cer import CERCounter  # noqa: E402

NANUM = "/usr/share/fonts/truetype/nanum/"
ENTRIES = (("제1장 총칙", "3"), ("1.1 목적 및 범위", "5"), ("제2장 시험 운영 계획", "12"), ("2.1 채점 기준", "17"))
#: the contents sample reads within this CER with leaders erased (measured 0.0-0.03 on the
#: independent generator's contents pages; the leaders read as Hangul runs gave 180-270 %).
MAX_CER = 0.10


def _contents(leader: str, pitch_px: float, *, dots: bool = True) -> tuple[np.ndarray, str]:
    """A small contents page: entries, a leader drawn dot by dot at ``pitch_px``, right-aligned page numbers."""
    img = Image.new("L", (1300, 60 + 70 * len(ENTRIES)), 255)
    draw = ImageDraw.Draw(img)
    face = ImageFont.truetype(NANUM + "NanumGothic.ttf", 32)
    for k, (entry, num) in enumerate(ENTRIES):
        y = 40 + 70 * k
        draw.text((60, y), entry, font=face, fill=0)
        x = draw.textbbox((60, y), entry, font=face)[2] + 16
        right = 1240 - draw.textlength(num, font=face)
        draw.text((right, y), num, font=face, fill=0)
        while dots and x + 20 < right:
            draw.text((x, y), leader, font=face, fill=0)
            x += pitch_px
    return np.asarray(img, dtype=np.uint8), "\n".join(f"{e} {n}" for e, n in ENTRIES)


@pytest.mark.parametrize(("leader", "pitch"), [(".", 14.0), ("·", 16.0), ("…", 32.0)])
def test_leaders_are_found_and_text_is_not(leader: str, pitch: float) -> None:
    page, _ = _contents(leader, pitch)
    text_only = ink_mask(_contents(leader, pitch, dots=False)[0], local=False)
    ink = ink_mask(page, local=False)
    leader_ink = ink & (1 - text_only)
    mask = find_leaders(ink, glyph_px=30.0)
    assert np.count_nonzero(mask & leader_ink) >= 0.95 * np.count_nonzero(leader_ink)  # every dot
    assert not (mask & text_only).any()  # no entry, no page number


def test_periods_and_numbers_are_not_leaders() -> None:
    img = Image.new("L", (1200, 120), 255)
    draw = ImageDraw.Draw(img)
    draw.text((40, 40), "1.2.3. 그리고... a.b.c.d.e.f 3.14 ... 끝.", font=ImageFont.truetype(NANUM + "NanumGothic.ttf", 32), fill=0)
    ink = ink_mask(np.asarray(img, dtype=np.uint8), local=False)
    assert not find_leaders(ink, glyph_px=30.0).any()


def test_rows_of_dots_chain_along_their_own_row() -> None:
    # two leaders one above the other, dots at the same x: each is a chain of its row (not a zigzag across
    # rows); a third row of dots twice too big beside small ones is not joined to them
    ink = np.zeros((120, 420), np.uint8)
    for top in (20, 60):
        ink[top - 14 : top + 4, 10:28] = 1                      # the entry's last letter
        for x in range(40, 340, 10):
            ink[top : top + 3, x : x + 3] = 1
        ink[top - 14 : top + 4, 360:378] = 1                    # the page number
    for k, x in enumerate(range(40, 340, 10)):
        side = 3 if k % 2 else 8                                # sizes alternate past the ratio: no chain
        ink[100 : 100 + side, x : x + side] = 1
    mask = find_leaders(ink, glyph_px=20.0)
    dots = np.zeros_like(ink)
    dots[:90, 35:345] = ink[:90, 35:345]
    assert ((mask & dots) == dots).all()
    assert not mask[95:115].any() and not mask[:, :30].any() and not mask[:, 355:].any()


def test_leaders_do_not_shrink_the_text_height() -> None:
    page, _ = _contents(".", 14.0)
    ink = ink_mask(page, local=False)
    glyph = estimate_glyph_height_px(np.where(find_leaders(ink) > 0, np.uint8(0), ink).astype(np.uint8))
    assert 20 <= glyph <= 45


def test_contents_page_reads_without_leader_garbage() -> None:
    page, truth = _contents(".", 14.0)
    read = read_page(page)
    c = CERCounter()
    c.add(truth, read.text)
    assert c.cer() <= MAX_CER, read.text
    assert read.status == "ok"
    assert repeated_share(read.text) == 0.0
    off = read_page(page, PageOptions(leaders=False))  # what it was: leaders read as letters
    c_off = CERCounter()
    c_off.add(truth, off.text)
    assert c_off.cer() > c.cer()


def test_repeated_syllables_flag_a_confident_read() -> None:
    assert repeated_share("제1장 총칙 3\n1.1 목적 및 범위 5 ... 000") == 0.0
    assert repeated_share("제1장 총칙 이해하라아아나아아아아마마아아 3") > 0.02


def test_leaders_survive_blur_and_grain() -> None:
    """Dense dots, blurred so that neighbours run together, with grain between them, are still found."""
    page, _ = _contents(".", 9.0)
    text_only = ink_mask(_contents(".", 9.0, dots=False)[0], local=False)
    leader_ink = ink_mask(page, local=False) & (1 - text_only)
    rng = np.random.default_rng(3)
    noisy = cv2.GaussianBlur(page.astype(np.float64) * 0.8 + 30, (0, 0), 1.3) + rng.normal(0, 12, page.shape)
    ink = ink_mask(np.clip(noisy, 0, 255).astype(np.uint8), local=True)
    mask = find_leaders(ink)  # before the text height is known, as prepare_page calls it
    assert np.count_nonzero(mask & leader_ink) >= 0.8 * np.count_nonzero(leader_ink)
    assert np.count_nonzero(mask & text_only) <= 0.02 * np.count_nonzero(text_only)
