"""Result types of handwriting analysis.

Frames:
    Every box is in the pixels of the *input photo* (``image[y, x]``, origin
    top-left), whatever resolution the analysis ran at.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

__all__ = ["METHODS", "HandwritingResult", "WrittenRegion"]

#: ``reference``: a blank sheet was aligned and subtracted; ``features``: no
#: blank, handwriting told from print by colour, lightness and shape.
METHODS = ("reference", "features")


@dataclass(frozen=True)
class WrittenRegion:
    """One block of handwriting (nearby strokes merged).

    Args:
        box_xywh: ``(x, y, w, h)`` in input-photo pixels.
        ink_fraction: handwritten ink pixels / box area, 0..1.
        calculation: ``True`` when most of its ink looks like calculation
            (digit-sized glyphs in a row, short horizontal operator strokes).
    """

    box_xywh: tuple[int, int, int, int]
    ink_fraction: float
    calculation: bool

    def to_dict(self) -> dict[str, Any]:
        return {"box": list(self.box_xywh), "ink_fraction": round(self.ink_fraction, 4), "calculation": self.calculation}


@dataclass(frozen=True)
class HandwritingResult:
    """What a teacher wants to know about one worksheet photo.

    Args:
        writing_score: 0..1, grows with the amount of handwritten ink
            (``1 - exp(-ink_fraction / scale)``); printed-only pages score ~0.
        calculation_score: 0..1, the share of the handwritten ink that looks
            like calculation (see :mod:`vision.handwriting.calculation`); 0
            when nothing is written.
        method: one of :data:`METHODS`.
        ink_fraction: handwritten ink pixels / page pixels, 0..1.
        written_fraction: area of the written regions / page area, 0..1 (how
            much of the page the student wrote on).
        regions: the written regions, largest first.
        size_wh: the input photo's ``(width, height)`` in pixels.
        aligned: with a reference, whether the blank could be aligned (when
            it could not, ``method`` falls back to ``features``); ``None``
            without a reference.
        mask: ``(H, W)`` uint8 handwriting mask (255 = written) at analysis
            resolution, for overlays; not part of :meth:`to_dict`.
    """

    writing_score: float
    calculation_score: float
    method: str
    ink_fraction: float
    written_fraction: float
    regions: tuple[WrittenRegion, ...]
    size_wh: tuple[int, int]
    aligned: bool | None = None
    mask: npt.NDArray[np.uint8] | None = field(default=None, repr=False, compare=False)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict (the mask stays out).

        Examples:
            >>> r = HandwritingResult(0.5, 0.25, "features", 0.01, 0.1, (), (10, 20))
            >>> r.to_dict()["method"], r.to_dict()["regions"]
            ('features', [])
        """
        return {
            "writing_score": round(self.writing_score, 4),
            "calculation_score": round(self.calculation_score, 4),
            "method": self.method,
            "ink_fraction": round(self.ink_fraction, 5),
            "written_fraction": round(self.written_fraction, 4),
            "regions": [r.to_dict() for r in self.regions],
            "size_wh": list(self.size_wh),
            "aligned": self.aligned,
        }
