"""The printed answer sheet: layout (meta), raster rendering and files.

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
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from omr.errors import MetaError
from omr.types import GrayImage

__all__ = [
    "BUBBLE_R_MM",
    "PAGE_H_MM",
    "PAGE_W_MM",
    "build_template",
    "render_sheet",
    "write_sheet",
]

PAGE_W_MM = 297.0
PAGE_H_MM = 210.0
BUBBLE_R_MM = 2.4
RING_W_MM = 0.25
MARKER_MM = 8.0
MARKER_HOLE_MM = 3.6
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

INK = 0
PRINT_GRAY = 70  # rings and labels are printed dark gray, fills are darker


def _r2(v: float) -> float:
    return round(float(v), 2)


def build_template(question_count: int, choices: int = 5, title: str | None = None) -> dict:
    """Build the meta (mm) of an objective answer sheet.

    Args:
        question_count: Number of questions, 1..100 (the API presets are 10/20/30).
        choices: Choices per question, 4 or 5 (labels ``"1".."4"`` or ``"1".."5"``).
        title: Optional header title (defaults to "Answer Sheet").

    Returns:
        The JSON-able meta dict, contract in ``docs/omr-meta.md``.

    Raises:
        MetaError: ``meta_invalid`` for an unsupported count.

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
            (round(h_mm * px_per_mm), round(w_mm * px_per_mm)), 255, np.uint8
        )

    def _p(self, x_mm: float, y_mm: float) -> tuple[int, int]:
        f = self.s * (1 << self.SHIFT)
        return round(x_mm * f), round(y_mm * f)

    def rect(self, x_mm: float, y_mm: float, w_mm: float, h_mm: float, gray: int, thick_mm: float = 0) -> None:
        # pixel-exact filled rect; outline via 4 filled rects
        s = self.s
        if thick_mm <= 0:
            x0, y0 = round(x_mm * s), round(y_mm * s)
            x1, y1 = round((x_mm + w_mm) * s), round((y_mm + h_mm) * s)
            self.img[y0:y1, x0:x1] = gray
            return
        t = thick_mm
        self.rect(x_mm, y_mm, w_mm, t, gray)
        self.rect(x_mm, y_mm + h_mm - t, w_mm, t, gray)
        self.rect(x_mm, y_mm, t, h_mm, gray)
        self.rect(x_mm + w_mm - t, y_mm, t, h_mm, gray)

    def circle(self, x_mm: float, y_mm: float, r_mm: float, gray: int, thick_mm: float) -> None:
        f = self.s * (1 << self.SHIFT)
        th = max(1, round(thick_mm * self.s))
        cv2.circle(self.img, self._p(x_mm, y_mm), round(r_mm * f), gray, th, cv2.LINE_AA, self.SHIFT)

    def text(self, s: str, x_mm: float, y_mm: float, h_mm: float, gray: int, align: str = "left",
             thick_mm: float | None = None) -> None:
        """Draw ``s`` with its cap height ``h_mm``; (x, y) is the baseline point for
        ``align="left"``, the baseline end for ``"right"`` and the glyph-box centre
        for ``align="center"``."""
        font = cv2.FONT_HERSHEY_SIMPLEX
        scale = h_mm * self.s / 22.0
        th = max(1, round((thick_mm or h_mm * 0.13) * self.s))
        (tw, tht), _ = cv2.getTextSize(s, font, scale, th)
        x_px, y_px = x_mm * self.s, y_mm * self.s
        if align == "center":
            x_px -= tw / 2
            y_px += tht / 2
        elif align == "right":
            x_px -= tw
        cv2.putText(self.img, s, (round(x_px), round(y_px)), font, scale, gray, th, cv2.LINE_AA)


def render_sheet(meta: Mapping[str, Any], dpi: float = 200) -> GrayImage:
    """Render the sheet described by ``meta`` as a grayscale raster.

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
    ppm = dpi / 25.4
    cv = _Canvas(float(size["width"]), float(size["height"]), ppm)
    for m in meta.get("markers") or []:
        x, y, s = float(m["center"]["x"]), float(m["center"]["y"]), float(m["size"])
        cv.rect(x - s / 2, y - s / 2, s, s, INK)
        if m.get("kind") == "hollow":
            h = MARKER_HOLE_MM * s / MARKER_MM
            cv.rect(x - h / 2, y - h / 2, h, h, 255)
    title = meta.get("title")
    if title:
        cv.text(str(title)[:60], 24.0, 15.5, 4.0, INK, thick_mm=0.5)
    if meta.get("version") == "objective_v1" and meta.get("markers"):
        cv.text("Name", 165.0, 15.5, 2.8, INK)
        cv.rect(180.0, 15.7, 95.0 - 20.0, 0.3, INK)
        cv.text("Fill one bubble per question completely with a dark pencil or pen.", 24.0, 24.0, 2.0, 90)
    ident = meta.get("identifier") or {}
    bubbles = ident.get("bubbles") or []
    if bubbles:
        xs = [float(b["center"]["x"]) for b in bubbles]
        ys = [float(b["center"]["y"]) for b in bubbles]
        r = max(float(b["r"]) for b in bubbles)
        cv.text("STUDENT ID", min(xs) - r, min(ys) - r - 9.0, 2.6, INK)
        box_y = min(ys) - r - 7.2
        for x in sorted(set(xs)):
            cv.rect(x - r - 0.3, box_y, 2 * r + 0.6, 5.6, PRINT_GRAY, thick_mm=0.25)
        for b in bubbles:
            _bubble(cv, float(b["center"]["x"]), float(b["center"]["y"]), float(b["r"]), str(b["number"]))
    for q in meta.get("questions") or []:
        ch = q["choices"]
        if not ch:
            continue
        x0 = float(ch[0]["center"]["x"]) - float(ch[0]["r"]) - 1.2
        y0 = float(ch[0]["center"]["y"])
        cv.text(str(q["question_number"]), x0, y0 + 1.3, 2.6, INK, align="right")
        for c in ch:
            _bubble(cv, float(c["center"]["x"]), float(c["center"]["y"]), float(c["r"]), str(c["label"]))
    return cv.img


def _bubble(cv: _Canvas, x: float, y: float, r: float, label: str) -> None:
    cv.circle(x, y, r - RING_W_MM / 2, PRINT_GRAY, RING_W_MM)
    cv.text(label, x, y, r * 0.75, PRINT_GRAY, align="center", thick_mm=0.22)


def write_sheet(meta: Mapping[str, Any], out_dir: str | Path, dpi: int = 200) -> dict[str, Path]:
    """Write ``sheet.pdf`` (vector, A4 landscape), ``sheet.png`` and ``meta.json``.

    Args:
        meta: The sheet meta.
        out_dir: Output folder (created if missing).
        dpi: Resolution of ``sheet.png``.

    Returns:
        ``{"pdf": Path, "png": Path, "meta": Path}``.

    Examples:
        >>> import tempfile
        >>> with tempfile.TemporaryDirectory() as d:
        ...     paths = write_sheet(build_template(10), d, dpi=60)
        ...     sorted(p.name for p in paths.values())
        ['meta.json', 'sheet.pdf', 'sheet.png']
    """
    from omr.render_pdf import write_pdf

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    paths = {"pdf": out / "sheet.pdf", "png": out / "sheet.png", "meta": out / "meta.json"}
    write_pdf(meta, paths["pdf"])
    if not cv2.imwrite(str(paths["png"]), render_sheet(meta, dpi=dpi)):
        raise OSError(f"cannot write {paths['png']}")
    paths["meta"].write_text(json.dumps(meta, indent=1), encoding="utf-8")
    return paths
