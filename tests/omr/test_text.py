"""Korean on the sheet (issue 15, point 6): the Nanum chain in the PNG and the PDF, checked glyph by glyph."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pypdfium2 as pdfium
import pytest

from omr.errors import MetaError
from omr.layout import TITLE_BASELINE_Y_MM, TITLE_CAP_MM, TITLE_X_MM, Text, sheet_layout
from omr.meta import meta_from_legacy_questions
from omr.template import build_template, render_layout, render_sheet, write_sheet
from omr.text import chain_for, uses_ttf
from tests.omr._draw import pdf_raster

TITLE = "3월 모의고사 수학"
DPI = 150
PX_PER_MM = DPI / 25.4
INK_BELOW = 160


def _pdf_text(path: Path) -> str:
    pdf = pdfium.PdfDocument(str(path))
    try:
        return str(pdf[0].get_textpage().get_text_range())
    finally:
        pdf.close()


#: the top edge marker's left side (5 mm square centred on the page's width)
EDGE_MARKER_LEFT_MM = 297 / 2 - 2.5


def _title_band(img: np.ndarray) -> np.ndarray:
    """The header band the title is drawn in, from its start to the top edge marker (ink mask)."""
    y0 = round((TITLE_BASELINE_Y_MM - 2 * TITLE_CAP_MM) * PX_PER_MM)
    y1 = round((TITLE_BASELINE_Y_MM + TITLE_CAP_MM) * PX_PER_MM)
    x0, x1 = round((TITLE_X_MM - 1) * PX_PER_MM), round(EDGE_MARKER_LEFT_MM * PX_PER_MM)
    return img[y0:y1, x0:x1] < INK_BELOW


def _near(a: np.ndarray, b: np.ndarray, px: int) -> float:
    grown = cv2.dilate(b.astype(np.uint8), np.ones((2 * px + 1, 2 * px + 1), np.uint8)) > 0
    return float((a & grown).sum() / a.sum())


def _hershey(text: str) -> np.ndarray:
    """The title as the sheet drew it before: Hershey, which prints '?' for every Hangul syllable."""
    t = next(p for p in sheet_layout(build_template(20, title="X")) if isinstance(p, Text) and p.bold)
    img = np.full((round(210 * PX_PER_MM), round(297 * PX_PER_MM)), 255, np.uint8)
    scale = t.cap_mm * PX_PER_MM / 22.0
    cv2.putText(img, text.encode("ascii", "replace").decode(), (round(t.x_mm * PX_PER_MM), round(t.y_mm * PX_PER_MM)),
                cv2.FONT_HERSHEY_SIMPLEX, scale, 0, max(1, round(t.stroke_mm * PX_PER_MM)), cv2.LINE_AA)
    return img


def test_the_chain_is_installed() -> None:
    """fonts-nanum and fonts-dejavu-core (scripts/ensure_system.sh, the cpu-vision image)."""
    assert [Path(p).name for p in chain_for(True).paths] == ["NanumGothicBold.ttf", "DejaVuSans-Bold.ttf"]
    assert chain_for(True).missing(TITLE) == []


def test_korean_title_is_text_in_the_pdf(tmp_path: Path) -> None:
    paths = write_sheet(build_template(20, title=TITLE), tmp_path, dpi=DPI)
    assert _pdf_text(paths["pdf"]).startswith(TITLE)
    pdf = pdfium.PdfDocument(str(paths["pdf"]))
    try:
        assert pdf.get_metadata_dict()["Title"] == TITLE
    finally:
        pdf.close()


def test_korean_title_in_the_png_is_hangul_where_the_pdf_draws_it(tmp_path: Path) -> None:
    """The PNG's title ink lies on the PDF's (whose text is the title), and is not Hershey's '?' boxes."""
    paths = write_sheet(build_template(20, title=TITLE), tmp_path, dpi=DPI)
    png = cv2.imread(str(paths["png"]), cv2.IMREAD_GRAYSCALE)
    png_band, pdf_band = _title_band(png), _title_band(pdf_raster(paths["pdf"], png.shape))
    assert png_band.sum() > 500
    assert _near(png_band, pdf_band, 2) >= 0.97 and _near(pdf_band, png_band, 2) >= 0.97
    question_marks = _title_band(_hershey(TITLE))
    overlap = (png_band & question_marks).sum() / (png_band | question_marks).sum()
    assert overlap < 0.3


def test_different_korean_titles_draw_different_pixels() -> None:
    a = _title_band(render_sheet(build_template(20, title="3월 모의고사 수학"), dpi=DPI))
    b = _title_band(render_sheet(build_template(20, title="4월 모의고사 국어"), dpi=DPI))
    assert a.sum() > 500 and b.sum() > 500
    assert (a ^ b).sum() > 0.2 * a.sum()


def test_ascii_titles_keep_the_hershey_raster() -> None:
    """Only text beyond printable ASCII changes font; tests/omr/test_layout.py pins the rest."""
    assert not uses_ttf("A long title") and uses_ttf(TITLE)
    quiz = _title_band(render_sheet(build_template(20, title="Quiz"), dpi=DPI))
    assert (quiz == _title_band(_hershey("Quiz"))).all()


def test_a_long_korean_title_keeps_the_edge_markers_quiet_zone() -> None:
    title = "2026학년도 3월 전국연합학력평가 모의고사 수학 영역 확률과 통계 선택 문항 포함"
    band = _title_band(render_sheet(build_template(20, title=title), dpi=DPI))
    cols = np.flatnonzero(band.any(axis=0))
    assert cols.size and cols[-1] < band.shape[1] - round(4.5 * PX_PER_MM)  # 5 mm, less anti-aliasing
    assert cols[-1] > band.shape[1] - round(8 * PX_PER_MM)  # drawn smaller, not cut


def test_korean_bubble_labels_are_drawn_in_both_renders(tmp_path: Path) -> None:
    """A legacy meta's labels ("가", "나") are drawn like the title: glyphs, not '?'."""
    qs = [{"question_id": 1, "choices": [{"label": lab, "center": {"x": x, "y": 50}, "r": 2.4}
                                         for lab, x in (("가", 100), ("나", 107))]}]
    meta = meta_from_legacy_questions(qs).raw
    prims = sheet_layout(meta)
    ga = render_layout([p for p in prims if isinstance(p, Text) and p.text == "가"], 297, 210, PX_PER_MM)
    na = render_layout([p for p in prims if isinstance(p, Text) and p.text == "나"], 297, 210, PX_PER_MM)
    ga_ink = ga[round(45 * PX_PER_MM):round(55 * PX_PER_MM), round(95 * PX_PER_MM):round(105 * PX_PER_MM)] < INK_BELOW
    na_ink = na[round(45 * PX_PER_MM):round(55 * PX_PER_MM), round(102 * PX_PER_MM):round(112 * PX_PER_MM)] < INK_BELOW
    assert ga_ink.sum() > 10 and na_ink.sum() > 10 and (ga_ink != na_ink).any()


@pytest.mark.parametrize("title", ["수학 \U000f0000", "\U0001d11e 음악"])
def test_a_title_no_font_draws_is_refused_with_a_reason(title: str, tmp_path: Path) -> None:
    with pytest.raises(MetaError) as info:
        build_template(20, title=title)
    assert info.value.reason_code == "font_missing_glyph"
    assert "U+" in info.value.message and "NanumGothicBold.ttf" in info.value.message
    meta = build_template(20)
    meta["title"] = title  # a meta from elsewhere: refused before anything is written
    with pytest.raises(MetaError, match="font_missing_glyph"):
        write_sheet(meta, tmp_path / "out", dpi=60)
    assert not (tmp_path / "out").exists()
    render_sheet(meta, dpi=30)  # grading renders it anyway: a font never fails a grade
