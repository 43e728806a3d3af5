"""Job ``ocr`` (task ``ai.ocr``): OCR of a photo, scan or PDF (Tesseract kor+eng, Google Vision, auto).

Payload (validated at the door):
    ``download_url`` (required): presigned URL of a JPEG/PNG/WebP/TIFF or PDF.
    ``engine``: ``tesseract`` | ``google`` | ``auto`` (default: the worker's
    ``OCR_ENGINE``; ``auto`` = Google when configured, else Tesseract, and
    Tesseract again for a page Google fails on or finds no text in).
    ``language``: Tesseract languages, ``kor+eng`` (default), ``kor`` or ``eng``.
    ``options``: ``{"dpi": 72..600 (PDF rendering, default 200),
    "columns": bool, "circled": bool, "deskew": bool}`` (all on by default).

Result (the seed's ``text`` and ``confidence`` kept):
    ``text`` (pages separated by ``\\f``), ``confidence`` (0..1, ``null``
    without text), ``engine`` (``tesseract``, ``google`` or
    ``google+tesseract``), ``status`` (``ok``, or ``empty`` for a page with
    no text: not an error), ``pages[{width, height, lines[{text, confidence,
    box}], words[{text, confidence, box, line}]}]`` with boxes ``[x, y, w, h]``
    in page pixels, ``fallback_reason`` (when ``auto`` fell back),
    ``timings_ms``.

Errors keep the library's reason codes: ``image_invalid``, ``image_empty``,
``pdf_empty``, ``pdf_too_many_pages``, ``page_too_large``,
``google_not_configured``, ``google_unavailable`` (retried), ...
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ai_tasks.contracts import AIJob
from ai_tasks.errors import JobPayloadError
from ai_tasks.jobs.base import (
    JobRef,
    JobSpec,
    Step,
    StepContext,
    payload_bool,
    payload_choice,
    payload_int,
    payload_str,
    reject_unknown_fields,
)
from ai_tasks.redact import strip_secrets
from ai_tasks.routing import CPU_VISION

__all__ = ["ENGINES", "LANGUAGES", "PAYLOAD_FIELDS", "SPEC", "OCRState", "prepare", "run"]

#: The payload fields this job reads (the legacy worker read download_url and engine).
PAYLOAD_FIELDS = frozenset({"download_url", "engine", "language", "options"})
#: Fields of ``payload.options``.
OPTION_FIELDS = frozenset({"dpi", "columns", "circled", "deskew"})
ENGINES = ("tesseract", "google", "auto")
LANGUAGES = ("kor+eng", "kor", "eng")
#: PDF rendering resolution bounds (below 72 text is unreadable; above 600 pages explode).
DPI_RANGE = (72, 600)


@dataclass(frozen=True)
class OCRState:
    """What crosses the broker for one ``ocr`` job.

    Args:
        job: who the job is.
        download_url: presigned URL of the document (never logged with its query).
        engine: ``tesseract``, ``google`` or ``auto``.
        language: Tesseract languages.
        dpi: PDF rendering resolution.
        columns / circled / deskew: Tesseract pipeline switches.
    """

    job: JobRef
    download_url: str
    engine: str = "auto"
    language: str = "kor+eng"
    dpi: int = 200
    columns: bool = True
    circled: bool = True
    deskew: bool = True

    def to_dict(self) -> dict[str, Any]:
        return {
            "job": self.job.to_dict(),
            "download_url": self.download_url,
            "engine": self.engine,
            "language": self.language,
            "options": {"dpi": self.dpi, "columns": self.columns, "circled": self.circled, "deskew": self.deskew},
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> OCRState:
        options = dict(data.get("options") or {})
        return cls(
            job=JobRef.from_dict(data["job"]),
            download_url=str(data["download_url"]),
            engine=str(data.get("engine") or "auto"),
            language=str(data.get("language") or "kor+eng"),
            dpi=int(options.get("dpi", 200)),
            columns=bool(options.get("columns", True)),
            circled=bool(options.get("circled", True)),
            deskew=bool(options.get("deskew", True)),
        )


def prepare(job: AIJob, ref: JobRef) -> OCRState:
    """Validate the payload at the door and build the first state (secrets stop here)."""
    from ai_tasks.settings import get_settings

    payload = strip_secrets(dict(job.payload))
    reject_unknown_fields(payload, PAYLOAD_FIELDS, job_type="ocr")
    url = payload_str(payload, "download_url", required=True, reason_code="download_url_missing")
    default = (get_settings().ocr_engine or "auto").lower()
    engine = payload_choice(payload, "engine", ENGINES, default if default in ENGINES else "auto")
    language = payload_choice(payload, "language", LANGUAGES, "kor+eng")
    options = payload.get("options") or {}
    if not isinstance(options, Mapping):
        raise JobPayloadError("payload_invalid", f"options must be a JSON object, got {type(options).__name__}")
    reject_unknown_fields(options, OPTION_FIELDS, job_type="ocr options")
    return OCRState(
        job=ref,
        download_url=str(url),
        engine=engine,
        language=language,
        dpi=payload_int(options, "dpi", 200, *DPI_RANGE),
        columns=payload_bool(options, "columns", True),
        circled=payload_bool(options, "circled", True),
        deskew=payload_bool(options, "deskew", True),
    )


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


SPEC = JobSpec(type="ocr", queue=CPU_VISION, state=OCRState, prepare=prepare, steps=(Step("ai.ocr", run),))
