"""Fonts for synthetic exam pages: the Korean fonts Debian ships, checked for glyphs.

``fonts-nanum`` (NanumGothic, NanumMyeongjo, NanumBarunGothic, ...) covers Hangul,
Latin, circled numbers ①-⑤ and superscript digits; it lacks U+2212 (minus),
so the generator writes ASCII ``-``. ``fonts-noto-cjk`` is the fallback when
Nanum is absent. :func:`has_glyphs` tells a real glyph from the font's
``.notdef`` box, so a page never carries tofu that OCR could not read.

Examples:
    >>> font = load_font("gothic", 28)
    >>> has_glyphs(font, "가①x²")
    True
    >>> has_glyphs(font, "\\ue000")
    False
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from PIL import ImageFont

from vision.errors import VisionError

__all__ = ["FACES", "FontMissingError", "has_glyphs", "load_font"]

_NANUM = Path("/usr/share/fonts/truetype/nanum")
_NOTO = Path("/usr/share/fonts/opentype/noto")

#: Face name -> candidate files, first found wins (Nanum first, Noto CJK as the fallback).
FACES: dict[str, tuple[Path, ...]] = {
    "gothic": (_NANUM / "NanumGothic.ttf", _NOTO / "NotoSansCJK-Regular.ttc"),
    "gothic_bold": (_NANUM / "NanumGothicBold.ttf", _NOTO / "NotoSansCJK-Bold.ttc"),
    "myeongjo": (_NANUM / "NanumMyeongjo.ttf", _NOTO / "NotoSerifCJK-Regular.ttc"),
    "myeongjo_bold": (_NANUM / "NanumMyeongjoBold.ttf", _NOTO / "NotoSerifCJK-Bold.ttc"),
    "barun": (_NANUM / "NanumBarunGothic.ttf", _NOTO / "NotoSansCJK-Regular.ttc"),
    "barun_bold": (_NANUM / "NanumBarunGothicBold.ttf", _NOTO / "NotoSansCJK-Bold.ttc"),
}

#: Glyphs every exam page draws; a font lacking one is skipped.
REQUIRED_GLYPHS = "가나다①②③④⑤²ABCxyz0123456789()[]~.,?=+/"

#: Noto CJK .ttc index of the Korean face (JP=0, KR=1, SC=2, TC=3, HK=4 in Debian's build).
_NOTO_KR_INDEX = 1


class FontMissingError(VisionError):
    """No installed font can draw the exam page (install fonts-nanum or fonts-noto-cjk)."""


@lru_cache(maxsize=256)
def load_font(face: str, size_px: int) -> ImageFont.FreeTypeFont:
    """Load ``face`` at ``size_px``, the first installed candidate with every required glyph.

    Args:
        face: a key of :data:`FACES`.
        size_px: em size in pixels.

    Raises:
        FontMissingError: ``font_missing`` when no candidate is installed and complete.
    """
    for path in FACES[face]:
        if not path.exists():
            continue
        index = _NOTO_KR_INDEX if path.suffix == ".ttc" else 0
        font = ImageFont.truetype(str(path), size_px, index=index)
        if has_glyphs(font, REQUIRED_GLYPHS):
            return font
    raise FontMissingError("font_missing", f"no installed font for {face!r}: install fonts-nanum")


def has_glyphs(font: ImageFont.FreeTypeFont, text: str) -> bool:
    """True when ``font`` draws every character of ``text`` with a real glyph (not .notdef)."""
    notdef = bytes(font.getmask("\ue000"))
    return all(c.isspace() or bytes(font.getmask(c)) != notdef for c in text)
