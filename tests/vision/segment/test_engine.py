"""Engine choice: opencv, yolo, auto; reading order; errors."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from tests.vision.segment._onnx import constant_model
from vision.errors import EngineError, ModelError
from vision.segment import YoloConfig, segment_page
from vision.segment.overlay import draw_questions
from vision.synth.exam import render_exam_page


def test_opencv_default_without_a_model() -> None:
    page = render_exam_page(1, columns=1, lang="en")
    seg = segment_page(page.image, engine="auto")
    assert seg.engine == "opencv" and [q.number for q in seg.questions] == [q.number for q in page.questions]
    out = draw_questions(page.image, seg.questions)
    assert out.shape == page.image.shape + (3,) and (out != 255).any()


def test_yolo_boxes_in_reading_order(tmp_path: Path) -> None:
    out = np.zeros((1, 8, 5), np.float32)  # YOLOv5 layout without classes: cx, cy, w, h, objectness
    out[0, 0] = [480, 300, 100, 50, 0.9]  # right column, top
    out[0, 1] = [160, 400, 100, 50, 0.8]  # left column, lower
    out[0, 2] = [160, 200, 100, 50, 0.7]  # left column, upper
    model = constant_model(tmp_path / "m.onnx", out, 640)
    seg = segment_page(np.full((640, 640), 255, np.uint8), engine="yolo", yolo=YoloConfig(str(model)))
    assert seg.engine == "yolo"
    assert [(q.column, q.box_xywh[1]) for q in seg.questions] == [(0, 175), (0, 375), (1, 275)]


def test_yolo_without_a_model_is_an_error() -> None:
    with pytest.raises(ModelError) as err:
        segment_page(np.full((10, 10), 255, np.uint8), engine="yolo")
    assert err.value.reason_code == "model_not_configured"


def test_unknown_engine() -> None:
    with pytest.raises(EngineError):
        segment_page(np.full((10, 10), 255, np.uint8), engine="magic")
