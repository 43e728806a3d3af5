"""Tasks of the ``cpu-vision`` queue: OMR grading (chain steps and one task) and
the image jobs. Each is a thin wrapper: the job's module under
:mod:`ai_tasks.jobs` says what the step does."""

from __future__ import annotations

from typing import Any

from ai_tasks.celery import app
from ai_tasks.jobs.runner import run_task_step
from ai_tasks.task import JobStepTask

__all__ = [
    "analyze_handwriting",
    "analyze_homework_video",
    "ocr",
    "omr_answers",
    "omr_fetch",
    "omr_grade",
    "omr_identifier",
    "omr_warp",
    "segment_questions",
    "wrong_note",
]


@app.task(name="ai.omr.grade", bind=True, base=JobStepTask)
def omr_grade(self: JobStepTask, state: dict[str, Any]) -> dict[str, Any]:
    """OMR in one task: the four steps in one process (``payload.pipeline: "single"``)."""
    return run_task_step(self, state)


@app.task(name="ai.omr.fetch", bind=True, base=JobStepTask)
def omr_fetch(self: JobStepTask, state: dict[str, Any]) -> dict[str, Any]:
    """OMR step 1: template meta and photo into the artifact store."""
    return run_task_step(self, state)


@app.task(name="ai.omr.warp", bind=True, base=JobStepTask)
def omr_warp(self: JobStepTask, state: dict[str, Any]) -> dict[str, Any]:
    """OMR step 2: decode the photo, warp it to the template frame."""
    return run_task_step(self, state)


@app.task(name="ai.omr.identifier", bind=True, base=JobStepTask)
def omr_identifier(self: JobStepTask, state: dict[str, Any]) -> dict[str, Any]:
    """OMR step 3: read the student id."""
    return run_task_step(self, state)


@app.task(name="ai.omr.answers", bind=True, base=JobStepTask)
def omr_answers(self: JobStepTask, state: dict[str, Any]) -> dict[str, Any]:
    """OMR step 4: read answers, score, review; the page and meta are released after."""
    return run_task_step(self, state)


@app.task(name="ai.ocr", bind=True, base=JobStepTask)
def ocr(self: JobStepTask, state: dict[str, Any]) -> dict[str, Any]:
    """OCR (Tesseract kor+eng / Google Vision / auto)."""
    return run_task_step(self, state)


@app.task(name="ai.segment", bind=True, base=JobStepTask)
def segment_questions(self: JobStepTask, state: dict[str, Any]) -> dict[str, Any]:
    """Question segmentation (OpenCV layout / YOLO on onnxruntime / auto)."""
    return run_task_step(self, state)


@app.task(name="ai.handwriting", bind=True, base=JobStepTask)
def analyze_handwriting(self: JobStepTask, state: dict[str, Any]) -> dict[str, Any]:
    """Handwriting analysis of a worksheet photo."""
    return run_task_step(self, state)


@app.task(name="ai.homework.video", bind=True, base=JobStepTask)
def analyze_homework_video(self: JobStepTask, state: dict[str, Any]) -> dict[str, Any]:
    """Homework video analysis (reports PROGRESS while it runs)."""
    return run_task_step(self, state)


@app.task(name="ai.wrong_note", bind=True, base=JobStepTask)
def wrong_note(self: JobStepTask, state: dict[str, Any]) -> dict[str, Any]:
    """Wrong-answer note PDF."""
    return run_task_step(self, state)
