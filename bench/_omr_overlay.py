"""Failure overlays for omr_accuracy.py: truth vs read drawn on the warped page."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import cv2
import numpy as np
from _omr_scoring import Read


def write_overlay(
    image: Path,
    meta: dict[str, Any],
    truth: dict[str, Any],
    read: Read,
    out: Path,
    *,
    mode: str = "auto",
) -> None:
    """Warp ``image`` with the engine's ``warp_page`` and mark truth/read per bubble.

    Green ring: marked in truth and read. Red ring: read but not in truth.
    Blue ring: in truth but missed. Yellow dot beside a question: flagged.
    Falls back to a downscaled copy of the source if the page cannot be warped.
    """
    from omr.image import decode_image
    from omr.warp import warp_page

    gray = decode_image(image.read_bytes())
    try:
        wp = warp_page(gray, meta, mode=mode)
    except Exception:  # noqa: BLE001 - no warp: show the source image instead
        small = cv2.resize(gray, None, fx=0.3, fy=0.3, interpolation=cv2.INTER_AREA)
        cv2.imwrite(str(out), small)
        return
    canvas = cv2.cvtColor(np.ascontiguousarray(wp.page), cv2.COLOR_GRAY2BGR)
    s = wp.px_per_mm
    for q in meta["questions"]:
        key = str(q["question_number"])
        want = set(truth["answers"].get(key, []))
        got, status = read.marks.get(key, ([], "missing"))
        flagged = status not in ("ok", "blank")
        for c in q["choices"]:
            x, y, r = c["center"]["x"] * s, c["center"]["y"] * s, c["r"] * s
            lab = str(c["label"])
            color = None
            if lab in want and lab in got:
                color = (0, 170, 0)
            elif lab in got:
                color = (0, 0, 255)
            elif lab in want:
                color = (255, 0, 0)
            if color:
                cv2.circle(canvas, (round(x), round(y)), round(r + 3), color, 2, cv2.LINE_AA)
        if flagged:
            c0 = q["choices"][0]["center"]
            cv2.circle(canvas, (round((c0["x"] - 9) * s), round(c0["y"] * s)), 5, (0, 220, 255), -1)
    cv2.putText(canvas, f"{wp.alignment}", (10, 20), cv2.FONT_HERSHEY_SIMPLEX, 0.45, (0, 0, 255), 1)
    cv2.imwrite(str(out), canvas)
