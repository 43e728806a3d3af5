"""The PDF draws the layout where the raster does (rasterised with pypdfium2)."""

from pathlib import Path

import cv2
import numpy as np
import pypdfium2 as pdfium
import pytest

from omr.layout import Text, sheet_layout
from omr.render_pdf import write_layout_pdf, write_pdf
from omr.template import build_template, render_layout
from tests.omr._draw import pdf_raster

DPI = 150
INK_BELOW = 160


def _near(a: np.ndarray, b: np.ndarray, px: int) -> float:
    """Fraction of ``a``'s ink pixels within ``px`` pixels of ``b``'s ink."""
    grown = cv2.dilate(b.astype(np.uint8), np.ones((2 * px + 1, 2 * px + 1), np.uint8)) > 0
    return float((a & grown).sum() / a.sum())


@pytest.mark.parametrize("questions", [20, 50])
def test_pdf_shapes_match_the_raster_within_one_pixel(tmp_path: Path, questions: int) -> None:
    """Markers, rings, ID boxes and the name line: every ink pixel of one render
    lies within one pixel (0.17 mm) of the other's."""
    prims = [p for p in sheet_layout(build_template(questions)) if not isinstance(p, Text)]
    raster = render_layout(prims, 297.0, 210.0, DPI / 25.4)
    pdf = pdf_raster(write_layout_pdf(prims, 297.0, 210.0, tmp_path / "s.pdf"), raster.shape)
    a, b = pdf < INK_BELOW, raster < INK_BELOW
    assert _near(a, b, 1) >= 0.999
    assert _near(b, a, 1) >= 0.999


def test_whole_pdf_page_matches_the_raster(tmp_path: Path) -> None:
    """Text too (Helvetica in the PDF, Hershey in the raster): the same places within 2 px."""
    meta = build_template(20, title="Quiz")
    raster = render_layout(sheet_layout(meta), 297.0, 210.0, DPI / 25.4)
    pdf = pdf_raster(write_pdf(meta, tmp_path / "s.pdf"), raster.shape)
    a, b = pdf < INK_BELOW, raster < INK_BELOW
    assert _near(a, b, 2) >= 0.97
    assert _near(b, a, 2) >= 0.97


def test_pdf_page_is_a4_landscape_with_the_title(tmp_path: Path) -> None:
    pdf = pdfium.PdfDocument(str(write_pdf(build_template(10, title="Quiz"), tmp_path / "s.pdf")))
    try:
        assert len(pdf) == 1
        w_pt, h_pt = pdf[0].get_size()
        assert (round(w_pt / 72 * 25.4, 1), round(h_pt / 72 * 25.4, 1)) == (297.0, 210.0)
        assert pdf.get_metadata_dict()["Title"] == "Quiz"
        assert pdf[0].get_textpage().get_text_range().startswith("Quiz")
    finally:
        pdf.close()
