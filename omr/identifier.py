"""Reading the 8-digit student-ID grid of a warped page.

Per digit column the same mark rules as answers apply (see ``omr.decide``):
``ok`` (one clear mark), ``blank``, ``multi`` or ``ambiguous``
(``low_confidence`` folds into ``ambiguous`` here). ``identifier`` is set only
when every digit is ``ok``; ``raw_identifier`` always has one character per
digit (``?`` blank or unreadable, ``*`` multi).

Examples:
    >>> from omr.template import build_template, render_sheet
    >>> from omr.warp import WarpedPage
    >>> meta = build_template(10)
    >>> page = WarpedPage(render_sheet(meta, dpi=6 * 25.4), 6.0, {})
    >>> r = read_identifier(page, meta)
    >>> r["identifier"], r["raw_identifier"], r["status"]
    (None, '????????', 'blank')
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from omr.answers import measured, outside_photo, sheet_typical_fill
from omr.decide import DEFAULT_THRESHOLDS, Thresholds, decide_group
from omr.meta import as_sheet_meta
from omr.types import SheetMeta
from omr.warp import WarpedPage

__all__ = ["NOT_ON_SHEET", "read_identifier"]

#: The status of a sheet whose meta has no ID grid: ``identifier`` is null and nothing is wrong.
NOT_ON_SHEET = "not_on_sheet"


def read_identifier(page: WarpedPage, meta: SheetMeta | Mapping[str, Any], *,
                    thresholds: Thresholds = DEFAULT_THRESHOLDS) -> dict[str, Any]:
    """Read the student ID.

    Returns:
        ``{"identifier": str | None, "raw_identifier": str, "digits": [{"digit_index",
        "value", "status", "confidence", "fills"}...], "confidence": float,
        "status": "ok"|"blank"|"multi"|"ambiguous"|"error"}``. The rolled-up
        status is ``ok`` only when all digits are ok; otherwise the worst digit
        status (error > multi > ambiguous > blank). A sheet without an ID grid
        gives status ``not_on_sheet`` (:data:`NOT_ON_SHEET`), ``identifier`` None and no digits.
    """
    sheet = as_sheet_meta(meta)
    if not sheet.id_bubbles:
        return {"identifier": None, "raw_identifier": "", "digits": [], "confidence": 0.0, "status": NOT_ON_SHEET}
    every = measured(page, sheet, "identifier")
    typical = sheet_typical_fill(page, sheet)
    by_digit: dict[int, list[int]] = {}
    for i, b in enumerate(sheet.id_bubbles):
        by_digit.setdefault(b.digit_index, []).append(i)
    digits: list[dict[str, Any]] = []
    chars: list[str] = []
    confs: list[float] = []
    for d in sorted(by_digit):
        idx = sorted(by_digit[d], key=lambda i: sheet.id_bubbles[i].number)
        nums = [sheet.id_bubbles[i].number for i in idx]
        m = every.take(idx)
        fills = {str(n): round(float(v), 3) for n, v in zip(nums, m.fill, strict=True)}
        bubbles = [sheet.id_bubbles[i] for i in idx]
        if any(outside_photo(page, [(b.x_mm, b.y_mm) for b in bubbles], bubbles[0].r_mm)):
            digits.append({"digit_index": d, "value": None, "status": "error", "confidence": 0.0, "fills": fills})
            chars.append("?")
            continue
        r = decide_group(m, typical, thresholds)
        confs.append(float(r.confidence))
        status = "ambiguous" if r.status == "low_confidence" else r.status
        value = nums[r.marked[0]] if len(r.marked) == 1 else None
        digits.append({"digit_index": d, "value": value, "status": status,
                       "confidence": r.confidence, "fills": fills})
        chars.append(str(value) if value is not None and status == "ok"
                     else ("*" if status == "multi" else (str(value) if value is not None else "?")))
    statuses = [x["status"] for x in digits]
    if all(s == "ok" for s in statuses):
        status = "ok"
    else:
        status = next(s for s in ("error", "multi", "ambiguous", "blank") if s in statuses)
    raw = "".join(chars)
    conf = min(confs, default=0.0) if len(confs) == len(digits) else 0.0
    return {"identifier": raw if status == "ok" else None, "raw_identifier": raw, "digits": digits,
            "confidence": round(float(conf), 3), "status": status}
