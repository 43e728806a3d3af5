"""Seeded synthetic handwriting on a printed page, with the true ink mask.

For the bench and the tests: pencil and pen strokes drawn onto a page the
way a student writes: cursive-like random-walk lines (words, sentences),
digit-and-operator runs (calculations) and loose scribbles, with a width that
changes along the stroke (pressure), a tool colour (grey pencil, blue, red
or black pen; a black felt-tip marker, larger and three times as wide, only
when asked for) and pencil grain. Strokes go where the page is blank (answer
areas, margins), as on real worksheets. The mask of every drawn pixel gives
the true written-ink fraction.

Frames:
    ``image`` and ``mask`` share the input page's frame ``(H, W)``.

Examples:
    >>> import numpy as np
    >>> page = np.full((600, 450, 3), 255, np.uint8)
    >>> w = add_handwriting(page, seed=3, units=4, tool="pencil")
    >>> w.image.shape, w.mask.dtype.name, 0 < w.ink_fraction < 0.2
    ((600, 450, 3), 'bool', True)
    >>> add_handwriting(page, seed=3, units=0).ink_fraction
    0.0
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
import numpy.typing as npt

__all__ = ["TOOLS", "SyntheticWriting", "add_handwriting"]

#: tool -> (BGR colour, alpha range, grain): pencil is grey, lighter than print and grainy; a
#: felt-tip marker is as black as print (opaque ink).
TOOLS: dict[str, tuple[tuple[int, int, int], tuple[float, float], float]] = {
    "pencil": ((110, 108, 105), (0.55, 0.85), 0.35),
    "blue_pen": ((150, 60, 25), (0.85, 1.0), 0.0),
    "red_pen": ((40, 35, 190), (0.85, 1.0), 0.0),
    "black_pen": ((35, 35, 40), (0.85, 1.0), 0.0),
    "black_marker": ((20, 20, 22), (0.95, 1.0), 0.0),
}
#: how often each tool is drawn when none is asked for (pencil dominates homework). The
#: marker is drawn only when asked for (classifier training), so the bench's pages stay as they were.
TOOL_WEIGHTS = {"pencil": 0.5, "blue_pen": 0.25, "red_pen": 0.1, "black_pen": 0.15}
#: tool -> (writing size, stroke width) relative to a pen's: with a felt-tip marker a student writes
#: larger (digits ~1.5x) with lines three times as wide (0.6-1.3 mm), where a ballpoint's are as thin as print.
TOOL_SCALE = {"black_marker": (1.6, 2.0)}
#: reference resolution of the stroke sizes below; pages at other sizes scale them.
REF_LONG_SIDE_PX = 2339
#: calculation glyphs: what a student writes in working areas.
CALC_CHARS = "0123456789+-=x/"


@dataclass(frozen=True)
class SyntheticWriting:
    """A page with synthetic handwriting.

    Args:
        image: ``(H, W, 3)`` BGR uint8, the page with handwriting.
        mask: ``(H, W)`` bool, every pixel a stroke touched.
        ink_fraction: ``mask.mean()``, the true written-ink fraction.
        tool: the tool used (a key of :data:`TOOLS`), ``""`` when nothing was written.
        calc_fraction: share of the written pixels drawn as calculation runs.
    """

    image: npt.NDArray[np.uint8]
    mask: npt.NDArray[np.bool_]
    ink_fraction: float
    tool: str
    calc_fraction: float


def _free_spot(ink: npt.NDArray[np.bool_], rng: np.random.Generator, box_wh: tuple[int, int]) -> tuple[int, int]:
    """Top-left of a ``box_wh`` window with little print in it (best of a few tries)."""
    h, w = ink.shape
    bw, bh = min(box_wh[0], w - 2), min(box_wh[1], h - 2)
    best, best_ink = (1, 1), 2.0
    for _ in range(12):
        x = int(rng.integers(0, max(1, w - bw)))
        y = int(rng.integers(0, max(1, h - bh)))
        frac = float(ink[y : y + bh, x : x + bw].mean())
        if frac < best_ink:
            best, best_ink = (x, y), frac
        if frac < 0.01:
            break
    return best


def _cursive(layer: npt.NDArray[np.float32], rng: np.random.Generator, origin: tuple[int, int], s: float,
             wide: float = 1.0) -> None:
    """A cursive-like line: a forward random walk with letter-height wiggles and varying pressure."""
    x, y = float(origin[0]), float(origin[1]) + 20 * s
    length = int(rng.integers(25, 90))
    amp = float(rng.uniform(6, 14)) * s
    freq = float(rng.uniform(0.5, 1.1))
    width = float(rng.uniform(1.6, 3.2)) * s * wide
    pts = []
    for i in range(length):
        x += float(rng.uniform(1.5, 4.5)) * s
        yy = y + amp * np.sin(i * freq + rng.normal(0, 0.3)) + rng.normal(0, 1.0) * s
        pts.append((x, yy))
        if rng.random() < 0.06:  # a gap between words
            x += float(rng.uniform(6, 14)) * s
            pts.append((np.nan, np.nan))
    _polyline(layer, pts, width, rng)


def _scribble(layer: npt.NDArray[np.float32], rng: np.random.Generator, origin: tuple[int, int], s: float,
              wide: float = 1.0) -> None:
    """A loose drawing stroke: a smooth random walk in any direction."""
    x, y = float(origin[0]) + 40 * s, float(origin[1]) + 40 * s
    angle = float(rng.uniform(0, 2 * np.pi))
    width = float(rng.uniform(1.6, 3.5)) * s * wide
    pts = []
    for _ in range(int(rng.integers(20, 70))):
        angle += float(rng.normal(0, 0.45))
        step = float(rng.uniform(2, 6)) * s
        x, y = x + step * np.cos(angle), y + step * np.sin(angle)
        pts.append((x, y))
    _polyline(layer, pts, width, rng)


def _polyline(layer: npt.NDArray[np.float32], pts: list[tuple[float, float]], width: float, rng: np.random.Generator) -> None:
    h, w = layer.shape
    pressure = 1.0
    for (x0, y0), (x1, y1) in zip(pts, pts[1:], strict=False):
        if np.isnan(x0) or np.isnan(x1):
            continue
        pressure = float(np.clip(pressure + rng.normal(0, 0.12), 0.55, 1.4))
        t = max(1, int(round(width * pressure)))
        p0 = (int(np.clip(x0, 0, w - 1)), int(np.clip(y0, 0, h - 1)))
        p1 = (int(np.clip(x1, 0, w - 1)), int(np.clip(y1, 0, h - 1)))
        cv2.line(layer, p0, p1, pressure, t, cv2.LINE_AA)


def _calculation(layer: npt.NDArray[np.float32], rng: np.random.Generator, origin: tuple[int, int], s: float,
                 wide: float = 1.0) -> None:
    """A run of digits and operators (``12+35=47``), sheared like a hand."""
    text = "".join(rng.choice(list(CALC_CHARS)) for _ in range(int(rng.integers(3, 9))))
    scale = float(rng.uniform(0.7, 1.2)) * s
    thick = max(1, int(round(float(rng.uniform(1.5, 3.0)) * s * wide)))
    font = int(rng.choice([cv2.FONT_HERSHEY_SCRIPT_SIMPLEX, cv2.FONT_HERSHEY_SIMPLEX, cv2.FONT_HERSHEY_PLAIN]))
    if font == cv2.FONT_HERSHEY_PLAIN:
        scale *= 1.8
    (tw, th), base = cv2.getTextSize(text, font, scale, thick)
    pad = 6
    tile8 = np.zeros((th + base + 2 * pad, tw + 2 * pad), np.uint8)
    cv2.putText(tile8, text, (pad, pad + th), font, scale, 255, thick, cv2.LINE_AA)
    tile = tile8.astype(np.float32) / 255.0
    shear = float(rng.uniform(-0.25, 0.1))
    m = np.array([[1, shear, -shear * tile.shape[0] / 2], [0, 1, 0]], np.float32)
    tile = np.asarray(cv2.warpAffine(tile, m, (tile.shape[1], tile.shape[0])), np.float32)
    x, y = origin
    hh, ww = layer.shape
    y1, x1 = min(hh, y + tile.shape[0]), min(ww, x + tile.shape[1])
    if y1 > y and x1 > x:
        np.maximum(layer[y:y1, x:x1], tile[: y1 - y, : x1 - x], out=layer[y:y1, x:x1])


def add_handwriting(
    page: npt.NDArray[np.uint8],
    seed: int,
    *,
    units: int,
    tool: str | None = None,
    calc_share: float = 0.5,
) -> SyntheticWriting:
    """Draw ``units`` pieces of handwriting onto ``page``.

    Args:
        page: ``(H, W, 3)`` BGR uint8 printed page (not modified).
        seed: everything drawn follows from it.
        units: how many pieces (a line of words, a calculation run or a
            scribble); 0 leaves the page untouched.
        tool: a key of :data:`TOOLS`; ``None`` draws one at random.
        calc_share: probability that a piece is a calculation run.

    Returns:
        The page with handwriting and the true mask.
    """
    rng = np.random.default_rng(seed)
    if tool is None:
        names = list(TOOL_WEIGHTS)
        tool = str(rng.choice(names, p=[TOOL_WEIGHTS[n] for n in names]))
    if units <= 0:
        return SyntheticWriting(page.copy(), np.zeros(page.shape[:2], bool), 0.0, "", 0.0)
    h, w = page.shape[:2]
    size, wide = TOOL_SCALE.get(tool, (1.0, 1.0))
    s = max(h, w) / REF_LONG_SIDE_PX * size
    print_ink = cv2.cvtColor(page, cv2.COLOR_BGR2GRAY) < 160
    layer = np.zeros((h, w), np.float32)
    calc_layer = np.zeros((h, w), np.float32)
    for _ in range(units):
        r = rng.random()
        if r < calc_share:
            _calculation(calc_layer, rng, _free_spot(print_ink, rng, (int(260 * s), int(60 * s))), s, wide)
        elif r < calc_share + (1 - calc_share) * 0.7:
            _cursive(layer, rng, _free_spot(print_ink, rng, (int(320 * s), int(60 * s))), s, wide)
        else:
            _scribble(layer, rng, _free_spot(print_ink, rng, (int(160 * s), int(160 * s))), s, wide)
    np.maximum(layer, calc_layer, out=layer)
    colour, (a_lo, a_hi), grain = TOOLS[tool]
    alpha = np.clip(layer, 0, 1) * float(rng.uniform(a_lo, a_hi))
    if grain > 0:
        alpha *= 1.0 - grain * rng.random((h, w), dtype=np.float32)
    alpha3 = alpha[..., None]
    ink = np.asarray(colour, np.float32)[None, None, :] / 255.0
    base = page.astype(np.float32)
    out = base * (1 - alpha3) + base * ink * alpha3
    mask = layer > 0.25
    calc = (calc_layer > 0.25) & mask
    frac = float(mask.mean())
    return SyntheticWriting(
        np.clip(out, 0, 255).astype(np.uint8), mask, frac, tool, float(calc.sum() / max(1, mask.sum()))
    )
