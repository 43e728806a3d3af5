"""vision.ocr.types: JSON round trip, text/confidence/status rules."""

from __future__ import annotations

import json

from vision.ocr.types import OCRLine, OCRPage, OCRResult, OCRWord


def test_empty_result() -> None:
    result = OCRResult(engine="tesseract")
    assert (result.text, result.confidence, result.status) == ("", None, "empty")
    assert result.to_dict()["pages"] == []


def test_json_round_trip_and_keys() -> None:
    words = (OCRWord("①", 0.99, (1, 2, 3, 4)), OCRWord("사과", 0.8, (5, 2, 30, 4)))
    page = OCRPage(100, 50, (OCRLine("① 사과", 0.85, (1, 2, 34, 4), words), OCRLine("b", 0.5, (1, 20, 5, 5), ())))
    result = OCRResult(engine="google+tesseract", pages=(page, OCRPage(10, 10)), fallback_reason="google_no_text",
                       timings_ms={"ocr": 12.345})
    data = json.loads(json.dumps(result.to_dict(), ensure_ascii=False))
    assert OCRResult.from_dict(data) == result
    assert set(data) == {"text", "confidence", "engine", "status", "pages", "timings_ms", "fallback_reason"}
    assert data["text"] == "① 사과\nb" and data["pages"][0]["words"][1]["line"] == 0
    assert data["timings_ms"] == {"ocr": 12.3}
    assert abs(data["confidence"] - (0.85 * 4 + 0.5) / 5) < 1e-3
