"""Open a PDF and render its pages to numpy arrays (``pypdfium2``): one loader for ``omr`` and ``vision``.

The callers keep their own limits (page count, pixels per page) and their
own result types; what they share is here: opening the document, rendering
one page at the resolution the caller chooses from the page's size, and the
reason codes for a PDF that cannot be read. These are the codes of the
legacy contract (``docs/api.md``):

* ``pdf_unreadable``: not a readable PDF;
* ``pdf_empty``: a PDF with no pages (PDFium refuses to open a page tree that
  counts 0 pages, so the file itself is looked at);
* ``pdf_page_unreadable``: one page cannot be loaded or rendered.

Each is raised as :class:`aicore.page.errors.PageLayerError`; a library
whose public contract documents another code for the same failure maps it at
its boundary (``vision`` answers ``image_invalid``).

Frames:
    Rendered pages are in page pixels at the chosen resolution: ``(H, W)``
    gray or ``(H, W, 3)`` BGR ``uint8``, transparent areas laid on white.

Examples:
    >>> import io
    >>> import pypdfium2 as pdfium
    >>> doc = pdfium.PdfDocument.new(); _ = doc.new_page(72 * 8.5, 72 * 11)   # US Letter
    >>> buf = io.BytesIO(); _ = doc.save(buf); _ = doc.close()
    >>> pdf = open_pdf(buf.getvalue())
    >>> image, dpi = render_page(pdf, 0, dpi_for=lambda w_pt, h_pt: 100.0, gray=True)
    >>> len(pdf), image.shape, dpi
    (1, (1100, 850), 100.0)
    >>> _ = pdf.close()
    >>> open_pdf(b"%PDF-1.4 garbage")
    Traceback (most recent call last):
    ...
    aicore.page.errors.PageLayerError: pdf_unreadable: not a readable PDF (Failed to load document (PDFium: Data format error).)
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import numpy as np
import numpy.typing as npt

from aicore.page.errors import PageLayerError

__all__ = ["PDF_POINTS_PER_INCH", "as_mode", "looks_pageless", "open_pdf", "render_page"]

#: PDF user space is 1/72 inch per unit (PDF 32000-1 section 8.3.2.3).
PDF_POINTS_PER_INCH = 72.0
#: white paper under transparent areas (RGBA).
WHITE = (255, 255, 255, 255)

_PAGES_COUNT_ZERO = re.compile(rb"/Count\s*0(?![0-9])")
_A_PAGE_OBJECT = re.compile(rb"/Type\s*/Page(?![a-zA-Z])")


def looks_pageless(data: bytes) -> bool:
    """A page tree that counts 0 pages and no page object anywhere in the file.

    Examples:
        >>> looks_pageless(b"%PDF-1.7 /Type /Pages /Count 0"), looks_pageless(b"%PDF-1.7 /Type /Page /Count 1")
        (True, False)
    """
    return bool(_PAGES_COUNT_ZERO.search(data)) and not _A_PAGE_OBJECT.search(data)


def open_pdf(data: bytes) -> Any:
    """The open ``pypdfium2.PdfDocument`` of ``data``; the caller closes it.

    Raises:
        PageLayerError: ``pdf_empty`` (no pages at all), ``pdf_unreadable``.
    """
    import pypdfium2 as pdfium

    try:
        return pdfium.PdfDocument(data)
    except pdfium.PdfiumError as exc:
        if looks_pageless(data):  # PDFium refuses to open a document with no pages at all
            raise PageLayerError("pdf_empty", "the PDF has no pages") from None
        raise PageLayerError("pdf_unreadable", f"not a readable PDF ({exc})") from None


def render_page(
    pdf: Any, index: int, *, dpi_for: Callable[[float, float], float], gray: bool
) -> tuple[npt.NDArray[np.uint8], float]:
    """Render page ``index`` (0-based) of an open PDF; return ``(image, dpi)``.

    Args:
        pdf: an open ``pypdfium2.PdfDocument`` (:func:`open_pdf`).
        index: the page.
        dpi_for: the resolution to render at, from the page's width and height
            in points; it may raise the caller's own error (a page too large).
        gray: ``(H, W)`` gray instead of ``(H, W, 3)`` BGR.

    Raises:
        PageLayerError: ``pdf_page_unreadable`` when PDFium cannot load or
            render the page.
    """
    import pypdfium2 as pdfium

    page = None
    try:
        page = pdf[index]
        w_pt, h_pt = page.get_size()
        dpi = dpi_for(w_pt, h_pt)
        bitmap = page.render(scale=dpi / PDF_POINTS_PER_INCH, grayscale=gray, fill_color=WHITE)
        try:
            array = np.array(bitmap.to_numpy(), dtype=np.uint8, copy=True)
        finally:
            bitmap.close()
    except pdfium.PdfiumError as exc:
        raise PageLayerError("pdf_page_unreadable", f"PDF page {index + 1} cannot be rendered ({exc})") from None
    finally:
        if page is not None:
            page.close()
    return as_mode(array, gray), dpi


def as_mode(array: npt.NDArray[np.uint8], gray: bool) -> npt.NDArray[np.uint8]:
    """pdfium gives (H, W) for grayscale, (H, W, 3) BGR or (H, W, 4) BGRx otherwise."""
    import cv2

    if array.ndim == 3 and array.shape[2] == 4:
        array = np.ascontiguousarray(array[:, :, :3])
    if gray and array.ndim == 3:
        return np.asarray(cv2.cvtColor(array, cv2.COLOR_BGR2GRAY), dtype=np.uint8)
    if not gray and array.ndim == 2:
        return np.asarray(cv2.cvtColor(array, cv2.COLOR_GRAY2BGR), dtype=np.uint8)
    return array
