"""OCR of exam pages: Tesseract (kor+eng) done right, Google Vision, and ``auto``.

Entry point: :func:`recognize` (bytes or path of an image/PDF in, an
:class:`OCRResult` out). The Tesseract page pipeline is
:func:`vision.ocr.pipeline.read_page`; Google is :mod:`vision.ocr.google`.
Heavy engines (pytesseract, google-cloud-vision) are imported when used.
"""

from vision.ocr.engine import ENGINES, OCROptions, recognize
from vision.ocr.google import GoogleConfig
from vision.ocr.pipeline import PageOptions, read_page
from vision.ocr.tesseract import TesseractConfig
from vision.ocr.types import OCRLine, OCRPage, OCRResult, OCRWord

__all__ = [
    "ENGINES",
    "GoogleConfig",
    "OCRLine",
    "OCROptions",
    "OCRPage",
    "OCRResult",
    "OCRWord",
    "PageOptions",
    "TesseractConfig",
    "read_page",
    "recognize",
]
