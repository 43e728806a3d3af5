"""Job ``handwriting_analysis`` (task ``ai.handwriting``): how much a student wrote on a worksheet photo.

Payload (validated at the door):
    ``download_url`` (required): presigned URL of the photo or scan
    (JPEG/PNG/WebP/TIFF; a PDF's first page).
    ``reference_url``: the blank worksheet (an image, or a PDF whose first
    page is the sheet); with it only what the student added counts.
    ``overlay``: ``true`` to store a picture (handwriting tinted, regions
    boxed) as an artifact.

Result (the seed's ``writing_score`` and ``calculation_score`` kept, 0..1):
    ``method`` (``reference`` or ``features``), ``aligned`` (with a
    reference: did it align; ``null`` without), ``ink_fraction``,
    ``written_fraction``, ``regions[{box: [x, y, w, h], ink_fraction,
    calculation}]`` in photo pixels, ``size_wh``, ``overlay_key`` (with
    ``overlay: true``), ``timings_ms``. See ``docs/jobs/handwriting.md``.

Errors keep the library's reason codes: ``image_invalid``, ``image_empty``,
``page_too_large``, ``image_too_small``, ``reference_invalid`` ..., and the
download's.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ai_tasks.contracts import AIJob
from ai_tasks.jobs.base import JobRef, JobSpec, Step, StepContext
from ai_tasks.jobs.codec import StateCodec
from ai_tasks.jobs.payload import Flag, PayloadSpec, Text
from ai_tasks.routing import CPU_VISION

__all__ = ["PAYLOAD", "SPEC", "HandwritingState", "load_image", "prepare", "run"]

#: The payload (the legacy worker read download_url only).
PAYLOAD = PayloadSpec("handwriting_analysis", (
    Text("download_url", required=True, missing_code="download_url_missing"),
    Text("reference_url"),
    Flag("overlay"),
))


@dataclass(frozen=True)
class HandwritingState(StateCodec):
    """What crosses the broker for one ``handwriting_analysis`` job.

    Args:
        job: who the job is.
        download_url: presigned URL of the written page.
        reference_url: presigned URL of the blank sheet, or ``None``.
        overlay: store an overlay picture as an artifact.
    """

    job: JobRef
    download_url: str
    reference_url: str | None = None
    overlay: bool = False


def prepare(job: AIJob, ref: JobRef) -> HandwritingState:
    """The door: the payload checked by :data:`PAYLOAD` (secrets dropped), the first state."""
    return HandwritingState(job=ref, **PAYLOAD.check(job.payload))


def load_image(path: Path, *, what: str = "image") -> Any:
    """The first page of an image or PDF at ``path`` as a BGR array, within the worker's limits.

    A reference that cannot be read fails with ``reference_<code>``
    (``reference_image_invalid`` ...), so the user knows which file was wrong.
    """
    from ai_tasks.settings import get_settings
    from vision.errors import PageError
    from vision.pages import load_pages

    s = get_settings()
    try:
        return next(load_pages(path, max_pages=s.max_pages, max_pixels=s.max_pixels)).image
    except PageError as exc:
        if what == "image":
            raise
        raise PageError(f"{what}_{exc.reason_code}", f"{what}: {exc.message}") from None


def run(state: HandwritingState, ctx: StepContext) -> dict[str, Any]:
    """Download the photo (and the blank), analyse the handwriting; the result dict."""
    import cv2

    from ai_tasks.download import download_to_dir, job_tmpdir
    from ai_tasks.resources import artifact_store, download_policy
    from ai_tasks.settings import get_settings
    from vision.errors import PageError
    from vision.handwriting import analyze_handwriting, render_overlay

    timings: dict[str, float] = {}
    with job_tmpdir(get_settings().tmp_dir, state.job.id) as tmp:
        t0 = time.perf_counter()
        path = download_to_dir(state.download_url, tmp, policy=download_policy(), filename="input")
        ref_path = None
        if state.reference_url:
            ref_path = download_to_dir(state.reference_url, tmp, policy=download_policy(), filename="reference")
        timings["download"] = (time.perf_counter() - t0) * 1000
        t0 = time.perf_counter()
        image = load_image(path)
        reference = load_image(ref_path, what="reference") if ref_path is not None else None
        timings["decode"] = (time.perf_counter() - t0) * 1000
    t0 = time.perf_counter()
    result = analyze_handwriting(image, reference)
    timings["analyse"] = (time.perf_counter() - t0) * 1000
    out = result.to_dict()
    if state.overlay:
        ok, buf = cv2.imencode(".png", render_overlay(image, result))
        if not ok:  # pragma: no cover - OpenCV encodes any uint8 BGR image
            raise PageError("overlay_failed", "could not encode the overlay as PNG")
        out["overlay_key"] = artifact_store().put(buf.tobytes(), kind="overlay")
    out["timings_ms"] = {k: round(v, 1) for k, v in timings.items()}
    return out


SPEC = JobSpec(type="handwriting_analysis", queue=CPU_VISION, state=HandwritingState, prepare=prepare,
               steps=(Step("ai.handwriting", run, (60, 90)),))
