"""Set (b) of ``bench/handwriting.py``: written worksheets the engine was not made with.

Written for issue 16 without reading ``vision/handwriting/synth.py`` or
``vision/synth/`` (as ``bench/omr_independent.py`` was for OMR). What differs
on purpose from set (a):

* **printed page** (:func:`printed_worksheet`): a maths/Korean worksheet, not
  an exam -- a bordered name box, a title, numbered problems as arithmetic
  (``37 × 4 + 15 =``), Korean instructions, ``(1)..(5)`` or ``①..⑤`` choices,
  dotted answer lines, a squared work grid on some pages, grey-shaded boxes;
  fonts NanumBarunGothic, NanumSquareRound, NanumGothicCoding, DejaVu Serif.
* **pens** (:data:`PENS`): ballpoint (thin, blue or black, pressure-varying
  darkness with skips), pencil (grey graphite with paper-tooth texture), felt
  tip (thick, saturated black, blue, red or green).
* **strokes**: handwritten digits and operators (arithmetic lines, fraction
  bars, a ``=`` answer), Korean jamo-like syllable blocks (ㄱ ㄴ ㄷ ㅁ ㅇ ㅅ
  with ㅏ ㅓ ㅗ ㅜ ㅡ ㅣ), circles around choice numbers, ticks and crosses
  beside problems, underlines under printed lines -- the last three touch print.
* **camera** (:func:`capture`): paper tint and fibre, a page rotated and in
  perspective on a textured table, light falling off in a random direction
  plus a soft shadow and vignetting, a colour cast, defocus (disk) or motion
  blur, signal-dependent grain, JPEG at quality 55-90.

Truth: the written ink fraction is the share of page pixels whose pen
coverage is at least :data:`TRUTH_COVERAGE` (print under a stroke counts:
the student wrote there).
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
import numpy.typing as npt
from PIL import Image, ImageDraw, ImageFont

NANUM = Path("/usr/share/fonts/truetype/nanum")
DEJAVU = Path("/usr/share/fonts/truetype/dejavu")
FONTS = ("NanumBarunGothic.ttf", "NanumSquareRoundR.ttf", "NanumGothicCoding.ttf", "NanumMyeongjo.ttf")
BOLD = ("NanumBarunGothicBold.ttf", "NanumSquareRoundB.ttf", "NanumGothicCodingBold.ttf", "NanumMyeongjoBold.ttf")
A4_MM = (210.0, 297.0)
#: a pixel of the written layer counts as written ink at this coverage (0..1).
TRUTH_COVERAGE = 0.3
#: share of pages left printed-only.
PRINTED_ONLY_SHARE = 1 / 3
#: most pieces of writing on one page.
MAX_PIECES = 22
#: strokes are drawn at this supersampling, then averaged down (sub-pixel widths).
SUPER = 3

INSTRUCTIONS = (
    "다음 식을 계산하시오.", "빈칸에 알맞은 수를 쓰시오.", "옳은 것을 고르시오.",
    "풀이 과정을 쓰고 답을 구하시오.", "두 수의 합과 차를 구하시오.", "다음 중 가장 큰 수는?",
    "어림하여 계산해 보시오.", "규칙을 찾아 빈칸을 채우시오.",
)
TITLES = ("수학 익힘 문제", "단원 평가", "계산 연습", "생각 키우기", "복습 문제지")

# handwritten glyph skeletons in a unit box (x right, y down), one list of polylines each
DIGITS: dict[str, list[list[tuple[float, float]]]] = {
    "0": [[(0.5, 0.0), (0.15, 0.2), (0.1, 0.6), (0.35, 1.0), (0.75, 0.9), (0.9, 0.45), (0.75, 0.08), (0.5, 0.0)]],
    "1": [[(0.3, 0.2), (0.55, 0.0), (0.55, 1.0)]],
    "2": [[(0.1, 0.25), (0.4, 0.0), (0.8, 0.1), (0.8, 0.4), (0.1, 1.0), (0.9, 1.0)]],
    "3": [[(0.15, 0.1), (0.6, 0.0), (0.8, 0.25), (0.4, 0.5), (0.85, 0.7), (0.6, 1.0), (0.1, 0.9)]],
    "4": [[(0.65, 1.0), (0.65, 0.0), (0.05, 0.7), (0.95, 0.7)]],
    "5": [[(0.85, 0.0), (0.25, 0.0), (0.2, 0.45), (0.7, 0.45), (0.85, 0.75), (0.55, 1.0), (0.1, 0.9)]],
    "6": [[(0.75, 0.0), (0.3, 0.3), (0.15, 0.75), (0.45, 1.0), (0.8, 0.8), (0.6, 0.5), (0.2, 0.65)]],
    "7": [[(0.05, 0.05), (0.9, 0.05), (0.4, 1.0)]],
    "8": [[(0.5, 0.5), (0.15, 0.25), (0.5, 0.0), (0.85, 0.25), (0.5, 0.5), (0.1, 0.75), (0.5, 1.0), (0.9, 0.75), (0.5, 0.5)]],
    "9": [[(0.85, 0.35), (0.5, 0.0), (0.15, 0.3), (0.5, 0.5), (0.85, 0.3), (0.8, 1.0)]],
    "+": [[(0.1, 0.55), (0.9, 0.55)], [(0.5, 0.2), (0.5, 0.9)]],
    "-": [[(0.15, 0.55), (0.85, 0.55)]],
    "=": [[(0.1, 0.4), (0.9, 0.4)], [(0.1, 0.7), (0.9, 0.7)]],
    "x": [[(0.15, 0.3), (0.85, 0.9)], [(0.85, 0.3), (0.15, 0.9)]],
}
CONSONANTS: dict[str, list[list[tuple[float, float]]]] = {
    "ㄱ": [[(0.0, 0.0), (1.0, 0.0), (0.9, 1.0)]],
    "ㄴ": [[(0.0, 0.0), (0.0, 1.0), (1.0, 1.0)]],
    "ㄷ": [[(1.0, 0.0), (0.0, 0.0), (0.0, 1.0), (1.0, 1.0)]],
    "ㅁ": [[(0.0, 0.0), (0.0, 1.0)], [(0.0, 0.0), (1.0, 0.0), (1.0, 1.0), (0.0, 1.0)]],
    "ㅇ": [[(0.5, 0.0), (0.1, 0.3), (0.2, 0.85), (0.6, 1.0), (0.95, 0.6), (0.8, 0.1), (0.5, 0.0)]],
    "ㅅ": [[(0.5, 0.0), (0.0, 1.0)], [(0.45, 0.35), (1.0, 1.0)]],
}
#: vowels: (polylines, "v" vertical on the right or "h" horizontal below)
VOWELS: dict[str, tuple[list[list[tuple[float, float]]], str]] = {
    "ㅏ": ([[(0.3, 0.0), (0.3, 1.0)], [(0.3, 0.5), (0.9, 0.5)]], "v"),
    "ㅓ": ([[(0.7, 0.0), (0.7, 1.0)], [(0.1, 0.5), (0.7, 0.5)]], "v"),
    "ㅣ": ([[(0.5, 0.0), (0.5, 1.0)]], "v"),
    "ㅗ": ([[(0.5, 0.1), (0.5, 0.5)], [(0.0, 0.5), (1.0, 0.5)]], "h"),
    "ㅜ": ([[(0.0, 0.3), (1.0, 0.3)], [(0.5, 0.3), (0.5, 0.8)]], "h"),
    "ㅡ": ([[(0.0, 0.5), (1.0, 0.5)]], "h"),
}


@dataclass(frozen=True)
class Pen:
    """A writing tool: ``bgr`` ink colour, stroke width (mm), darkness 0..1, and its texture."""

    name: str
    bgr: tuple[int, int, int]
    width_mm: tuple[float, float]
    darkness: tuple[float, float]
    grain: float
    skips: float


PENS = (
    Pen("ballpoint_blue", (150, 60, 25), (0.3, 0.45), (0.75, 0.95), 0.05, 0.08),
    Pen("ballpoint_black", (35, 30, 30), (0.3, 0.45), (0.8, 0.95), 0.05, 0.08),
    Pen("pencil", (70, 70, 75), (0.35, 0.6), (0.35, 0.7), 0.45, 0.0),
    Pen("pencil_soft", (50, 50, 55), (0.5, 0.8), (0.55, 0.85), 0.35, 0.0),
    Pen("felt_black", (25, 25, 25), (0.7, 1.1), (0.95, 1.0), 0.0, 0.0),
    Pen("felt_blue", (170, 70, 10), (0.7, 1.1), (0.9, 1.0), 0.0, 0.0),
    Pen("felt_red", (40, 30, 200), (0.7, 1.1), (0.9, 1.0), 0.0, 0.0),
    Pen("felt_green", (60, 140, 20), (0.7, 1.1), (0.9, 1.0), 0.0, 0.0),
)
#: how often each pen is drawn (pencil and ballpoint dominate real worksheets).
PEN_WEIGHTS = (0.18, 0.16, 0.24, 0.1, 0.12, 0.08, 0.06, 0.06)


@dataclass(frozen=True)
class Worksheet:
    """A printed page: ``image`` BGR uint8, ``ink`` bool print mask, anchors for marks that touch print."""

    image: npt.NDArray[np.uint8]
    ink: npt.NDArray[np.bool_]
    choice_boxes: tuple[tuple[int, int, int, int], ...]
    line_boxes: tuple[tuple[int, int, int, int], ...]
    px_per_mm: float


@dataclass(frozen=True)
class WrittenPage:
    """The written page (BGR), its blank, the true written ink fraction, the pen and the written mask."""

    image: npt.NDArray[np.uint8]
    blank: npt.NDArray[np.uint8]
    ink_fraction: float
    tool: str
    mask: npt.NDArray[np.bool_]


def _font(name: str, px: float) -> ImageFont.FreeTypeFont:
    path = NANUM / name if (NANUM / name).exists() else DEJAVU / name
    return ImageFont.truetype(str(path), max(6, round(px)))


def printed_worksheet(seed: int, dpi: int = 200) -> Worksheet:
    """A seeded A4 worksheet at ``dpi`` (see the module docstring)."""
    rng = random.Random(seed * 7919 + 11)
    mm = dpi / 25.4
    w, h = round(A4_MM[0] * mm), round(A4_MM[1] * mm)
    img = Image.new("RGB", (w, h), (255, 255, 255))
    draw = ImageDraw.Draw(img)
    face = rng.randrange(len(FONTS))
    size = rng.uniform(3.6, 4.6) * mm  # em size
    body, bold = _font(FONTS[face], size), _font(BOLD[face], size * 1.05)
    digits = _font("DejaVuSerif.ttf", size * 0.95) if rng.random() < 0.5 else body
    margin = rng.uniform(14, 20) * mm
    grey = rng.choice(((0, 0, 0), (25, 25, 25), (45, 45, 45)))
    # name box: a bordered table row
    box_h = 9 * mm
    draw.rectangle([margin, margin, w - margin, margin + box_h], outline=grey, width=max(1, round(0.25 * mm)))
    for i, label in enumerate(("학년", "반", "번호", "이름")):
        x = margin + i * (w - 2 * margin) / 4
        if i:
            draw.line([(x, margin), (x, margin + box_h)], fill=grey, width=max(1, round(0.25 * mm)))
        draw.text((x + 2 * mm, margin + 2 * mm), label, font=body, fill=grey)
    y = margin + box_h + 8 * mm
    title = rng.choice(TITLES)
    tf = _font(BOLD[face], size * 1.6)
    tw = draw.textlength(title, font=tf)
    draw.text(((w - tw) / 2, y), title, font=tf, fill=grey)
    y += size * 2.6
    columns = 1 if rng.random() < 0.55 else 2
    gap = 10 * mm
    col_w = (w - 2 * margin - gap * (columns - 1)) / columns
    choice_boxes: list[tuple[int, int, int, int]] = []
    line_boxes: list[tuple[int, int, int, int]] = []
    q = 1
    top = y
    for c in range(columns):
        x0, y = margin + c * (col_w + gap), top
        while y + size * 8 < h - margin:
            draw.text((x0, y), f"{q}.", font=bold, fill=grey)
            xi = x0 + size * 1.6
            text = rng.choice(INSTRUCTIONS)
            draw.text((xi, y), text, font=body, fill=grey)
            tb = draw.textbbox((xi, y), text, font=body)
            line_boxes.append((int(tb[0]), int(tb[1]), int(tb[2] - tb[0]), int(tb[3] - tb[1])))
            y += size * 1.7
            a, b = rng.randint(11, 99), rng.randint(2, 49)
            expr = rng.choice((f"{a} + {b} =", f"{a} × {b % 9 + 2} =", f"{a * 3} ÷ 3 =", f"{a} - {b} =", f"({a} + {b}) × 2 ="))
            draw.text((xi, y), expr, font=digits, fill=grey)
            eb = draw.textbbox((xi, y), expr, font=digits)
            line_boxes.append((int(eb[0]), int(eb[1]), int(eb[2] - eb[0]), int(eb[3] - eb[1])))
            y += size * 1.8
            kind = rng.random()
            if kind < 0.45:  # choices
                xc = xi
                circled = rng.random() < 0.5
                for k in range(5):
                    label = "①②③④⑤"[k] if circled else f"({k + 1})"
                    val = str(rng.randint(10, 400))
                    draw.text((xc, y), label, font=body, fill=grey)
                    lb = draw.textbbox((xc, y), label, font=body)
                    choice_boxes.append((int(lb[0]), int(lb[1]), int(lb[2] - lb[0]), int(lb[3] - lb[1])))
                    draw.text((lb[2] + size * 0.3, y), val, font=digits, fill=grey)
                    xc += (col_w - size * 2) / 5
                y += size * 2.2
            elif kind < 0.7:  # dotted answer line
                xa = xi + size * 3
                draw.text((xi, y), "답:", font=body, fill=grey)
                for xd in np.arange(xa, x0 + col_w - 5 * mm, 1.6 * mm):
                    draw.ellipse([xd, y + size * 0.9, xd + 0.35 * mm, y + size * 0.9 + 0.35 * mm], fill=grey)
                y += size * 2.0
            elif kind < 0.85:  # grey-shaded answer box
                draw.rectangle([xi, y, xi + 40 * mm, y + 10 * mm], fill=(232, 232, 232), outline=grey,
                               width=max(1, round(0.2 * mm)))
                y += 10 * mm + size
            else:  # squared work grid
                cell = 6 * mm
                cols = int(min(col_w - size * 2, 80 * mm) // cell)
                for r in range(3):
                    for k in range(cols):
                        draw.rectangle([xi + k * cell, y + r * cell, xi + (k + 1) * cell, y + (r + 1) * cell],
                                       outline=(150, 150, 150), width=1)
                y += 3 * cell + size
            y += size * rng.uniform(2.5, 6.0)  # room to work
            q += 1
    image = np.ascontiguousarray(np.asarray(img)[:, :, ::-1])
    ink = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY) < 200
    return Worksheet(image, ink, tuple(choice_boxes), tuple(line_boxes), mm)


def _smooth(points: npt.NDArray[np.float64], rounds: int = 2) -> npt.NDArray[np.float64]:
    """Chaikin corner cutting: a pen rounds every corner."""
    for _ in range(rounds):
        if len(points) < 3:
            return points
        q = 0.75 * points[:-1] + 0.25 * points[1:]
        r = 0.25 * points[:-1] + 0.75 * points[1:]
        inner = np.empty((2 * len(q), 2))
        inner[0::2], inner[1::2] = q, r
        points = np.vstack([points[:1], inner, points[-1:]])
    return points


class _Layer:
    """Pen coverage (0..1) of the whole page, drawn at :data:`SUPER` x supersampling, with per-stroke darkness."""

    def __init__(self, size_wh: tuple[int, int], pen: Pen, mm: float, rng: np.random.Generator):
        self.w, self.h = size_wh
        self.cov = np.zeros((self.h * SUPER, self.w * SUPER), np.uint8)
        self.pen, self.mm, self.rng = pen, mm, rng
        self.width_px = rng.uniform(*pen.width_mm) * mm

    def stroke(self, pts: npt.NDArray[np.float64]) -> None:
        pts = _smooth(pts)
        level = self.rng.uniform(*self.pen.darkness)
        for a, b in zip(pts[:-1], pts[1:], strict=False):
            if self.pen.skips and self.rng.random() < self.pen.skips:
                continue
            width = self.width_px * self.rng.uniform(0.8, 1.15)
            value = int(255 * min(1.0, level * self.rng.uniform(0.85, 1.05)))
            p0 = tuple(int(v) for v in np.round(a * SUPER))
            p1 = tuple(int(v) for v in np.round(b * SUPER))
            t = max(1, round(width * SUPER))
            # painted, not added: overlapping segments of one stroke do not darken twice
            cv2.line(self.cov, p0, p1, value, t, cv2.LINE_AA)

    def coverage(self) -> npt.NDArray[np.float32]:
        small = cv2.resize(self.cov, (self.w, self.h), interpolation=cv2.INTER_AREA).astype(np.float32) / 255.0
        if self.pen.grain:
            tooth = self.rng.random((self.h, self.w)).astype(np.float32)
            tooth = np.asarray(cv2.GaussianBlur(tooth, (3, 3), 0.7), np.float32)
            small *= np.clip(1.0 - self.pen.grain * (tooth - 0.3) * 1.6, 0.2, 1.0)
        return small


def _glyph(layer: _Layer, polylines: list[list[tuple[float, float]]], x: float, y: float, gw: float, gh: float,
           slant: float, rng: np.random.Generator) -> None:
    for line in polylines:
        p = np.asarray(line, np.float64)
        p = p + rng.normal(0, 0.04, p.shape)
        px = x + (p[:, 0] + slant * (1 - p[:, 1])) * gw
        py = y + p[:, 1] * gh
        layer.stroke(np.column_stack([px, py]))


def _write_digits(layer: _Layer, text: str, x: float, y: float, gh: float, rng: np.random.Generator) -> float:
    slant = rng.uniform(-0.05, 0.25)
    for ch in text:
        if ch == " ":
            x += gh * 0.5
            continue
        gw = gh * rng.uniform(0.5, 0.7)
        _glyph(layer, DIGITS[ch], x, y + rng.normal(0, gh * 0.04), gw, gh, slant, rng)
        x += gw + gh * rng.uniform(0.15, 0.35)
    return x


def _write_syllable(layer: _Layer, x: float, y: float, s: float, rng: np.random.Generator) -> None:
    cons = CONSONANTS[rng.choice(list(CONSONANTS))]
    vowel, kind = VOWELS[rng.choice(list(VOWELS))]
    final = rng.random() < 0.35
    slant = rng.uniform(-0.05, 0.12)
    lower = 0.62 if final else 1.0
    if kind == "v":
        _glyph(layer, cons, x, y + s * 0.1, s * 0.45, s * 0.5 * lower / 0.8, slant, rng)
        _glyph(layer, vowel, x + s * 0.5, y, s * 0.4, s * lower, slant, rng)
    else:
        _glyph(layer, cons, x + s * 0.2, y, s * 0.6, s * 0.4 * lower, slant, rng)
        _glyph(layer, vowel, x, y + s * 0.35 * lower, s, s * 0.45 * lower, slant, rng)
    if final:
        _glyph(layer, CONSONANTS[rng.choice(list(CONSONANTS))], x + s * 0.2, y + s * 0.68, s * 0.6, s * 0.3, slant, rng)


def _free_spot(free: npt.NDArray[np.bool_], bw: int, bh: int, rng: np.random.Generator, tries: int = 60) -> tuple[int, int] | None:
    """Top-left of a ``bw`` x ``bh`` box with no print (summed-area table of the free mask)."""
    h, w = free.shape
    if bw >= w or bh >= h:
        return None
    sat = cv2.integral((~free).astype(np.uint8))
    for _ in range(tries):
        x, y = int(rng.integers(0, w - bw)), int(rng.integers(0, h - bh))
        busy = sat[y + bh, x + bw] - sat[y, x + bw] - sat[y + bh, x] + sat[y, x]
        if busy == 0:
            return x, y
    return None


def _piece(layer: _Layer, sheet: Worksheet, free: npt.NDArray[np.bool_], rng: np.random.Generator) -> None:
    mm = sheet.px_per_mm
    kind = rng.choice(("arith", "arith", "answer", "korean", "korean", "circle", "tick", "underline", "fraction"),)
    gh = rng.uniform(3.5, 7.0) * mm
    if kind in ("arith", "answer", "fraction"):
        if kind == "arith":
            a, b = int(rng.integers(10, 999)), int(rng.integers(2, 99))
            text = f"{a}{rng.choice(['+', '-', 'x'])}{b}={a + b}"
            lines = [text] if rng.random() < 0.5 else [text, f"={int(rng.integers(10, 9999))}"]
        elif kind == "answer":
            lines = [str(int(rng.integers(1, 9999)))]
        else:
            lines = [str(int(rng.integers(1, 99))), str(int(rng.integers(2, 99)))]
        bw = int(max(len(t) for t in lines) * gh * 0.95 + 2 * mm)
        bh = int(len(lines) * gh * 1.5 + 2 * mm)
        spot = _free_spot(free, bw, bh, rng)
        if spot is None:
            return
        x, y = spot[0] + mm, spot[1] + mm
        for i, t in enumerate(lines):
            xe = _write_digits(layer, t, x, y + i * gh * 1.5, gh, rng)
        if kind == "fraction":
            yb = y + gh * 1.25
            layer.stroke(np.array([[x - 0.5 * mm, yb], [xe + 0.5 * mm, yb + rng.normal(0, 0.5 * mm)]]))
        free[spot[1]:spot[1] + bh, spot[0]:spot[0] + bw] = False
    elif kind == "korean":
        n = int(rng.integers(2, 9))
        s = gh * 1.1
        bw, bh = int(n * s * 1.2 + 2 * mm), int(s * 1.3 + 2 * mm)
        spot = _free_spot(free, bw, bh, rng)
        if spot is None:
            return
        x, y = spot[0] + mm, spot[1] + mm
        for _ in range(n):
            _write_syllable(layer, x, y + rng.normal(0, s * 0.05), s, rng)
            x += s * rng.uniform(1.05, 1.3)
        free[spot[1]:spot[1] + bh, spot[0]:spot[0] + bw] = False
    elif kind == "circle" and sheet.choice_boxes:
        bx, by, bw, bh = sheet.choice_boxes[int(rng.integers(len(sheet.choice_boxes)))]
        cx, cy = bx + bw / 2, by + bh / 2
        rx, ry = bw * rng.uniform(0.8, 1.3), bh * rng.uniform(0.8, 1.2)
        t0 = rng.uniform(0, 2 * math.pi)
        theta = np.linspace(t0, t0 + 2 * math.pi * rng.uniform(1.05, 1.25), 24)
        grow = np.linspace(1.0, rng.uniform(1.05, 1.25), len(theta))
        layer.stroke(np.column_stack([cx + rx * grow * np.cos(theta), cy + ry * grow * np.sin(theta)]))
    elif kind == "tick" and sheet.line_boxes:
        bx, by, bw, bh = sheet.line_boxes[int(rng.integers(len(sheet.line_boxes)))]
        s = rng.uniform(4, 8) * mm
        x, y = bx - s * 1.3, by
        if rng.random() < 0.6:
            layer.stroke(np.array([[x, y + s * 0.5], [x + s * 0.35, y + s], [x + s, y - s * 0.1]]))
        else:
            layer.stroke(np.array([[x, y], [x + s, y + s]]))
            layer.stroke(np.array([[x + s, y], [x, y + s]]))
    elif kind == "underline" and sheet.line_boxes:
        bx, by, bw, bh = sheet.line_boxes[int(rng.integers(len(sheet.line_boxes)))]
        yl = by + bh + rng.uniform(0.5, 1.5) * mm
        xs = np.linspace(bx, bx + bw * rng.uniform(0.5, 1.0), 6)
        layer.stroke(np.column_stack([xs, yl + rng.normal(0, 0.3 * mm, len(xs)) + np.linspace(0, rng.normal(0, mm), len(xs))]))


def written_page(seed: int, dpi: int = 200, pieces: int | None = None) -> WrittenPage:
    """A seeded worksheet written on with one pen (a third of the pages printed-only unless ``pieces`` is given)."""
    rng = np.random.default_rng([seed, 0x4A4D])
    sheet = printed_worksheet(seed, dpi)
    h, w = sheet.ink.shape
    if pieces is None:
        pieces = 0 if rng.random() < PRINTED_ONLY_SHARE else int(rng.integers(1, MAX_PIECES + 1))
    pen = PENS[int(rng.choice(len(PENS), p=np.asarray(PEN_WEIGHTS) / sum(PEN_WEIGHTS)))]
    layer = _Layer((w, h), pen, sheet.px_per_mm, rng)
    margin = int(12 * sheet.px_per_mm)
    free = ~(cv2.dilate(sheet.ink.astype(np.uint8), np.ones((15, 15), np.uint8)) > 0)
    free[:margin], free[-margin:], free[:, :margin], free[:, -margin:] = False, False, False, False
    for _ in range(pieces):
        _piece(layer, sheet, free, rng)
    cov = layer.coverage() if pieces else np.zeros((h, w), np.float32)
    colour = np.asarray(pen.bgr, np.float32) / 255.0
    # the ink filters the light: paper x (1 - cov + cov x ink colour)
    page = sheet.image.astype(np.float32) * (1.0 - cov[..., None] + cov[..., None] * colour[None, None, :])
    mask = cov >= TRUTH_COVERAGE
    return WrittenPage(np.clip(page + 0.5, 0, 255).astype(np.uint8), sheet.image, float(mask.mean()),
                       pen.name if pieces else "", mask)


def capture(page: npt.NDArray[np.uint8], seed: int) -> tuple[npt.NDArray[np.uint8], npt.NDArray[np.float64]]:
    """A phone photo of ``page`` (BGR) by set (b)'s own camera model (see the module docstring),
    and the ``(3, 3)`` homography from page to photo pixels."""
    rng = np.random.default_rng([seed, 0xCA3])
    h, w = page.shape[:2]
    img = page.astype(np.float32)
    # paper tint and fibre
    tint = np.array([rng.uniform(0.9, 1.0), rng.uniform(0.94, 1.0), 1.0], np.float32)
    fibre = cv2.GaussianBlur(rng.normal(0, 1, (h // 4, w // 4)).astype(np.float32), (0, 0), 1.5)
    fibre = cv2.resize(fibre, (w, h)) * rng.uniform(2, 5)
    img = img * tint[None, None, :] + fibre[..., None]
    # frame: a bit larger than the page, the page rotated and in perspective on a table
    out_w, out_h = int(w * rng.uniform(1.05, 1.2)), int(h * rng.uniform(1.05, 1.15))
    angle = math.radians(rng.uniform(-4, 4))
    scale = min(out_w / w, out_h / h) * rng.uniform(0.85, 0.93)
    cx, cy = out_w / 2 + rng.uniform(-0.03, 0.03) * out_w, out_h / 2 + rng.uniform(-0.03, 0.03) * out_h
    corners = np.array([[-w / 2, -h / 2], [w / 2, -h / 2], [w / 2, h / 2], [-w / 2, h / 2]], np.float64) * scale
    rot = np.array([[math.cos(angle), -math.sin(angle)], [math.sin(angle), math.cos(angle)]])
    dst = corners @ rot.T + [cx, cy] + rng.normal(0, 0.012 * w, (4, 2))
    m = cv2.getPerspectiveTransform(np.array([[0, 0], [w, 0], [w, h], [0, h]], np.float32), dst.astype(np.float32))
    table_bgr = np.array([(60, 90, 130), (80, 80, 80), (50, 110, 60), (150, 150, 140), (30, 40, 60)][int(rng.integers(5))], np.float32)
    table = np.ones((out_h, out_w, 3), np.float32) * table_bgr
    streaks = cv2.GaussianBlur(rng.normal(0, 12, (out_h, 8)).astype(np.float32), (0, 0), 3)
    table += cv2.resize(streaks, (out_w, out_h))[..., None]
    warped = cv2.warpPerspective(img, m, (out_w, out_h), flags=cv2.INTER_LINEAR)
    inside = cv2.warpPerspective(np.ones((h, w), np.float32), m, (out_w, out_h), flags=cv2.INTER_LINEAR)[..., None]
    img = warped * inside + table * (1 - inside)
    # light: a falling plane, vignetting, a soft shadow
    yy, xx = np.mgrid[0:out_h, 0:out_w].astype(np.float32)
    th = rng.uniform(0, 2 * math.pi)
    plane = ((xx / out_w - 0.5) * math.cos(th) + (yy / out_h - 0.5) * math.sin(th))
    light = 1.0 - rng.uniform(0.1, 0.35) * (plane + 0.5)
    r2 = ((xx / out_w - 0.5) ** 2 + (yy / out_h - 0.5) ** 2) / 0.5
    light *= 1.0 - rng.uniform(0.05, 0.2) * r2
    if rng.random() < 0.5:
        sx, sy = rng.uniform(0, out_w), rng.uniform(0, out_h)
        blob = np.exp(-(((xx - sx) / (0.25 * out_w)) ** 2 + ((yy - sy) / (0.2 * out_h)) ** 2))
        light *= 1.0 - rng.uniform(0.15, 0.35) * blob
    cast = np.array([rng.uniform(0.9, 1.08), 1.0, rng.uniform(0.9, 1.08)], np.float32)
    img = img * light[..., None] * cast[None, None, :] * rng.uniform(0.8, 1.0)
    # optics: defocus disk or a short motion smear
    if rng.random() < 0.7:
        r = rng.uniform(0.8, 1.8)
        k = int(math.ceil(r)) * 2 + 1
        disk = np.zeros((k, k), np.float32)
        cv2.circle(disk, (k // 2, k // 2), int(round(r)), 1.0, -1, cv2.LINE_AA)
        img = cv2.filter2D(img, -1, disk / disk.sum())
    else:
        n = int(rng.integers(3, 6))
        kern = np.zeros((n, n), np.float32)
        cv2.line(kern, (0, int(rng.integers(n))), (n - 1, int(rng.integers(n))), 1.0, 1)
        img = cv2.filter2D(img, -1, kern / kern.sum())
    # sensor: signal-dependent grain, a little chroma noise
    sigma = rng.uniform(4, 14)
    lum = np.clip(img, 1, 255)
    img = img + rng.normal(0, 1, img.shape[:2]).astype(np.float32)[..., None] * sigma * np.sqrt(lum / 255.0)
    img = img + rng.normal(0, sigma * 0.3, img.shape).astype(np.float32)
    ok, buf = cv2.imencode(".jpg", np.clip(img, 0, 255).astype(np.uint8), [cv2.IMWRITE_JPEG_QUALITY, int(rng.integers(55, 91))])
    if not ok:
        raise RuntimeError("jpeg encode failed")
    return np.asarray(cv2.imdecode(buf, cv2.IMREAD_COLOR), np.uint8), np.asarray(m, np.float64)
