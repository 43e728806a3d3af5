"""aicore.page.pdf: one set of reason codes for a PDF that cannot be read; pages rendered at the caller's dpi."""

from __future__ import annotations

import io

import numpy as np
import pypdfium2 as pdfium
import pytest

from aicore.errors import AIError
from aicore.page.errors import PageLayerError
from aicore.page.pdf import looks_pageless, open_pdf, render_page

#: a page tree that counts no page (PDFium refuses to open it).
PAGELESS = (b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj 2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\n"
            b"trailer<</Root 1 0 R>>\n%%EOF")


def _pdf(pages: int = 1) -> bytes:
    doc = pdfium.PdfDocument.new()
    for _ in range(pages):
        doc.new_page(72 * 2.0, 72 * 3.0)  # 2 x 3 inches
    buf = io.BytesIO()
    doc.save(buf)
    doc.close()
    return buf.getvalue()


@pytest.mark.parametrize(
    ("data", "code"),
    [(b"", "pdf_unreadable"), (b"%PDF-1.4\n garbage", "pdf_unreadable"), (PAGELESS, "pdf_empty")],
    ids=["empty", "garbage", "pageless"],
)
def test_unreadable_pdfs_have_one_code_each(data: bytes, code: str) -> None:
    with pytest.raises(PageLayerError) as err:
        open_pdf(data)
    assert err.value.reason_code == code and isinstance(err.value, AIError) and not err.value.retryable


def test_looks_pageless_needs_a_zero_count_and_no_page() -> None:
    assert looks_pageless(PAGELESS) and not looks_pageless(_pdf())


@pytest.mark.parametrize(("gray", "shape"), [(True, (300, 200)), (False, (300, 200, 3))])
def test_render_page_at_the_dpi_the_caller_chooses(gray: bool, shape: tuple[int, ...]) -> None:
    pdf = open_pdf(_pdf(2))
    seen: list[tuple[float, float]] = []

    def dpi_for(w_pt: float, h_pt: float) -> float:
        seen.append((w_pt, h_pt))
        return 100.0

    try:
        image, dpi = render_page(pdf, 1, dpi_for=dpi_for, gray=gray)
    finally:
        pdf.close()
    assert image.shape == shape and image.dtype == np.uint8 and dpi == 100.0
    assert seen == [(144.0, 216.0)] and int(image.min()) == 255  # a blank page is white paper


def test_the_callers_own_error_passes_and_a_missing_page_is_unreadable() -> None:
    pdf = open_pdf(_pdf())

    def too_large(w_pt: float, h_pt: float) -> float:
        raise ValueError("too large")

    try:
        with pytest.raises(ValueError, match="too large"):
            render_page(pdf, 0, dpi_for=too_large, gray=True)
        with pytest.raises(PageLayerError) as err:
            render_page(pdf, 3, dpi_for=lambda w, h: 72.0, gray=True)
    finally:
        pdf.close()
    assert err.value.reason_code == "pdf_page_unreadable" and "page 4" in err.value.message
