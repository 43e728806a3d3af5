"""Load the pages of an image or PDF as numpy arrays, one page at a time.

One loader for every vision job (OCR, segmentation, handwriting): bytes or a
path in, a stream of :class:`Page` out. Formats: JPEG, PNG, WebP, BMP, TIFF
(every frame of a multi-page TIFF) through Pillow, with the EXIF orientation
of phone photos applied; PDF through the page layer (:mod:`aicore.page.pdf`,
``pypdfium2``), rendered page by page at ``dpi``. Limits are checked before
pixels are decoded: the page count of a PDF or TIFF against ``max_pages`` and
each page's size against ``max_pixels``, so a 10,000-page PDF or a
30000x30000 px PNG fails in milliseconds instead of filling memory.

Frames:
    Page images are in page pixels: ``image[y, x]``, origin top-left, x to the
    right, y down. BGR (OpenCV's channel order) ``uint8`` of shape ``(H, W, 3)``,
    or ``(H, W)`` grayscale with ``gray=True``. Transparent pixels are laid on
    white, as paper is.

Errors (:class:`vision.errors.PageError`, never retryable):
    ``image_empty`` (no bytes), ``image_invalid`` (not a readable image or PDF),
    ``pdf_empty`` (a PDF with no pages), ``pdf_too_many_pages`` /
    ``too_many_pages`` (PDF / multi-page TIFF past ``max_pages``),
    ``page_too_large`` (a page past ``max_pixels``).

Examples:
    >>> import io
    >>> from PIL import Image
    >>> buf = io.BytesIO()
    >>> Image.new("RGB", (40, 30), "white").save(buf, format="PNG")
    >>> pages = list(load_pages(buf.getvalue(), max_pages=5, max_pixels=10_000))
    >>> len(pages), pages[0].image.shape, pages[0].image.dtype.name, pages[0].index
    (1, (30, 40, 3), 'uint8', 0)
    >>> next(load_pages(buf.getvalue(), max_pages=5, max_pixels=10_000, gray=True)).image.shape
    (30, 40)
    >>> next(load_pages(buf.getvalue(), max_pages=5, max_pixels=1_000))
    Traceback (most recent call last):
    ...
    vision.errors.PageError: page_too_large: page 1 is 40x30 px (1,200 px), limit 1,000 px
    >>> next(load_pages(b"", max_pages=5, max_pixels=1_000))
    Traceback (most recent call last):
    ...
    vision.errors.PageError: image_empty: the file is empty (0 bytes)
"""

from __future__ import annotations

import functools
import io
import warnings
from collections.abc import Collection, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from aicore.page.errors import PageLayerError
from aicore.page.pdf import PDF_POINTS_PER_INCH, open_pdf, render_page
from vision.errors import PageError

__all__ = ["BGRImage", "GrayImage", "Page", "load_pages", "is_pdf", "pdf_render_dpi"]

GrayImage = npt.NDArray[np.uint8]
"""``(H, W)`` uint8, 0 black .. 255 white."""
BGRImage = npt.NDArray[np.uint8]
"""``(H, W, 3)`` uint8 in OpenCV's B, G, R channel order."""

#: a PDF may start with junk before ``%PDF`` (PDF readers accept 1024 bytes of it).
PDF_HEADER_WINDOW_BYTES = 1024
#: below this a page is unreadable anyway; a PDF page so large that it only
#: fits ``max_pixels`` under this resolution is refused as ``page_too_large``.
MIN_PDF_DPI = 50.0


@dataclass(frozen=True, eq=False)
class Page:
    """One decoded page.

    Args:
        index: 0-based position in the document (PDF page, TIFF frame; 0 for a photo).
        image: ``(H, W, 3)`` BGR or ``(H, W)`` gray ``uint8``, in page pixels.
        dpi: resolution the page was rendered at (PDF) or stored with (image
            metadata); ``None`` when unknown.
        source: ``"pdf"`` or ``"image"``.
    """

    index: int
    image: npt.NDArray[np.uint8]
    dpi: float | None
    source: str

    @property
    def size_wh(self) -> tuple[int, int]:
        """``(width, height)`` in pixels."""
        return int(self.image.shape[1]), int(self.image.shape[0])


def is_pdf(data: bytes) -> bool:
    """True when ``data`` carries a PDF header near its start.

    Examples:
        >>> is_pdf(b"%PDF-1.7\\n..."), is_pdf(b"\\x89PNG...")
        (True, False)
    """
    return b"%PDF-" in data[:PDF_HEADER_WINDOW_BYTES]


def load_pages(
    data_or_path: bytes | str | Path,
    *,
    max_pages: int,
    max_pixels: int,
    dpi: int = 200,
    gray: bool = False,
    only: Collection[int] | None = None,
) -> Iterator[Page]:
    """Yield the pages of an image or PDF, one decoded page at a time.

    The generator checks the page count before the first page and each
    page's size before decoding it; errors surface on the first ``next()``.

    Args:
        data_or_path: file bytes, or a path to the file.
        max_pages: most pages a PDF or multi-page TIFF may have.
        max_pixels: most pixels (width x height) one page may have.
        dpi: rendering resolution of PDF pages.
        gray: yield ``(H, W)`` grayscale instead of ``(H, W, 3)`` BGR.
        only: 0-based indexes of the PDF pages to render and yield (the
            others are skipped, limits still checked on the whole file);
            ``None`` for all. Images ignore it.

    Yields:
        :class:`Page` in document order.

    Raises:
        PageError: see the module docstring for the reason codes.

    Examples:
        >>> import pypdfium2 as pdfium
        >>> pdf = pdfium.PdfDocument.new()
        >>> _ = pdf.new_page(72 * 8.5, 72 * 11)   # US Letter
        >>> buf = io.BytesIO(); _ = pdf.save(buf); _ = pdf.close()
        >>> [p.size_wh for p in load_pages(buf.getvalue(), max_pages=2, max_pixels=10**7, dpi=100)]
        [(850, 1100)]
    """
    if max_pages < 1 or max_pixels < 1 or dpi < 1:
        raise ValueError("max_pages, max_pixels and dpi must be positive")  # a caller bug, not input
    data = Path(data_or_path).read_bytes() if isinstance(data_or_path, str | Path) else bytes(data_or_path)
    if not data:
        raise PageError("image_empty", "the file is empty (0 bytes)")
    if is_pdf(data):
        yield from _pdf_pages(data, max_pages=max_pages, max_pixels=max_pixels, dpi=float(dpi), gray=gray, only=only)
    else:
        yield from _image_pages(data, max_pages=max_pages, max_pixels=max_pixels, gray=gray)


def _check_pixels(index: int, width: int, height: int, max_pixels: int) -> None:
    if width < 1 or height < 1:
        raise PageError("image_invalid", f"page {index + 1} is {width}x{height} px: no pixels")
    if width * height > max_pixels:
        raise PageError(
            "page_too_large",
            f"page {index + 1} is {width}x{height} px ({width * height:,} px), limit {max_pixels:,} px",
        )


def pdf_render_dpi(size_pt: tuple[float, float], dpi: float, max_pixels: int) -> float:
    """The resolution a PDF page of ``size_pt`` (width, height in points) is rendered at.

    ``dpi``, or less for a poster-sized page so that it fits ``max_pixels``
    (:func:`load_pages` refuses it when that is under :data:`MIN_PDF_DPI`).

    Examples:
        >>> pdf_render_dpi((612.0, 792.0), 200.0, 10**8), round(pdf_render_dpi((612.0, 792.0), 200.0, 10**6), 1)
        (200.0, 103.4)
    """
    w_pt, h_pt = size_pt
    w_px, h_px = round(w_pt * dpi / PDF_POINTS_PER_INCH), round(h_pt * dpi / PDF_POINTS_PER_INCH)
    if w_px * h_px > max_pixels:
        return float(dpi * (max_pixels / (w_px * h_px)) ** 0.5)
    return float(dpi)


#: the page layer's PDF codes under the names this loader's contract documents (an unreadable PDF is
#: ``image_invalid`` here, as an unreadable image is; ``omr``'s batch answers the layer's own codes).
PUBLIC_PDF_CODES = {"pdf_unreadable": "image_invalid", "pdf_page_unreadable": "image_invalid"}


def _public(exc: PageLayerError) -> PageError:
    return PageError(PUBLIC_PDF_CODES.get(exc.reason_code, exc.reason_code), exc.message)


def _pdf_pages(data: bytes, *, max_pages: int, max_pixels: int, dpi: float, gray: bool,
               only: Collection[int] | None = None) -> Iterator[Page]:
    try:
        pdf = open_pdf(data)
    except PageLayerError as exc:
        raise _public(exc) from None
    try:
        count = len(pdf)
        if count == 0:
            raise PageError("pdf_empty", "the PDF has no pages")
        if count > max_pages:
            raise PageError("pdf_too_many_pages", f"the PDF has {count:,} pages, limit {max_pages:,}")
        for index in range(count):
            if only is not None and index not in only:
                continue
            fit = functools.partial(_fit_dpi, index, dpi, max_pixels)
            try:
                array, page_dpi = render_page(pdf, index, dpi_for=fit, gray=gray)
            except PageLayerError as exc:
                raise _public(exc) from None
            yield Page(index=index, image=array, dpi=page_dpi, source="pdf")
    finally:
        pdf.close()


def _fit_dpi(index: int, dpi: float, max_pixels: int, w_pt: float, h_pt: float) -> float:
    """The resolution page ``index`` of ``w_pt`` x ``h_pt`` points renders at; ``page_too_large`` when none fits."""
    page_dpi = pdf_render_dpi((w_pt, h_pt), dpi, max_pixels)
    w_px, h_px = round(w_pt * dpi / PDF_POINTS_PER_INCH), round(h_pt * dpi / PDF_POINTS_PER_INCH)
    if page_dpi != dpi:  # a poster-sized page: render it coarser if still legible
        if page_dpi < MIN_PDF_DPI:
            _check_pixels(index, w_px, h_px, max_pixels)
        w_px = int(w_pt * page_dpi / PDF_POINTS_PER_INCH)
        h_px = int(h_pt * page_dpi / PDF_POINTS_PER_INCH)
    _check_pixels(index, w_px, h_px, max_pixels)
    return page_dpi


def _image_pages(data: bytes, *, max_pages: int, max_pixels: int, gray: bool) -> Iterator[Page]:
    from PIL import Image, ImageOps, UnidentifiedImageError

    with warnings.catch_warnings():
        # We enforce our own pixel limit (max_pixels) before decoding.
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)
        try:
            img = Image.open(io.BytesIO(data))
        except Image.DecompressionBombError as exc:
            raise PageError("page_too_large", f"image is too large to decode ({exc})") from None
        except (UnidentifiedImageError, OSError, ValueError, SyntaxError) as exc:
            raise PageError("image_invalid", f"not a readable image or PDF ({type(exc).__name__}: {exc})") from None
        with img:
            frames = int(getattr(img, "n_frames", 1) or 1)
            if img.format == "GIF" or img.format == "WEBP":
                frames = 1  # animations: the first frame is the picture
            if frames > max_pages:
                raise PageError("too_many_pages", f"the image has {frames:,} pages, limit {max_pages:,}")
            for index in range(frames):
                try:
                    if frames > 1:
                        img.seek(index)
                    _check_pixels(index, img.width, img.height, max_pixels)
                    img.load()
                    frame = ImageOps.exif_transpose(img) if index == 0 else img
                    array = _pil_to_array(frame, gray)
                except (OSError, ValueError, SyntaxError, EOFError) as exc:
                    raise PageError(
                        "image_invalid", f"page {index + 1} cannot be decoded ({type(exc).__name__}: {exc})"
                    ) from None
                yield Page(index=index, image=array, dpi=_image_dpi(img.info), source="image")


def _image_dpi(info: Mapping[Any, Any]) -> float | None:
    raw = info.get("dpi")
    try:
        value = float(raw[0]) if raw else 0.0
    except (TypeError, ValueError, IndexError):
        return None
    return value if value > 1.0 else None


def _pil_to_array(img: Any, gray: bool) -> npt.NDArray[np.uint8]:
    """Any Pillow mode to BGR or gray uint8; transparency laid on white."""
    from PIL import Image

    if img.mode in ("I;16", "I;16B", "I;16L", "I", "F"):
        raw = np.asarray(img, dtype=np.float64)
        top = float(raw.max()) or 1.0
        img = Image.fromarray(np.clip(raw * (255.0 / top), 0, 255).astype(np.uint8), mode="L")
    if img.mode in ("RGBA", "LA", "PA") or (img.mode == "P" and "transparency" in img.info):
        rgba = img.convert("RGBA")
        white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        img = Image.alpha_composite(white, rgba)
    if gray:
        return np.array(img.convert("L"), dtype=np.uint8)
    rgb = np.asarray(img.convert("RGB"), dtype=np.uint8)
    return np.ascontiguousarray(rgb[:, :, ::-1])
