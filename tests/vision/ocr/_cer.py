"""Character error rate for OCR tests: the bench's (``bench/_ocr_cer.py``), as one number.

OCR output is compared by CER, not exactly: the test pages are drawn by
Pillow (FreeType) and read by Tesseract, and a release of either may turn
one glyph into a look-alike without anything being wrong with our code.
"""

from __future__ import annotations

from bench._ocr_cer import CERCounter


def cer(truth: str, hyp: str) -> float:
    """(Substitutions + deletions + insertions) / characters of ``truth``, whitespace dropped.

    Examples:
        >>> cer("사과 apple", "사과apple"), cer("apple", "appie")
        (0.0, 0.2)
    """
    counter = CERCounter()
    counter.add(truth, hyp)
    return counter.cer()
