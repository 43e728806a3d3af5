"""A picture for the teacher: the handwriting tinted, written regions boxed.

Examples:
    >>> import numpy as np
    >>> from vision.handwriting.types import HandwritingResult, WrittenRegion
    >>> page = np.full((100, 80, 3), 255, np.uint8)
    >>> res = HandwritingResult(0.5, 0.0, "features", 0.01, 0.2, (WrittenRegion((10, 10, 30, 20), 0.1, False),),
    ...                         (80, 100), mask=np.zeros((100, 80), np.uint8))
    >>> render_overlay(page, res).shape
    (100, 80, 3)
"""

from __future__ import annotations

import cv2
import numpy as np
import numpy.typing as npt

from vision.handwriting.types import HandwritingResult

__all__ = ["render_overlay"]

#: BGR colours: handwriting tint (magenta), writing boxes (green), calculation boxes (orange).
INK_BGR = (200, 0, 200)
WRITING_BGR = (40, 170, 40)
CALC_BGR = (0, 140, 255)
#: how strongly the handwriting is tinted (0 none .. 1 flat colour).
TINT_ALPHA = 0.7


def render_overlay(image: npt.NDArray[np.uint8], result: HandwritingResult) -> npt.NDArray[np.uint8]:
    """``(H, W, 3)`` BGR copy of ``image`` with the handwriting tinted and its regions boxed."""
    out = np.asarray(cv2.cvtColor(image, cv2.COLOR_GRAY2BGR), np.uint8) if image.ndim == 2 else image.copy()
    h, w = out.shape[:2]
    if result.mask is not None and result.mask.any():
        mask = cv2.resize(result.mask, (w, h), interpolation=cv2.INTER_NEAREST) > 0
        tint = np.asarray(INK_BGR, np.float32)
        out[mask] = (out[mask].astype(np.float32) * (1 - TINT_ALPHA) + tint * TINT_ALPHA).astype(np.uint8)
    thick = max(2, round(max(h, w) / 600))
    for region in result.regions:
        x, y, bw, bh = region.box_xywh
        colour = CALC_BGR if region.calculation else WRITING_BGR
        cv2.rectangle(out, (x, y), (x + bw - 1, y + bh - 1), colour, thick)
    label = f"{result.method}: writing {result.writing_score:.2f}  calculation {result.calculation_score:.2f}"
    cv2.putText(out, label, (10, 10 + 12 * thick), cv2.FONT_HERSHEY_SIMPLEX, 0.4 * thick, (0, 0, 255), max(1, thick // 2))
    return out
