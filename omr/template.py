"""The answer-sheet template: its meta, its raster and its files.

:func:`build_template` places the markers and bubbles (the meta);
:func:`render_sheet` rasterises the primitives of :func:`omr.layout.sheet_layout`
(the same list :func:`omr.render_pdf.write_pdf` draws as a vector PDF);
:func:`write_sheet` writes both and the meta.

The page is A4 landscape (297 x 210 mm). Layout, all in mm, origin top-left:

* four 8 mm corner fiducials (centres 12 mm from the edges). The top-left one
  is *hollow* (white 3.6 mm centre) so the page orientation (0/90/180/270)
  can be told from the markers alone; two small 5 mm ``edge`` markers sit at
  the middle of the top and bottom edges. Each marker has >= 5 mm quiet zone.
* a header: title and a "Name / Class" line.
* an 8-digit student-ID grid (digits 0-9, one column per digit).
* numbered questions, up to 25 per column, with bubbles (r = 2.4 mm rings,
  choice label ``"1".."5"`` printed inside).

Examples:
    >>> meta = build_template(20)
    >>> meta["version"], len(meta["questions"]), len(meta["identifier"]["bubbles"])
    ('objective_v1', 20, 80)
    >>> [c["label"] for c in meta["questions"][0]["choices"]]
    ['1', '2', '3', '4', '5']
    >>> page = render_sheet(meta, dpi=50)
    >>> page.shape, page.dtype.name
    ((413, 585), 'uint8')
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from omr.errors import MetaError, OptionError
from omr.layout import (
    MARKER_MM,
    PAPER,
    FilledRect,
    Primitive,
    RectOutline,
    Ring,
    Text,
    sheet_layout,
)
from omr.render_pdf import write_pdf
from omr.text import check_glyphs, check_text, draw_ttf_text, drawable
from omr.types import GrayImage

__all__ = [
    "BUBBLE_R_MM",
    "PAGE_H_MM",
    "PAGE_W_MM",
    "SHEET_FILES",
    "SHEET_PNG_DPI_RANGE",
    "build_template",
    "render_layout",
    "render_sheet",
    "write_sheet",
]

PAGE_W_MM = 297.0
PAGE_H_MM = 210.0
BUBBLE_R_MM = 2.4
EDGE_MARKER_MM = 5.0
MARKER_INSET_MM = 12.0

ID_DIGITS = 8
ID_X0_MM = 28.0
ID_Y0_MM = 52.0
ID_PITCH_X_MM = 6.4
ID_PITCH_Y_MM = 6.3

Q_X0_MM = 92.0
Q_Y0_MM = 34.0
Q_COL_PITCH_MM = 47.0
Q_ROW_PITCH_MM = 6.3
Q_CHOICE_PITCH_MM = 6.2
Q_NUMBER_GAP_MM = 9.0
Q_ROWS_MAX = 25

MM_PER_INCH = 25.4
#: What :func:`write_sheet` writes into its folder.
SHEET_FILES = ("sheet.pdf", "sheet.png", "meta.json")
#: ``sheet.png`` resolutions: below 50 dpi the choice labels are unreadable; 600 dpi (35 MP) is past any printer's need.
SHEET_PNG_DPI_RANGE = (50, 600)
HERSHEY_CAP_PX = 22.0
"""Cap height of OpenCV's Hershey simplex font at scale 1, px."""


def _r2(v: float) -> float:
    return round(float(v), 2)


def build_template(question_count: int, choices: int = 5, title: str | None = None) -> dict:
    """Build the meta (mm) of an objective answer sheet.

    Args:
        question_count: Number of questions, 1..100 (the API presets are 10/20/30).
        choices: Choices per question, 4 or 5 (labels ``"1".."4"`` or ``"1".."5"``).
        title: Optional header title (defaults to "Answer Sheet"); Korean and
            any other script of the Nanum chain are printed (:mod:`omr.text`).

    Returns:
        The JSON-able meta dict, contract in ``docs/omr-meta.md``.

    Raises:
        MetaError: ``meta_invalid`` for an unsupported count;
            ``font_missing_glyph`` for a title character no installed font draws.

    Examples:
        >>> meta = build_template(10, choices=4, title="Quiz")
        >>> meta["question_count"], meta["choices"], meta["title"]
        (10, 4, 'Quiz')
        >>> meta["markers"][0]["kind"]
        'hollow'
        >>> build_template(101)
        Traceback (most recent call last):
        ...
        omr.errors.MetaError: meta_invalid: question_count must be 1..100, got 101
    """
    if not isinstance(question_count, int) or not 1 <= question_count <= 100:
        raise MetaError("meta_invalid", f"question_count must be 1..100, got {question_count}")
    if choices not in (4, 5):
        raise MetaError("meta_invalid", f"choices must be 4 or 5, got {choices}")
    if title:
        check_text(title, bold=True, where="title")
    inset = MARKER_INSET_MM
    markers = [
        ("tl", "hollow", inset, inset, MARKER_MM),
        ("tr", "solid", PAGE_W_MM - inset, inset, MARKER_MM),
        ("br", "solid", PAGE_W_MM - inset, PAGE_H_MM - inset, MARKER_MM),
        ("bl", "solid", inset, PAGE_H_MM - inset, MARKER_MM),
        ("tc", "edge", PAGE_W_MM / 2, inset, EDGE_MARKER_MM),
        ("bc", "edge", PAGE_W_MM / 2, PAGE_H_MM - inset, EDGE_MARKER_MM),
    ]
    id_bubbles = [
        {
            "digit_index": d + 1,
            "number": n,
            "center": {"x": _r2(ID_X0_MM + d * ID_PITCH_X_MM), "y": _r2(ID_Y0_MM + n * ID_PITCH_Y_MM)},
            "r": BUBBLE_R_MM,
        }
        for d in range(ID_DIGITS)
        for n in range(10)
    ]
    n_cols = math.ceil(question_count / Q_ROWS_MAX)
    rows = math.ceil(question_count / n_cols)
    questions = []
    for q in range(question_count):
        col, row = divmod(q, rows)
        x0 = Q_X0_MM + col * Q_COL_PITCH_MM
        y = Q_Y0_MM + row * Q_ROW_PITCH_MM
        questions.append(
            {
                "question_number": q + 1,
                "choices": [
                    {
                        "label": str(k + 1),
                        "center": {"x": _r2(x0 + k * Q_CHOICE_PITCH_MM), "y": _r2(y)},
                        "r": BUBBLE_R_MM,
                    }
                    for k in range(choices)
                ],
            }
        )
    return {
        "version": "objective_v1",
        "units": "mm",
        "title": title or "Answer Sheet",
        "question_count": question_count,
        "choices": choices,
        "page": {"size": {"width": PAGE_W_MM, "height": PAGE_H_MM}},
        "markers": [
            {"id": i, "kind": k, "center": {"x": _r2(x), "y": _r2(y)}, "size": s}
            for i, k, x, y, s in markers
        ],
        "identifier": {"digits": ID_DIGITS, "bubbles": id_bubbles},
        "questions": questions,
    }


class _Canvas:
    """Draws mm geometry onto a uint8 page at ``px_per_mm`` with 1/16 px precision."""

    SHIFT = 4

    def __init__(self, w_mm: float, h_mm: float, px_per_mm: float) -> None:
        self.s = px_per_mm
        self.img: GrayImage = np.full(
            (round(h_mm * px_per_mm), round(w_mm * px_per_mm)), PAPER, np.uint8
        )

    def _p(self, x_mm: float, y_mm: float) -> tuple[int, int]:
        f = self.s * (1 << self.SHIFT)
        return round(x_mm * f), round(y_mm * f)

    def rect(self, x_mm: float, y_mm: float, w_mm: float, h_mm: float, gray: int) -> None:
        """Pixel-exact filled rectangle (corners rounded to whole pixels)."""
        s = self.s
        x0, y0 = round(x_mm * s), round(y_mm * s)
        x1, y1 = round((x_mm + w_mm) * s), round((y_mm + h_mm) * s)
        self.img[y0:y1, x0:x1] = gray

    def outline(self, x_mm: float, y_mm: float, w_mm: float, h_mm: float, gray: int, t_mm: float) -> None:
        """A rectangle's outline as four filled rectangles inside the box."""
        self.rect(x_mm, y_mm, w_mm, t_mm, gray)
        self.rect(x_mm, y_mm + h_mm - t_mm, w_mm, t_mm, gray)
        self.rect(x_mm, y_mm, t_mm, h_mm, gray)
        self.rect(x_mm + w_mm - t_mm, y_mm, t_mm, h_mm, gray)

    def circle(self, x_mm: float, y_mm: float, r_mm: float, gray: int, thick_mm: float) -> None:
        f = self.s * (1 << self.SHIFT)
        th = max(1, round(thick_mm * self.s))
        cv2.circle(self.img, self._p(x_mm, y_mm), round(r_mm * f), gray, th, cv2.LINE_AA, self.SHIFT)

    def text(self, t: Text) -> None:
        """Draw ``t`` (Hershey simplex, cap height ``t.cap_mm``, or the Nanum chain beyond ASCII:
        :mod:`omr.text`); see :class:`omr.layout.Text`."""
        if drawable(t):
            draw_ttf_text(self.img, t, self.s)
            return
        font = cv2.FONT_HERSHEY_SIMPLEX
        scale = t.cap_mm * self.s / HERSHEY_CAP_PX
        th = max(1, round(t.stroke_mm * self.s))
        (tw, tht), _ = cv2.getTextSize(t.text, font, scale, th)
        x_px, y_px = t.x_mm * self.s, t.y_mm * self.s
        if t.align == "center":
            x_px -= tw / 2
            y_px += tht / 2
        elif t.align == "right":
            x_px -= tw
        cv2.putText(self.img, t.text, (round(x_px), round(y_px)), font, scale, t.gray, th, cv2.LINE_AA)

    def draw(self, p: Primitive) -> None:
        """Draw one layout primitive."""
        if isinstance(p, FilledRect):
            self.rect(p.x_mm, p.y_mm, p.w_mm, p.h_mm, p.gray)
        elif isinstance(p, RectOutline):
            self.outline(p.x_mm, p.y_mm, p.w_mm, p.h_mm, p.gray, p.line_mm)
        elif isinstance(p, Ring):
            self.circle(p.x_mm, p.y_mm, p.r_mm, p.gray, p.line_mm)
        else:
            self.text(p)


def render_layout(prims: Iterable[Primitive], w_mm: float, h_mm: float, px_per_mm: float) -> GrayImage:
    """Raster of layout primitives on white paper.

    Args:
        prims: Primitives from :func:`omr.layout.sheet_layout` (or a subset).
        w_mm: Page width.
        h_mm: Page height.
        px_per_mm: Resolution; the image is ``(round(h_mm * px_per_mm), round(w_mm * px_per_mm))``.

    Returns:
        ``(H, W)`` uint8 page in the template frame.

    Examples:
        >>> img = render_layout([FilledRect(1.0, 1.0, 2.0, 1.0, 0)], 4.0, 3.0, 2.0)
        >>> img.shape, (img == 0).sum(), img[2:4, 2:6].max()
        ((6, 8), np.int64(8), np.uint8(0))
    """
    cv = _Canvas(w_mm, h_mm, px_per_mm)
    for p in prims:
        cv.draw(p)
    return cv.img


def render_sheet(meta: Mapping[str, Any], dpi: float = 200) -> GrayImage:
    """Render the sheet described by ``meta`` (its :func:`omr.layout.sheet_layout`) as a grayscale raster.

    Args:
        meta: A meta dict (``build_template`` output or any valid meta).
        dpi: Resolution; the image is ``round(page_mm * dpi / 25.4)`` px.

    Returns:
        ``(H, W)`` uint8 page, white (255) paper, in the template frame.

    Examples:
        >>> img = render_sheet(build_template(10), dpi=100)
        >>> img.shape, int(img.max()), int(img.min())
        ((827, 1169), 255, 0)
    """
    size = meta["page"]["size"]
    return render_layout(sheet_layout(meta), float(size["width"]), float(size["height"]), dpi / MM_PER_INCH)


def write_sheet(meta: Mapping[str, Any], out_dir: str | Path, dpi: int = 200) -> dict[str, Path]:
    """Write ``sheet.pdf`` (vector, A4 landscape), ``sheet.png`` and ``meta.json``.

    Args:
        meta: The sheet meta.
        out_dir: Output folder (created if missing).
        dpi: Resolution of ``sheet.png``, in :data:`SHEET_PNG_DPI_RANGE`.

    Returns:
        ``{"pdf": Path, "png": Path, "meta": Path}``.

    Raises:
        OptionError: ``option_invalid`` for a ``dpi`` out of range.
        MetaError: ``font_missing_glyph`` (before anything is written) for a
            title or label character no installed font draws.

    Examples:
        >>> import tempfile
        >>> with tempfile.TemporaryDirectory() as d:
        ...     paths = write_sheet(build_template(10), d, dpi=60)
        ...     sorted(p.name for p in paths.values())
        ['meta.json', 'sheet.pdf', 'sheet.png']
    """
    lo, hi = SHEET_PNG_DPI_RANGE
    if not lo <= dpi <= hi:
        raise OptionError("option_invalid", f"dpi must be in {lo}..{hi}, got {dpi}")
    check_glyphs(sheet_layout(meta))
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    paths = dict(zip(("pdf", "png", "meta"), (out / name for name in SHEET_FILES), strict=True))
    write_pdf(meta, paths["pdf"])
    if not cv2.imwrite(str(paths["png"]), render_sheet(meta, dpi=dpi)):
        raise OSError(f"cannot write {paths['png']}")
    paths["meta"].write_text(json.dumps(meta, indent=1), encoding="utf-8")
    return paths
