"""Vector PDF of the answer sheet (reportlab): the primitives of :mod:`omr.layout`.

The raster (:func:`omr.template.render_sheet`) draws the same primitives, so the
two agree by construction; ``tests/omr/test_render_pdf.py`` checks that the
PDF, rasterised, puts its ink where the raster does.

Examples:
    >>> import tempfile, pathlib
    >>> from omr.template import build_template
    >>> with tempfile.TemporaryDirectory() as d:
    ...     p = write_pdf(build_template(10), pathlib.Path(d) / "s.pdf")
    ...     p.read_bytes()[:5]
    b'%PDF-'
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from functools import lru_cache
from pathlib import Path
from typing import Any

from omr.layout import FilledRect, Primitive, RectOutline, Ring, Text, sheet_layout
from omr.text import baseline_start_mm, chain_for, check_glyphs, drawable, em_mm

__all__ = ["registered_font", "write_layout_pdf", "write_pdf"]

HELVETICA_CAP_EM = 0.72
"""Cap height of Helvetica as a fraction of its font size (the layout gives cap heights)."""
GRAY_MAX = 255.0
#: Prefix of the names the Nanum chain's fonts get in ReportLab's process-wide registry.
FONT_NAME_PREFIX = "OMR-"


@lru_cache(maxsize=8)
def registered_font(path: str) -> str:
    """Register the TTF at ``path`` with ReportLab once per process; its registered name.

    Shared by every ReportLab page of the library (the sheet, the class report).
    """
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont

    name = FONT_NAME_PREFIX + Path(path).stem
    pdfmetrics.registerFont(TTFont(name, path))
    return name


def write_pdf(meta: Mapping[str, Any], path: str | Path) -> Path:
    """Write the sheet as a one-page vector PDF (page size from the meta, mm).

    Args:
        meta: Sheet meta.
        path: Output file.

    Returns:
        The written path.
    """
    size = meta["page"]["size"]
    return write_layout_pdf(sheet_layout(meta), float(size["width"]), float(size["height"]), path,
                            title=str(meta.get("title") or "Answer Sheet"))


def write_layout_pdf(prims: Iterable[Primitive], w_mm: float, h_mm: float, path: str | Path, *,
                     title: str = "Answer Sheet") -> Path:
    """Write layout primitives as a one-page vector PDF of ``w_mm`` x ``h_mm``.

    Args:
        prims: Primitives from :func:`omr.layout.sheet_layout` (or a subset).
        w_mm: Page width.
        h_mm: Page height.
        path: Output file.
        title: The PDF's document title.

    Returns:
        The written path.

    Raises:
        MetaError: ``font_missing_glyph`` (before anything is written) for a
            character no installed font draws.
    """
    from reportlab.lib.units import mm
    from reportlab.pdfbase.pdfmetrics import stringWidth
    from reportlab.pdfgen import canvas

    prims = tuple(prims)
    check_glyphs(prims)
    out = Path(path)
    c = canvas.Canvas(str(out), pagesize=(w_mm * mm, h_mm * mm), invariant=1)
    c.setTitle(title)
    def y_pt(y: float) -> float:  # mm (top-left frame) to pt (bottom-left)
        return (h_mm - y) * mm

    def draw(p: Primitive) -> None:
        if isinstance(p, FilledRect):
            c.setFillGray(p.gray / GRAY_MAX)
            c.rect(p.x_mm * mm, y_pt(p.y_mm + p.h_mm), p.w_mm * mm, p.h_mm * mm, stroke=0, fill=1)
        elif isinstance(p, RectOutline):  # the stroke is centred on the path: inset by half a line
            half = p.line_mm / 2
            c.setStrokeGray(p.gray / GRAY_MAX)
            c.setLineWidth(p.line_mm * mm)
            c.rect((p.x_mm + half) * mm, y_pt(p.y_mm + p.h_mm - half), (p.w_mm - p.line_mm) * mm,
                   (p.h_mm - p.line_mm) * mm, stroke=1, fill=0)
        elif isinstance(p, Ring):
            c.setStrokeGray(p.gray / GRAY_MAX)
            c.setLineWidth(p.line_mm * mm)
            c.circle(p.x_mm * mm, y_pt(p.y_mm), p.r_mm * mm, stroke=1, fill=0)
        else:
            _text(p)

    def _ttf_text(t: Text) -> None:  # the Nanum chain, run by run, where the raster draws it
        em = em_mm(t)
        x_mm, y_mm = baseline_start_mm(t, em)
        x = x_mm * mm
        for font_path, run in chain_for(t.bold).runs(t.text):
            name = registered_font(font_path)
            c.setFont(name, em * mm)
            c.drawString(x, y_pt(y_mm), run)
            x += stringWidth(run, name, em * mm)

    def _text(t: Text) -> None:
        c.setFillGray(t.gray / GRAY_MAX)
        if drawable(t):
            _ttf_text(t)
            return
        c.setFont("Helvetica-Bold" if t.bold else "Helvetica", t.cap_mm / HELVETICA_CAP_EM * mm)
        if t.align == "center":  # (x, y) is the glyph-box centre: the baseline is half a cap lower
            c.drawCentredString(t.x_mm * mm, y_pt(t.y_mm + t.cap_mm / 2), t.text)
        elif t.align == "right":
            c.drawRightString(t.x_mm * mm, y_pt(t.y_mm), t.text)
        else:
            c.drawString(t.x_mm * mm, y_pt(t.y_mm), t.text)

    for prim in prims:
        draw(prim)
    c.showPage()
    c.save()
    return out
