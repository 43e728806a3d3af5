"""The page layer: what ``omr`` and ``vision`` both do to a page, in one place.

* :mod:`aicore.page.outline`: where the sheet of paper is in an image;
* :mod:`aicore.page.pdf`: open a PDF and render its pages;
* :mod:`aicore.page.tesseract`: call Tesseract;
* :mod:`aicore.page.skew`: how far the text lines are turned;
* :mod:`aicore.page.errors`: the one error they raise, with a reason code.

Unlike the rest of :mod:`aicore` (standard library only, so that every worker
can load it), this subpackage needs the ``vision`` extra: numpy and OpenCV at
import, pypdfium2, pytesseract and tesserocr inside the functions that use
them. ``aicore`` never imports it; only ``omr`` and ``vision`` do
(``tests/test_purity.py``).
"""

from aicore.page.errors import PageLayerError

__all__ = ["PageLayerError"]
