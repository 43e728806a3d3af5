"""The printed answer sheet as one list of drawing primitives in mm.

Both renderers draw this list and nothing else: the raster
(:func:`omr.template.render_sheet`, what alignment and the label masks compare
photos against) and the vector PDF (:func:`omr.render_pdf.write_pdf`, what is
printed). A layout change made here reaches both, so the page students fill in
and the page the engine expects cannot drift apart.

Frame: template mm, origin at the top-left corner of the page, x to the right,
y down (as in the meta). Grays are 0 (black) .. 255 (paper white).

Examples:
    >>> from omr.template import build_template
    >>> prims = sheet_layout(build_template(10))
    >>> [type(p).__name__ for p in prims[:2]], prims[0]
    (['FilledRect', 'FilledRect'], FilledRect(x_mm=8.0, y_mm=8.0, w_mm=8.0, h_mm=8.0, gray=0))
    >>> sum(isinstance(p, Ring) for p in prims)  # 80 ID bubbles + 10 x 5 answers
    130
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

__all__ = [
    "INK",
    "MARKER_HOLE_MM",
    "MARKER_MM",
    "PAPER",
    "PRINT_GRAY",
    "RING_W_MM",
    "FilledRect",
    "Primitive",
    "RectOutline",
    "Ring",
    "Text",
    "sheet_layout",
]

INK = 0
"""Gray of markers, titles and question numbers (black toner)."""
PAPER = 255
"""Gray of paper (the hollow marker's centre)."""
PRINT_GRAY = 70
"""Rings and their labels are printed dark gray, so a pencil fill is darker than the print."""
RING_W_MM = 0.25
"""Line width of a bubble ring (drawn inside the bubble's radius)."""
MARKER_MM = 8.0
"""Side of a corner fiducial."""
MARKER_HOLE_MM = 3.6
"""Side of the white centre of the hollow (top-left) marker, for an ``MARKER_MM`` marker."""

TEXT_STROKE_REL = 0.13
"""Raster stroke width of regular text, as a fraction of its cap height."""
TITLE_X_MM, TITLE_BASELINE_Y_MM, TITLE_CAP_MM = 24.0, 15.5, 4.0
"""Where the title's baseline starts and how tall its capitals are."""
TITLE_STROKE_MM = 0.5
"""The title is bold: a thicker raster stroke, Helvetica-Bold in the PDF."""
TITLE_MAX_CHARS = 60
"""Longer titles are cut (the header has room for about this many characters)."""
NAME_X_MM, NAME_CAP_MM = 165.0, 2.8
"""The "Name" caption, on the title's baseline."""
TITLE_QUIET_MM = 5.0
"""A title set in the Nanum chain (Hangul is about one em wide) is drawn smaller to end this far
before the next thing on its line: the top edge marker (its quiet zone) or the "Name" caption."""
NAME_LINE_XYWH_MM = (180.0, 15.7, 75.0, 0.3)
"""The line students write their name on."""
INSTRUCTION_Y_MM, INSTRUCTION_CAP_MM, INSTRUCTION_GRAY = 24.0, 2.0, 90
"""The one-line instruction under the title, lighter than the rest."""
INSTRUCTION = "Fill one bubble per question completely with a dark pencil or pen."
ID_CAPTION_CAP_MM = 2.6
ID_CAPTION_ABOVE_MM = 9.0
"""The "STUDENT ID" caption's baseline sits this far above the top ID bubble's edge."""
ID_BOX_ABOVE_MM, ID_BOX_H_MM = 7.2, 5.6
"""Each ID column has a box above it (for the written digit): top edge and height."""
ID_BOX_PAD_MM = 0.3
"""The box is this much wider than the bubble on each side."""
ID_BOX_LINE_MM = 0.25
"""Line width of the ID boxes (drawn inside the box)."""
NUMBER_GAP_MM = 1.2
"""A question number ends this far left of its first bubble."""
NUMBER_DROP_MM = 1.3
"""A question number's baseline is this far below its bubbles' centres."""
NUMBER_CAP_MM = 2.6
LABEL_CAP_REL = 0.75
"""A bubble's label (choice or digit) is this fraction of the radius tall."""
LABEL_STROKE_MM = 0.22
"""Raster stroke width of bubble labels."""


@dataclass(frozen=True)
class FilledRect:
    """An axis-aligned filled rectangle; ``(x_mm, y_mm)`` is its top-left corner."""

    x_mm: float
    y_mm: float
    w_mm: float
    h_mm: float
    gray: int


@dataclass(frozen=True)
class RectOutline:
    """A rectangle's outline, ``line_mm`` wide, drawn inside the box ``x, y, w, h``."""

    x_mm: float
    y_mm: float
    w_mm: float
    h_mm: float
    gray: int
    line_mm: float


@dataclass(frozen=True)
class Ring:
    """A circle outline ``line_mm`` wide centred on radius ``r_mm`` (a bubble's printed ring)."""

    x_mm: float
    y_mm: float
    r_mm: float
    gray: int
    line_mm: float


@dataclass(frozen=True)
class Text:
    """One line of text, capitals ``cap_mm`` tall.

    Attributes:
        text: The string.
        x_mm: Baseline start (``align="left"``), baseline end (``"right"``) or
            glyph-box centre (``"center"``).
        y_mm: Baseline (``"left"``, ``"right"``) or glyph-box centre (``"center"``).
        cap_mm: Cap height.
        gray: Ink gray.
        align: ``"left"``, ``"right"`` or ``"center"``.
        stroke_mm: Raster stroke width (Hershey font).
        bold: The PDF uses the bold face (and text beyond ASCII the bold chain).
        max_w_mm: Text set in the Nanum chain (anything beyond printable
            ASCII, :mod:`omr.text`) is drawn smaller to fit this width; ASCII
            text keeps its pinned size.
    """

    text: str
    x_mm: float
    y_mm: float
    cap_mm: float
    gray: int
    align: Literal["left", "right", "center"]
    stroke_mm: float
    bold: bool = False
    max_w_mm: float | None = None


Primitive = FilledRect | RectOutline | Ring | Text


def _text(s: str, x_mm: float, y_mm: float, cap_mm: float, gray: int,
          align: Literal["left", "right", "center"] = "left", stroke_mm: float | None = None,
          bold: bool = False, max_w_mm: float | None = None) -> Text:
    return Text(s, x_mm, y_mm, cap_mm, gray, align, stroke_mm or cap_mm * TEXT_STROKE_REL, bold, max_w_mm)


def _bubble(x_mm: float, y_mm: float, r_mm: float, label: str) -> list[Primitive]:
    return [Ring(x_mm, y_mm, r_mm - RING_W_MM / 2, PRINT_GRAY, RING_W_MM),
            _text(label, x_mm, y_mm, r_mm * LABEL_CAP_REL, PRINT_GRAY, "center", LABEL_STROKE_MM)]


def _title_room_mm(meta: Mapping[str, Any]) -> float:
    """Width from the title's start to the first marker on its line (or "Name"), less the quiet zone.

    Examples:
        >>> from omr.template import build_template
        >>> _title_room_mm(build_template(10))  # the top edge marker's left side is at 146 mm
        117.0
    """
    right = NAME_X_MM
    top, bottom = TITLE_BASELINE_Y_MM - 2 * TITLE_CAP_MM, TITLE_BASELINE_Y_MM + TITLE_CAP_MM
    for m in meta.get("markers") or []:
        x, y, s = float(m["center"]["x"]), float(m["center"]["y"]), float(m["size"])
        if x - s / 2 > TITLE_X_MM and y - s / 2 < bottom and y + s / 2 > top:
            right = min(right, x - s / 2)
    return right - TITLE_QUIET_MM - TITLE_X_MM


def sheet_layout(meta: Mapping[str, Any]) -> tuple[Primitive, ...]:
    """Everything printed on the sheet described by ``meta``, in drawing order.

    Args:
        meta: A meta dict (``omr.template.build_template`` output or any valid
            meta, legacy ones without markers or ID grid included).

    Returns:
        The primitives, in mm (template frame), drawn first to last.
    """
    out: list[Primitive] = []
    for m in meta.get("markers") or []:
        x, y, s = float(m["center"]["x"]), float(m["center"]["y"]), float(m["size"])
        out.append(FilledRect(x - s / 2, y - s / 2, s, s, INK))
        if m.get("kind") == "hollow":
            h = MARKER_HOLE_MM * s / MARKER_MM
            out.append(FilledRect(x - h / 2, y - h / 2, h, h, PAPER))
    title = meta.get("title")
    if title:
        out.append(_text(str(title)[:TITLE_MAX_CHARS], TITLE_X_MM, TITLE_BASELINE_Y_MM, TITLE_CAP_MM, INK,
                         stroke_mm=TITLE_STROKE_MM, bold=True, max_w_mm=_title_room_mm(meta)))
    if meta.get("version") == "objective_v1" and meta.get("markers"):
        out.append(_text("Name", NAME_X_MM, TITLE_BASELINE_Y_MM, NAME_CAP_MM, INK))
        out.append(FilledRect(*NAME_LINE_XYWH_MM, INK))
        out.append(_text(INSTRUCTION, TITLE_X_MM, INSTRUCTION_Y_MM, INSTRUCTION_CAP_MM, INSTRUCTION_GRAY))
    ident = meta.get("identifier") or {}
    bubbles = ident.get("bubbles") or []
    if bubbles:
        xs = [float(b["center"]["x"]) for b in bubbles]
        ys = [float(b["center"]["y"]) for b in bubbles]
        r = max(float(b["r"]) for b in bubbles)
        out.append(_text("STUDENT ID", min(xs) - r, min(ys) - r - ID_CAPTION_ABOVE_MM, ID_CAPTION_CAP_MM, INK))
        box_y = min(ys) - r - ID_BOX_ABOVE_MM
        for x in sorted(set(xs)):
            out.append(RectOutline(x - r - ID_BOX_PAD_MM, box_y, 2 * r + 2 * ID_BOX_PAD_MM, ID_BOX_H_MM,
                                   PRINT_GRAY, ID_BOX_LINE_MM))
        for b in bubbles:
            out += _bubble(float(b["center"]["x"]), float(b["center"]["y"]), float(b["r"]), str(b["number"]))
    for q in meta.get("questions") or []:
        ch = q["choices"]
        if not ch:
            continue
        x0 = float(ch[0]["center"]["x"]) - float(ch[0]["r"]) - NUMBER_GAP_MM
        y0 = float(ch[0]["center"]["y"])
        out.append(_text(str(q["question_number"]), x0, y0 + NUMBER_DROP_MM, NUMBER_CAP_MM, INK, "right"))
        for c in ch:
            out += _bubble(float(c["center"]["x"]), float(c["center"]["y"]), float(c["r"]), str(c["label"]))
    return tuple(out)
