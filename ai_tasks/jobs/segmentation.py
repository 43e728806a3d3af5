"""Job ``question_segmentation`` (task ``ai.segment``): find the questions of an exam page.

Payload (validated at the door):
    ``download_url`` (required): presigned URL of a photo, scan or PDF.
    ``engine``: ``opencv`` | ``yolo`` | ``auto`` (default: the worker's
    ``QUESTION_SEGMENTATION_ENGINE``).
    ``crops``: also store a PNG crop of each question (artifact keys in ``crop_keys``).
    ``overlay``: also store a PNG of each page with the boxes drawn (``overlay_keys``).

Result (the seed's ``boxes`` kept):
    ``boxes``: ``[[x, y, w, h], ...]`` in page pixels, reading order (page,
    then column, then top to bottom); ``questions``: ``[{box, number, score,
    column, kind, page}]`` in the same order (``kind`` is always ``question``);
    ``blocks``: what is not a question, in the same order: section headings
    (``kind: heading``) and group instructions (``kind: instruction`` with
    ``governs``, the numbers of the questions they govern), never numbered; ``engine``; ``page``: ``{width,
    height}`` of the first page; ``pages``: ``[{index, width, height, engine,
    count}]``; ``crop_keys`` / ``overlay_keys`` when asked; ``timings_ms``.

The algorithm lives in :mod:`vision.segment`; its errors (``model_missing``,
``model_invalid``, ``model_output_shape``, ``image_invalid``, ``page_too_large``,
...) carry their reason codes to the FAILED result.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from ai_tasks.contracts import AIJob
from ai_tasks.jobs.base import JobRef, JobSpec, Step, StepContext
from ai_tasks.jobs.codec import StateCodec
from ai_tasks.jobs.payload import Choice, Flag, PayloadSpec, Text
from ai_tasks.routing import CPU_VISION

__all__ = ["PAYLOAD", "SPEC", "SegmentationState", "prepare", "run"]

#: Engines a payload may ask for.
ENGINES = ("opencv", "yolo", "auto")


def _default_engine() -> str:
    """The worker's ``QUESTION_SEGMENTATION_ENGINE`` when it names an engine, else ``auto``."""
    from ai_tasks.settings import get_settings

    configured = get_settings().segmentation_engine.lower()
    return configured if configured in ENGINES else "auto"


#: The payload (the legacy worker read only download_url).
PAYLOAD = PayloadSpec("question_segmentation", (
    Text("download_url", required=True, missing_code="download_url_missing"),
    Choice("engine", ENGINES, _default_engine),
    Flag("crops"),
    Flag("overlay"),
))


@dataclass(frozen=True)
class SegmentationState(StateCodec):
    """What crosses the broker for one ``question_segmentation`` job.

    Args:
        job: who the job is.
        download_url: presigned URL of the page (never logged with its query).
        engine: ``opencv``, ``yolo`` or ``auto``.
        crops: store a PNG crop per question.
        overlay: store a PNG per page with the boxes drawn.
    """

    job: JobRef
    download_url: str
    engine: str = "auto"
    crops: bool = False
    overlay: bool = False


def prepare(job: AIJob, ref: JobRef) -> SegmentationState:
    """The door: the payload checked by :data:`PAYLOAD` (secrets dropped), the first state."""
    return SegmentationState(job=ref, **PAYLOAD.check(job.payload))


def _png(image: Any) -> bytes:
    import cv2

    ok, buf = cv2.imencode(".png", image)
    if not ok:  # pragma: no cover - encoding a valid uint8 array does not fail
        raise RuntimeError("PNG encoding failed")
    return bytes(buf)


def run(state: SegmentationState, ctx: StepContext) -> dict[str, Any]:
    """Download the page(s), segment each, store crops/overlays if asked; the result dict."""
    from ai_tasks.download import download_to_dir, job_tmpdir
    from ai_tasks.resources import artifact_store, download_policy
    from ai_tasks.settings import get_settings
    from vision.pages import load_pages
    from vision.segment.engine import YoloConfig, segment_page
    from vision.segment.overlay import draw_questions

    s = get_settings()
    yolo = YoloConfig(
        model_path=s.yolo_model_path,
        input_size=s.yolo_input_size,
        conf_threshold=s.yolo_conf_threshold,
        iou_threshold=s.yolo_iou_threshold,
    )
    timings = {"download": 0.0, "decode": 0.0, "segment": 0.0, "artifacts": 0.0}
    questions: list[dict[str, Any]] = []
    blocks: list[dict[str, Any]] = []
    pages: list[dict[str, Any]] = []
    crop_keys: list[str] = []
    overlay_keys: list[str] = []
    with job_tmpdir(s.tmp_dir, state.job.id) as tmp:
        t0 = time.perf_counter()
        path = download_to_dir(state.download_url, tmp, policy=download_policy(), filename="input")
        timings["download"] += time.perf_counter() - t0
        t0 = time.perf_counter()
        for page in load_pages(path, max_pages=s.max_pages, max_pixels=s.max_pixels):
            t1 = time.perf_counter()
            timings["decode"] += t1 - t0
            seg = segment_page(page.image, engine=state.engine, yolo=yolo)
            t2 = time.perf_counter()
            timings["segment"] += t2 - t1
            width, height = seg.size_wh
            pages.append({"index": page.index, "width": width, "height": height, "engine": seg.engine, "count": len(seg.questions)})
            blocks += [{**b.to_dict(), "page": page.index} for b in seg.blocks]
            for q in seg.questions:
                questions.append({**q.to_dict(), "page": page.index})
                if state.crops:
                    x, y, w, h = q.box_xywh
                    crop_keys.append(artifact_store().put(_png(page.image[y : y + h, x : x + w]), kind="crop"))
            if state.overlay:
                overlay_keys.append(artifact_store().put(_png(draw_questions(page.image, seg.questions)), kind="overlay"))
            timings["artifacts"] += time.perf_counter() - t2
            ctx.progress(len(pages), max(len(pages), 1))
            t0 = time.perf_counter()
    result: dict[str, Any] = {
        "boxes": [q["box"] for q in questions],
        "questions": questions,
        "blocks": blocks,
        "engine": pages[0]["engine"] if pages else state.engine,
        "page": {"width": pages[0]["width"], "height": pages[0]["height"]} if pages else None,
        "pages": pages,
        "timings_ms": {k: round(v * 1000, 1) for k, v in timings.items()},
    }
    if state.crops:
        result["crop_keys"] = crop_keys
    if state.overlay:
        result["overlay_keys"] = overlay_keys
    return result


SPEC = JobSpec(
    type="question_segmentation",
    queue=CPU_VISION,
    state=SegmentationState,
    prepare=prepare,
    steps=(Step("ai.segment", run, (120, 180)),),
)
