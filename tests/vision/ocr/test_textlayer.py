"""vision.ocr.textlayer and the engine's page-by-page choice between a PDF's text layer and OCR.

Samples in ``assets/`` (``make_assets.py`` wrote them): a born-digital page,
the same page as an image only, and that image under an invisible garbage
OCR layer.
"""

from __future__ import annotations

import io
import time
from pathlib import Path

import pypdfium2 as pdfium
import pytest

from vision.ocr import OCROptions, recognize
from vision.ocr.textlayer import TextLayerStats, judge, read_text_layers

ASSETS = Path(__file__).parent / "assets"
TRUTH = (ASSETS / "grainy.txt").read_text(encoding="utf-8")


def _squash(text: str) -> str:
    return "".join(text.split())


def test_text_layer_is_read_exactly_as_pdf_text() -> None:
    data = (ASSETS / "text_layer.pdf").read_bytes()
    recognize(data, OCROptions(engine="tesseract"))  # imports warm
    t0 = time.perf_counter()
    result = recognize(data, OCROptions(engine="tesseract"))
    elapsed_ms = (time.perf_counter() - t0) * 1000
    assert result.engine == "pdf_text" and result.status == "ok" and result.confidence == 1.0
    assert result.text == TRUTH.strip()  # exact, lines and word spaces included
    page = result.pages[0]
    assert (page.width, page.height) == (round(420 * 200 / 72), round(200 * 200 / 72))
    assert page.to_dict()["engine"] == "pdf_text" and page.to_dict()["status"] == "ok"
    first = page.lines[0].words[0]
    assert first.text == "1." and 50 <= first.box[0] <= 70 and 75 <= first.box[1] <= 100  # 20 pt from the left, ~40 pt down
    assert elapsed_ms < 500  # milliseconds, not an OCR second (generous: a shared CI box)


def test_image_only_pdf_is_ocred() -> None:
    result = recognize((ASSETS / "scan.pdf").read_bytes(), OCROptions(engine="tesseract"))
    assert result.engine == "tesseract" and result.pages[0].text_layer == "no_text"
    assert "다음글의내용과" in _squash(result.text)


def test_poor_hidden_ocr_layer_is_not_trusted() -> None:
    layers = read_text_layers((ASSETS / "hidden_garbage.pdf").read_bytes(), dpi=200, max_pages=5, max_pixels=10**8)
    assert layers[0].stats.invisible == layers[0].stats.chars and not layers[0].usable
    assert layers[0].reason == "poor_hidden_layer"
    result = recognize((ASSETS / "hidden_garbage.pdf").read_bytes(), OCROptions(engine="tesseract"))
    assert result.engine == "tesseract" and result.pages[0].text_layer == "poor_hidden_layer"
    assert "사과S" not in result.text


def test_force_ocr_reads_the_pixels() -> None:
    result = recognize((ASSETS / "text_layer.pdf").read_bytes(), OCROptions(engine="tesseract", force_ocr=True))
    assert result.engine == "tesseract" and result.pages[0].text_layer == "forced_ocr"
    assert "OSS" in result.text  # capitals stay letters (not "055")


def test_mixed_document_is_decided_page_by_page() -> None:
    out = pdfium.PdfDocument.new()
    for name in ("scan.pdf", "text_layer.pdf"):
        src = pdfium.PdfDocument((ASSETS / name).read_bytes())
        out.import_pages(src)
    buf = io.BytesIO()
    out.save(buf)
    result = recognize(buf.getvalue(), OCROptions(engine="tesseract"))
    assert [p.engine for p in result.pages] == ["tesseract", "pdf_text"]
    assert result.engine == "pdf_text+tesseract"


@pytest.mark.parametrize(
    ("stats", "expected"),
    [
        (TextLayerStats(chars=0, suspect=0, invisible=0, word_shape_share=1.0, image_share=0.0), (False, "no_text")),
        (TextLayerStats(chars=5, suspect=0, invisible=0, word_shape_share=1.0, image_share=0.0), (False, "no_text")),
        (TextLayerStats(chars=500, suspect=20, invisible=0, word_shape_share=1.0, image_share=0.0), (False, "unmapped")),
        (TextLayerStats(chars=500, suspect=5, invisible=0, word_shape_share=1.0, image_share=0.0), (True, "ok")),
        (TextLayerStats(chars=500, suspect=0, invisible=500, word_shape_share=0.97, image_share=0.9, ink_coverage=0.95),
         (True, "ok")),
        (TextLayerStats(chars=500, suspect=0, invisible=500, word_shape_share=0.97, image_share=0.9, ink_coverage=0.4),
         (False, "poor_hidden_layer")),
        (TextLayerStats(chars=500, suspect=0, invisible=0, word_shape_share=0.97, image_share=0.95), (False, "poor_hidden_layer")),
    ],
)
def test_judge(stats: TextLayerStats, expected: tuple[bool, str]) -> None:
    assert judge(stats) == expected
