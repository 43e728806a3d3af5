"""A meta proposed from a scan of a blank card: how an academy adopts the cards it already owns.

``ai-worker omr meta-from-image blank.jpg --dpi 300`` calls :func:`propose_meta`:

1. *Print*: the card's print colour (:func:`omr.dropout.estimate_print_colour`);
   the rings are found in the channel where that colour is darkest.
2. *Ovals*: an adaptive threshold, outer contours; a bubble is a hollow
   ellipse (its ink covers at most ``MAX_RING_FILL`` of it) of the most common
   size, its centre from :func:`cv2.fitEllipse` on the outer contour (sub-pixel;
   the digit printed inside is another contour and does not move it).
3. *Grid*: bubbles one step apart (along a row, or down a column) are linked;
   each linked group is a block of rows x columns. A block whose printed
   labels repeat down its columns is a question block (choices ``1..n`` left to
   right, questions numbered block by block, left to right, top to bottom);
   one whose labels repeat along its rows is the ID grid (digit columns
   ``1..``, numbers ``0..9`` from the top). Lone ovals are ``extra_ovals``
   (``use: ignore``).
4. *Timing marks*: solid dark bars of one size, at least ``MIN_BARS`` of them
   lined up beside the bubbles: ``timing`` with the side they are on.

The result is ``objective_v1`` plus the extensions (``bubble``, ``print``,
``timing``, ``extra_ovals``) and an overlay for a person to confirm (every
bubble drawn with its question and label). Nothing is guessed silently: what
could not be told (no labels inside, a block of unclear kind) is in ``notes``.

Frames:
    Image pixels ``(x, y)``, origin top-left; the page is the image, ``dpi``
    gives millimetres: ``x_mm = (x_px + 0.5) * 25.4 / dpi``.

Examples:
    >>> import numpy as np, cv2
    >>> img = np.full((600, 500, 3), 250, np.uint8)
    >>> for r in range(10):
    ...     for c in range(4):
    ...         _ = cv2.ellipse(img, (100 + 40 * c, 80 + 45 * r), (12, 20), 0, 0, 360, (40, 40, 40), 2)
    >>> p = propose_meta(img, dpi=254.0)
    >>> len(p.meta["questions"]), [c["label"] for c in p.meta["questions"][0]["choices"]]
    (10, ['1', '2', '3', '4'])
    >>> p.meta["questions"][0]["choices"][0]["center"], p.meta["bubble"]["shape"]
    ({'x': 10.05, 'y': 8.05}, 'oval')
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import numpy.typing as npt

from omr.dropout import estimate_print_colour, split
from omr.errors import AlignmentError, ImageError
from omr.image import image_size
from omr.meta import load_meta
from omr.types import BGRImage, GrayImage

__all__ = ["Proposal", "propose_meta", "propose_meta_from_file"]

F64 = npt.NDArray[np.float64]

#: Adaptive threshold window (mm) and offset (grey levels below the local mean).
THRESH_WINDOW_MM = 4.0
THRESH_OFFSET = 12
#: A bubble's short side is at least this (mm) and its long side at most this many times its short side.
MIN_BUBBLE_MM = 1.2
MAX_ASPECT = 3.0
#: Longer and thinner blobs are lines and frames, never bubbles nor bars.
MAX_LINE_ASPECT = 8.0
#: A hollow ring: its ink covers at most this fraction of its ellipse (a digit inside included).
MAX_RING_FILL = 0.6
#: A timing bar: solid (ink over this fraction of its rectangle) and rectangular.
MIN_BAR_FILL = 0.8
#: At least this many bars of one size make a timing track.
MIN_BARS = 3
#: Bubbles (and bars) within this factor of the most common size are of that kind.
SIZE_TOLERANCE = 1.25
#: Two bubbles are neighbours in a block when one step apart: at most this many steps (the smallest
#: spacing along a row, or down a column) ...
LINK_STEPS = 1.45
#: ... and off the row (column) by at most this fraction of the bubble's size.
LINK_OFF = 0.35
#: A block's labels repeat down its columns (question block) when vertical neighbours are this much more
#: alike than horizontal ones (normalised correlation of the insides), and the other way for the ID grid.
LABEL_MARGIN = 0.1
#: Overlay colours (BGR).
GREEN, BLUE, RED, ORANGE = (40, 170, 40), (200, 120, 20), (30, 30, 220), (0, 140, 255)


@dataclass(frozen=True)
class Proposal:
    """A proposed meta and what a person should look at.

    Args:
        meta: ``objective_v1`` with ``bubble``, ``print``, ``timing``, ``extra_ovals`` where found;
            validated with :func:`omr.meta.load_meta`.
        overlay: ``(H, W, 3)`` uint8 BGR: the image with every bubble, its question and label,
            the ID grid, the timing bars and the extra ovals drawn on it.
        notes: What could not be told from the card and was assumed.
    """

    meta: dict[str, Any]
    overlay: BGRImage
    notes: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class _Blob:
    """An outer contour: centre and ellipse axes (short, long) px, angle deg, the share of its inside that is
    ink, its area over its upright bounding box's, and that box ``(w, h)`` px."""

    x: float
    y: float
    short: float
    long: float
    angle: float
    fill: float
    rect_fill: float
    box_wh: tuple[float, float]


def _blobs(print_gray: GrayImage, px_per_mm: float) -> list[_Blob]:
    block = max(3, int(THRESH_WINDOW_MM * px_per_mm) | 1)
    ink = cv2.adaptiveThreshold(print_gray, 255, cv2.ADAPTIVE_THRESH_MEAN_C, cv2.THRESH_BINARY_INV, block,
                                THRESH_OFFSET)
    # every outer boundary (a frame's hole holds the ovals inside it as outer boundaries of their own)
    contours, hierarchy = cv2.findContours(ink, cv2.RETR_CCOMP, cv2.CHAIN_APPROX_NONE)
    out: list[_Blob] = []
    for c, (_n, _p, _child, parent) in zip(contours, hierarchy[0] if hierarchy is not None else [], strict=False):
        if len(c) < 8 or parent != -1:
            continue
        x, y, w, h = cv2.boundingRect(c)
        if min(w, h) < MIN_BUBBLE_MM * px_per_mm * 0.8:
            continue
        (cx, cy), (a1, a2), ang = cv2.fitEllipse(c)
        short, long_ = min(a1, a2), max(a1, a2)
        if short <= 0 or long_ > MAX_LINE_ASPECT * short:
            continue
        mask = np.zeros((h, w), np.uint8)
        cv2.drawContours(mask, [c], -1, 255, -1, offset=(-x, -y))
        inside = mask > 0
        filled = float((ink[y:y + h, x:x + w][inside] > 0).mean()) if inside.any() else 1.0
        rect_fill = float(cv2.contourArea(c)) / max(1.0, float(w * h))
        out.append(_Blob(float(cx), float(cy), short, long_, float(ang), filled, rect_fill, (float(w), float(h))))
    return out


def _mode_group(sizes: F64) -> npt.NDArray[np.bool_]:
    """The members within ``SIZE_TOLERANCE`` of the most populated size."""
    if len(sizes) == 0:
        return np.zeros(0, bool)
    logs = np.log(sizes)
    width = math.log(SIZE_TOLERANCE)
    counts = [(int((np.abs(logs - v) <= width).sum()), float(v)) for v in logs]
    centre = float(np.median(logs[np.abs(logs - max(counts)[1]) <= width]))
    return np.asarray(np.abs(logs - centre) <= width)


def _links(xy: F64, size_wh: tuple[float, float]) -> tuple[list[list[int]], float, float]:
    """Blocks of bubbles (index lists) linked one step apart; the row step and column step (px)."""
    n = len(xy)
    dx = np.abs(xy[:, None, 0] - xy[None, :, 0])
    dy = np.abs(xy[:, None, 1] - xy[None, :, 1])
    w, h = size_wh
    row_mate = (dy <= LINK_OFF * h) & (dx > 0.5 * w)
    col_mate = (dx <= LINK_OFF * w) & (dy > 0.5 * h)
    sx = float(np.median(np.where(row_mate, dx, np.inf).min(axis=1)[row_mate.any(axis=1)])) if row_mate.any() else w * 2
    sy = float(np.median(np.where(col_mate, dy, np.inf).min(axis=1)[col_mate.any(axis=1)])) if col_mate.any() else h * 2
    adj = (row_mate & (dx <= LINK_STEPS * sx)) | (col_mate & (dy <= LINK_STEPS * sy))
    seen = np.zeros(n, bool)
    blocks: list[list[int]] = []
    for i in range(n):
        if seen[i]:
            continue
        stack, members = [i], []
        seen[i] = True
        while stack:
            j = stack.pop()
            members.append(j)
            for k in np.flatnonzero(adj[j] & ~seen):
                seen[k] = True
                stack.append(int(k))
        blocks.append(members)
    return blocks, sx, sy


def _lines(v: F64, step: float) -> npt.NDArray[np.int64]:
    """Index of the row (or column) each coordinate falls in: sorted, a new line after a gap of half a step."""
    order = np.argsort(v)
    idx = np.zeros(len(v), np.int64)
    line = 0
    for a, b in zip(order[:-1], order[1:], strict=True):
        if v[b] - v[a] > 0.5 * step:
            line += 1
        idx[b] = line
    return idx


def _inside(gray: GrayImage, x: float, y: float, w: float, h: float) -> F64:
    """The normalised inside of a bubble (the inner 60 % of its box), 16 x 16."""
    x0, x1 = int(round(x - 0.3 * w)), int(round(x + 0.3 * w))
    y0, y1 = int(round(y - 0.3 * h)), int(round(y + 0.3 * h))
    crop = gray[max(0, y0):max(1, y1), max(0, x0):max(1, x1)].astype(np.float64)
    if crop.size == 0:
        return np.zeros((16, 16))
    patch = np.asarray(cv2.resize(crop, (16, 16), interpolation=cv2.INTER_AREA), np.float64)
    patch -= patch.mean()
    norm = float(np.linalg.norm(patch))
    return np.asarray(patch / norm if norm > 1e-6 else patch, np.float64)


def _label_axis(gray: GrayImage, xy: F64, rows: npt.NDArray[np.int64], cols: npt.NDArray[np.int64],
                size_wh: tuple[float, float]) -> tuple[str, float, float]:
    """``"columns"`` when the printed insides repeat down the columns (a question block), ``"rows"`` when
    along the rows (an ID grid), ``"none"``; and the two mean correlations (vertical, horizontal)."""
    cells = {(int(r), int(c)): i for i, (r, c) in enumerate(zip(rows, cols, strict=True))}
    ins = [_inside(gray, x, y, *size_wh) for x, y in xy]
    vert = [float((ins[i] * ins[cells[(r + 1, c)]]).sum()) for (r, c), i in cells.items() if (r + 1, c) in cells]
    horiz = [float((ins[i] * ins[cells[(r, c + 1)]]).sum()) for (r, c), i in cells.items() if (r, c + 1) in cells]
    v = float(np.mean(vert)) if vert else 0.0
    h = float(np.mean(horiz)) if horiz else 0.0
    if vert and horiz and v - h >= LABEL_MARGIN:
        return "columns", v, h
    if vert and horiz and h - v >= LABEL_MARGIN:
        return "rows", v, h
    return "none", v, h


def propose_meta(bgr: BGRImage, *, dpi: float, title: str | None = None) -> Proposal:
    """Propose a meta for the blank card in ``bgr`` (a scan of the card alone, ``dpi`` dots per inch).

    Args:
        bgr: ``(H, W, 3)`` uint8 BGR (or ``(H, W)`` gray) scan of one blank card; the page is the image.
        dpi: The scan's resolution: pixels become millimetres.
        title: The meta's ``title``.

    Returns:
        The :class:`Proposal` (meta, overlay, notes).

    Raises:
        AlignmentError: ``alignment_failed`` when fewer than 4 bubbles are found.
    """
    if bgr.ndim == 2:
        bgr = np.asarray(cv2.cvtColor(bgr, cv2.COLOR_GRAY2BGR), np.uint8)
    px_per_mm = dpi / 25.4
    notes: list[str] = []
    colour = estimate_print_colour(bgr)
    views = split(bgr, colour)
    print_gray = views.print_gray if not isinstance(views, np.ndarray) else views
    blobs = _blobs(np.asarray(print_gray, np.uint8), px_per_mm)
    ring_like = [b for b in blobs if b.fill <= MAX_RING_FILL and b.short >= MIN_BUBBLE_MM * px_per_mm
                 and b.long <= MAX_ASPECT * b.short]
    if len(ring_like) < 4:
        raise AlignmentError("alignment_failed", f"found {len(ring_like)} printed bubbles on the card; expected a grid")
    keep = _mode_group(np.array([b.short * b.long for b in ring_like]))
    bubbles = [b for b, k in zip(ring_like, keep, strict=True) if k]
    w_px = float(np.median([b.short for b in bubbles]))
    h_px = float(np.median([b.long for b in bubbles]))
    upright = float(np.median([abs(math.sin(math.radians(b.angle))) for b in bubbles])) < 0.5
    size_wh = (w_px, h_px) if upright or h_px < 1.15 * w_px else (h_px, w_px)
    xy = np.array([(b.x, b.y) for b in bubbles], np.float64)
    blocks, sx, sy = _links(xy, size_wh)

    def mm(v: float) -> float:
        return round(float(v + 0.5) / px_per_mm, 2)

    r_mm = round(min(size_wh) / 2 / px_per_mm, 2)
    questions: list[dict[str, Any]] = []
    id_bubbles: list[dict[str, Any]] = []
    extra: list[dict[str, Any]] = []
    q_blocks: list[tuple[float, float, list[int], npt.NDArray[np.int64], npt.NDArray[np.int64]]] = []
    for members in blocks:
        pts = xy[members]
        if len(members) < 2:
            extra.append({"id": f"extra{len(extra) + 1}", "center": {"x": mm(pts[0, 0]), "y": mm(pts[0, 1])},
                          "use": "ignore"})
            continue
        rows, cols = _lines(pts[:, 1], sy), _lines(pts[:, 0], sx)
        axis, _v, _h = _label_axis(np.asarray(print_gray, np.uint8), pts, rows, cols, size_wh)
        if axis == "rows" and rows.max() == 9:
            for i, (r, c) in zip(members, zip(rows, cols, strict=True), strict=True):
                id_bubbles.append({"digit_index": int(c) + 1, "number": int(r),
                                   "center": {"x": mm(xy[i, 0]), "y": mm(xy[i, 1])}, "r": r_mm})
            continue
        if axis == "none":
            notes.append(f"a block of {rows.max() + 1} x {cols.max() + 1} bubbles at ({mm(pts[:, 0].min())}, "
                         f"{mm(pts[:, 1].min())}) mm has no labels that tell its kind: read as questions")
        q_blocks.append((float(pts[:, 0].min()), float(pts[:, 1].min()), members, rows, cols))
    if id_bubbles:
        digits = max(b["digit_index"] for b in id_bubbles)
        if len(id_bubbles) != 10 * digits:
            notes.append(f"the ID grid has {len(id_bubbles)} bubbles, not 10 per digit: left out")
            id_bubbles = []
    number = 0
    for _x, _y, members, rows, cols in sorted(q_blocks, key=lambda b: (round(b[0] / (4 * sx)), b[1])):
        for r in range(int(rows.max()) + 1):
            row = sorted((int(c), i) for i, rr, c in zip(members, rows, cols, strict=True) if rr == r)
            if not row:
                continue
            number += 1
            questions.append({"question_number": number, "choices": [
                {"label": str(k + 1), "center": {"x": mm(xy[i, 0]), "y": mm(xy[i, 1])}, "r": r_mm}
                for k, (_c, i) in enumerate(row)]})
    h_img, w_img = bgr.shape[:2]
    meta: dict[str, Any] = {
        "version": "objective_v1", "units": "mm", "title": title,
        "page": {"size": {"width": round(w_img / px_per_mm, 2), "height": round(h_img / px_per_mm, 2)}},
        "markers": [], "questions": questions,
        "identifier": {"digits": max((b["digit_index"] for b in id_bubbles), default=0), "bubbles": id_bubbles},
        "bubble": {"shape": "oval" if max(size_wh) > 1.15 * min(size_wh) else "circle",
                   "width": round(size_wh[0] / px_per_mm, 2), "height": round(size_wh[1] / px_per_mm, 2),
                   "label_inside": True},
    }
    if colour is not None:
        meta["print"] = {"colour": "#{:02x}{:02x}{:02x}".format(*(round(255 * c) for c in colour))}
    timing = _timing(blobs, xy, size_wh, px_per_mm)
    if timing is not None:
        meta["timing"] = {"side": timing[0], "bars": [
            {"center": {"x": mm(x), "y": mm(y)}, "width": round(w / px_per_mm, 2), "height": round(h / px_per_mm, 2)}
            for x, y, w, h in timing[1]]}
    if extra:
        meta["extra_ovals"] = extra
    if not questions:
        raise AlignmentError("alignment_failed", "no block of question bubbles found on the card")
    load_meta(meta)  # the proposal is a valid meta, or this raises with the reason
    return Proposal(meta, _overlay(bgr, meta, px_per_mm), notes)


def propose_meta_from_file(path: Path | str, *, dpi: float, title: str | None = None) -> Proposal:
    """:func:`propose_meta` on an image file, decoded in colour at full resolution.

    Raises:
        ImageError: ``image_invalid`` (unreadable, not an image), ``image_truncated``.
        AlignmentError: as :func:`propose_meta`.
    """
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise ImageError("image_invalid", f"cannot read image file: {exc.strerror}") from None
    image_size(data)  # a clear refusal for what is not an image
    bgr = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
    if bgr is None or bgr.size == 0:
        raise ImageError("image_truncated", "image data is corrupt and could not be decoded")
    return propose_meta(np.ascontiguousarray(bgr, np.uint8), dpi=dpi, title=title)


def _timing(blobs: list[_Blob], xy: F64, size_wh: tuple[float, float], px_per_mm: float
            ) -> tuple[str, list[tuple[float, float, float, float]]] | None:
    """Solid bars of one size, lined up beside the bubbles: ``(side, [(x, y, w, h) px])`` or ``None``."""
    solid = [b for b in blobs if b.fill >= MIN_BAR_FILL and b.rect_fill >= MIN_BAR_FILL
             and max(b.box_wh) >= MIN_BUBBLE_MM * px_per_mm]
    if len(solid) < MIN_BARS:
        return None
    keep = _mode_group(np.array([b.box_wh[0] * b.box_wh[1] for b in solid]))
    bars = [b for b, k in zip(solid, keep, strict=True) if k]
    x0, y0 = xy.min(axis=0) - np.array(size_wh) / 2
    x1, y1 = xy.max(axis=0) + np.array(size_wh) / 2
    sides = {"left": [b for b in bars if b.x < x0], "right": [b for b in bars if b.x > x1],
             "top": [b for b in bars if b.y < y0], "bottom": [b for b in bars if b.y > y1]}
    side, on = max(sides.items(), key=lambda kv: len(kv[1]))
    if len(on) < MIN_BARS:
        return None
    # a scan is upright within a few degrees: the bar's upright box is its size
    out = [(b.x, b.y, b.box_wh[0], b.box_wh[1]) for b in sorted(on, key=lambda b: (b.y, b.x))]
    return side, out


def _overlay(bgr: BGRImage, meta: Mapping[str, Any], px_per_mm: float) -> BGRImage:
    """The card with the proposal drawn on it: questions green (number and label), ID blue, bars red, extra orange."""
    out = bgr.copy()
    bw, bh = meta["bubble"]["width"] * px_per_mm / 2, meta["bubble"]["height"] * px_per_mm / 2
    font, scale = cv2.FONT_HERSHEY_SIMPLEX, max(0.4, px_per_mm / 15.0)

    def px(p: Mapping[str, float]) -> tuple[int, int]:
        return round(p["x"] * px_per_mm - 0.5), round(p["y"] * px_per_mm - 0.5)

    for q in meta["questions"]:
        for c in q["choices"]:
            cv2.ellipse(out, px(c["center"]), (round(bw), round(bh)), 0, 0, 360, GREEN, 1, cv2.LINE_AA)
            x, y = px(c["center"])
            cv2.putText(out, c["label"], (x - 3, y + round(bh) + 10), font, scale * 0.6, GREEN, 1, cv2.LINE_AA)
        x, y = px(q["choices"][0]["center"])
        cv2.putText(out, str(q["question_number"]), (x - round(4 * bw) - 12, y + 4), font, scale, GREEN, 1,
                    cv2.LINE_AA)
    for b in meta["identifier"]["bubbles"]:
        cv2.ellipse(out, px(b["center"]), (round(bw), round(bh)), 0, 0, 360, BLUE, 1, cv2.LINE_AA)
        if b["number"] == 0:
            x, y = px(b["center"])
            cv2.putText(out, f"ID{b['digit_index']}", (x - 8, y - round(bh) - 4), font, scale * 0.6, BLUE, 1,
                        cv2.LINE_AA)
    for bar in (meta.get("timing") or {}).get("bars", []):
        x, y = px(bar["center"])
        hw, hh = bar["width"] * px_per_mm / 2, bar["height"] * px_per_mm / 2
        cv2.rectangle(out, (round(x - hw), round(y - hh)), (round(x + hw), round(y + hh)), RED, 2)
    for e in meta.get("extra_ovals", []):
        cv2.ellipse(out, px(e["center"]), (round(bw) + 2, round(bh) + 2), 0, 0, 360, ORANGE, 2, cv2.LINE_AA)
    return out
