"""Reading the answer bubbles of a warped page.

Each question gets ``{question_id, detected, marking, confidence, status, fills}``:

* ``ok``: exactly one clear mark (or clean blank, reported as ``blank``);
* ``blank``: no ink in any bubble;
* ``multi``: two or more clear marks (``detected`` lists them);
* ``ambiguous``: ink that is neither a clear mark nor clean paper (partial or
  tiny fill, erased-but-visible pencil, an X over a bubble), or two marks too
  close in darkness to tell apart;
* ``low_confidence``: a single mark just above the bar;
* ``error``: the bubbles were not in the photographed area.

Examples:
    >>> from omr.template import build_template, render_sheet
    >>> from omr.warp import WarpedPage
    >>> meta = build_template(10)
    >>> page = WarpedPage(render_sheet(meta, dpi=6 * 25.4), 6.0, {})
    >>> [a["status"] for a in read_answers(page, meta)][:3]
    ['blank', 'blank', 'blank']
"""

from __future__ import annotations

import base64
from collections.abc import Mapping
from typing import Any

import cv2
import numpy as np

from omr.compiled import compile_sheet
from omr.decide import DEFAULT_THRESHOLDS, Thresholds, decide_group, typical_fill
from omr.errors import PageFactsError
from omr.measure import Measures, Which, measure
from omr.meta import as_sheet_meta
from omr.types import SheetMeta
from omr.warp import WarpedPage

__all__ = ["export_page_facts", "import_page_facts", "measured", "outside_photo", "read_answers",
           "sheet_typical_fill"]


def outside_photo(page: WarpedPage, pts_mm: list[tuple[float, float]], r_mm: float) -> list[bool]:
    """True for each point (mm) not fully inside the photographed area of ``page``."""
    if len(page.source_quad_mm) != 4:
        return [False] * len(pts_mm)
    quad = np.array(page.source_quad_mm, np.float32).reshape(-1, 1, 2)
    return [cv2.pointPolygonTest(quad, (float(x), float(y)), True) < r_mm for x, y in pts_mm]


def measured(page: WarpedPage, sheet: SheetMeta, which: Which) -> Measures:
    """:func:`omr.measure.measure` of ``page``, cached on the page (identifier and answers share it)."""
    key = f"measure_{which}"
    hit = page.cache.get(key)
    if hit is None:
        hit = page.cache[key] = measure(page.page, compile_sheet(sheet, page.px_per_mm), which)
    return hit


def export_page_facts(page: WarpedPage) -> dict[str, Any]:
    """What has been measured on ``page`` so far, as JSON (for the next step of a chain).

    Each :class:`~omr.measure.Measures` travels as one base64 string of its raw
    float32 bytes (fields x bubbles) and each field's dtype: exact (the counts
    are small integers), and about a third of the size of JSON floats, so the
    message between steps stays small and cheap to check.
    A step that imports them reads what the single-process path reads,
    without measuring the page again.

    Examples:
        >>> import numpy as np
        >>> from omr.warp import WarpedPage
        >>> a = WarpedPage(np.zeros((2, 2), np.uint8), 6.0, {})
        >>> a.cache["typical_fill"] = 0.5
        >>> a.cache["measure_answers"] = Measures._make([np.float32([0.1, 0.7])] * len(Measures._fields))
        >>> b = WarpedPage(np.zeros((2, 2), np.uint8), 6.0, {})
        >>> import_page_facts(b, export_page_facts(a))
        >>> b.cache["typical_fill"], b.cache["measure_answers"].fill.dtype, bool((b.cache["measure_answers"].peak == a.cache["measure_answers"].peak).all())
        (0.5, dtype('float32'), True)
        >>> b.cache["measure_answers"].gaps.dtype == a.cache["measure_answers"].gaps.dtype
        True
    """
    out: dict[str, Any] = {}
    for key, value in page.cache.items():
        if isinstance(value, Measures):
            table = np.stack([np.asarray(f, dtype="<f4") for f in value])
            out[key] = {
                "measures_f4": base64.b64encode(table.tobytes()).decode("ascii"),
                "shape": list(table.shape),
                "dtypes": [np.asarray(f).dtype.str for f in value],
            }
        elif isinstance(value, int | float | str | bool):
            out[key] = value
    return out


def import_page_facts(page: WarpedPage, facts: Mapping[str, Any]) -> None:
    """Inverse of :func:`export_page_facts`: put the measurements back on ``page``.

    Raises:
        PageFactsError: ``page_facts_invalid`` when a measure table is malformed.

    Examples:
        >>> from omr.warp import WarpedPage
        >>> page = WarpedPage(np.zeros((2, 2), np.uint8), 6.0, {})
        >>> import_page_facts(page, {"measure_answers": {"measures_f4": "AAAA", "shape": [9, 5], "dtypes": []}})
        Traceback (most recent call last):
        ...
        omr.errors.PageFactsError: page_facts_invalid: page facts 'measure_answers' are malformed (buffer size must be a multiple of element size)
    """
    for key, value in facts.items():
        if isinstance(value, Mapping) and "measures_f4" in value:
            page.cache[key] = _measures_from_json(key, value)
        else:
            page.cache[key] = value


def _measures_from_json(key: str, value: Mapping[str, Any]) -> Measures:
    try:
        rows, n = (int(v) for v in value["shape"])
        if rows != len(Measures._fields):
            raise PageFactsError(
                "page_facts_invalid", f"page facts {key!r}: {rows} measures, expected {len(Measures._fields)}"
            )
        table = np.frombuffer(base64.b64decode(value["measures_f4"]), dtype="<f4").reshape(rows, n)
        return Measures._make(row.astype(dt) for row, dt in zip(table, value["dtypes"], strict=True))
    except (KeyError, TypeError, ValueError) as exc:  # binascii.Error is a ValueError
        raise PageFactsError("page_facts_invalid", f"page facts {key!r} are malformed ({exc})") from None


def sheet_typical_fill(page: WarpedPage, meta: SheetMeta | Mapping[str, Any]) -> float:
    """The sheet's typical clear-mark darkness, over answers and ID (cached on the page)."""
    cached = page.cache.get("typical_fill")
    if isinstance(cached, float):
        return cached
    sheet = as_sheet_meta(meta)
    groups = []
    for which in ("answers", "identifier"):
        fill = measured(page, sheet, which).fill
        i = 0
        sizes = ([len(q.choices) for q in sheet.questions] if which == "answers"
                 else [sum(1 for b in sheet.id_bubbles if b.digit_index == d) for d in range(1, sheet.id_digits + 1)])
        for n in sizes:
            groups.append(fill[i:i + n])
            i += n
    page.cache["typical_fill"] = typical = typical_fill(groups)
    return typical


def read_answers(page: WarpedPage, meta: SheetMeta | Mapping[str, Any], *,
                 thresholds: Thresholds = DEFAULT_THRESHOLDS) -> list[dict[str, Any]]:
    """Read every question of ``meta`` on the warped ``page``.

    Args:
        page: Output of :func:`omr.warp.warp_page`.
        meta: Sheet meta.
        thresholds: Decision thresholds.

    Returns:
        One dict per question in question order: ``question_id`` (int),
        ``detected`` (labels), ``marking`` (blank|single|multi), ``confidence``
        in [0, 1], ``status`` and ``fills`` (label -> fill darkness, 0..1);
        a question with ``status`` ``error`` also has ``reason``
        (``"outside_photo"``: its bubbles were not all photographed).
    """
    sheet = as_sheet_meta(meta)
    every = measured(page, sheet, "answers")
    typical = sheet_typical_fill(page, sheet)
    out = []
    i = 0
    for q in sheet.questions:
        n = len(q.choices)
        m = every.take(slice(i, i + n))
        i += n
        labels = [c.label for c in q.choices]
        fills = {lab: round(float(v), 3) for lab, v in zip(labels, m.fill, strict=True)}
        if any(outside_photo(page, [(c.x_mm, c.y_mm) for c in q.choices], q.choices[0].r_mm)):
            out.append({"question_id": q.number, "detected": [], "marking": "blank", "confidence": 0.0,
                        "status": "error", "fills": fills, "reason": "outside_photo"})
            continue
        d = decide_group(m, typical, thresholds)
        detected = [labels[j] for j in d.marked]
        if not detected and d.status == "ambiguous":
            detected = [labels[int(np.argmax(m.fill))]]
        marking = "blank" if not detected else ("single" if len(detected) == 1 else "multi")
        out.append({"question_id": q.number, "detected": detected, "marking": marking,
                    "confidence": d.confidence, "status": d.status, "fills": fills})
    return out
