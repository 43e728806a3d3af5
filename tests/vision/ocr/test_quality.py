"""vision.ocr.quality and the honest status: grain handled, garbage reads flagged ``low_quality``."""

from __future__ import annotations

import sys
from pathlib import Path

import cv2
import numpy as np
import pytest

from vision.ocr import OCROptions, recognize
from vision.ocr.pipeline import read_page
from vision.ocr.preprocess import prepare_page
from vision.ocr.quality import PageQuality, denoise_sigma, measure

ASSETS = Path(__file__).parent / "assets"
sys.path.insert(0, str(Path(__file__).resolve().parents[3] / "bench"))
from _ocr_cer import CERCounter  # noqa: E402

#: the grainy sample (grain sigma 14, blur, low uneven light, JPEG 75) reads within this CER
#: (measured 0.087; plain Tesseract on it: see docs/benchmarks-ocr.md).
GRAINY_MAX_CER = 0.15


def _grainy() -> np.ndarray:
    return np.asarray(cv2.imread(str(ASSETS / "grainy.jpg"), cv2.IMREAD_GRAYSCALE), dtype=np.uint8)


def test_grain_is_measured_and_smoothed() -> None:
    prep = prepare_page(_grainy())
    assert 11 < prep.quality.noise_sigma < 17
    assert prep.denoise_sigma_px > 0 and prep.binarized


def test_clean_page_is_left_alone() -> None:
    page = np.full((300, 500), 255, np.uint8)
    cv2.putText(page, "clean page text", (20, 150), cv2.FONT_HERSHEY_SIMPLEX, 1.2, 0, 2)
    prep = prepare_page(page)
    assert prep.quality.noise_sigma == 0.0 and prep.denoise_sigma_px == 0.0 and not prep.binarized


def test_grainy_sample_reads_reasonably() -> None:
    result = recognize((ASSETS / "grainy.jpg").read_bytes(), OCROptions(engine="tesseract"))
    counter = CERCounter()
    counter.add((ASSETS / "grainy.txt").read_text(encoding="utf-8"), result.text)
    assert counter.cer() <= GRAINY_MAX_CER
    assert result.status == "ok"


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("pure_noise", "noisy"),
        ("defocused", "blurred"),
    ],
)
def test_garbage_is_low_quality_with_a_reason(name: str, reason: str) -> None:
    rng = np.random.default_rng(1)
    if name == "pure_noise":
        image = np.clip(200 + rng.normal(0, 60, (400, 600)), 0, 255).astype(np.uint8)
    else:
        image = np.asarray(cv2.GaussianBlur(_grainy(), (0, 0), 4), dtype=np.uint8)
    page = read_page(image)
    assert page.status == "low_quality" and page.reason == reason
    assert page.to_dict()["reason"] == reason


def test_low_quality_reaches_the_result() -> None:
    rng = np.random.default_rng(1)
    image = np.clip(200 + rng.normal(0, 60, (400, 600)), 0, 255).astype(np.uint8)
    ok, png = cv2.imencode(".png", image)
    assert ok
    out = recognize(bytes(png), OCROptions(engine="tesseract")).to_dict()
    assert out["status"] == "low_quality" and out["reason"] == "noisy"


def test_measure_and_denoise_degenerate() -> None:
    q = measure(np.full((50, 50), 255, np.uint8), glyph_px=0.0)
    assert q == PageQuality(noise_sigma=0.0, blur_px=0.0, contrast=0.0, glyph_px=0.0)
    assert denoise_sigma(q) == 0.0
