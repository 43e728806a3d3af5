"""One entry point for question segmentation: ``opencv``, ``yolo`` or ``auto``.

* ``opencv``: layout analysis (:mod:`vision.segment.layout`), no model needed.
* ``yolo``: an ONNX detector (:mod:`vision.segment.yolo`); needs ``model_path``.
* ``auto``: YOLO when a model is configured and it finds boxes, else OpenCV.
  A configured model that is missing or broken is an error, not a silent
  fallback: the operator asked for it and must hear that it does not load.

Examples:
    >>> import numpy as np
    >>> seg = segment_page(np.full((200, 150), 255, np.uint8), engine="opencv")
    >>> seg.questions, seg.engine, seg.size_wh
    ((), 'opencv', (150, 200))
    >>> segment_page(np.full((20, 20), 255, np.uint8), engine="magic")
    Traceback (most recent call last):
    ...
    vision.errors.EngineError: segmentation_engine_unknown: engine must be opencv, yolo or auto, got 'magic'
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from vision.errors import EngineError, ModelError
from vision.segment.types import QuestionBox, Segmentation

__all__ = ["ENGINES", "YoloConfig", "segment_page"]

ENGINES = ("opencv", "yolo", "auto")


@dataclass(frozen=True)
class YoloConfig:
    """Where the YOLO model is and how to threshold it (see :mod:`vision.segment.yolo`)."""

    model_path: str | None = None
    input_size: int = 640
    conf_threshold: float = 0.4
    iou_threshold: float = 0.5


def _reading_order(questions: list[QuestionBox]) -> tuple[QuestionBox, ...]:
    return tuple(sorted(questions, key=lambda q: (q.column, q.box_xywh[1], q.box_xywh[0])))


def segment_page(
    image: npt.NDArray[np.uint8], *, engine: str = "auto", yolo: YoloConfig | None = None
) -> Segmentation:
    """Segment one page into questions.

    Args:
        image: ``uint8`` grayscale ``(H, W)`` or BGR ``(H, W, 3)``, page pixels.
        engine: ``"opencv"``, ``"yolo"`` or ``"auto"``.
        yolo: model settings; ``None`` or no ``model_path`` means no model.

    Returns:
        The questions in reading order, the engine used, the page size, and
        (``opencv``) the headings and group instructions as ``blocks``.

    Raises:
        EngineError: ``segmentation_engine_unknown``; Tesseract errors from the layout engine.
        ModelError: ``model_not_configured`` (``yolo`` without a model),
            ``model_missing``, ``model_invalid``, ``model_output_shape``.
    """
    if engine not in ENGINES:
        raise EngineError("segmentation_engine_unknown", f"engine must be opencv, yolo or auto, got {engine!r}")
    size_wh = (int(image.shape[1]), int(image.shape[0]))
    cfg = yolo or YoloConfig()
    if engine in ("yolo", "auto") and cfg.model_path:
        from vision.segment.yolo import detect_questions

        found = detect_questions(
            image, cfg.model_path, input_size=cfg.input_size, conf_threshold=cfg.conf_threshold, iou_threshold=cfg.iou_threshold
        )
        if found or engine == "yolo":
            return Segmentation(_reading_order(list(found)), "yolo", size_wh)
    elif engine == "yolo":
        raise ModelError("model_not_configured", "engine 'yolo' needs a model: set YOLO_QUESTION_MODEL_PATH")
    from vision.segment.layout import analyse_layout

    questions, blocks = analyse_layout(image)
    return Segmentation(questions, "opencv", size_wh, blocks)
