"""Question segmentation of exam pages: layout analysis (OpenCV + Tesseract anchors) or YOLO (ONNX).

Typical use::

    from vision.segment import segment_page
    seg = segment_page(image, engine="auto", yolo=YoloConfig(model_path="/models/q.onnx"))
    for q in seg.questions:
        print(q.number, q.box_xywh, q.column)
"""

from vision.segment.engine import ENGINES, YoloConfig, segment_page
from vision.segment.types import QuestionBox, Segmentation

__all__ = ["ENGINES", "QuestionBox", "Segmentation", "YoloConfig", "segment_page"]
