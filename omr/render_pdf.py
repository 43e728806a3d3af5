"""Vector PDF of the answer sheet (reportlab), geometry identical to the raster.

Examples:
    >>> import tempfile, pathlib
    >>> from omr.template import build_template
    >>> with tempfile.TemporaryDirectory() as d:
    ...     p = write_pdf(build_template(10), pathlib.Path(d) / "s.pdf")
    ...     p.read_bytes()[:5]
    b'%PDF-'
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from omr.template import MARKER_HOLE_MM, MARKER_MM, PRINT_GRAY, RING_W_MM

__all__ = ["write_pdf"]


def write_pdf(meta: Mapping[str, Any], path: str | Path) -> Path:
    """Write the sheet as a one-page vector PDF (page size from the meta, mm).

    Args:
        meta: Sheet meta.
        path: Output file.

    Returns:
        The written path.
    """
    from reportlab.lib.units import mm
    from reportlab.pdfgen import canvas

    w_mm = float(meta["page"]["size"]["width"])
    h_mm = float(meta["page"]["size"]["height"])
    out = Path(path)
    c = canvas.Canvas(str(out), pagesize=(w_mm * mm, h_mm * mm), invariant=1)
    c.setTitle(str(meta.get("title") or "Answer Sheet"))
    g = PRINT_GRAY / 255.0

    def Y(y: float) -> float:  # noqa: N802 - mm (top-left frame) to pt (bottom-left)
        return (h_mm - y) * mm

    for m in meta.get("markers") or []:
        x, y, s = float(m["center"]["x"]), float(m["center"]["y"]), float(m["size"])
        c.setFillGray(0)
        c.rect((x - s / 2) * mm, Y(y + s / 2), s * mm, s * mm, stroke=0, fill=1)
        if m.get("kind") == "hollow":
            hs = MARKER_HOLE_MM * s / MARKER_MM
            c.setFillGray(1)
            c.rect((x - hs / 2) * mm, Y(y + hs / 2), hs * mm, hs * mm, stroke=0, fill=1)
    c.setFillGray(0)
    if meta.get("title"):
        c.setFont("Helvetica-Bold", 4.0 / 0.72 * mm)
        c.drawString(24 * mm, Y(15.5), str(meta["title"])[:60])
    if meta.get("version") == "objective_v1" and meta.get("markers"):
        c.setFont("Helvetica", 2.8 / 0.72 * mm)
        c.drawString(165 * mm, Y(15.5), "Name")
        c.rect(180 * mm, Y(16.0), 75 * mm, 0.3 * mm, stroke=0, fill=1)
        c.setFillGray(90 / 255.0)
        c.setFont("Helvetica", 2.0 / 0.72 * mm)
        c.drawString(24 * mm, Y(24.0),
                     "Fill one bubble per question completely with a dark pencil or pen.")

    def bubble(x: float, y: float, r: float, label: str) -> None:
        c.setStrokeGray(g)
        c.setLineWidth(RING_W_MM * mm)
        c.circle(x * mm, Y(y), (r - RING_W_MM / 2) * mm, stroke=1, fill=0)
        c.setFillGray(g)
        c.setFont("Helvetica", r * 0.75 / 0.72 * mm)
        c.drawCentredString(x * mm, Y(y + r * 0.75 / 2), label)

    ident = meta.get("identifier") or {}
    bubbles = ident.get("bubbles") or []
    if bubbles:
        xs = [float(b["center"]["x"]) for b in bubbles]
        ys = [float(b["center"]["y"]) for b in bubbles]
        r = max(float(b["r"]) for b in bubbles)
        c.setFillGray(0)
        c.setFont("Helvetica", 2.6 / 0.72 * mm)
        c.drawString((min(xs) - r) * mm, Y(min(ys) - r - 9.0), "STUDENT ID")
        box_y = min(ys) - r - 7.2
        c.setStrokeGray(g)
        c.setLineWidth(0.25 * mm)
        for x in sorted(set(xs)):
            c.rect((x - r - 0.3 + 0.125) * mm, Y(box_y + 5.6 - 0.125), (2 * r + 0.35) * mm, 5.35 * mm,
                   stroke=1, fill=0)
        for b in bubbles:
            bubble(float(b["center"]["x"]), float(b["center"]["y"]), float(b["r"]), str(b["number"]))
    for q in meta.get("questions") or []:
        ch = q["choices"]
        if not ch:
            continue
        c.setFillGray(0)
        c.setFont("Helvetica", 2.6 / 0.72 * mm)
        x0 = float(ch[0]["center"]["x"]) - float(ch[0]["r"]) - 1.2
        c.drawRightString(x0 * mm, Y(float(ch[0]["center"]["y"]) + 1.3), str(q["question_number"]))
        for ch_ in ch:
            bubble(float(ch_["center"]["x"]), float(ch_["center"]["y"]), float(ch_["r"]), str(ch_["label"]))
    c.showPage()
    c.save()
    return out
