"""Annotated picture of a graded page for humans.

Green ring: a detected mark of an ``ok`` question; red: every bubble of a
flagged question (multi/ambiguous/low_confidence/error) with its detected
marks filled; gray: blank questions; blue: ID digits read ``ok``, orange: ID
problems. The fiducial frame and the alignment summary are written on top.

Examples:
    >>> from omr.template import build_template, render_sheet
    >>> from omr.warp import WarpedPage
    >>> meta = build_template(10)
    >>> page = WarpedPage(render_sheet(meta, dpi=6 * 25.4), 6.0, {"method": "fiducials"})
    >>> result = {"answers": [{"question_id": 1, "detected": ["2"], "status": "ok"}],
    ...           "identifier": None, "alignment": {"method": "fiducials", "fit_error_mm": 0.1}}
    >>> render_overlay(page, result, meta).shape
    (1260, 1782, 3)
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import cv2
import numpy as np

from omr.meta import as_sheet_meta
from omr.types import BGRImage, SheetMeta
from omr.warp import WarpedPage

__all__ = ["render_overlay"]

GREEN = (40, 170, 40)
RED = (30, 30, 220)
GRAY = (150, 150, 150)
BLUE = (200, 120, 20)
ORANGE = (0, 140, 255)


def render_overlay(page: WarpedPage, result: Mapping[str, Any], meta: SheetMeta | Mapping[str, Any]) -> BGRImage:
    """Draw ``result`` (a ``grade_image`` dict) over the warped page.

    Args:
        page: The warped page the result was read from.
        result: ``grade_image`` output (``answers``, ``identifier``, ``alignment``).
        meta: The sheet meta.

    Returns:
        ``(H, W, 3)`` uint8 BGR image in the template frame.
    """
    sheet = as_sheet_meta(meta)
    s = page.px_per_mm
    img: BGRImage = np.asarray(cv2.cvtColor(page.page, cv2.COLOR_GRAY2BGR), np.uint8)

    def ring(x_mm: float, y_mm: float, r_mm: float, color: tuple[int, int, int], filled: bool) -> None:
        c = (round(x_mm * s), round(y_mm * s))
        cv2.circle(img, c, round((r_mm + 0.6) * s), color, 2, cv2.LINE_AA)
        if filled:
            cv2.circle(img, c, round(r_mm * 0.35 * s), color, -1, cv2.LINE_AA)

    by_q = {int(a["question_id"]): a for a in result.get("answers") or []}
    for q in sheet.questions:
        a = by_q.get(q.number)
        if a is None:
            continue
        flagged = a.get("status") not in ("ok", "blank")
        for c in q.choices:
            hit = c.label in (a.get("detected") or [])
            if flagged:
                ring(c.x_mm, c.y_mm, c.r_mm, RED, hit)
            elif hit:
                ring(c.x_mm, c.y_mm, c.r_mm, GREEN, True)
        if a.get("status") == "blank":
            c0 = q.choices[0]
            cv2.line(img, (round((c0.x_mm - 6) * s), round(c0.y_mm * s)),
                     (round((c0.x_mm - 4) * s), round(c0.y_mm * s)), GRAY, 2)
    ident = result.get("identifier") or {}
    digits = {int(d["digit_index"]): d for d in ident.get("digits") or []}
    for b in sheet.id_bubbles:
        d = digits.get(b.digit_index)
        if d is None:
            continue
        ok = d.get("status") == "ok"
        if d.get("value") == b.number:
            ring(b.x_mm, b.y_mm, b.r_mm, BLUE if ok else ORANGE, True)
        elif not ok:
            ring(b.x_mm, b.y_mm, b.r_mm, ORANGE, False)
    al = result.get("alignment") or page.alignment
    text = f"{al.get('method')} rot={al.get('rotation')} fit={al.get('fit_error_mm')}mm"
    review = result.get("review") or {}
    if review:
        text += "  REVIEW" if review.get("needed") else "  OK"
    cv2.putText(img, text, (round(24 * s), round(205 * s)), cv2.FONT_HERSHEY_SIMPLEX, 0.2 * s,
                RED if review.get("needed") else GREEN, 2, cv2.LINE_AA)
    return img
