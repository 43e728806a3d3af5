"""Text on the printed sheet: which font draws it, checked glyph by glyph.

Text in printable ASCII keeps the sheet's original look: OpenCV's Hershey
simplex in the raster, Helvetica in the PDF (the rasters the grading engine
compares photos against are pinned by tests). Any other text, a Korean title
such as ``"3월 모의고사 수학"`` or a label such as ``"가"``, is set in the Nanum
font chain (:data:`aicore.fonts.REGULAR` / :data:`aicore.fonts.BOLD`:
NanumGothic, then DejaVuSans for what it lacks), the chain the wrong-note
PDF uses, in both the raster (Pillow) and the PDF (ReportLab), at the same
size and place. A character that no font of the chain has is refused with
``font_missing_glyph`` before a sheet is written (:func:`check_glyphs`),
never printed as ``?`` or a box. Rendering for grading
(:func:`omr.template.render_sheet`) never fails for a font: it draws what it
can.

Frames: the raster functions take ``px_per_mm`` and a ``(H, W)`` uint8 page
in template pixels (origin top-left, y down); sizes are in mm otherwise.

Examples:
    >>> uses_ttf("Answer Sheet"), uses_ttf("3월 모의고사")
    (False, True)
    >>> check_text("3월 모의고사 수학", bold=True, where="title")
    >>> check_text("수학 \\U000f0000", bold=True, where="title")
    Traceback (most recent call last):
    ...
    omr.errors.MetaError: font_missing_glyph: title '수학 \\U000f0000': no installed font has a glyph for U+F0000 '\\U000f0000' (fonts: NanumGothicBold.ttf, DejaVuSans-Bold.ttf; apt-get install fonts-nanum fonts-dejavu-core); refusing to print boxes
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from functools import lru_cache
from typing import Any

import numpy as np

from aicore import fonts
from omr.errors import MetaError
from omr.layout import Primitive, Text
from omr.types import GrayImage

__all__ = ["check_glyphs", "check_text", "chain_for", "draw_ttf_text", "em_mm", "uses_ttf"]

#: Characters the Hershey font (raster) and Helvetica (PDF) draw: printable ASCII.
BUILTIN_FONT_CHARS = frozenset(chr(c) for c in range(0x20, 0x7F))
#: Size at which glyph metrics are measured (px per em); metrics scale linearly.
METRICS_EM_PX = 1000
#: Padding of the mask a raster text is drawn into, in em (ascenders above the cap, descenders below).
MASK_ABOVE_EM, MASK_BELOW_EM = 1.3, 0.5


def uses_ttf(text: str) -> bool:
    """Whether ``text`` is set in the Nanum chain (it holds a character beyond printable ASCII)."""
    return not set(text) <= BUILTIN_FONT_CHARS


@lru_cache(maxsize=2)
def chain_for(bold: bool) -> fonts.FontChain:
    """The font chain of regular or bold text (read once per process)."""
    return fonts.FontChain(fonts.BOLD if bold else fonts.REGULAR)


def check_text(text: str, *, bold: bool, where: str) -> None:
    """Refuse ``text`` if it needs the chain and a character has no glyph in it.

    Raises:
        MetaError: ``font_missing_glyph``, naming the characters and the fonts.
    """
    if uses_ttf(text):
        reason = chain_for(bold).describe_missing(text)
        if reason:
            raise MetaError("font_missing_glyph", f"{where} {text!r}: {reason}; refusing to print boxes")


def check_glyphs(prims: Iterable[Primitive]) -> None:
    """:func:`check_text` for every text primitive (before a sheet is written)."""
    for p in prims:
        if isinstance(p, Text):
            check_text(p.text, bold=p.bold, where="text")


def drawable(t: Text) -> bool:
    """Whether ``t`` is drawn with the chain here (it needs it, and a font of it is installed)."""
    return uses_ttf(t.text) and bool(chain_for(t.bold).paths)


@lru_cache(maxsize=64)
def _pil_font(path: str, size_px: float) -> Any:
    from PIL import ImageFont

    return ImageFont.truetype(path, size_px)


@lru_cache(maxsize=8)
def cap_em(path: str) -> float:
    """Cap height of the font at ``path`` per em (the top of its ``H``): NanumGothic ~0.70."""
    left, top, right, bottom = _pil_font(path, METRICS_EM_PX).getbbox("H", anchor="ls")
    return float(-top) / METRICS_EM_PX


def width_em(text: str, bold: bool) -> float:
    """Advance width of ``text`` set in the chain, in em (no kerning: run widths add up)."""
    runs = chain_for(bold).runs(text)
    return sum(float(_pil_font(path, METRICS_EM_PX).getlength(run)) for path, run in runs) / METRICS_EM_PX


def em_mm(t: Text) -> float:
    """Em size (font size) of ``t`` in mm: its cap height in the chain's first font,
    reduced so the text fits ``t.max_w_mm`` when it is set."""
    chain = chain_for(t.bold)
    em = t.cap_mm / cap_em(chain.paths[0])
    if t.max_w_mm is not None:
        width_mm = width_em(t.text, t.bold) * em
        if width_mm > t.max_w_mm:
            em *= t.max_w_mm / width_mm
    return em


def baseline_start_mm(t: Text, em: float) -> tuple[float, float]:
    """Where the first run's baseline starts, ``(x_mm, y_mm)``, for ``t`` set at ``em`` mm."""
    width = width_em(t.text, t.bold) * em
    if t.align == "center":  # (x, y) is the glyph-box centre: the baseline is half a cap lower
        return t.x_mm - width / 2, t.y_mm + em * cap_em(chain_for(t.bold).paths[0]) / 2
    if t.align == "right":
        return t.x_mm - width, t.y_mm
    return t.x_mm, t.y_mm


def draw_ttf_text(img: GrayImage, t: Text, px_per_mm: float) -> None:
    """Draw ``t`` in the chain onto ``img`` in place (anti-aliased ink of gray ``t.gray``).

    Args:
        img: ``(H, W)`` uint8 page, template pixels.
        t: The text; :func:`drawable` must be true.
        px_per_mm: Resolution of ``img``.
    """
    from PIL import Image, ImageDraw

    em = em_mm(t)
    x_mm, y_mm = baseline_start_mm(t, em)
    em_px = em * px_per_mm
    x_px, y_px = x_mm * px_per_mm, y_mm * px_per_mm
    runs = [(_pil_font(path, em_px), run) for path, run in chain_for(t.bold).runs(t.text)]
    width_px = sum(float(font.getlength(run)) for font, run in runs)
    x0, y0 = math.floor(x_px) - 2, math.floor(y_px - MASK_ABOVE_EM * em_px)
    x1, y1 = math.ceil(x_px + width_px) + 2, math.ceil(y_px + MASK_BELOW_EM * em_px)
    mask = Image.new("L", (x1 - x0, y1 - y0), 0)
    draw = ImageDraw.Draw(mask)
    pen = x_px - x0
    for font, run in runs:
        draw.text((pen, y_px - y0), run, font=font, fill=255, anchor="ls")
        pen += float(font.getlength(run))
    alpha = np.asarray(mask, dtype=np.float32) / 255.0
    h, w = img.shape
    cx0, cy0, cx1, cy1 = max(x0, 0), max(y0, 0), min(x1, w), min(y1, h)
    if cx0 >= cx1 or cy0 >= cy1:
        return
    a = alpha[cy0 - y0:cy1 - y0, cx0 - x0:cx1 - x0]
    region = img[cy0:cy1, cx0:cx1].astype(np.float32)
    inked = region * (1.0 - a) + float(t.gray) * a
    img[cy0:cy1, cx0:cx1] = np.rint(np.minimum(region, inked)).astype(np.uint8)
