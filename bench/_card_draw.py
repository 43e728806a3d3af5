"""An independent drawing of Korean 컴퓨터용 OMR cards, filled and captured (used by ``bench/omr_cards.py``).

Written from issue 17's description only, without reading ``omr/synth`` or
``omr/template``: a second, unrelated idea of what a card looks like.

* **Card** (:func:`layout`): a 수험번호 grid (6 digit columns x 0..9, write-in
  boxes above), 20 or 45 questions in blocks of 10 or 15 rows, each row a
  printed question number and five vertical ovals 2.5 x 5 mm with the digit
  printed inside in the same ink; header boxes (과목, 성명, 감독확인), a 결시자
  확인 oval that is not a question, 서답형 write-in boxes, and black timing
  marks along the left edge, one per bubble row.
* **Print** (:func:`print_card`): a drop-out ink (pink or red, or black for the
  control set) on warm white stock, RGB at ``PX_PER_MM``.
* **Fill** (:func:`fill_card`): a black felt-tip 사인펜: full, overflowing or
  60-80 % fills, correction tape over old marks (the new mark elsewhere; in
  one correction of eight the tape slipped and 25-60 % of the old mark still
  shows: the question is ``flag_ok``, a flag or the new mark alone is right),
  stray ticks beside the ovals, a handwritten ID and name.
* **Capture** (:func:`photograph`, :func:`scan`): a phone photo (perspective,
  light gradient, colour cast, blur, grain, JPEG) or a flatbed scan with white
  all round the card.

:func:`card_meta` describes a card the way ``objective_v1`` allows (a circle of
r = 1.25 mm inside each oval, no markers) and, with ``extended=True``, adds the
optional fields of ``docs/omr-meta.md`` (oval shape, labels, print colour,
timing track, extra ovals, write-in boxes).

Frames: card millimetres, origin top-left, x right, y down; raster pixels
``PX_PER_MM`` per mm.
"""

from __future__ import annotations

import io
import math
from dataclasses import dataclass, field
from typing import Any

import cv2
import numpy as np
from PIL import Image, ImageDraw, ImageFont

PX_PER_MM = 12.0
"""Print raster resolution (~305 dpi)."""
FONT = "/usr/share/fonts/truetype/nanum/NanumGothicBold.ttf"
INKS = {"pink": (236, 112, 150), "red": (222, 62, 66), "black": (40, 40, 40)}
"""Print colours, RGB 0..255."""
PAPER = (248, 243, 230)
OVAL_W, OVAL_H = 2.5, 5.0
CHOICE_PITCH, ROW_PITCH = 4.2, 6.6
ID_DIGITS = 6


@dataclass
class Card:
    """A card's geometry in mm: every oval centre, what it is, and the printed furniture."""

    w_mm: float
    h_mm: float
    questions: dict[int, list[tuple[str, float, float]]]
    id_ovals: list[tuple[int, int, float, float]]
    extra_ovals: list[tuple[str, float, float]]
    timing: list[tuple[float, float, float, float]]
    boxes: list[tuple[str, float, float, float, float]]
    numbers: list[tuple[str, float, float]]
    writein: list[tuple[float, float, float, float]] = field(default_factory=list)


def layout(n_questions: int) -> Card:
    """The card for 20 or 45 questions (blocks of 10 or 15 rows)."""
    rows = 10 if n_questions <= 20 else 15
    blocks = math.ceil(n_questions / rows)
    y0 = 46.0
    x_id = 16.0
    qs: dict[int, list[tuple[str, float, float]]] = {}
    numbers = []
    x_block = x_id + ID_DIGITS * CHOICE_PITCH + 9.0
    block_w = 7.5 + 5 * CHOICE_PITCH + 3.5
    for b in range(blocks):
        for r in range(rows):
            q = b * rows + r + 1
            if q > n_questions:
                break
            y = y0 + r * ROW_PITCH
            xn = x_block + b * block_w
            numbers.append((str(q), xn + 2.5, y))
            qs[q] = [(str(c + 1), xn + 7.5 + c * CHOICE_PITCH, y) for c in range(5)]
    id_ovals = [(d + 1, n, x_id + d * CHOICE_PITCH, y0 + n * ROW_PITCH) for d in range(ID_DIGITS) for n in range(10)]
    n_rows = max(rows, 10)
    w = x_block + blocks * block_w + 6.0
    h = y0 + (n_rows - 1) * ROW_PITCH + 14.0
    timing = [(3.0, y0 + r * ROW_PITCH - 0.9, 5.0, 1.8) for r in range(n_rows)]
    boxes = [("과목", 12.0, 8.0, 26.0, 12.0), ("성명", 40.0, 8.0, 30.0, 12.0),
             ("감독확인", w - 31.0, 8.0, 17.0, 12.0), ("수험번호", x_id - 2.0, 24.0, ID_DIGITS * CHOICE_PITCH, 6.0)]
    writein = [(x_id - 2.0 + d * CHOICE_PITCH, 30.5, CHOICE_PITCH, 8.0) for d in range(ID_DIGITS)]
    writein.append((72.0, 8.0, w - 105.0, 12.0))  # 서답형
    extra = [("결시", w - 6.5, 14.0)]
    return Card(w, h, qs, id_ovals, extra, timing, boxes, numbers, writein)


def _mm(v: float) -> int:
    return int(round(v * PX_PER_MM))


def _font(size_mm: float) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(FONT, max(6, int(round(size_mm * PX_PER_MM))))


def print_mask(card: Card, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Coverage ``(H, W)`` float32 0..1 of the drop-out ink, and of the black ink (timing marks)."""
    wpx, hpx = _mm(card.w_mm), _mm(card.h_mm)
    img = Image.new("L", (wpx, hpx), 0)
    d = ImageDraw.Draw(img)
    lw = max(1, _mm(0.22))
    digit = _font(2.5)
    small = _font(2.6)

    def oval(x: float, y: float, label: str) -> None:
        d.ellipse([_mm(x - OVAL_W / 2), _mm(y - OVAL_H / 2), _mm(x + OVAL_W / 2), _mm(y + OVAL_H / 2)],
                  outline=255, width=lw)
        d.text((_mm(x), _mm(y)), label, fill=255, font=digit, anchor="mm")

    for q in card.questions.values():
        for label, x, y in q:
            oval(x, y, label)
    for _d, n, x, y in card.id_ovals:
        oval(x, y, str(n))
    for label, x, y in card.extra_ovals:
        oval(x, y, "")
        d.text((_mm(x - 3.0), _mm(y)), label, fill=255, font=small, anchor="rm")
    for text, x, y in card.numbers:
        d.text((_mm(x), _mm(y)), text, fill=255, font=small, anchor="mm")
    for title, x, y, w, h in card.boxes:
        d.rectangle([_mm(x), _mm(y), _mm(x + w), _mm(y + h)], outline=255, width=lw)
        d.text((_mm(x + 1.0), _mm(y + 1.0)), title, fill=255, font=small, anchor="lt")
    for x, y, w, h in card.writein:
        d.rectangle([_mm(x), _mm(y), _mm(x + w), _mm(y + h)], outline=255, width=lw)
    # block frames and the title
    xs = [x for q in card.questions.values() for _l, x, _y in q]
    ys = [y for q in card.questions.values() for _l, _x, y in q]
    d.rectangle([_mm(min(xs) - 10.5), _mm(min(ys) - 6.0), _mm(max(xs) + 3.5), _mm(max(ys) + 4.0)], outline=255,
                width=lw)
    d.text((_mm(card.w_mm / 2), _mm(3.5)), "컴퓨터용 답안지", fill=255, font=_font(3.2), anchor="mm")
    d.text((_mm(min(xs) - 4.0), _mm(min(ys) - 4.5)), "문번      답      란", fill=255, font=small, anchor="lm")
    ink = np.asarray(img, np.float32) / 255.0
    black = Image.new("L", (wpx, hpx), 0)
    db = ImageDraw.Draw(black)
    for x, y, w, h in card.timing:
        db.rectangle([_mm(x), _mm(y), _mm(x + w), _mm(y + h)], fill=255)
    return ink, np.asarray(black, np.float32) / 255.0


def print_card(card: Card, ink: str, rng: np.random.Generator) -> np.ndarray:
    """The printed blank card, ``(H, W, 3)`` float32 RGB 0..1 (reflectance)."""
    drop, black = print_mask(card, rng)
    paper = np.array(PAPER, np.float32) / 255.0 * rng.uniform(0.97, 1.0)
    grain = rng.normal(0.0, 0.008, drop.shape).astype(np.float32)
    out = np.empty((*drop.shape, 3), np.float32)
    colour = np.array(INKS[ink], np.float32) / 255.0 * rng.uniform(0.95, 1.03)
    strength = rng.uniform(0.8, 1.0)  # toner density
    for c in range(3):
        out[..., c] = (paper[c] + grain) * (1.0 - strength * drop * (1.0 - colour[c]))
        out[..., c] *= 1.0 - 0.92 * black
    return np.clip(out, 0.0, 1.0)


@dataclass
class Truth:
    """What a student did to one card: labels per question, the ID, how each was filled."""

    answers: dict[str, list[str]]
    identifier: str
    fills: dict[str, str]
    flag_ok: list[str]

    def to_dict(self) -> dict[str, Any]:
        return {"answers": self.answers, "identifier": self.identifier, "fills": self.fills,
                "flag_ok": self.flag_ok}


def _blob(shape: tuple[int, int], x: float, y: float, sx: float, sy: float, rng: np.random.Generator) -> np.ndarray:
    """A felt-tip fill: a wobbly ellipse of half-axes ``sx, sy`` mm at ``(x, y)`` mm, coverage 0..1."""
    n = 24
    t = np.linspace(0, 2 * np.pi, n, endpoint=False)
    wob = 1.0 + rng.normal(0, 0.06, n)
    pts = np.stack([x + sx * wob * np.cos(t), y + sy * wob * np.sin(t)], 1) * PX_PER_MM
    m = np.zeros(shape, np.uint8)
    cv2.fillPoly(m, [np.round(pts).astype(np.int32)], 255, cv2.LINE_AA)
    return m.astype(np.float32) / 255.0


def _mark(shape: tuple[int, int], x: float, y: float, style: str, rng: np.random.Generator) -> np.ndarray:
    if style == "full":
        return _blob(shape, x + rng.normal(0, 0.1), y + rng.normal(0, 0.15), 1.3, 2.55, rng)
    if style == "overflow":
        return _blob(shape, x + rng.normal(0, 0.35), y + rng.normal(0, 0.5), rng.uniform(1.5, 1.9),
                     rng.uniform(2.8, 3.3), rng)
    # partial: 60-80 % of the oval's area, off centre
    k = math.sqrt(rng.uniform(0.6, 0.8))
    return _blob(shape, x + rng.normal(0, 0.15), y + rng.normal(0, 0.3), 1.25 * k, 2.5 * k, rng)


def _stroke(shape: tuple[int, int], pts_mm: list[tuple[float, float]], width_mm: float) -> np.ndarray:
    m = np.zeros(shape, np.uint8)
    pts = np.round(np.array(pts_mm) * PX_PER_MM).astype(np.int32)
    cv2.polylines(m, [pts], False, 255, max(1, _mm(width_mm)), cv2.LINE_AA)
    return m.astype(np.float32) / 255.0


def fill_card(card: Card, blank: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, Truth]:
    """Fill a printed card the way students do; returns the filled RGB card and its truth."""
    shape = blank.shape[:2]
    felt = np.zeros(shape, np.float32)
    tape: list[tuple[float, float, float, float]] = []
    flag_ok: list[str] = []  # the decision is open: a flag is right, so is the new mark alone
    answers: dict[str, list[str]] = {}
    fills: dict[str, str] = {}
    for q, ovals in card.questions.items():
        r = rng.random()
        if r < 0.06:
            answers[str(q)], fills[str(q)] = [], "blank/blank"
            continue
        pick = int(rng.integers(0, len(ovals)))
        style = str(rng.choice(["full", "overflow", "partial"], p=[0.5, 0.25, 0.25]))
        label, x, y = ovals[pick]
        if r < 0.12:  # corrected: an old mark under tape, the new one elsewhere
            old = (pick + int(rng.integers(1, len(ovals)))) % len(ovals)
            _l, xo, yo = ovals[old]
            felt = np.maximum(felt, _mark(shape, xo, yo, "full", rng))
            if r < 0.095:
                tape.append((xo - 2.4 + rng.normal(0, 0.2), yo - 3.4, 4.8, 6.8))
                style = "tape/" + style
            else:  # the tape slipped: its top edge across the old mark, 25-60 % of it still showing
                top = yo - 2.5 + OVAL_H * rng.uniform(0.25, 0.6)
                tape.append((xo - 2.4 + rng.normal(0, 0.2), top, 4.8, yo + 3.4 - top))
                style = "tapepart/" + style
                flag_ok.append(str(q))
        felt = np.maximum(felt, _mark(shape, x, y, style.split("/")[-1], rng))
        answers[str(q)], fills[str(q)] = [label], f"single/{style.replace('/', '_')}"
        if rng.random() < 0.05:  # a stray tick beside the row
            xs = ovals[-1][1] + 2.5
            felt = np.maximum(felt, _stroke(shape, [(xs, y), (xs + 0.8, y + 1.0), (xs + 2.0, y - 1.2)], 0.4))
    ident = "".join(str(int(d)) for d in rng.integers(0, 10, ID_DIGITS))
    for _d, n, x, y in card.id_ovals:
        if str(n) == ident[_d - 1]:
            style = str(rng.choice(["full", "overflow", "partial"], p=[0.6, 0.2, 0.2]))
            felt = np.maximum(felt, _mark(shape, x, y, style, rng))
    # handwriting: the ID in its boxes, a name, and no mark in the 결시 oval
    for i, (x, y, w, h) in enumerate(card.writein[:ID_DIGITS]):
        felt = np.maximum(felt, _digit(shape, ident[i], x + w / 2, y + h / 2, rng))
    nx, ny = card.boxes[1][1] + 12.0, card.boxes[1][2] + 7.0
    pts = [(nx + i * 1.5, ny + rng.normal(0, 1.0)) for i in range(14)]
    felt = np.maximum(felt, _stroke(shape, pts, 0.45))
    out = blank.copy()
    pen = np.array([0.09, 0.09, 0.11], np.float32)
    a = np.clip(felt * rng.uniform(0.9, 0.97), 0, 1)[..., None]
    out = out * (1 - a) + out * pen * a
    for x, y, w, h in tape:
        x0, y0, x1, y1 = _mm(x), _mm(y), _mm(x + w), _mm(y + h)
        out[y0:y1, x0:x1] = np.array([0.975, 0.975, 0.965], np.float32) * rng.uniform(0.97, 1.0)
        out[y0:y1, x0:x0 + 2] *= 0.85  # the tape's edge
        out[y0:y1, x1 - 2:x1] *= 0.85
    return out, Truth(answers, ident, fills, flag_ok)


def _digit(shape: tuple[int, int], ch: str, x: float, y: float, rng: np.random.Generator) -> np.ndarray:
    m = np.zeros(shape, np.uint8)
    scale = 4.0 * PX_PER_MM / 22.0
    org = (_mm(x - 1.4 + rng.normal(0, 0.3)), _mm(y + 2.0 + rng.normal(0, 0.3)))
    cv2.putText(m, ch, org, cv2.FONT_HERSHEY_SCRIPT_SIMPLEX, scale / 1.6, 255, max(1, _mm(0.35)), cv2.LINE_AA)
    return m.astype(np.float32) / 255.0


def _encode(rgb: np.ndarray, quality: int) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(np.clip(rgb * 255.0 + 0.5, 0, 255).astype(np.uint8)).save(buf, "JPEG", quality=quality)
    return buf.getvalue()


def photograph(card_rgb: np.ndarray, rng: np.random.Generator) -> bytes:
    """A phone photo of the card on a table: perspective, light, colour cast, blur, grain, JPEG."""
    h, w = card_rgb.shape[:2]
    target = rng.uniform(1700, 2600)  # px across the card's long side
    s = target / max(w, h)
    out_w, out_h = int(max(w, h) * s * 1.35), int(max(w, h) * s * 1.35 * 0.75)
    if h > w:
        out_w, out_h = out_h, out_w
    cx, cy = out_w / 2 + rng.normal(0, 0.03 * out_w), out_h / 2 + rng.normal(0, 0.03 * out_h)
    ang = math.radians(rng.uniform(-12, 12)) + (math.pi if rng.random() < 0.15 else 0.0)
    corners = np.array([(-w / 2, -h / 2), (w / 2, -h / 2), (w / 2, h / 2), (-w / 2, h / 2)]) * s
    rot = np.array([[math.cos(ang), -math.sin(ang)], [math.sin(ang), math.cos(ang)]])
    dst = corners @ rot.T + (cx, cy)
    tilt = rng.uniform(0.0, 0.07) * max(w, h) * s
    dst += rng.normal(0, 1, (4, 2)) * tilt / 2
    src = np.array([(0, 0), (w, 0), (w, h), (0, h)], np.float32)
    hm = cv2.getPerspectiveTransform(src, dst.astype(np.float32))
    table = np.array(rng.choice([(0.55, 0.42, 0.3), (0.35, 0.36, 0.38), (0.75, 0.72, 0.66), (0.2, 0.2, 0.22)]),
                     np.float32)
    bg = np.empty((out_h, out_w, 3), np.float32)
    bg[:] = table
    bg += rng.normal(0, 0.02, bg.shape).astype(np.float32)
    warped = cv2.warpPerspective(card_rgb, hm, (out_w, out_h), flags=cv2.INTER_AREA, borderValue=(0, 0, 0))
    mask = cv2.warpPerspective(np.ones((h, w), np.float32), hm, (out_w, out_h), flags=cv2.INTER_LINEAR)[..., None]
    img = warped * mask + bg * (1 - mask)
    yy, xx = np.mgrid[0:out_h, 0:out_w].astype(np.float32)
    g = rng.normal(0, 1, 3)
    light = 1.0 + 0.18 * (g[0] * (xx / out_w - 0.5) + g[1] * (yy / out_h - 0.5))
    light *= rng.uniform(0.75, 1.0)
    cast = np.array([1.0, rng.uniform(0.95, 1.02), rng.uniform(0.85, 1.02)], np.float32)
    img = img * light[..., None] * cast
    sigma = rng.uniform(0.4, 1.3)
    img = cv2.GaussianBlur(img, (0, 0), sigma)
    img = img + rng.normal(0, rng.uniform(0.008, 0.025), img.shape).astype(np.float32)
    return _encode(np.clip(img, 0, 1), int(rng.integers(70, 92)))


def scan(card_rgb: np.ndarray, rng: np.random.Generator, *, dpi: float | None = None) -> bytes:
    """A flatbed scan: the card placed anywhere on an A4 glass, white all round, small skew, JPEG."""
    dpi = dpi or float(rng.choice([200.0, 300.0]))
    s = dpi / 25.4 / PX_PER_MM
    h, w = card_rgb.shape[:2]
    out_w, out_h = int(210 * dpi / 25.4), int(297 * dpi / 25.4)
    if w > h:
        out_w, out_h = out_h, out_w
    cw, ch = w * s, h * s
    ox = rng.uniform(0.02, 1.0) * max(1.0, out_w - cw * 1.05)
    oy = rng.uniform(0.02, 1.0) * max(1.0, out_h - ch * 1.05)
    ang = math.radians(rng.uniform(-2.0, 2.0))
    a = np.array([[s * math.cos(ang), -s * math.sin(ang), ox], [s * math.sin(ang), s * math.cos(ang), oy]])
    lid = rng.uniform(0.94, 0.99)
    img = cv2.warpAffine(card_rgb, a, (out_w, out_h), flags=cv2.INTER_AREA, borderValue=(lid, lid, lid))
    img = cv2.GaussianBlur(img, (0, 0), rng.uniform(0.3, 0.7))
    img = img + rng.normal(0, 0.006, img.shape).astype(np.float32)
    return _encode(np.clip(img, 0, 1), int(rng.integers(85, 96)))


def card_meta(card: Card, *, ink: str = "pink", extended: bool = False) -> dict[str, Any]:
    """The card described in ``objective_v1``: circles of r = 1.25 mm inside the ovals, no markers.

    ``extended`` adds the optional fields of ``docs/omr-meta.md`` (bubble shape, labels inside,
    print colour, timing track, extra ovals, write-in boxes).
    """
    r = OVAL_W / 2
    meta: dict[str, Any] = {
        "version": "objective_v1", "units": "mm", "title": "컴퓨터용 답안지",
        "page": {"size": {"width": round(card.w_mm, 2), "height": round(card.h_mm, 2)}},
        "markers": [],
        "identifier": {"digits": ID_DIGITS, "bubbles": [
            {"digit_index": d, "number": n, "center": {"x": round(x, 3), "y": round(y, 3)}, "r": r}
            for d, n, x, y in card.id_ovals]},
        "questions": [{"question_number": q, "choices": [
            {"label": label, "center": {"x": round(x, 3), "y": round(y, 3)}, "r": r} for label, x, y in ovals]}
            for q, ovals in sorted(card.questions.items())],
    }
    if extended:
        meta["bubble"] = {"shape": "oval", "width": OVAL_W, "height": OVAL_H, "label_inside": True}
        meta["print"] = {"colour": "#{:02x}{:02x}{:02x}".format(*INKS[ink]), "mark_colour": "#000000"}
        meta["timing"] = {"side": "left", "bars": [
            {"center": {"x": round(x + w / 2, 3), "y": round(y + h / 2, 3)}, "width": w, "height": h}
            for x, y, w, h in card.timing]}
        meta["extra_ovals"] = [{"id": name, "center": {"x": x, "y": y}, "use": "ignore"}
                               for name, x, y in card.extra_ovals]
        meta["write_in"] = [{"x": x, "y": y, "width": w, "height": h} for x, y, w, h in card.writein]
    return meta
