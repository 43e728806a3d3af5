"""Whether a graded sheet needs a human look, and why.

Reasons (stable strings): ``alignment_fit_error`` (marker fit residual above
``MAX_FIT_ERROR_MM``), ``alignment_unrefined`` (page found by its outline or the
image bounds and fewer than 4 markers re-located), ``alignment_uncertain`` (a page registered
on its printed bubbles whose row and column phase is not proven: it may sit one grid step
off, ``alignment.phase == "uncertain"``, :mod:`omr.register`), ``question_<n>_<status>`` for every question not ``ok`` /
``blank``, ``identifier_<status>`` when the ID is not ``ok`` (a sheet with no
ID grid, ``not_on_sheet``, is not a reason). A page registered on its printed
bubbles (:mod:`omr.register`: ``rings_matched``) is verified, not unrefined.

Examples:
    >>> review({"method": "fiducials", "fit_error_mm": 0.2},
    ...        {"status": "ok"}, [{"question_id": 1, "status": "multi"}])
    {'needed': True, 'reasons': ['question_1_multi']}
    >>> review({"method": "fiducials", "fit_error_mm": 0.2}, {"status": "ok"}, [])
    {'needed': False, 'reasons': []}
    >>> review({"method": "bubble_grid", "rings_matched": 150, "phase": "uncertain"}, {"status": "ok"}, [])
    {'needed': True, 'reasons': ['alignment_uncertain']}
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

__all__ = ["MAX_FIT_ERROR_MM", "review"]

MAX_FIT_ERROR_MM = 0.8
FLAG_STATUSES = ("multi", "ambiguous", "low_confidence", "error")


def review(alignment: Mapping[str, Any], identifier: Mapping[str, Any] | None,
           answers: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """Build ``{"needed": bool, "reasons": [str, ...]}`` for one sheet."""
    reasons = []
    if float(alignment.get("fit_error_mm") or 0.0) > MAX_FIT_ERROR_MM:
        reasons.append("alignment_fit_error")
    verified = int(alignment.get("markers_found") or 0) >= 4 or bool(alignment.get("rings_matched"))
    if alignment.get("method") not in (None, "fiducials") and not verified:
        reasons.append("alignment_unrefined")
    if alignment.get("phase") == "uncertain":
        reasons.append("alignment_uncertain")
    if identifier is not None and identifier.get("status") not in ("ok", "not_on_sheet"):
        reasons.append(f"identifier_{identifier.get('status')}")
    for a in answers:
        if a.get("status") in FLAG_STATUSES:
            reasons.append(f"question_{a['question_id']}_{a['status']}")
    return {"needed": bool(reasons), "reasons": reasons}
