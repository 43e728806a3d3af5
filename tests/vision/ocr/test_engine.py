"""vision.ocr.engine: engine choice, auto fallback from Google to Tesseract, PDFs page by page."""

from __future__ import annotations

import io

import cv2
import numpy as np
import pytest
from PIL import Image

from tests.vision.ocr._cer import cer
from tests.vision.ocr._render import text_page
from tests.vision.ocr._vision_server import fake_vision, word
from vision.errors import EngineError, EngineUnavailableError, PageError
from vision.ocr import GoogleConfig, OCROptions, recognize


def _png() -> bytes:
    ok, buf = cv2.imencode(".png", text_page([(30, 40, "① 정답 answer")], (600, 140)))
    assert ok
    return bytes(buf)


def _pdf(pages: int) -> bytes:
    img = Image.fromarray(text_page([(30, 40, "② 두 번째 page")], (600, 140)))
    buf = io.BytesIO()
    img.save(buf, format="PDF", save_all=True, append_images=[img] * (pages - 1), resolution=100)
    return buf.getvalue()


def test_unknown_engine() -> None:
    with pytest.raises(EngineError) as err:
        OCROptions(engine="paddle")
    assert err.value.reason_code == "ocr_engine_unknown"


def test_auto_is_tesseract_without_google() -> None:
    assert OCROptions(engine="auto").resolved_engine == "tesseract"
    assert OCROptions(engine="auto", google=GoogleConfig(endpoint="http://x")).resolved_engine == "google"


def test_tesseract_reads_an_image_and_reports_timings() -> None:
    progress: list[tuple[int, int]] = []
    result = recognize(_png(), OCROptions(engine="tesseract"), progress=lambda d, t: progress.append((d, t)))
    assert result.engine == "tesseract" and result.status == "ok"
    # by CER (tests/vision/ocr/_cer.py): exact today; one look-alike of the 9 passes
    assert cer("①정답answer", result.text) <= 1 / 9, result.text
    assert progress == [(1, 0)] and {"load", "ocr", "total"} <= set(result.timings_ms)


def test_pdf_pages_each_read() -> None:
    result = recognize(_pdf(2), OCROptions(engine="tesseract", dpi=200))
    assert len(result.pages) == 2 and result.text.count("\f") == 1
    assert all("②" in page.text for page in result.pages)


def test_limits_apply() -> None:
    with pytest.raises(PageError) as err:
        recognize(_pdf(3), OCROptions(engine="tesseract", max_pages=2))
    assert err.value.reason_code == "pdf_too_many_pages"


def test_google_result_used_when_it_has_text() -> None:
    with fake_vision() as vision:
        vision.answer_document([word("구글", (1, 2, 30, 20), brk="LINE_BREAK")])
        result = recognize(_png(), OCROptions(engine="auto", google=GoogleConfig(endpoint=vision.endpoint, backoff_s=0)))
    assert result.engine == "google" and result.text == "구글" and result.fallback_reason is None


def test_google_engine_does_not_fall_back() -> None:
    with fake_vision() as vision:
        vision.answer_status(503)
        with pytest.raises(EngineUnavailableError):
            recognize(_png(), OCROptions(engine="google", google=GoogleConfig(endpoint=vision.endpoint, backoff_s=0, attempts=2)))


def test_auto_falls_back_per_page() -> None:
    with fake_vision() as vision:
        vision.answer_document([word("first", (1, 2, 30, 20), brk="LINE_BREAK")]).answer_status(503)
        config = GoogleConfig(endpoint=vision.endpoint, backoff_s=0, attempts=1)
        result = recognize(_pdf(2), OCROptions(engine="auto", google=config))
    assert result.engine == "google+tesseract" and result.fallback_reason == "google_unavailable"
    assert result.pages[0].text == "first" and "②" in result.pages[1].text


def test_blank_page_is_empty_status() -> None:
    ok, buf = cv2.imencode(".png", np.full((200, 200), 255, np.uint8))
    result = recognize(bytes(buf), OCROptions(engine="tesseract"))
    assert result.status == "empty" and result.to_dict()["confidence"] is None
