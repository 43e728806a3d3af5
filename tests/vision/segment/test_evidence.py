"""Documents that are not exams: choice marks, contents lines, and pages whose numbered lines are headings (issue 16.5).

Pages are drawn here (200 dpi-like, Nanum Gothic): a specification page whose
chapter opens with ``1) 소개``, a contents page ``1) 제 1 절 소개 ...... 3``, and
exam pages with one question and its choices: circled, or labelled
``(1)``-``(5)`` / ``1)``-``5)`` in a row or one per line.
"""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image, ImageDraw

from vision.segment.anchors import is_heading, parse_anchor
from vision.segment.evidence import (
    _choice_label,
    count_choice_marks,
    has_exam_evidence,
    is_contents_line,
)
from vision.segment.layout import analyse_layout
from vision.synth.fonts import load_font

PROSE = "이 설명서는 오픈소스 라이선스 준수 프로그램의 핵심 요건을 정의하며 조직이 이를 따르도록 돕는다."


def _page(lines: list[tuple[int, str]], size_px: int = 30) -> np.ndarray:
    """A white 1654x2339 page with ``(indent_px, text)`` lines, one every 1.7 text sizes (a blank line for ``""``)."""
    img = Image.new("L", (1654, 2339), 255)
    draw = ImageDraw.Draw(img)
    font = load_font("gothic", size_px)
    y = 200
    for indent, text in lines:
        if text:
            draw.text((200 + indent, y), text, font=font, fill=0)
        y += int(1.7 * size_px)
    return np.asarray(img)


def test_question_numbers_never_start_with_zero_and_articles_are_headings() -> None:
    # "OSS:" read as "055:", "G1:" as "061:": not question numbers
    assert parse_anchor("065: 『055") is None and parse_anchor("062:") is None
    assert parse_anchor("10. 다음") is not None
    assert is_heading("제 3 조(목적)") and is_heading("제3조 이 규정은") and is_heading("1) 제 1 장 총칙")
    assert not is_heading("제 3 자가 제공한")


def test_circled_choices_are_counted_and_hollow_letters_are_not() -> None:
    text = np.zeros((200, 600), bool)
    img = np.zeros((200, 600), np.uint8)
    import cv2

    for k in range(5):  # ① .. ⑤: a ring with a digit inside
        cv2.circle(img, (50 + 100 * k, 60), 15, 255, 2)
        cv2.putText(img, str(k + 1), (43 + 100 * k, 67), cv2.FONT_HERSHEY_PLAIN, 1.0, 255, 1)
    for k in range(5):  # ㅇ: an empty ring
        cv2.circle(img, (50 + 100 * k, 150), 12, 255, 2)
    text |= img > 0
    assert count_choice_marks(text, 30.0) == 5
    assert count_choice_marks(text[100:], 30.0) == 0


def test_dot_leader_makes_a_contents_line() -> None:
    page = _page([(0, "1) 제 1 절 소개 . . . . . . . . . . . . . . . . . . . . . 3"), (0, PROSE)])
    rows = np.flatnonzero((page < 128).any(axis=1))
    first = rows[rows < 245]
    second = rows[rows >= 245]
    assert is_contents_line(page, int(first[0]), int(first[-1]) + 1, 200, 1500, 30.0)
    assert not is_contents_line(page, int(second[0]), int(second[-1]) + 1, 200, 1500, 30.0)


def test_evidence_rule() -> None:
    assert not has_exam_evidence(read_questions=1, ranges=0, choice_marks=1)
    assert has_exam_evidence(read_questions=1, ranges=0, choice_marks=5)


def test_chapter_heading_on_a_page_of_prose_is_not_a_question() -> None:
    lines = [(0, "1) 소개"), (0, "")] + [(0, PROSE)] * 6 + [(0, ""), (0, "1.1 정책")] + [(0, PROSE)] * 5
    questions, _blocks = analyse_layout(_page(lines))
    assert questions == ()


def test_contents_page_returns_no_questions() -> None:
    dots = " ." * 22
    lines = [(0, f"{k}) 제 {k} 절 요건{dots} {k + 2}") for k in (1, 2, 3, 4)]
    questions, _blocks = analyse_layout(_page(lines))
    assert questions == ()


def test_single_question_with_circled_choices_is_kept() -> None:
    lines = [(0, "1. 다음 중 옳은 것은?"), (0, PROSE), (40, "① 가"), (40, "② 나"), (40, "③ 다"), (40, "④ 라"), (40, "⑤ 마")]
    questions, _blocks = analyse_layout(_page(lines))
    assert [q.number for q in questions] == [1]


@pytest.mark.parametrize(
    ("number", "choices"),
    [
        (1, [(40, "(1) 봄      (2) 여름      (3) 가을      (4) 겨울      (5) 없음")]),
        (3, [(40, f"({k}) {c}") for k, c in zip(range(1, 6), "가나다라마", strict=True)]),
        (7, [(40, "1) 정부는 시장에 개입한다")] + [(40, f"{k}) {c}") for k, c in zip(range(2, 6), "나다라마", strict=True)]),
    ],
    ids=["paren-row", "paren-column", "bracket-column"],
)
def test_single_question_with_labelled_or_few_circled_choices_is_kept(number: int, choices: list[tuple[int, str]]) -> None:
    # the known cost of the evidence rule before: no circled marks counted, one question read -> nothing returned
    lines = [(0, f"{number}. 다음 중 옳은 것은?"), (0, PROSE), *choices]
    questions, _blocks = analyse_layout(_page(lines))
    assert [q.number for q in questions] == [number]


def test_enumeration_inside_prose_is_not_choice_evidence() -> None:
    # "(1) (2) (3) (4)" mid-sentence under a chapter heading: no item starts with them
    lines = [(0, "1) 소개"), (0, PROSE), (0, "이 문서는 (1) 정의, (2) 요건, (3) 절차, (4) 부록으로 구성된다."), (0, PROSE)]
    questions, _blocks = analyse_layout(_page(lines))
    assert questions == ()


def test_three_circled_choices_alone_are_not_evidence() -> None:
    # known gap: rule documents mark paragraphs (1), (2), (3) with circled digits, so three rings are not enough
    lines = [(0, "2. 다음 중 옳은 것은?"), (0, PROSE), (40, "① 가        ② 나        ③ 다")]
    assert analyse_layout(_page(lines))[0] == ()


def test_choice_labels_parse() -> None:
    assert [_choice_label(t) for t in ("(1) 봄", "[2]", "3) 다", "l) 가", "④", "(6)", "이", "12.")] == [1, 2, 3, 1, 4, None, None, None]
