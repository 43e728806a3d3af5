"""Tasks of the ``cpu-vision`` queue: OMR grading (chain and single task), and the
image jobs whose engines land in later issues."""

from __future__ import annotations

from typing import Any

from celery import Signature, chain

from ai_tasks import omr_job
from ai_tasks.celery import app
from ai_tasks.task import AITask
from ai_tasks.tasks.not_yet import not_implemented

__all__ = [
    "analyze_handwriting",
    "analyze_homework_video",
    "ocr",
    "omr_answers",
    "omr_chain",
    "omr_fetch",
    "omr_grade",
    "omr_identifier",
    "omr_warp",
    "segment_questions",
]


@app.task(name="ai.omr.grade")
def omr_grade(state: dict[str, Any]) -> dict[str, Any]:
    """Grade one sheet in one process: the lowest-latency path."""
    return omr_job.grade_all(state)


@app.task(name="ai.omr.fetch")
def omr_fetch(state: dict[str, Any]) -> dict[str, Any]:
    """Chain step 1: template meta + photo into the artifact store (the only network step)."""
    return omr_job.fetch_step(state)


@app.task(name="ai.omr.warp")
def omr_warp(state: dict[str, Any]) -> dict[str, Any]:
    """Chain step 2: find the page and warp it to the template frame."""
    return omr_job.warp_step(state)


@app.task(name="ai.omr.identifier")
def omr_identifier(state: dict[str, Any]) -> dict[str, Any]:
    """Chain step 3: read the student id."""
    return omr_job.identifier_step(state)


class _AnswersTask(AITask):
    """The last step: the page and meta are deleted after the result is stored."""

    def on_success(self, retval: Any, task_id: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
        if args and isinstance(args[0], dict):
            omr_job.release_step_artifacts(args[0])


@app.task(name="ai.omr.answers", base=_AnswersTask)
def omr_answers(state: dict[str, Any]) -> dict[str, Any]:
    """Chain step 4: read answers, score, review; returns the OMR result."""
    return omr_job.answers_step(state, release=False)


def omr_chain(state: dict[str, Any]) -> Signature:
    """fetch -> warp -> identifier -> answers, each step retried on its own."""
    return chain(omr_fetch.s(state), omr_warp.s(), omr_identifier.s(), omr_answers.s())


@app.task(name="ai.ocr")
def ocr(state: dict[str, Any]) -> dict[str, Any]:
    """OCR (Tesseract kor+eng / Google Vision): a later issue."""
    not_implemented("ocr", state)


@app.task(name="ai.segment")
def segment_questions(state: dict[str, Any]) -> dict[str, Any]:
    """Question segmentation (OpenCV / YOLO on onnxruntime): a later issue."""
    not_implemented("question_segmentation", state)


@app.task(name="ai.handwriting")
def analyze_handwriting(state: dict[str, Any]) -> dict[str, Any]:
    """Handwriting presence: a later issue."""
    not_implemented("handwriting_analysis", state)


@app.task(name="ai.homework.video")
def analyze_homework_video(state: dict[str, Any]) -> dict[str, Any]:
    """Homework video analysis: a later issue."""
    not_implemented("homework_video_analysis", state)
