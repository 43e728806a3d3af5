"""YOLO engine: both output layouts decoded to known page boxes, NMS, letterbox inverse, model errors."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from tests.vision.segment._onnx import constant_model
from vision.errors import ModelError
from vision.segment import yolo
from vision.segment.yolo import decode, detect_questions, letterbox, load_session, nms

SIDE = 64
PAGE_HW = (400, 300)  # scale 0.16, pad_x 8, pad_y 0


def _to_input(box_xywh: tuple[int, int, int, int]) -> list[float]:
    """cx, cy, w, h in letterboxed input pixels of a page box."""
    x, y, w, h = box_xywh
    s, px, py = 0.16, 8.0, 0.0
    return [(x + w / 2) * s + px, (y + h / 2) * s + py, w * s, h * s]


BOXES = [(30, 40, 110, 80), (30, 200, 240, 100), (160, 40, 120, 60)]


def _v5(rows: list[list[float]]) -> np.ndarray:
    out = np.zeros((1, 12, 7), np.float32)  # 12 proposals, 5 + 2 classes
    for i, r in enumerate(rows):
        out[0, i, : len(r)] = r
    return out


def _v8(rows: list[list[float]]) -> np.ndarray:
    out = np.zeros((1, 6, 12), np.float32)  # 4 + 2 classes, 12 proposals
    for i, r in enumerate(rows):
        out[0, : len(r), i] = r
    return out


def _page() -> np.ndarray:
    return np.full(PAGE_HW, 255, np.uint8)


@pytest.mark.parametrize("layout", ["v5", "v8"])
def test_known_boxes_decode_to_page_pixels(tmp_path: Path, layout: str) -> None:
    if layout == "v5":
        out = _v5([_to_input(b) + [0.9, 1.0, 0.0] for b in BOXES] + [_to_input((0, 0, 50, 50)) + [0.2, 1.0, 0.0]])
    else:
        out = _v8([_to_input(b) + [0.9, 0.0] for b in BOXES] + [_to_input((0, 0, 50, 50)) + [0.2, 0.0]])
    model = constant_model(tmp_path / f"{layout}.onnx", out, SIDE)
    found = detect_questions(_page(), str(model), input_size=SIDE, conf_threshold=0.4, iou_threshold=0.5)
    assert len(found) == 3  # the 0.2 box is under the threshold
    # reading order: left column top to bottom, then the right column
    assert [q.column for q in found] == [0, 0, 1]
    got = [q.box_xywh for q in found]
    want = [BOXES[0], BOXES[1], BOXES[2]]
    for g, w in zip(got, want, strict=True):
        assert np.abs(np.array(g) - np.array(w)).max() <= 2, (g, w)
    assert all(q.number is None and abs(q.score - 0.9) < 1e-5 for q in found)


def test_overlapping_same_class_suppressed_other_class_kept(tmp_path: Path) -> None:
    b = _to_input((30, 40, 120, 80))
    shifted = _to_input((32, 42, 120, 80))
    out = _v8([b + [0.9, 0.0], shifted + [0.8, 0.0], shifted + [0.0, 0.7]])
    found = detect_questions(_page(), str(constant_model(tmp_path / "m.onnx", out, SIDE)), input_size=SIDE)
    assert sorted(round(q.score, 2) for q in found) == [0.7, 0.9]


def test_boxes_clipped_to_the_page(tmp_path: Path) -> None:
    out = _v5([_to_input((-50, 300, 500, 200)) + [0.9, 1.0, 0.0]])
    (q,) = detect_questions(_page(), str(constant_model(tmp_path / "m.onnx", out, SIDE)), input_size=SIDE)
    x, y, w, h = q.box_xywh
    assert x == 0 and x + w == 300 and y + h == 400 and abs(y - 300) <= 2


def test_letterbox_inverse_round_trips() -> None:
    rng = np.random.default_rng(0)
    for h, w, side in [(400, 300, 64), (2339, 1654, 640), (100, 1000, 320), (640, 640, 640)]:
        _, geo = letterbox(np.zeros((h, w), np.uint8), side)
        page = np.array([[rng.uniform(0, w / 2), rng.uniform(0, h / 2), rng.uniform(w / 2, w), rng.uniform(h / 2, h)]])
        inp = page * geo.scale + [geo.pad_x, geo.pad_y, geo.pad_x, geo.pad_y]
        assert np.allclose(geo.to_page(inp), page)
        assert 0 <= geo.pad_x < side and 0 <= geo.pad_y < side


def test_letterbox_pads_grey_and_centres() -> None:
    tensor, geo = letterbox(np.zeros((100, 200, 3), np.uint8), 64)
    assert geo.pad_y == 16 and tensor[0, 0, 0, 0] == pytest.approx(114 / 255) and tensor[0, 0, 32, 32] == 0


def test_nms_empty_and_ordering() -> None:
    assert nms(np.zeros((0, 4)), np.zeros(0), np.zeros(0, np.int64), 0.5).size == 0
    boxes = np.array([[0, 0, 10, 10], [20, 20, 30, 30], [0, 0, 10, 9]], float)
    assert nms(boxes, np.array([0.5, 0.9, 0.8]), np.zeros(3, np.int64), 0.5).tolist() == [1, 2]


def test_yolov5_without_classes_uses_objectness() -> None:
    out = np.zeros((1, 8, 5), np.float32)
    out[0, 0] = [10, 10, 4, 4, 0.7]
    boxes, scores, classes = decode(out)
    assert scores[0] == pytest.approx(0.7) and classes[0] == 0


def test_missing_model() -> None:
    with pytest.raises(ModelError) as err:
        detect_questions(_page(), "/nonexistent/q.onnx")
    assert err.value.reason_code == "model_missing"


def test_not_onnx(tmp_path: Path) -> None:
    bad = tmp_path / "q.onnx"
    bad.write_bytes(b"this is not a protobuf at all" * 10)
    with pytest.raises(ModelError) as err:
        detect_questions(_page(), str(bad))
    assert err.value.reason_code == "model_invalid"


@pytest.mark.parametrize("shape", [(1, 2, 3, 4), (1, 3, 4), (2, 10, 7)])
def test_wrong_output_shape(tmp_path: Path, shape: tuple[int, ...]) -> None:
    model = constant_model(tmp_path / "m.onnx", np.zeros(shape, np.float32), SIDE)
    with pytest.raises(ModelError) as err:
        detect_questions(_page(), str(model), input_size=SIDE)
    assert err.value.reason_code == "model_output_shape"


def test_session_loaded_once_per_process(tmp_path: Path) -> None:
    model = constant_model(tmp_path / "m.onnx", _v8([]), SIDE)
    yolo._sessions.clear()
    assert load_session(str(model)) is load_session(str(model))
    assert len(yolo._sessions) == 1
