"""Loading and validating sheet metas (JSON Schema + semantic checks).

``load_meta`` is the single entry point: it validates a meta dict against the
packaged ``omr/schema/meta.schema.json`` and then checks the geometry (bubbles
on the page, not overlapping, plausible sizes, unique numbers). Failures raise
:class:`~omr.errors.MetaError` with a reason code (see ``docs/omr-meta.md``).

Examples:
    >>> from omr.template import build_template
    >>> sheet = load_meta(build_template(10))
    >>> len(sheet.questions), sheet.id_digits, sheet.markers[0].kind
    (10, 8, 'hollow')
    >>> bad = build_template(10)
    >>> bad["questions"][2]["choices"][1]["center"]["x"] = 301.0
    >>> load_meta(bad)
    Traceback (most recent call last):
    ...
    omr.errors.MetaError: meta_bubble_off_page: question 3 choice '2' is off the page (x=301.0 mm > 297 mm)
"""

from __future__ import annotations

import copy
import hashlib
import json
import math
from collections.abc import Mapping, Sequence
from functools import lru_cache
from importlib import resources
from typing import Any

from omr.errors import MetaError
from omr.markers import marker_shapes, shape_size_problem
from omr.types import (
    Bubble,
    BubbleShape,
    ExtraOval,
    IdBubble,
    Marker,
    Question,
    SheetMeta,
    TimingBar,
    WriteIn,
)

__all__ = ["as_sheet_meta", "load_meta", "meta_from_legacy_questions", "meta_schema"]

MIN_R_MM = 1.0
MAX_R_MM = 8.0
MAX_QUESTIONS = 100
#: A timing bar's sides (mm): a printed mark of a few mm, never a hairline nor a block.
MIN_BAR_MM, MAX_BAR_MM = 0.5, 20.0


@lru_cache(maxsize=1)
def meta_schema() -> dict[str, Any]:
    """The packaged JSON Schema of the meta (``omr/schema/meta.schema.json``).

    Examples:
        >>> meta_schema()["properties"]["version"]
        {'const': 'objective_v1'}
    """
    text = resources.files("omr").joinpath("schema/meta.schema.json").read_text("utf-8")
    schema: dict[str, Any] = json.loads(text)
    return schema


@lru_cache(maxsize=1)
def _validator() -> Any:
    import jsonschema

    return jsonschema.Draft202012Validator(meta_schema())


def _fmt(v: float) -> str:
    return f"{v:g}" if v != int(v) else f"{v:.1f}"


def load_meta(data: Mapping[str, Any]) -> SheetMeta:
    """Validate a meta dict and build a :class:`~omr.types.SheetMeta`.

    Args:
        data: The meta (``build_template`` output or the API's objective meta).

    Returns:
        The validated meta.

    Raises:
        MetaError: ``meta_invalid`` (schema, missing fields, duplicates, too
            many questions), ``meta_bubble_off_page``, ``meta_bubbles_overlap``,
            ``meta_absurd_size``.

    A sheet without an ID grid leaves ``identifier`` out or says
    ``{"digits": 0, "bubbles": []}``; ``id_digits`` is then 0.

    Examples:
        >>> from omr.template import build_template
        >>> no_id = {**build_template(5), "identifier": {"digits": 0, "bubbles": []}}
        >>> load_meta(no_id).id_digits, load_meta(no_id).id_bubbles
        (0, ())
        >>> load_meta({**no_id, "identifier": {"digits": 8, "bubbles": []}})
        Traceback (most recent call last):
        ...
        omr.errors.MetaError: meta_invalid: identifier says 8 digits but has 0 bubbles
        >>> load_meta({"version": "objective_v1"})
        Traceback (most recent call last):
        ...
        omr.errors.MetaError: meta_invalid: meta is invalid at $: 'units' is a required property
    """
    if not isinstance(data, Mapping):
        raise MetaError("meta_invalid", f"meta must be a JSON object, got {type(data).__name__}")
    raw = json.loads(json.dumps(data))  # plain, detached copy (also rejects NaN-free junk types)
    qs = raw.get("questions")
    if isinstance(qs, list) and len(qs) > MAX_QUESTIONS:
        raise MetaError("meta_invalid", f"too many questions: {len(qs)} > {MAX_QUESTIONS}")
    errors = sorted(_validator().iter_errors(raw), key=lambda e: (len(e.path), list(map(str, e.path))))
    if errors:
        e = errors[0]
        where = "$" + "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in e.path)
        raise MetaError("meta_invalid", f"meta is invalid at {where}: {e.message}")
    sheet = _build(raw)
    _check_geometry(sheet)
    return sheet


def _pt(d: Mapping[str, Any]) -> tuple[float, float]:
    x, y = float(d["x"]), float(d["y"])
    if not (math.isfinite(x) and math.isfinite(y)):
        raise MetaError("meta_invalid", "coordinates must be finite numbers")
    return x, y


def _build(raw: dict[str, Any]) -> SheetMeta:
    size = raw["page"]["size"]
    w, h = float(size["width"]), float(size["height"])
    markers = []
    for m in raw.get("markers") or []:
        x, y = _pt(m["center"])
        kind = m.get("kind") or "solid"
        markers.append(Marker(id=str(m["id"]), kind=kind, x_mm=x, y_mm=y, size_mm=float(m["size"])))
    ident = raw.get("identifier") or {}
    id_bubbles = []
    for b in ident.get("bubbles") or []:
        x, y = _pt(b["center"])
        id_bubbles.append(IdBubble(int(b["digit_index"]), int(b["number"]), x, y, float(b["r"])))
    digit_set = {b.digit_index for b in id_bubbles}
    declared = ident.get("digits")
    if declared is not None and (int(declared) == 0) != (not id_bubbles):
        # "no ID grid" is said with digits 0 and no bubbles (or no identifier at all), never half of it
        raise MetaError("meta_invalid", f"identifier says {declared} digits but has {len(id_bubbles)} bubbles")
    n_digits = int(declared or len(digit_set))
    if id_bubbles and digit_set != set(range(1, n_digits + 1)):
        raise MetaError("meta_invalid", f"identifier digit_index must cover 1..{n_digits}, got {sorted(digit_set)}")
    seen_id: set[tuple[int, int]] = set()
    for b in id_bubbles:
        if (b.digit_index, b.number) in seen_id:
            raise MetaError("meta_invalid", f"identifier digit {b.digit_index} number {b.number} is duplicated")
        seen_id.add((b.digit_index, b.number))
    questions = []
    seen_q: set[int] = set()
    for q in raw["questions"]:
        n = int(q["question_number"])
        if n in seen_q:
            raise MetaError("meta_invalid", f"question_number {n} is duplicated")
        seen_q.add(n)
        labels = [str(c["label"]) for c in q["choices"]]
        if len(set(labels)) != len(labels):
            raise MetaError("meta_invalid", f"question {n} has duplicate choice labels {labels}")
        ch = tuple(Bubble(str(c["label"]), *_pt(c["center"]), float(c["r"])) for c in q["choices"])
        questions.append(Question(n, ch))
    questions.sort(key=lambda q: q.number)
    timing = raw.get("timing") or {}
    bars = tuple(TimingBar(*_pt(b["center"]), float(b["width"]), float(b["height"])) for b in timing.get("bars") or [])
    shape = raw.get("bubble")
    bubble = (BubbleShape(shape["shape"], float(shape.get("width", 0)), float(shape.get("height", 0)),
                          float(shape.get("rotation", 0))) if shape else None)
    extra = tuple(ExtraOval(str(e["id"]), *_pt(e["center"]), e.get("use", "ignore"))
                  for e in raw.get("extra_ovals") or [])
    boxes = tuple(WriteIn(*_pt(b), float(b["width"]), float(b["height"])) for b in raw.get("write_in") or [])
    digest = hashlib.sha1(json.dumps(raw, sort_keys=True).encode()).hexdigest()[:16]
    return SheetMeta(
        page_w_mm=w, page_h_mm=h, markers=tuple(markers), id_digits=n_digits if id_bubbles else 0,
        id_bubbles=tuple(id_bubbles), questions=tuple(questions),
        title=raw.get("title"), print_colour=(raw.get("print") or {}).get("colour"),
        timing_side=timing.get("side"), timing_bars=bars, bubble=bubble, extra_ovals=extra, write_in=boxes,
        raw=raw, meta_hash=digest,
    )


def _check_geometry(s: SheetMeta) -> None:
    if not (50 <= s.page_w_mm <= 1000 and 50 <= s.page_h_mm <= 1000):
        raise MetaError("meta_absurd_size", f"page size {s.page_w_mm}x{s.page_h_mm} mm is absurd")
    items: list[tuple[str, float, float, float]] = []
    for q in s.questions:
        for c in q.choices:
            items.append((f"question {q.number} choice '{c.label}'", c.x_mm, c.y_mm, c.r_mm))
    for b in s.id_bubbles:
        items.append((f"identifier digit {b.digit_index} number {b.number}", b.x_mm, b.y_mm, b.r_mm))
    for name, x, y, r in items:
        if not MIN_R_MM <= r <= MAX_R_MM:
            raise MetaError(
                "meta_absurd_size", f"{name} radius {_fmt(r)} mm is absurd (expected {MIN_R_MM}..{MAX_R_MM} mm)"
            )
        for val, lo, hi, axis in ((x, 0.0, s.page_w_mm, "x"), (y, 0.0, s.page_h_mm, "y")):
            if val + r > hi:
                where = f"{_fmt(val)} mm" if val > hi else f"{_fmt(val)}+r mm"
                raise MetaError("meta_bubble_off_page", f"{name} is off the page ({axis}={where} > {hi:g} mm)")
            if val - r < lo:
                where = f"{_fmt(val)} mm" if val < lo else f"{_fmt(val)}-r mm"
                raise MetaError("meta_bubble_off_page", f"{name} is off the page ({axis}={where} < 0 mm)")
    for m, shape in zip(s.markers, marker_shapes(s), strict=True):
        if shape.shape == "square" and not shape.thickness_mm:  # today's markers, today's message
            if not 2.0 <= m.size_mm <= 40.0:
                raise MetaError("meta_absurd_size", f"marker {m.id} size {_fmt(m.size_mm)} mm is absurd")
        else:
            problem = shape_size_problem(shape)
            if problem is not None:
                raise MetaError("meta_absurd_size", f"marker {m.id} ({shape.shape}) {problem}")
        if not (0 <= m.x_mm <= s.page_w_mm and 0 <= m.y_mm <= s.page_h_mm):
            raise MetaError("meta_bubble_off_page", f"marker {m.id} is off the page")
    _check_timing(s, items)
    _check_card_furniture(s)
    # overlap: grid bucketing, O(n)
    cell = 2 * MAX_R_MM
    buckets: dict[tuple[int, int], list[int]] = {}
    for i, (_, x, y, _r) in enumerate(items):
        buckets.setdefault((int(x // cell), int(y // cell)), []).append(i)
    for i, (name, x, y, r) in enumerate(items):
        gx, gy = int(x // cell), int(y // cell)
        for dx in (-1, 0, 1):
            for dy in (-1, 0, 1):
                for j in buckets.get((gx + dx, gy + dy), []):
                    if j <= i:
                        continue
                    name2, x2, y2, r2 = items[j]
                    if math.hypot(x - x2, y - y2) < r + r2:
                        raise MetaError("meta_bubbles_overlap", f"{name} overlaps {name2}")


def _check_card_furniture(s: SheetMeta) -> None:
    """The bubble shape's size; extra ovals and write-in boxes on the page, extra-oval ids unique.

    Examples:
        >>> from omr.template import build_template
        >>> load_meta({**build_template(5), "bubble": {"shape": "oval", "width": 0.3, "height": 5}})
        Traceback (most recent call last):
        ...
        omr.errors.MetaError: meta_absurd_size: bubble oval 0.3x5.0 mm is absurd (expected 2..16 mm a side)
        >>> load_meta({**build_template(5), "extra_ovals": [{"id": "a", "center": {"x": 400, "y": 9}}]})
        Traceback (most recent call last):
        ...
        omr.errors.MetaError: meta_bubble_off_page: extra oval 'a' is off the page
    """
    b = s.bubble
    lo, hi = 2 * MIN_R_MM, 2 * MAX_R_MM
    if b is not None and b.shape == "oval" and not (lo <= b.w_mm <= hi and lo <= b.h_mm <= hi):
        raise MetaError("meta_absurd_size", f"bubble oval {_fmt(b.w_mm)}x{_fmt(b.h_mm)} mm is absurd "
                        f"(expected {lo:g}..{hi:g} mm a side)")
    seen: set[str] = set()
    for e in s.extra_ovals:
        if not (0 <= e.x_mm <= s.page_w_mm and 0 <= e.y_mm <= s.page_h_mm):
            raise MetaError("meta_bubble_off_page", f"extra oval {e.id!r} is off the page")
        if e.id in seen:
            raise MetaError("meta_invalid", f"extra oval id {e.id!r} is duplicated")
        seen.add(e.id)
    for i, w in enumerate(s.write_in, 1):
        if not (0 <= w.x_mm and w.x_mm + w.w_mm <= s.page_w_mm and 0 <= w.y_mm and w.y_mm + w.h_mm <= s.page_h_mm):
            raise MetaError("meta_bubble_off_page", f"write-in box {i} is off the page")


def _check_timing(s: SheetMeta, items: list[tuple[str, float, float, float]]) -> None:
    """Timing bars: a sane size, on the page, and outside the bubbles on the side the meta names."""
    if not s.timing_bars or not items:
        return
    xs = [x - r for _n, x, _y, r in items], [x + r for _n, x, _y, r in items]
    ys = [y - r for _n, _x, y, r in items], [y + r for _n, _x, y, r in items]
    for i, b in enumerate(s.timing_bars, 1):
        if not (MIN_BAR_MM <= b.w_mm <= MAX_BAR_MM and MIN_BAR_MM <= b.h_mm <= MAX_BAR_MM):
            raise MetaError("meta_absurd_size", f"timing bar {i} size {_fmt(b.w_mm)}x{_fmt(b.h_mm)} mm is absurd "
                            f"(expected {MIN_BAR_MM:g}..{MAX_BAR_MM:g} mm a side)")
        if not (b.w_mm / 2 <= b.x_mm <= s.page_w_mm - b.w_mm / 2 and b.h_mm / 2 <= b.y_mm <= s.page_h_mm - b.h_mm / 2):
            raise MetaError("meta_bubble_off_page", f"timing bar {i} is off the page")
        outside = {"left": b.x_mm + b.w_mm / 2 <= min(xs[0]), "right": b.x_mm - b.w_mm / 2 >= max(xs[1]),
                   "top": b.y_mm + b.h_mm / 2 <= min(ys[0]), "bottom": b.y_mm - b.h_mm / 2 >= max(ys[1])}
        if not outside[str(s.timing_side)]:
            raise MetaError("meta_invalid", f"timing bar {i} at ({_fmt(b.x_mm)}, {_fmt(b.y_mm)}) mm is not "
                            f"{s.timing_side} of the bubbles")


def as_sheet_meta(meta: SheetMeta | Mapping[str, Any]) -> SheetMeta:
    """Return ``meta`` as a validated :class:`SheetMeta` (cached by content).

    Examples:
        >>> from omr.template import build_template
        >>> m = build_template(10)
        >>> as_sheet_meta(m) is as_sheet_meta(m)
        True
    """
    if isinstance(meta, SheetMeta):
        return meta
    key = json.dumps(meta, sort_keys=True, default=str)
    return _cached_load(key)


@lru_cache(maxsize=64)
def _cached_load(key: str) -> SheetMeta:
    return load_meta(json.loads(key))


def meta_from_legacy_questions(questions: Sequence[Mapping[str, Any]]) -> SheetMeta:
    """Build a meta from the legacy worker's ``questions`` payload.

    Accepted shape (mm, standard A4-landscape page, no ID grid, no markers):
    a list of ``{"question_number" | "question_id": int, "choices": [{"label":
    str, "center": {"x": mm, "y": mm}, "r": mm}, ...]}``. Such a page has no
    fiducials, so it is located by its paper outline.

    Args:
        questions: The legacy list.

    Returns:
        A validated :class:`SheetMeta` (``markers`` and ``id_bubbles`` empty).

    Raises:
        MetaError: ``meta_invalid`` for anything else (e.g. pixel ROIs).

    Examples:
        >>> qs = [{"question_id": 1, "choices": [
        ...     {"label": "1", "center": {"x": 100, "y": 50}, "r": 2.4},
        ...     {"label": "2", "center": {"x": 107, "y": 50}, "r": 2.4}]}]
        >>> m = meta_from_legacy_questions(qs)
        >>> m.questions[0].number, [c.label for c in m.questions[0].choices], m.markers
        (1, ['1', '2'], ())
        >>> meta_from_legacy_questions([])
        Traceback (most recent call last):
        ...
        omr.errors.MetaError: meta_invalid: legacy questions must be a non-empty list
    """
    if not isinstance(questions, Sequence) or isinstance(questions, str | bytes) or not questions:
        raise MetaError("meta_invalid", "legacy questions must be a non-empty list")
    out = []
    for i, q in enumerate(questions):
        if not isinstance(q, Mapping):
            raise MetaError("meta_invalid", f"legacy question #{i + 1} must be an object")
        qd = copy.deepcopy(dict(q))
        number = qd.get("question_number")
        if number is None:
            number = qd.get("question_id")
        if number is None:
            raise MetaError("meta_invalid", f"legacy question #{i + 1} has no question_number/question_id")
        out.append({"question_number": number, "choices": qd.get("choices")})
    return load_meta({
        "version": "objective_v1",
        "units": "mm",
        "page": {"size": {"width": 297, "height": 210}},
        "markers": [],
        "questions": out,
    })
