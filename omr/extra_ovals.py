"""Ovals printed on a card that are not questions (meta ``extra_ovals``): 결시자 확인 and the like.

An oval with ``use: "field"`` is measured and decided like a one-choice
question (:func:`omr.measure.measure_masks`, :func:`omr.decide.decide_group`,
against the sheet's typical mark) and reported under its ``id``; one with
``use: "ignore"`` is printed furniture, never read (the registration leaves
it out of its phase evidence: :func:`omr.register.register`).

Examples:
    >>> import cv2
    >>> from omr.template import build_template, render_sheet
    >>> from omr.warp import WarpedPage
    >>> meta = {**build_template(5), "extra_ovals": [{"id": "absent", "center": {"x": 150, "y": 150},
    ...                                              "use": "field"}, {"id": "late", "center": {"x": 170, "y": 150}}]}
    >>> img = render_sheet(meta, dpi=6 * 25.4)
    >>> _ = cv2.circle(img, (900, 900), 14, 0, 2)  # the absent oval, printed and empty (late: not read)
    >>> read_extra_ovals(WarpedPage(img.copy(), 6.0, {}), meta)
    [{'id': 'absent', 'marked': False, 'status': 'blank', 'confidence': 1.0, 'fill': 0.0}]
    >>> _ = cv2.circle(img, (900, 900), 13, 0, -1)  # filled
    >>> read_extra_ovals(WarpedPage(img, 6.0, {}), meta)[0]["marked"]
    True
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from omr.answers import sheet_typical_fill
from omr.bubble_masks import DEFAULT_R_MM, bubble_masks
from omr.decide import DEFAULT_THRESHOLDS, Thresholds, decide_group
from omr.measure import measure_masks
from omr.meta import as_sheet_meta
from omr.types import Bubble, Question, SheetMeta
from omr.warp import WarpedPage

__all__ = ["read_extra_ovals"]


def read_extra_ovals(page: WarpedPage, meta: SheetMeta | Mapping[str, Any], *,
                     thresholds: Thresholds = DEFAULT_THRESHOLDS) -> list[dict[str, Any]]:
    """Read the meta's ``extra_ovals`` with ``use: "field"`` on the warped ``page``.

    Returns:
        One ``{"id", "marked", "status", "confidence", "fill"}`` per such oval, in meta
        order (``status`` as :func:`omr.decide.decide_group`'s); ``[]`` when there is none.
    """
    sheet = as_sheet_meta(meta)
    fields = [e for e in sheet.extra_ovals if e.use == "field"]
    if not fields:
        return []
    radii = [c.r_mm for q in sheet.questions for c in q.choices] + [b.r_mm for b in sheet.id_bubbles]
    r_mm = float(np.median(radii)) if radii else DEFAULT_R_MM
    # each oval as a one-choice question of its own sheet, shaped like the card's bubbles
    lone = SheetMeta(sheet.page_w_mm, sheet.page_h_mm, (), 0, (),
                     tuple(Question(i, (Bubble(e.id, e.x_mm, e.y_mm, r_mm),)) for i, e in enumerate(fields, 1)),
                     bubble=sheet.bubble)
    blank = np.full(page.page.shape, 255, np.uint8)  # no label of ours inside them
    m = measure_masks(page.page, bubble_masks(lone, blank, page.px_per_mm, "answers"), page.px_per_mm)
    typical = sheet_typical_fill(page, sheet)
    out = []
    for i, e in enumerate(fields):
        d = decide_group(m.take([i]), typical, thresholds)
        out.append({"id": e.id, "marked": d.marked == (0,), "status": d.status, "confidence": d.confidence,
                    "fill": round(float(m.fill[i]), 3)})
    return out
