"""TrueType fonts for the note: loaded once, checked for every glyph, chained per character.

ReportLab draws TTF (glyf) fonts such as NanumGothic and DejaVuSans; it
cannot load CFF-flavoured OpenType (Noto CJK's ``.ttc``), so the chain holds
TTF files only. Which font draws which character is
:class:`aicore.fonts.FontChain`'s business (the OMR sheet uses the same
chain): the first font whose ``cmap`` maps it to a real glyph (glyph id 0 is
``.notdef``, the tofu box); a character no font covers is refused *before*
drawing with ``font_missing_glyph``, never printed as a box. This module
registers the fonts with ReportLab and names the runs by registered name.

Examples:
    >>> chain = FontChain(("/usr/share/fonts/truetype/nanum/NanumGothic.ttf",
    ...                    "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"))
    >>> [name for name, _ in chain.runs("합 ℝ")]
    ['WN-NanumGothic', 'WN-DejaVuSans']
    >>> chain.missing("가\\U000f0000")
    ['\\U000f0000']
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any

from aicore import fonts as chains
from nlp.errors import InputError, ModelError

__all__ = ["FontChain", "load_ttf"]

#: prefix of the names our fonts are registered under in ReportLab's process-wide registry.
NAME_PREFIX = "WN-"


@lru_cache(maxsize=16)
def load_ttf(path: str) -> tuple[str, frozenset[int]]:
    """Register the TTF at ``path`` with ReportLab (once per process); return its name and covered code points.

    Parsing NanumGothic takes ~0.1 s, so a process does it once; the cache is
    bounded by the handful of fonts a template names.
    """
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFError, TTFont

    name = NAME_PREFIX + Path(path).stem
    try:
        font: Any = TTFont(name, path)
    except (OSError, TTFError) as exc:
        raise ModelError("font_missing", f"cannot load the TTF font {path}: {exc}") from None
    pdfmetrics.registerFont(font)
    return name, chains.covered_code_points(path)


class FontChain:
    """Fonts tried in order, per character.

    Args:
        paths: TTF files, first choice first. Missing files are skipped;
            ``font_missing`` if none loads.
    """

    def __init__(self, paths: Sequence[str]) -> None:
        self._chain = chains.FontChain(paths)
        if not self._chain.paths:
            raise ModelError("font_missing", f"none of the fonts is installed: {', '.join(paths)} (apt-get install fonts-nanum)")
        self._names = {path: load_ttf(path)[0] for path in self._chain.paths}

    @property
    def primary(self) -> str:
        """The registered name of the first font (used for spaces)."""
        return self._names[self._chain.paths[0]]

    def font_for(self, ch: str) -> str | None:
        """The first font that has a glyph for ``ch``, or ``None``."""
        path = self._chain.font_for(ch)
        return None if path is None else self._names[path]

    def missing(self, text: str) -> list[str]:
        """The distinct characters of ``text`` that no font of the chain can draw (newlines aside)."""
        return self._chain.missing(text)

    def check(self, text: str, where: str) -> None:
        """Raise ``font_missing_glyph`` if any character of ``text`` has no glyph."""
        missing = self.missing(text)
        if missing:
            shown = ", ".join(f"U+{ord(c):04X} {c!r}" for c in missing[:5])
            raise InputError(
                "font_missing_glyph",
                f"{where}: no installed font has a glyph for {shown}; refusing to print boxes",
            )

    def runs(self, text: str) -> list[tuple[str, str]]:
        """Split ``text`` into ``(font name, text)`` runs; spaces stay in the current run."""
        return [(self._names[path], run) for path, run in self._chain.runs(text)]

    def width_pt(self, text: str, size_pt: float) -> float:
        """Width of ``text`` drawn at ``size_pt`` (no kerning: widths add up exactly)."""
        from reportlab.pdfbase.pdfmetrics import stringWidth

        return sum(stringWidth(run, name, size_pt) for name, run in self.runs(text))
