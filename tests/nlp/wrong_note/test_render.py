"""The PDF: the input's text comes back out, lines break at its spaces, and glyphs are glyphs."""

from __future__ import annotations

import dataclasses
import hashlib
import io
from typing import Any

import numpy as np
import pypdfium2 as pdfium
import pytest

from nlp.errors import InputError, ModelError
from nlp.wrong_note import load_layout, parse_note, render_note
from nlp.wrong_note.fonts import FontChain

LONG_KO = (
    "다음 중 이차방정식 x² − 5x + 6 = 0 의 두 근의 합으로 옳은 것은? ① 1 ② 2 ③ 3 ④ 5 ⑤ 6 "
    "그리고 이 문장은 줄바꿈이 어절 단위로 일어나는지 확인하기 위해 충분히 길게 작성된 한국어 문장입니다. "
    "√2 ≤ π ≠ ∞, ∑ aₙ, ∫ f(x) dx, α + β = 5, 3 × 4 ÷ 2 ± 1, ∠ABC = 90°."
)
LONG_EN = (
    "Which of the following statements about prime numbers is NOT true? Mixed 한국어와 English 가 "
    "섞인 문장도 어절 단위로 줄을 바꿉니다 so that no word is ever cut in half at the end of a line."
)


def note_doc(**over: Any) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "enrollment_id": 17,
        "created_at": "2026-03-02 14:00",
        "items": [
            {"exam_id": 3, "exam_title": "3월 모의고사 수학", "question_id": 12, "answer": "②",
             "correct_answer": "④", "question_text": LONG_KO},
            {"exam_id": 3, "question_id": 14, "answer": None, "question_text": LONG_EN},
            {"exam_id": "W-7", "exam_title": "주간 테스트", "question_id": 2, "answer": "서울", "correct_answer": "부산"},
        ],
    }
    doc.update(over)
    return doc


def page_lines(pdf: bytes) -> list[list[str]]:
    doc = pdfium.PdfDocument(pdf)
    return [doc[i].get_textpage().get_text_range().replace("\r\n", "\n").split("\n") for i in range(len(doc))]


def find_run(lines: list[str], text: str) -> tuple[int, int] | None:
    """Consecutive lines that, joined by one space, are exactly ``text``."""
    for i in range(len(lines)):
        for j in range(i + 1, len(lines) + 1):
            joined = " ".join(lines[i:j])
            if joined == text:
                return i, j
            if len(joined) > len(text):
                break
    return None


def narrow_layout(extra_margin_mm: float = 50.0) -> Any:
    base = load_layout()
    pt = extra_margin_mm * 72 / 25.4
    top, right, bottom, left = base.margins_pt
    return dataclasses.replace(base, margins_pt=(top, right + pt, bottom, left + pt))


@pytest.mark.parametrize("layout", [None, narrow_layout()], ids=["a4", "narrow"])
def test_extracted_text_equals_the_input_and_breaks_fall_on_its_spaces(layout: Any) -> None:
    out = render_note(parse_note(note_doc()), layout)
    lines = [line for page in page_lines(out.pdf) for line in page]
    for source in (LONG_KO, LONG_EN):
        run = find_run(lines, source)
        assert run is not None, f"{source[:20]}... not found line-wise in {lines}"
        assert run[1] - run[0] >= 2  # it did wrap, and every break replaced one of its spaces
    text = "\n".join(lines)
    for needle in ("오답 노트", "학생 ID: 17", "생성일: 2026-03-02 14:00", "시험 3 · 3월 모의고사 수학",
                   "Q12 / 제출 답안: ② / 정답: ④", "Q14 / 제출 답안: (무응답)", "시험 W-7 · 주간 테스트",
                   "Q2 / 제출 답안: 서울 / 정답: 부산"):
        assert needle in text


def test_exams_in_order_with_their_items() -> None:
    lines = page_lines(render_note(parse_note(note_doc())).pdf)[0]
    order = [i for i, line in enumerate(lines) if line.startswith(("시험 ", "Q"))]
    assert [lines[i].split(" /")[0] for i in order] == ["시험 3 · 3월 모의고사 수학", "Q12", "Q14", "시험 W-7 · 주간 테스트", "Q2"]


def test_many_items_paginate_with_page_numbers() -> None:
    items = [{"exam_id": e, "question_id": q, "answer": "③", "question_text": LONG_KO} for e in (1, 2) for q in range(1, 31)]
    out = render_note(parse_note(note_doc(items=items)))
    pages = page_lines(out.pdf)
    assert out.pages == len(pages) > 3 and out.items == 60 and out.exams == 2
    for number, lines in enumerate(pages, start=1):
        assert lines[-1] == f"{number} / {out.pages}"
        assert not lines[-2].startswith("시험 ")  # no heading orphaned at the foot of a page
    flat = [line for page in pages for line in page[:-1]]  # footers aside, paragraphs may span pages
    assert sum(1 for line in flat if line.startswith("Q") and "제출 답안" in line) == 60
    starts = [i for i, line in enumerate(flat) if LONG_KO.startswith(line)]
    assert len(starts) == 60
    assert all(find_run(flat[i:i + 12], LONG_KO) is not None for i in starts)


def test_a_character_no_font_has_fails_before_drawing() -> None:
    doc = note_doc()
    doc["items"][1]["question_text"] = "사적 영역 문자 \U000f0001 는 상자로 찍히면 안 된다"
    with pytest.raises(InputError) as info:
        render_note(parse_note(doc))
    assert info.value.reason_code == "font_missing_glyph"
    assert "items[1].question_text" in info.value.message and "U+F0001" in info.value.message


def test_fallback_font_draws_what_nanum_lacks() -> None:
    layout = load_layout()
    nanum_only = FontChain(layout.regular_fonts[:1])
    assert nanum_only.missing("ℝ") == ["ℝ"]
    doc = note_doc()
    doc["items"][1]["question_text"] = "집합 ℝ 위의 함수"
    out = render_note(parse_note(doc))
    assert "집합 ℝ 위의 함수" in "\n".join(page_lines(out.pdf)[0])


def test_no_font_installed_is_a_clear_error() -> None:
    layout = dataclasses.replace(load_layout(), regular_fonts=("/nonexistent/font.ttf",))
    with pytest.raises(ModelError, match="font_missing"):
        render_note(parse_note(note_doc()), layout)


def _glyph_crops(pdf: bytes, chars: str, scale: float = 4.0) -> dict[str, np.ndarray]:
    """Render page 1 and cut out the box pdfium reports for the first occurrence of each char."""
    page = pdfium.PdfDocument(pdf)[0]
    text = page.get_textpage()
    gray = np.asarray(page.render(scale=scale, grayscale=True).to_pil().convert("L"))
    height_pt = page.get_height()
    all_text = text.get_text_range()
    crops: dict[str, np.ndarray] = {}
    for ch in chars:
        index = all_text.index(ch)
        left, bottom, right, top = text.get_charbox(index)
        x0, x1 = int(left * scale), int(np.ceil(right * scale))
        y0, y1 = int((height_pt - top) * scale), int(np.ceil((height_pt - bottom) * scale))
        crops[ch] = gray[y0:y1, x0:x1]
    return crops


def _tofu_pdf(chars: str) -> bytes:
    """What printing without the check would give: NanumGothic's .notdef box for chars it lacks."""
    from reportlab.pdfgen.canvas import Canvas

    from nlp.wrong_note.fonts import load_ttf

    name, _ = load_ttf(load_layout().regular_fonts[0])
    buf = io.BytesIO()
    c = Canvas(buf, invariant=1)
    c.setFont(name, 11)
    c.drawString(72, 700, chars)
    c.showPage()
    c.save()
    return buf.getvalue()


def test_rendered_hangul_and_symbols_are_glyphs_not_boxes() -> None:
    chars = "다음중이차방정식①②③④⑤√≤π∞"
    crops = _glyph_crops(render_note(parse_note(note_doc())).pdf, chars)
    digests = set()
    for ch, crop in crops.items():
        ink = float((crop < 128).mean())
        assert crop.size > 0 and 0.03 < ink < 0.8, f"{ch!r}: ink {ink:.2f}"
        digests.add(hashlib.sha1(crop.tobytes() + bytes(crop.shape)).hexdigest())
    assert len(digests) == len(chars)  # boxes would all look alike

    # Why ink is the test: NanumGothic's .notdef is an empty glyph, so text printed
    # without the coverage check would vanish (no ink) rather than show boxes, and
    # fonts whose .notdef is a box would print the same picture for every character.
    tofu = _tofu_pdf("\U000f0001\U000f0002")
    page = pdfium.PdfDocument(tofu)[0]
    gray = np.asarray(page.render(scale=4.0, grayscale=True).to_pil().convert("L"))
    assert not (gray < 128).any()
