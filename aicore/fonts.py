"""TrueType font chains: which installed font draws each character (standard library only).

A chain is a list of TTF files, first choice first; a character is drawn
with the first font whose ``cmap`` maps it to a real glyph (glyph id 0 is
``.notdef``, the tofu box). The chains below are the Debian packages
``fonts-nanum`` (Hangul, Latin) and ``fonts-dejavu-core`` (symbols NanumGothic
lacks). Coverage is read from the font files' ``cmap`` tables, so neither
Pillow nor ReportLab is needed to decide what can be drawn; each renderer
(the OMR sheet's raster and PDF, the wrong-note PDF) draws the runs of
:meth:`FontChain.runs` with its own library, and refuses text that
:meth:`FontChain.missing` reports, before drawing, instead of printing boxes.

Examples:
    >>> chain = FontChain(REGULAR)
    >>> [Path(path).name for path, _ in chain.runs("3월 ℝ")]
    ['NanumGothic.ttf', 'DejaVuSans.ttf']
    >>> chain.missing("수학\\U000f0000")
    ['\\U000f0000']
    >>> FontChain(("/nonexistent.ttf",)).missing("a")  # nothing installed: nothing can be drawn
    ['a']
"""

from __future__ import annotations

import struct
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path

__all__ = ["BOLD", "REGULAR", "FontChain", "covered_code_points"]

_NANUM = "/usr/share/fonts/truetype/nanum/"
_DEJAVU = "/usr/share/fonts/truetype/dejavu/"
#: Regular text: NanumGothic (Hangul, Latin, digits), then DejaVuSans (symbols, Greek, arrows).
REGULAR: tuple[str, ...] = (_NANUM + "NanumGothic.ttf", _DEJAVU + "DejaVuSans.ttf")
#: Bold text, the same chain in bold.
BOLD: tuple[str, ...] = (_NANUM + "NanumGothicBold.ttf", _DEJAVU + "DejaVuSans-Bold.ttf")

#: cmap subtables we read, best first: (platform, encoding) -> Unicode full repertoire or BMP.
_CMAP_PREFERENCE = ((3, 10), (0, 6), (0, 4), (3, 1), (0, 3), (0, 2), (0, 1), (0, 0))


def _u16(data: bytes, at: int) -> int:
    return int(struct.unpack_from(">H", data, at)[0])


def _u32(data: bytes, at: int) -> int:
    return int(struct.unpack_from(">I", data, at)[0])


def _format4(data: bytes, at: int) -> set[int]:
    """Code points of a segment-mapping subtable (BMP) with a glyph other than 0."""
    seg_count = _u16(data, at + 6) // 2
    ends, starts = at + 14, at + 16 + 2 * seg_count
    deltas, range_offsets = starts + 2 * seg_count, starts + 4 * seg_count
    out: set[int] = set()
    for i in range(seg_count):
        start, end = _u16(data, starts + 2 * i), _u16(data, ends + 2 * i)
        delta, range_offset = _u16(data, deltas + 2 * i), _u16(data, range_offsets + 2 * i)
        for cp in range(start, min(end, 0xFFFE) + 1):
            if range_offset == 0:
                glyph = (cp + delta) & 0xFFFF
            else:
                glyph = _u16(data, range_offsets + 2 * i + range_offset + 2 * (cp - start))
                glyph = (glyph + delta) & 0xFFFF if glyph else 0
            if glyph:
                out.add(cp)
    return out


def _format12(data: bytes, at: int) -> set[int]:
    """Code points of a segmented-coverage subtable (all planes) with a glyph other than 0."""
    out: set[int] = set()
    for g in range(_u32(data, at + 12)):
        start, end, first_glyph = struct.unpack_from(">III", data, at + 16 + 12 * g)
        out.update(cp for cp in range(start, end + 1) if first_glyph + cp - start)
    return out


@lru_cache(maxsize=16)
def covered_code_points(path: str) -> frozenset[int]:
    """The code points the TTF at ``path`` draws with a real glyph (its best Unicode ``cmap``).

    Cached per process: NanumGothic's map takes ~30 ms to read.

    Raises:
        OSError: the file cannot be read.
        ValueError: it is not a TrueType/OpenType font with a Unicode ``cmap``.
    """
    data = Path(path).read_bytes()
    try:
        tables = {data[12 + 16 * i:16 + 16 * i]: _u32(data, 20 + 16 * i) for i in range(_u16(data, 4))}
        cmap = tables[b"cmap"]
        subtables = {(_u16(data, cmap + 4 + 8 * i), _u16(data, cmap + 6 + 8 * i)): cmap + _u32(data, cmap + 8 + 8 * i)
                     for i in range(_u16(data, cmap + 2))}
        for key in _CMAP_PREFERENCE:
            if key in subtables:
                at = subtables[key]
                fmt = _u16(data, at)
                if fmt == 4:
                    return frozenset(_format4(data, at))
                if fmt == 12:
                    return frozenset(_format12(data, at))
    except (KeyError, struct.error) as exc:
        raise ValueError(f"{path}: not a TrueType font with a cmap ({exc})") from None
    raise ValueError(f"{path}: no Unicode cmap of format 4 or 12")


class FontChain:
    """Fonts tried in order, per character.

    Args:
        paths: TTF files, first choice first. Files that are not installed
            (or not readable fonts) are left out; :attr:`paths` lists the rest.
    """

    def __init__(self, paths: Sequence[str]) -> None:
        self.tried: tuple[str, ...] = tuple(str(p) for p in paths)
        loaded: list[tuple[str, frozenset[int]]] = []
        for path in self.tried:
            try:
                loaded.append((path, covered_code_points(path)))
            except (OSError, ValueError):
                continue
        self._fonts = loaded

    @property
    def paths(self) -> tuple[str, ...]:
        """The installed fonts of the chain, first choice first."""
        return tuple(path for path, _ in self._fonts)

    def font_for(self, ch: str) -> str | None:
        """The path of the first font with a glyph for ``ch``, or ``None``."""
        cp = ord(ch)
        for path, covered in self._fonts:
            if cp in covered:
                return path
        return None

    def missing(self, text: str) -> list[str]:
        """The distinct characters of ``text`` that no font of the chain draws (newlines aside)."""
        return [ch for ch in dict.fromkeys(text) if ch != "\n" and self.font_for(ch) is None]

    def describe_missing(self, text: str) -> str:
        """A one-line reason naming up to five missing characters and the fonts tried ('' when none)."""
        missing = self.missing(text)
        if not missing:
            return ""
        shown = ", ".join(f"U+{ord(c):04X} {c!r}" for c in missing[:5])
        fonts = ", ".join(Path(p).name for p in self.paths) or f"none installed of {', '.join(self.tried)}"
        return f"no installed font has a glyph for {shown} (fonts: {fonts}; apt-get install fonts-nanum fonts-dejavu-core)"

    def runs(self, text: str) -> list[tuple[str, str]]:
        """Split ``text`` into ``(font path, text)`` runs; spaces stay in the current run.

        A character no font has goes to the first font (drawn as its box):
        call :meth:`missing` first to refuse it.
        """
        out: list[tuple[str, str]] = []
        primary = self._fonts[0][0] if self._fonts else ""
        for ch in text:
            path = out[-1][0] if ch == " " and out else self.font_for(ch) or primary
            if out and out[-1][0] == path:
                out[-1] = (path, out[-1][1] + ch)
            else:
                out.append((path, ch))
        return out
