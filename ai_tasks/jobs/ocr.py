"""Job ``ocr`` (task ``ai.ocr``): OCR of a photo, scan or PDF (Tesseract kor+eng, Google Vision, auto).

Payload (validated at the door):
    ``download_url`` (required): presigned URL of a JPEG/PNG/WebP/TIFF or PDF.
    ``engine``: ``tesseract`` | ``google`` | ``auto`` (default: the worker's
    ``OCR_ENGINE``; ``auto`` = Google when configured, else Tesseract, and
    Tesseract again for a page Google fails on or finds no text in).
    ``language``: Tesseract languages, ``kor+eng`` (default), ``kor`` or ``eng``.
    ``options``: ``{"dpi": 72..600 (PDF rendering, default 200),
    "columns": bool, "circled": bool, "deskew": bool}`` (all on by default),
    ``"force_ocr": bool`` (default false: a PDF page with a usable text layer
    is returned from that layer as engine ``pdf_text``; true OCRs every page).

Result (the seed's ``text`` and ``confidence`` kept):
    ``text`` (pages separated by ``\\f``), ``confidence`` (0..1, ``null``
    without text), ``engine`` (``tesseract``, ``google``, ``pdf_text``, or
    several joined by ``+``), ``status`` (``ok``; ``empty`` for a page with
    no text: not an error; ``low_quality`` for text that is probably wrong,
    with ``reason``: ``blurred``, ``noisy``, ``too_small`` or
    ``no_text_lines``), ``pages[{width, height, status, engine, reason,
    text_layer, lines[{text, confidence, box}], words[{text, confidence, box,
    line}]}]`` with boxes ``[x, y, w, h]`` in page pixels, ``fallback_reason``
    (when ``auto`` fell back), ``timings_ms``.

Errors keep the library's reason codes: ``image_invalid``, ``image_empty``,
``pdf_empty``, ``pdf_too_many_pages``, ``page_too_large``,
``google_not_configured``, ``google_unavailable`` (retried), ...
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from ai_tasks.contracts import AIJob
from ai_tasks.jobs.base import JobRef, JobSpec, Step, StepContext
from ai_tasks.jobs.codec import StateCodec, grouped
from ai_tasks.jobs.payload import Choice, Flag, Integer, JSONObject, PayloadSpec, Text
from ai_tasks.routing import CPU_VISION

__all__ = ["ENGINES", "LANGUAGES", "PAYLOAD", "SPEC", "OCRState", "prepare", "run"]

ENGINES = ("tesseract", "google", "auto")
LANGUAGES = ("kor+eng", "kor", "eng")
#: PDF rendering resolution bounds (below 72 text is unreadable; above 600 pages explode).
DPI_RANGE = (72, 600)


def _default_engine() -> str:
    """The worker's ``OCR_ENGINE`` when it names an engine, else ``auto``."""
    from ai_tasks.settings import get_settings

    configured = (get_settings().ocr_engine or "auto").lower()
    return configured if configured in ENGINES else "auto"


#: The payload (the legacy worker read download_url and engine).
PAYLOAD = PayloadSpec("ocr", (
    Text("download_url", required=True, missing_code="download_url_missing"),
    Choice("engine", ENGINES, _default_engine),
    Choice("language", LANGUAGES, "kor+eng"),
    JSONObject("options", (
        Integer("dpi", 200, *DPI_RANGE), Flag("columns", True), Flag("circled", True), Flag("deskew", True),
        Flag("force_ocr", False),
    )),
))


@dataclass(frozen=True)
class OCRState(StateCodec):
    """What crosses the broker for one ``ocr`` job.

    Args:
        job: who the job is.
        download_url: presigned URL of the document (never logged with its query).
        engine: ``tesseract``, ``google`` or ``auto``.
        language: Tesseract languages.
        dpi: PDF rendering resolution.
        columns / circled / deskew: Tesseract pipeline switches.
        force_ocr: OCR PDF pages even when their text layer is usable.
    """

    job: JobRef
    download_url: str
    engine: str = "auto"
    language: str = "kor+eng"
    dpi: int = grouped("options", 200)
    columns: bool = grouped("options", True)
    circled: bool = grouped("options", True)
    deskew: bool = grouped("options", True)
    force_ocr: bool = grouped("options", False)


def prepare(job: AIJob, ref: JobRef) -> OCRState:
    """The door: the payload checked by :data:`PAYLOAD` (secrets dropped), the first state."""
    values = PAYLOAD.check(job.payload)
    return OCRState(job=ref, **values.pop("options"), **values)


def ocr_options(state: OCRState) -> Any:
    """The library's :class:`vision.ocr.OCROptions` for this state and the worker's settings."""
    from ai_tasks.settings import get_settings
    from vision.ocr import GoogleConfig, OCROptions, PageOptions, TesseractConfig

    s = get_settings()
    return OCROptions(
        engine=state.engine,
        google=GoogleConfig(credentials_path=s.google_application_credentials, endpoint=s.google_vision_endpoint),
        page=PageOptions(
            tesseract=TesseractConfig(lang=state.language),
            deskew=state.deskew,
            circled=state.circled,
            columns=state.columns,
        ),
        max_pages=s.max_pages,
        max_pixels=s.max_pixels,
        dpi=state.dpi,
        force_ocr=state.force_ocr,
    )


def run(state: OCRState, ctx: StepContext) -> dict[str, Any]:
    """Download the document, OCR every page with the chosen engine; the result dict."""
    from ai_tasks.download import download_to_dir, job_tmpdir
    from ai_tasks.resources import download_policy
    from ai_tasks.settings import get_settings
    from vision.ocr import recognize

    options = ocr_options(state)
    with job_tmpdir(get_settings().tmp_dir, state.job.id) as tmp:
        t0 = time.perf_counter()
        path = download_to_dir(state.download_url, tmp, policy=download_policy(), filename="input")
        download_ms = (time.perf_counter() - t0) * 1000.0
        result = recognize(path, options, progress=lambda done, total: ctx.progress(done, max(total, done)))
    out = result.to_dict()
    out["timings_ms"] = {"download": round(download_ms, 1), **out["timings_ms"]}
    return out


SPEC = JobSpec(type="ocr", queue=CPU_VISION, state=OCRState, prepare=prepare, steps=(Step("ai.ocr", run, (120, 180)),))
