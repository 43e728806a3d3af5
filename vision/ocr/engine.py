"""OCR of a whole document with the engine asked for: ``tesseract``, ``google`` or ``auto``.

``auto`` uses Google when it is configured (credentials or an endpoint
override) and Tesseract otherwise; a page Google cannot read (a transient
failure after its retries, a permanent refusal, or no text at all) is read
again by Tesseract, and the result says why in ``fallback_reason``.
``google`` never falls back: its errors reach the caller with their reason
codes (``google_not_configured`` when there are no credentials).

A PDF page whose own text layer is usable (:mod:`vision.ocr.textlayer`) is
not rendered nor OCR'd: its text is returned as engine ``pdf_text``, exact,
in milliseconds. The decision is taken page by page; ``force_ocr`` turns it off.

Examples:
    >>> import io
    >>> from PIL import Image
    >>> buf = io.BytesIO(); Image.new("L", (300, 200), 255).save(buf, format="PNG")
    >>> result = recognize(buf.getvalue(), OCROptions(engine="tesseract"))
    >>> result.status, result.text, result.engine, [(p.width, p.height) for p in result.pages]
    ('empty', '', 'tesseract', [(300, 200)])
    >>> OCROptions(engine="auto").resolved_engine
    'tesseract'
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from vision.errors import EngineError, VisionError
from vision.ocr.google import GoogleConfig, make_client, read_page_google
from vision.ocr.pipeline import PageOptions, read_page
from vision.ocr.textlayer import TextLayer, read_text_layers
from vision.ocr.types import OCRPage, OCRResult
from vision.pages import is_pdf, load_pages

__all__ = ["ENGINES", "OCROptions", "recognize"]

ENGINES = ("tesseract", "google", "auto")

#: ``progress(done_pages, total_pages)``; total is 0 while unknown.
Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class OCROptions:
    """What to run and within which limits.

    Args:
        engine: ``tesseract``, ``google`` or ``auto``.
        google: how to reach Google (``GoogleConfig()`` = not configured).
        page: the Tesseract page pipeline's switches and language.
        max_pages: most pages a PDF or TIFF may have.
        max_pixels: most pixels one page may have.
        dpi: PDF rendering resolution.
        force_ocr: OCR every PDF page, even one whose text layer is usable.
    """

    engine: str = "auto"
    google: GoogleConfig = field(default_factory=GoogleConfig)
    page: PageOptions = field(default_factory=PageOptions)
    max_pages: int = 50
    max_pixels: int = 60_000_000
    dpi: int = 200
    force_ocr: bool = False

    def __post_init__(self) -> None:
        if self.engine not in ENGINES:
            raise EngineError("ocr_engine_unknown", f"OCR engine must be one of {', '.join(ENGINES)}, got {self.engine!r}")

    @property
    def resolved_engine(self) -> str:
        """The first engine tried: ``auto`` is Google when configured, Tesseract otherwise."""
        if self.engine == "auto":
            return "google" if self.google.configured else "tesseract"
        return self.engine


def recognize(data_or_path: bytes | str | Path, options: OCROptions | None = None, *,
              progress: Progress | None = None) -> OCRResult:
    """OCR every page of an image or PDF.

    Args:
        data_or_path: file bytes or path (JPEG, PNG, WebP, TIFF, PDF...).
        options: engine and limits.
        progress: called after each page with ``(done, total)``.

    Raises:
        PageError: unreadable or over-limit input (from :mod:`vision.pages`).
        EngineError / EngineUnavailableError: the engine failed (see
            :mod:`vision.ocr.google`, :mod:`vision.ocr.tesseract`).
    """
    options = options or OCROptions()
    first = options.resolved_engine
    t_start = time.perf_counter()
    timings = {"load": 0.0, "text_layer": 0.0, "ocr": 0.0, "fallback": 0.0}
    data = Path(data_or_path).read_bytes() if isinstance(data_or_path, str | Path) else bytes(data_or_path)
    layers: list[TextLayer] = []
    if data and is_pdf(data):
        layers = read_text_layers(data, dpi=options.dpi, max_pages=options.max_pages, max_pixels=options.max_pixels)
        timings["text_layer"] = time.perf_counter() - t_start
    use_layer = [layer.usable and not options.force_ocr for layer in layers]
    pages: list[OCRPage] = []
    engines: set[str] = set()
    fallback_reason: str | None = None
    client: Any = None

    def take_text_layers() -> None:  # the usable pages before the next page to OCR
        while len(pages) < len(layers) and use_layer[len(pages)]:
            pages.append(replace(layers[len(pages)].page, engine="pdf_text"))
            engines.add("pdf_text")
            if progress is not None:
                progress(len(pages), len(layers))

    take_text_layers()
    ocr_indexes = {i for i, use in enumerate(use_layer) if not use} if layers else None
    if ocr_indexes == set():
        return _result(first, pages, engines, None, timings, t_start)
    t0 = time.perf_counter()
    for page in load_pages(data, max_pages=options.max_pages, max_pixels=options.max_pixels, dpi=options.dpi,
                           only=ocr_indexes):
        t1 = time.perf_counter()
        timings["load"] += t1 - t0
        result: OCRPage | None = None
        if first == "google":
            try:
                client = client or make_client(options.google)
                result = read_page_google(page.image, options.google, client=client)
                if not result.lines and options.engine == "auto":
                    fallback_reason = fallback_reason or "google_no_text"
                    result = None
            except VisionError as exc:
                if options.engine != "auto":
                    raise
                fallback_reason = fallback_reason or exc.reason_code
                result = None
            if result is not None:
                result = replace(result, engine="google")
                engines.add("google")
        t2 = time.perf_counter()
        timings["ocr"] += t2 - t1
        if result is None:
            result = replace(read_page(page.image, options.page), engine="tesseract")
            engines.add("tesseract")
            timings["fallback" if first == "google" else "ocr"] += time.perf_counter() - t2
        if layers:
            layer = layers[page.index]
            result = replace(result, text_layer="forced_ocr" if layer.usable else layer.reason)
        pages.append(result)
        if progress is not None:
            progress(len(pages), len(layers))
        take_text_layers()
        t0 = time.perf_counter()
    return _result(first, pages, engines, fallback_reason, timings, t_start)


def _result(first: str, pages: list[OCRPage], engines: set[str], fallback_reason: str | None,
            timings: dict[str, float], t_start: float) -> OCRResult:
    timings["total"] = time.perf_counter() - t_start
    engine = "+".join(sorted(engines)) if engines else first  # "google+tesseract" when mixed
    ms = {k: v * 1000.0 for k, v in timings.items() if v or k in ("load", "ocr", "total")}
    return OCRResult(engine=engine, pages=tuple(pages), fallback_reason=fallback_reason, timings_ms=ms)
