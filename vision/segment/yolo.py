"""Question detection with a YOLOv5- or YOLOv8-style detector exported to ONNX (the ``yolo`` engine).

Pipeline: letterbox the page to the model's square input (aspect kept, grey
padding, centred), run it with onnxruntime on one thread, decode the output,
drop boxes under ``conf_threshold``, class-aware non-maximum suppression, undo
the letterbox (scale and padding) and clip to the page.

Output layouts (the first output, batch of one):

* YOLOv5: ``(1, N, 5 + C)`` rows of ``cx, cy, w, h, objectness, class scores...``;
  a box's score is ``objectness * max(class scores)`` (``objectness`` alone when C = 0).
* YOLOv8: ``(1, 4 + C, N)`` columns of ``cx, cy, w, h, class scores...``;
  score ``max(class scores)``.

The two are told apart by shape: a detector proposes far more boxes than it has
channels (``N`` is 8400 at 640 px), so the longer axis is ``N``. Coordinates are
in input pixels of the letterboxed image.

Frames:
    ``image`` is in page pixels (``uint8`` grayscale or BGR); returned boxes
    are ``(x, y, w, h)`` in the same pixels, clipped to the page.

Errors (:class:`vision.errors.ModelError`): ``model_missing`` (no file at the
path), ``model_invalid`` (not a loadable ONNX model, or its input is not an
image tensor), ``model_output_shape`` (an output that is neither layout).

Examples:
    >>> import numpy as np
    >>> tensor, geo = letterbox(np.zeros((100, 200, 3), np.uint8), 64)
    >>> tensor.shape, geo
    ((1, 3, 64, 64), Letterbox(scale=0.32, pad_x=0.0, pad_y=16.0))
    >>> geo.to_page(np.array([[0.0, 16.0, 64.0, 48.0]]))
    array([[  0.,   0., 200., 100.]])
    >>> nms(np.array([[0, 0, 10, 10], [1, 1, 10, 10], [0, 0, 10, 10]], float),
    ...     np.array([0.9, 0.8, 0.7]), np.array([0, 0, 1]), 0.5).tolist()
    [0, 2]
"""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass
from typing import Any

import cv2
import numpy as np
import numpy.typing as npt

from vision.errors import ModelError
from vision.segment.types import QuestionBox

__all__ = ["Letterbox", "decode", "detect_questions", "letterbox", "load_session", "nms"]

#: Letterbox padding grey, as in the Ultralytics exports (the models were trained on it).
PAD_GREY = 114
#: Sessions kept per process (one model in practice; a handful if settings change).
SESSION_CACHE_SIZE = 4
#: Boxes smaller than this many pixels on a side after clipping are dropped (degenerate).
MIN_SIDE_PX = 2

_sessions: dict[tuple[str, int, int], Any] = {}
_lock = threading.Lock()


@dataclass(frozen=True)
class Letterbox:
    """How a page was fitted into the model input: ``input = page * scale + pad``."""

    scale: float
    pad_x: float
    pad_y: float

    def to_page(self, boxes_xyxy: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
        """Map ``(N, 4)`` input-pixel ``x0, y0, x1, y1`` boxes back to page pixels."""
        out = np.asarray(boxes_xyxy, dtype=np.float64).copy()
        out[:, [0, 2]] = (out[:, [0, 2]] - self.pad_x) / self.scale
        out[:, [1, 3]] = (out[:, [1, 3]] - self.pad_y) / self.scale
        return out


def letterbox(image: npt.NDArray[np.uint8], size: int) -> tuple[npt.NDArray[np.float32], Letterbox]:
    """Resize ``image`` into a ``size`` x ``size`` RGB tensor ``(1, 3, size, size)`` in ``[0, 1]``."""
    bgr = cv2.cvtColor(image, cv2.COLOR_GRAY2BGR) if image.ndim == 2 else image
    h, w = bgr.shape[:2]
    scale = min(size / h, size / w)
    nw, nh = max(1, round(w * scale)), max(1, round(h * scale))
    resized = cv2.resize(bgr, (nw, nh), interpolation=cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR)
    pad_x, pad_y = (size - nw) / 2, (size - nh) / 2
    canvas = np.full((size, size, 3), PAD_GREY, np.uint8)
    left, top = int(round(pad_x - 0.1)), int(round(pad_y - 0.1))
    canvas[top : top + nh, left : left + nw] = resized
    rgb = canvas[:, :, ::-1].astype(np.float32) / 255.0
    tensor = np.ascontiguousarray(rgb.transpose(2, 0, 1)[None])
    return tensor, Letterbox(scale=scale, pad_x=float(left), pad_y=float(top))


def decode(
    output: npt.NDArray[np.float32],
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64], npt.NDArray[np.int64]]:
    """Decode a raw YOLOv5/YOLOv8 output into ``(boxes_xyxy, scores, classes)`` (input pixels).

    Raises:
        ModelError: ``model_output_shape`` for any other shape.

    Examples:
        >>> v8 = np.zeros((1, 5, 6), np.float32)            # 4 + 1 class, 6 proposals
        >>> v8[0, :, 0] = [50, 40, 20, 10, 0.9]
        >>> boxes, scores, classes = decode(v8)
        >>> boxes[0].tolist(), round(float(scores[0]), 2), int(classes[0])
        ([40.0, 35.0, 60.0, 45.0], 0.9, 0)
        >>> decode(np.zeros((1, 2, 3, 4), np.float32))
        Traceback (most recent call last):
        ...
        vision.errors.ModelError: model_output_shape: expected (1, N, 5+C) or (1, 4+C, N), got (1, 2, 3, 4)
    """
    arr = np.asarray(output)
    shape = tuple(arr.shape)
    if arr.ndim == 2:
        arr = arr[None]
    if arr.ndim != 3 or arr.shape[0] != 1 or min(arr.shape[1:]) < 5:
        raise ModelError("model_output_shape", f"expected (1, N, 5+C) or (1, 4+C, N), got {shape}")
    a, b = arr.shape[1:]
    rows = arr[0].astype(np.float64)
    if a < b:  # YOLOv8: channels first
        rows = rows.T
        cls = rows[:, 4:]
        classes = cls.argmax(axis=1)
        scores = cls.max(axis=1)
    else:  # YOLOv5
        obj = rows[:, 4]
        cls = rows[:, 5:]
        if cls.shape[1]:
            classes = cls.argmax(axis=1)
            scores = obj * cls.max(axis=1)
        else:
            classes = np.zeros(len(rows), np.int64)
            scores = obj
    cx, cy, w, h = rows[:, 0], rows[:, 1], rows[:, 2], rows[:, 3]
    boxes = np.stack([cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2], axis=1)
    return boxes, scores, classes.astype(np.int64)


def nms(
    boxes_xyxy: npt.NDArray[np.float64],
    scores: npt.NDArray[np.float64],
    classes: npt.NDArray[np.int64],
    iou_threshold: float,
) -> npt.NDArray[np.int64]:
    """Class-aware non-maximum suppression: indices kept, best score first.

    Boxes of different classes never suppress each other (each class is offset
    far apart before the usual greedy suppression).
    """
    if len(boxes_xyxy) == 0:
        return np.zeros(0, np.int64)
    offset = (np.abs(boxes_xyxy).max() + 1.0) * 2.0
    b = boxes_xyxy + (classes.astype(np.float64) * offset)[:, None]
    x0, y0, x1, y1 = b.T
    areas = np.maximum(0.0, x1 - x0) * np.maximum(0.0, y1 - y0)
    order = np.argsort(-scores, kind="stable")
    keep: list[int] = []
    while order.size:
        i = int(order[0])
        keep.append(i)
        rest = order[1:]
        iw = np.maximum(0.0, np.minimum(x1[i], x1[rest]) - np.maximum(x0[i], x0[rest]))
        ih = np.maximum(0.0, np.minimum(y1[i], y1[rest]) - np.maximum(y0[i], y0[rest]))
        inter = iw * ih
        iou = inter / np.maximum(areas[i] + areas[rest] - inter, 1e-9)
        order = rest[iou <= iou_threshold]
    return np.array(keep, np.int64)


def load_session(model_path: str) -> Any:
    """The onnxruntime session for ``model_path``, loaded once per process (one thread).

    The cache key includes the file's size and modification time, so a model
    replaced on disk is reloaded.

    Raises:
        ModelError: ``model_missing``, ``model_invalid``.
    """
    try:
        st = os.stat(model_path)
    except OSError as exc:
        raise ModelError("model_missing", f"no YOLO model at {model_path!r}: {exc.strerror}") from exc
    key = (os.path.abspath(model_path), st.st_size, st.st_mtime_ns)
    with _lock:
        cached = _sessions.get(key)
        if cached is not None:
            return cached
        import onnxruntime as ort

        opts = ort.SessionOptions()
        opts.intra_op_num_threads = 1
        opts.inter_op_num_threads = 1
        opts.log_severity_level = 3
        try:
            session = ort.InferenceSession(model_path, sess_options=opts, providers=["CPUExecutionProvider"])
        except Exception as exc:  # onnxruntime raises its own Fail/InvalidProtobuf/InvalidGraph types
            raise ModelError("model_invalid", f"{model_path!r} is not a loadable ONNX model: {str(exc)[:200]}") from exc
        inputs = session.get_inputs()
        if len(inputs) != 1 or len(inputs[0].shape) != 4:
            raise ModelError("model_invalid", f"expected one image input (1, 3, H, W), got {[i.shape for i in inputs]}")
        if len(_sessions) >= SESSION_CACHE_SIZE:
            _sessions.pop(next(iter(_sessions)))
        _sessions[key] = session
        return session


def _columns(boxes: list[tuple[int, int, int, int]], width: int) -> list[int]:
    """Column of each box: two columns when boxes sit wholly on both halves of the page."""
    mid = width / 2
    left = any(x + w <= mid for x, _, w, _ in boxes)
    right = any(x >= mid for x, _, _, _ in boxes)
    if not (left and right):
        return [0] * len(boxes)
    return [int(x + w / 2 > mid) for x, _, w, _ in boxes]


def detect_questions(
    image: npt.NDArray[np.uint8],
    model_path: str,
    *,
    input_size: int = 640,
    conf_threshold: float = 0.4,
    iou_threshold: float = 0.5,
) -> tuple[QuestionBox, ...]:
    """Detect question boxes with the ONNX model at ``model_path``.

    Args:
        image: the page, ``uint8`` grayscale ``(H, W)`` or BGR ``(H, W, 3)``.
        model_path: an ONNX file with one ``(1, 3, S, S)`` float input.
        input_size: letterbox side; a model with a fixed input side uses its own.
        conf_threshold: boxes scoring below are dropped.
        iou_threshold: overlap above which a lower-scoring box of the same class is suppressed.

    Returns:
        Boxes in page pixels, reading order (column, then top to bottom); ``number`` is ``None``.

    Raises:
        ModelError: ``model_missing``, ``model_invalid``, ``model_output_shape``.
    """
    session = load_session(model_path)
    inp = session.get_inputs()[0]
    side = inp.shape[2] if isinstance(inp.shape[2], int) and inp.shape[2] > 0 else input_size
    tensor, geo = letterbox(image, int(side))
    try:
        outputs = session.run(None, {inp.name: tensor})
    except Exception as exc:
        raise ModelError("model_invalid", f"the model failed on a {side}x{side} input: {str(exc)[:200]}") from exc
    boxes, scores, classes = decode(outputs[0])
    ok = scores >= conf_threshold
    boxes, scores, classes = boxes[ok], scores[ok], classes[ok]
    keep = nms(boxes, scores, classes, iou_threshold)
    h, w = image.shape[:2]
    page = geo.to_page(boxes[keep]) if keep.size else np.zeros((0, 4))
    found: list[tuple[tuple[int, int, int, int], float]] = []
    for (x0, y0, x1, y1), s in zip(page, scores[keep], strict=True):
        x0, x1 = float(np.clip(x0, 0, w)), float(np.clip(x1, 0, w))
        y0, y1 = float(np.clip(y0, 0, h)), float(np.clip(y1, 0, h))
        if x1 - x0 < MIN_SIDE_PX or y1 - y0 < MIN_SIDE_PX:
            continue
        bx, by = int(np.floor(x0)), int(np.floor(y0))
        found.append(((bx, by, int(np.ceil(x1)) - bx, int(np.ceil(y1)) - by), float(s)))
    cols = _columns([b for b, _ in found], w)
    out = [QuestionBox(b, None, s, c) for (b, s), c in zip(found, cols, strict=True)]
    return tuple(sorted(out, key=lambda q: (q.column, q.box_xywh[1], q.box_xywh[0])))
