"""Exam pages for question segmentation that the engine was not written with, with question-box truth.

Written for issue 16 without reading ``vision/synth``: it reuses only the
drawing helpers of :mod:`bench.ocr_independent` (fonts, passage frame, table,
choice rows, camera), which were themselves written independently of it.
What a page can hold, chosen by the seed:

* **columns**: one, two with a rule between them, two *uneven* (a short
  second column, or widths 58/42), or three;
* **section headings** (``Ⅰ. 선택형``, ``■ 서술형 문항``, ``제 2 부 읽기``) set bold and
  a little larger, at the top of a column or between questions;
* **group instructions** ``[3~5] 다음 글을 읽고 물음에 답하시오.`` followed by a
  framed passage and the questions they govern;
* inside questions: points ``[3점]`` at the end of the stem, a bordered
  table, a displayed formula centred on its own line, a framed passage;
* **margin writing**: a student's pen arithmetic (``37×4=148``) drawn with
  jittered strokes in the page's left or right margin, beside a question;
* **capture** (:func:`photograph_with_matrix`): the camera of
  :func:`bench.ocr_independent.photograph` (grain sigma up to 20), with its
  homography so that truth boxes map onto the photo.

Truth (:class:`SegPage`): per question its tight ink box (number to last
choice, passage included for the first question of a group, the group's
instruction line excluded) and number; per heading and instruction its box,
kind, and for an instruction the numbers it governs.

Usage::

    .venv/bin/python bench/segment_independent.py --pages 4 --out /tmp/segind   # PNGs with truth drawn
"""

from __future__ import annotations

import argparse
import random
import sys
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np
from PIL import Image, ImageDraw

sys.path.insert(0, str(Path(__file__).resolve().parent))

from ocr_independent import (  # noqa: E402
    A4_MM,
    COLOURS,
    EN,
    HANGUL_FONTS,
    HEAD_FONTS,
    KO,
    MM_PER_INCH,
    PT_PER_INCH,
    SUBJECTS,
    _choices,
    _fit,
    _passage,
    _table,
    _Writer,
    camera,
)

Box = tuple[int, int, int, int]
#: page layouts, in turn by seed.
LAYOUTS = ("one", "two", "two-short", "two-uneven", "three")
HEADINGS = ("Ⅰ. 선택형", "Ⅱ. 서술형", "■ 서술형 문항", "제 2 부 읽기", "◆ 듣기 평가", "Ⅲ. 자료 해석")
FORMULAS = ("f(x) = x² − 4x + 3", "S = ½ · a · b · sin C", "v = 340 + 0.6 t (m/s)", "2x + 3y = 12", "P(A∪B) = 0.7")
GROUP = "[{a}~{b}] 다음 글을 읽고 물음에 답하시오."


@dataclass
class Region:
    """A truth region: ``kind`` is question, heading or instruction; boxes ``(x, y, w, h)`` in page pixels."""

    kind: str
    box_xywh: Box
    number: int | None = None
    governs: tuple[int, ...] = ()


@dataclass
class SegPage:
    """A rendered page and its truth regions (questions in reading order)."""

    image: np.ndarray
    regions: list[Region]
    seed: int
    layout: str
    grain: float = 0.0
    notes: list[str] = field(default_factory=list)

    @property
    def questions(self) -> list[Region]:
        return [r for r in self.regions if r.kind == "question"]


def _ink_box(img: Image.Image, x0: float, y0: float, x1: float, y1: float) -> Box | None:
    a = np.asarray(img.convert("L"))[max(0, int(y0)) : int(y1), max(0, int(x0)) : int(x1)]
    ys, xs = np.nonzero(a < 200)
    if ys.size == 0:
        return None
    return (max(0, int(x0)) + int(xs.min()), max(0, int(y0)) + int(ys.min()), int(xs.max() - xs.min()) + 1, int(ys.max() - ys.min()) + 1)


#: pen strokes of handwritten glyphs in a unit box (x right, y down), one list of points per stroke.
_PEN: dict[str, list[list[tuple[float, float]]]] = {
    "0": [[(0.5, 0), (0.1, 0.3), (0.15, 0.8), (0.5, 1), (0.85, 0.75), (0.9, 0.25), (0.5, 0)]],
    "1": [[(0.3, 0.2), (0.55, 0), (0.55, 1)]],
    "2": [[(0.1, 0.25), (0.5, 0), (0.85, 0.25), (0.1, 1), (0.9, 1)]],
    "3": [[(0.1, 0.1), (0.8, 0.1), (0.4, 0.45), (0.85, 0.7), (0.5, 1), (0.1, 0.9)]],
    "4": [[(0.7, 1), (0.7, 0), (0.05, 0.7), (0.95, 0.7)]],
    "5": [[(0.85, 0), (0.2, 0), (0.15, 0.45), (0.7, 0.45), (0.8, 0.8), (0.4, 1), (0.1, 0.9)]],
    "6": [[(0.8, 0.05), (0.3, 0.3), (0.15, 0.8), (0.5, 1), (0.85, 0.75), (0.5, 0.5), (0.2, 0.65)]],
    "7": [[(0.1, 0), (0.9, 0), (0.4, 1)]],
    "8": [[(0.5, 0.5), (0.15, 0.25), (0.5, 0), (0.85, 0.25), (0.15, 0.75), (0.5, 1), (0.85, 0.75), (0.5, 0.5)]],
    "9": [[(0.8, 0.35), (0.5, 0.55), (0.15, 0.3), (0.5, 0), (0.8, 0.3), (0.75, 1)]],
    "+": [[(0.1, 0.5), (0.9, 0.5)], [(0.5, 0.15), (0.5, 0.85)]],
    "×": [[(0.15, 0.2), (0.85, 0.8)], [(0.85, 0.2), (0.15, 0.8)]],
    "=": [[(0.1, 0.35), (0.9, 0.35)], [(0.1, 0.7), (0.9, 0.7)]],
    "-": [[(0.1, 0.5), (0.9, 0.5)]],
}


def _scribble(draw: ImageDraw.ImageDraw, rng: random.Random, x: float, y: float, size: float, width: int,
             max_w: float) -> None:
    """A line of pen arithmetic from ``(x, y)``, glyphs up to ``size`` px tall, within ``max_w`` px."""
    a, b = rng.randint(12, 99), rng.randint(2, 9)
    op = rng.choice("×+-")
    value = a * b if op == "×" else a + b if op == "+" else a - b
    text = f"{a}{op}{b}={value}"
    size = min(size, max_w / (len(text) * 0.9))  # glyph 0.55-0.6 wide, spacing 0.12-0.25, slant
    ink = rng.choice(((20, 40, 150), (60, 60, 60), (30, 30, 30)))
    slant = rng.uniform(0.05, 0.25)
    for ch in text:
        w = size * (0.55 if ch.isdigit() else 0.6) * rng.uniform(0.85, 1.1)
        base = y + rng.uniform(-0.08, 0.08) * size
        for stroke in _PEN[ch]:
            pts = [(x + px * w + (1 - py) * slant * size + rng.uniform(-0.04, 0.04) * size,
                    base + py * size + rng.uniform(-0.04, 0.04) * size) for px, py in stroke]
            draw.line(pts, fill=ink, width=width, joint="curve")
        x += w + size * rng.uniform(0.12, 0.2)


def render_seg_page(seed: int, *, dpi: int = 200, layout: str | None = None) -> SegPage:
    """A seeded exam page (A4) at ``dpi`` with question, heading and instruction truth."""
    rng = random.Random(seed)
    layout = layout or LAYOUTS[seed % len(LAYOUTS)]
    k = dpi / PT_PER_INCH
    mm = dpi / MM_PER_INCH
    w, h = round(A4_MM[0] * mm), round(A4_MM[1] * mm)
    img = Image.new("RGB", (w, h), (255, 255, 255))
    draw = ImageDraw.Draw(img)
    out = _Writer(draw, k)
    body_pt = rng.uniform(9.5, 11.5) if layout != "three" else rng.uniform(8.5, 9.5)
    face = rng.randrange(len(HANGUL_FONTS))
    body = out.font(HANGUL_FONTS[face], body_pt)
    bold = out.font(HEAD_FONTS[face], body_pt)
    head_font = out.font(HEAD_FONTS[face], body_pt * 1.25)
    latin = out.font("DejaVuSans.ttf" if face % 2 else "DejaVuSerif.ttf", body_pt * 0.95)
    colour = COLOURS[rng.randrange(len(COLOURS))]
    margin = rng.uniform(18, 24) * mm  # room in the margins for the student's pen
    band_h = body_pt * k * 2.4
    draw.rectangle([margin, margin, w - margin, margin + band_h], fill=colour)
    title = f"{rng.choice(('2024', '2025', '2026'))}학년도 {rng.randint(1, 3)}학기 {rng.choice(SUBJECTS)} 평가"
    out.text((margin + 4 * mm, margin + band_h * 0.22), title, out.font(HEAD_FONTS[face], body_pt * 1.35), (255, 255, 255))
    y_top = margin + band_h + 6 * mm
    gutter = 8 * mm
    n_cols = {"one": 1, "three": 3}.get(layout, 2)
    inner = w - 2 * margin - gutter * (n_cols - 1)
    widths = [inner * 0.58, inner * 0.42] if layout == "two-uneven" else [inner / n_cols] * n_cols
    lefts = [margin + sum(widths[:c]) + c * gutter for c in range(n_cols)]
    divider = n_cols > 1 and rng.random() < 0.7
    line_h = body_pt * k * 1.75
    bottom = h - margin
    q = rng.randint(1, 9)
    regions: list[Region] = []
    extras = {"table": rng.random() < 0.6, "group": rng.random() < 0.75, "formula": rng.random() < 0.6,
              "heading": rng.random() < 0.7, "points": rng.random() < 0.7}
    col_bottoms: list[float] = []
    for c in range(n_cols):
        x0, cw, y = lefts[c], widths[c], y_top
        short = layout == "two-short" and c == n_cols - 1
        col_bottom = y_top + (bottom - y_top) * rng.uniform(0.35, 0.55) if short else bottom
        placed = 0
        while True:
            if extras["heading"] and (placed == 0 and c == 0 or placed == 2 and rng.random() < 0.5):
                extras["heading"] = False
                if y + line_h * 8 < col_bottom:
                    text = rng.choice(HEADINGS)
                    out.text((x0, y), text, head_font, record=False)
                    box = _ink_box(img, x0 - 2, y - 2, x0 + cw + 2, y + line_h * 1.3)
                    if box:
                        regions.append(Region("heading", box))
                    y += line_h * 1.6
            group = 0
            if extras["group"] and placed >= 1 and y + line_h * 14 < col_bottom:
                extras["group"] = False
                group = rng.choice((2, 3))
                text = _fit(GROUP.format(a=q, b=q + group - 1), body, cw, draw)
                out.text((x0, y), text, bold, record=False)
                box = _ink_box(img, x0 - 2, y - 2, x0 + cw + 2, y + line_h)
                if box:
                    regions.append(Region("instruction", box, governs=tuple(range(q, q + group))))
                y += line_h * 1.1
            for g in range(max(group, 1)):
                kind = rng.random()
                need = line_h * (10 if extras["table"] else 7) + (line_h * 5 if group and g == 0 else 0)
                if y + need > col_bottom:
                    break
                top = y
                if group and g == 0:
                    y = _passage(out, rng, body, x0, y, cw, line_h, mm)
                num = f"{q}."
                xe = out.text((x0, y), num, bold, colour, record=False)
                pts = f" [{rng.choice((2, 3, 4))}점]" if extras["points"] and rng.random() < 0.4 else ""
                stem = _fit(rng.choice(KO) + "?" + pts, body, cw - (xe - x0) - 2 * mm, draw)
                out.text((xe + 0.35 * body_pt * k, y), stem, body, record=False)
                y += line_h
                if extras["table"] and kind < 0.3:
                    y = _table(out, rng, body, bold, x0, y, cw, line_h, mm)
                    extras["table"] = False
                elif extras["formula"] and kind < 0.5:
                    f = rng.choice(FORMULAS)
                    fw = draw.textlength(f, font=latin)
                    out.text((x0 + (cw - fw) / 2, y + line_h * 0.2), f, latin, record=False)
                    y += line_h * 1.5
                    extras["formula"] = False
                elif kind < 0.7:
                    out.text((x0 + 3 * mm, y), _fit(rng.choice(EN), latin, cw - 4 * mm, draw), latin, record=False)
                    y += line_h
                y = _choices(out, rng, body, x0, y, cw, line_h, mm, draw)
                box = _ink_box(img, x0 - 1, top - 1, x0 + cw + 1, y)
                if box:
                    regions.append(Region("question", box, number=q))
                q += 1
                placed += 1
                y += line_h * rng.uniform(0.7, 1.4)
            else:
                continue
            break
        col_bottoms.append(y)
    if divider:
        for c in range(1, n_cols):
            x = lefts[c] - gutter / 2
            draw.line([(x, y_top), (x, bottom)], fill=(90, 90, 90), width=max(1, round(0.3 * mm)))
    # a footer with the page number
    pn = f"- {rng.randint(1, 8)} -"
    out.text((w / 2 - draw.textlength(pn, font=body) / 2, h - margin * 0.6), pn, body, record=False)
    notes: list[str] = []
    if rng.random() < 0.6:  # the student's pen in a margin, beside a question
        qs = [r for r in regions if r.kind == "question"]
        target = rng.choice(qs)
        size = rng.uniform(3.0, 4.5) * mm
        pen = max(2, round(0.35 * mm))
        side = rng.choice(("right", "left"))
        ty = target.box_xywh[1] + rng.uniform(0, max(1.0, target.box_xywh[3] - 3 * size))
        room = margin - 5 * mm  # the pen keeps clear of the printed text and of the paper's edge
        for r in range(rng.randint(1, 3)):
            x = w - margin + rng.uniform(1.5, 3) * mm if side == "right" else rng.uniform(1.5, 3) * mm
            _scribble(draw, rng, x, ty + r * size * 1.6, size, pen, room)
        notes.append(f"pen {side} margin beside q{target.number}")
    image = np.ascontiguousarray(np.asarray(img)[:, :, ::-1])
    return SegPage(image=image, regions=regions, seed=seed, layout=layout, notes=notes)


def map_box(box: Box, matrix: np.ndarray) -> Box:
    """The box around ``box``'s corners mapped through the 3x3 homography ``matrix``."""
    x, y, bw, bh = box
    pts = np.array([[[x, y]], [[x + bw, y]], [[x + bw, y + bh]], [[x, y + bh]]], np.float64)
    m = cv2.perspectiveTransform(pts, matrix).reshape(-1, 2)
    x0, y0 = np.floor(m.min(axis=0)).astype(int)
    x1, y1 = np.ceil(m.max(axis=0)).astype(int)
    return (int(x0), int(y0), int(x1 - x0), int(y1 - y0))


def photograph_page(page: SegPage, *, grain: float | None = None, crop: str | None = None) -> SegPage:
    """The page as a phone photo (truth mapped onto it); ``crop``: ``fill`` (page fills the frame) or ``cut`` (cut at an edge)."""
    photo, matrix = camera(page.image, page.seed, grain=grain)
    regions = [Region(r.kind, map_box(r.box_xywh, matrix), r.number, r.governs) for r in page.regions]
    rng = random.Random(page.seed * 7 + 1)
    if crop:
        h, w = page.image.shape[:2]
        corners = cv2.perspectiveTransform(np.array([[[0, 0]], [[w, 0]], [[w, h]], [[0, h]]], np.float64), matrix).reshape(-1, 2)
        x0 = int(max(corners[0, 0], corners[3, 0]) + 0.01 * w)
        y0 = int(max(corners[0, 1], corners[1, 1]) + 0.01 * h)
        x1 = int(min(corners[1, 0], corners[2, 0]) - 0.01 * w)
        y1 = int(min(corners[2, 1], corners[3, 1]) - 0.01 * h)
        if crop == "cut":  # one edge cut into the page (the bottom or the right side)
            if rng.random() < 0.5:
                y1 = int(y1 - rng.uniform(0.04, 0.12) * h)
            else:
                x1 = int(x1 - rng.uniform(0.03, 0.06) * w)
        photo = photo[y0:y1, x0:x1]
        kept = []
        for r in regions:
            bx, by, bw, bh = r.box_xywh
            cx0, cy0 = max(0, bx - x0), max(0, by - y0)
            cx1, cy1 = min(x1 - x0, bx + bw - x0), min(y1 - y0, by + bh - y0)
            # a region cut to less than half its height is not expected back
            if cx1 > cx0 and cy1 - cy0 >= 0.5 * bh:
                kept.append(Region(r.kind, (cx0, cy0, cx1 - cx0, cy1 - cy0), r.number, r.governs))
        regions = kept
    return SegPage(image=np.ascontiguousarray(photo), regions=regions, seed=page.seed, layout=page.layout,
                   grain=-1.0 if grain is None else grain, notes=page.notes + ([crop] if crop else []))


def draw_truth(page: SegPage) -> np.ndarray:
    """The page with its truth boxes drawn (green questions, blue headings, orange instructions)."""
    vis = page.image.copy()
    colours = {"question": (0, 170, 0), "heading": (200, 60, 0), "instruction": (0, 140, 255)}
    for r in page.regions:
        x, y, bw, bh = r.box_xywh
        cv2.rectangle(vis, (x, y), (x + bw, y + bh), colours[r.kind], 2)
        label = str(r.number) if r.number is not None else r.kind[:4] + (str(list(r.governs)) if r.governs else "")
        cv2.putText(vis, label, (max(0, x - 30), y + 20), 0, 0.7, colours[r.kind], 2)
    return vis


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--pages", type=int, default=5)
    p.add_argument("--seed", type=int, default=16000)
    p.add_argument("--out", type=Path, required=True)
    p.add_argument("--grain", type=float, default=None)
    args = p.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    for i in range(args.pages):
        page = render_seg_page(args.seed + i)
        cv2.imwrite(str(args.out / f"{page.seed}_{page.layout}.png"), draw_truth(page))
        photo = photograph_page(page, grain=args.grain)
        cv2.imwrite(str(args.out / f"{page.seed}_{page.layout}_photo.jpg"), draw_truth(photo))


if __name__ == "__main__":
    main()
