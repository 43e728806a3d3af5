"""Synthetic exam pages: deterministic, truth inside the page, reading order, text."""

from __future__ import annotations

import numpy as np
import pytest

from vision.synth.exam import ANCHOR_STYLES, ExamPage, anchor_text, render_exam_page


def _inside(box: tuple[int, int, int, int], page: ExamPage) -> bool:
    x, y, w, h = box
    H, W = page.image.shape[:2]
    return x >= 0 and y >= 0 and w > 0 and h > 0 and x + w <= W and y + h <= H


@pytest.mark.parametrize("columns", [1, 2])
@pytest.mark.parametrize("lang", ["ko", "en", "mixed"])
def test_page_truth_is_consistent(columns: int, lang: str) -> None:
    page = render_exam_page(11, columns=columns, lang=lang)  # type: ignore[arg-type]
    assert page.image.shape == (2339, 1654) and page.image.dtype == np.uint8
    assert len(page.questions) >= 3
    numbers = [q.number for q in page.questions]
    assert numbers == list(range(numbers[0], numbers[0] + len(numbers)))
    assert {q.column for q in page.questions} <= set(range(columns))
    for q in page.questions:
        assert _inside(q.box_xywh, page)
        x, y, w, h = q.box_xywh
        assert page.image[y : y + h, x : x + w].min() < 100  # the box holds ink
    # reading order: column by column, top to bottom
    keys = [(q.column, q.box_xywh[1]) for q in page.questions]
    assert keys == sorted(keys)
    # question boxes do not overlap
    for a, b in zip(page.questions, page.questions[1:], strict=False):
        if a.column == b.column:
            assert a.box_xywh[1] + a.box_xywh[3] <= b.box_xywh[1]
    assert page.text == "\n".join(ln.text for ln in page.lines)
    assert all(_inside(ln.box_xywh, page) and ln.text.strip() for ln in page.lines)


def test_same_seed_same_pixels_other_seed_other_page() -> None:
    a = render_exam_page(5, columns=2, lang="mixed")
    b = render_exam_page(5, columns=2, lang="mixed")
    c = render_exam_page(6, columns=2, lang="mixed")
    assert np.array_equal(a.image, b.image) and a.questions == b.questions and a.text == b.text
    assert not np.array_equal(a.image, c.image)


def test_pages_cover_every_feature_across_seeds() -> None:
    pages = [render_exam_page(s, columns=1 + s % 2, lang="mixed") for s in range(24)]
    text = "\n".join(p.text for p in pages)
    for needle in ("①", "(1)", "²", "/", "[그림]", "다음 글을 읽고", "문제 "):
        assert needle in text, needle
    assert {p.anchor_style for p in pages} == set(ANCHOR_STYLES)
    for p in pages:  # the header and the page number are lines but never inside a question
        footer = p.lines[-1]
        fy = footer.box_xywh[1]
        assert all(q.box_xywh[1] + q.box_xywh[3] < fy for q in p.questions)
        assert all(q.box_xywh[1] > p.lines[0].box_xywh[1] + p.lines[0].box_xywh[3] for q in p.questions)


def test_anchor_styles() -> None:
    assert [anchor_text(s, 12) for s in ANCHOR_STYLES] == ["12.", "12)", "[12]", "문제 12"]


@pytest.mark.parametrize("kwargs", [{"columns": 3}, {"lang": "fr"}, {"dpi": 10}])
def test_bad_arguments(kwargs: dict[str, object]) -> None:
    with pytest.raises(ValueError):
        render_exam_page(1, **kwargs)  # type: ignore[arg-type]


def test_other_dpi_scales_the_page() -> None:
    page = render_exam_page(2, dpi=300)
    assert page.image.shape == (3508, 2480)
