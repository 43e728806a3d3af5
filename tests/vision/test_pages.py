"""vision.pages: every format in, page arrays out; bad files fail with a code, fast."""

from __future__ import annotations

import io
import struct
import time
import zlib

import numpy as np
import pypdfium2 as pdfium
import pytest
from PIL import Image

from vision.errors import PageError
from vision.pages import load_pages

BIG = 10**8


def _encode(img: Image.Image, fmt: str, **kw: object) -> bytes:
    buf = io.BytesIO()
    img.save(buf, format=fmt, **kw)
    return buf.getvalue()


def _pdf(n_pages: int, size_pt: tuple[float, float] = (595, 842)) -> bytes:
    pdf = pdfium.PdfDocument.new()
    for _ in range(n_pages):
        pdf.new_page(*size_pt)
    buf = io.BytesIO()
    pdf.save(buf)
    pdf.close()
    return buf.getvalue()


def _png_header_only(width: int, height: int) -> bytes:
    """A PNG whose header claims ``width`` x ``height`` with almost no data."""
    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\x00" * 16)) + chunk(b"IEND", b"")


@pytest.mark.parametrize("fmt", ["PNG", "JPEG", "WEBP", "TIFF", "BMP"])
def test_formats_decode_to_bgr(fmt: str) -> None:
    img = Image.new("RGB", (64, 48), (255, 0, 0))  # pure red
    pages = list(load_pages(_encode(img, fmt), max_pages=5, max_pixels=BIG))
    assert len(pages) == 1
    assert pages[0].image.shape == (48, 64, 3)
    b, g, r = pages[0].image[24, 32].tolist()
    assert r > 200 and b < 60 and g < 60  # BGR order


def test_path_input(tmp_path) -> None:
    path = tmp_path / "p.png"
    Image.new("L", (10, 10), 0).save(path)
    (page,) = load_pages(path, max_pages=1, max_pixels=BIG, gray=True)
    assert page.image.shape == (10, 10) and int(page.image.max()) == 0


def test_multipage_tiff_streams_every_frame() -> None:
    frames = [Image.new("L", (20, 10 + i), 255 - i) for i in range(3)]
    buf = io.BytesIO()
    frames[0].save(buf, format="TIFF", save_all=True, append_images=frames[1:])
    pages = list(load_pages(buf.getvalue(), max_pages=3, max_pixels=BIG, gray=True))
    assert [p.index for p in pages] == [0, 1, 2]
    assert [p.image.shape for p in pages] == [(10, 20), (11, 20), (12, 20)]
    with pytest.raises(PageError) as err:
        next(load_pages(buf.getvalue(), max_pages=2, max_pixels=BIG))
    assert err.value.reason_code == "too_many_pages"


def test_transparent_png_lies_on_white() -> None:
    img = Image.new("RGBA", (8, 8), (0, 0, 0, 0))
    (page,) = load_pages(_encode(img, "PNG"), max_pages=1, max_pixels=BIG, gray=True)
    assert int(page.image.min()) == 255


def test_exif_orientation_applied() -> None:
    img = Image.new("RGB", (40, 20), "white")
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90 CW on display
    (page,) = load_pages(_encode(img, "JPEG", exif=exif), max_pages=1, max_pixels=BIG)
    assert page.image.shape[:2] == (40, 20)


def test_sixteen_bit_tiff() -> None:
    arr = (np.arange(100, dtype=np.uint16).reshape(10, 10) * 600)
    (page,) = load_pages(_encode(Image.fromarray(arr), "TIFF"), max_pages=1, max_pixels=BIG, gray=True)
    assert page.image.dtype == np.uint8 and int(page.image.max()) == 255


def test_pdf_pages_at_dpi() -> None:
    pages = list(load_pages(_pdf(2, (72 * 2, 72 * 3)), max_pages=2, max_pixels=BIG, dpi=100))
    assert [p.size_wh for p in pages] == [(200, 300), (200, 300)]
    assert pages[0].source == "pdf" and pages[0].dpi == 100
    assert int(pages[0].image.min()) == 255  # blank page renders white


def test_pdf_poster_page_rendered_coarser_within_limit() -> None:
    (page,) = load_pages(_pdf(1, (72 * 10, 72 * 10)), max_pages=1, max_pixels=1_000_000, dpi=200)
    w, h = page.size_wh
    assert w * h <= 1_000_000 and page.dpi is not None and 99 < page.dpi < 101


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"", "image_empty"),
        (b"this is not an image", "image_invalid"),
        (b"\x89PNG\r\n\x1a\n" + b"\x00" * 40, "image_invalid"),
        (b"%PDF-1.7\ngarbage", "image_invalid"),
        (_pdf(0), "pdf_empty"),
        (_pdf(3), "pdf_too_many_pages"),
        (_png_header_only(30000, 30000), "page_too_large"),
        (_pdf(1, (72 * 1000, 72 * 1000)), "page_too_large"),
    ],
    ids=["empty", "text", "truncated-png", "broken-pdf", "pdf-0-pages", "pdf-too-many", "30000px", "pdf-huge-page"],
)
def test_bad_input_fails_with_code(data: bytes, reason: str) -> None:
    with pytest.raises(PageError) as err:
        list(load_pages(data, max_pages=2, max_pixels=60_000_000))
    assert err.value.reason_code == reason
    assert err.value.retryable is False


def test_ten_thousand_page_pdf_refused_fast() -> None:
    data = _pdf(10_000, (72, 72))
    start = time.perf_counter()
    with pytest.raises(PageError) as err:
        next(load_pages(data, max_pages=50, max_pixels=BIG))
    assert err.value.reason_code == "pdf_too_many_pages"
    assert time.perf_counter() - start < 30  # generous: the point is no rendering
