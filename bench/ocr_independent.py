"""Exam pages for OCR that the pipeline was not written with: own text, fonts, layouts and camera.

Written for issue 16 without reading ``vision/synth`` or ``bench/_ocr_pages.py``'s
layouts, as ``bench/omr_independent.py`` was for OMR. What differs on purpose:

* **fonts**: NanumSquare, NanumSquareRound, NanumMyeongjo, NanumGothicCoding
  (Hangul) and DejaVu Sans/Serif for Latin headings, at 9-12 pt;
* **layouts**: one or two columns with a rule between them, a coloured band
  heading with white text, coloured question numbers, a bordered table with
  a header row, choice lines with ``①..⑤``, a boxed passage;
* **text**: its own Korean sentences, English sentences with capitals and
  acronyms (``OSS``, ``BSP``, ``SDK``, ``USB``), numbers and short formulas;
* **camera** (:func:`photograph`): the page on a desk, tilted and in
  perspective, uneven and low light, defocus blur, sensor grain of a chosen
  grey-level sigma on blank paper (0-20), JPEG;
* **contents pages** (:func:`render_contents`): entries with dot leaders
  (``.``, ``. .``, ``·``, ``…``) up to a right-aligned page number.

The truth is the text in reading order (heading, then the left column top to
bottom, then the right one; a table row by row), one line per printed line.

Usage::

    .venv/bin/python bench/ocr_independent.py --pages 3 --out /tmp/indep   # writes PNGs + truth
"""

from __future__ import annotations

import argparse
import random
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
from PIL import Image, ImageDraw, ImageFont

NANUM = Path("/usr/share/fonts/truetype/nanum")
DEJAVU = Path("/usr/share/fonts/truetype/dejavu")
HANGUL_FONTS = ("NanumSquareR.ttf", "NanumSquareRoundR.ttf", "NanumMyeongjo.ttf", "NanumGothicCoding.ttf")
HEAD_FONTS = ("NanumSquareB.ttf", "NanumSquareRoundB.ttf", "NanumMyeongjoBold.ttf", "NanumGothicCodingBold.ttf")
A4_MM = (210.0, 297.0)
MM_PER_INCH = 25.4
PT_PER_INCH = 72.0
CIRCLED = "①②③④⑤"
COLOURS = ((30, 70, 160), (160, 30, 40), (20, 110, 60), (120, 40, 140), (200, 90, 0))

SUBJECTS = ("국어", "사회", "과학", "정보", "영어", "수학")
KO = (
    "철수는 아침마다 공원을 한 바퀴 돌고 학교에 간다",
    "이 실험에서 온도를 높이면 반응 속도가 빨라진다",
    "옛 지도에는 강과 산의 이름이 자세히 적혀 있었다",
    "우리 반 학생들은 축제 준비로 바쁜 한 주를 보냈다",
    "밑줄 친 낱말과 뜻이 가장 비슷한 것을 고르면",
    "다음 자료를 보고 알 수 있는 사실로 옳은 것은",
    "전기 회로에서 저항이 커지면 전류는 줄어든다",
    "마을 사람들은 힘을 모아 무너진 다리를 다시 세웠다",
    "식물은 햇빛을 받아 양분을 만들고 산소를 내놓는다",
    "이 글의 글쓴이가 가장 강조하고 싶은 내용은",
    "두 사람은 서로의 의견을 존중하며 토론을 이어 갔다",
    "겨울 방학 동안 읽은 책의 줄거리를 간단히 정리하시오",
    "지역 축제는 주민과 관광객 모두에게 즐거움을 준다",
    "컴퓨터는 입력된 명령을 순서대로 처리한다",
    "바람이 세게 불어 배가 항구를 떠나지 못했다",
    "위 그래프에 대한 해석으로 적절하지 않은 것은",
)
EN = (
    "Choose the sentence that best fits the blank.",
    "The OSS licence lets anyone read the source code.",
    "Our team updated the BSP and the SDK last week.",
    "Plug the USB cable into the port on the left.",
    "Which of the following is NOT true about the story?",
    "She has lived in Seoul for more than ten years.",
    "The museum opens at 9 AM and closes at 6 PM.",
    "Read the notice and answer the question below.",
)
CHOICES = ("ㄱ, ㄴ", "ㄴ, ㄷ", "ㄱ, ㄷ", "ㄱ, ㄴ, ㄷ", "없음", "산소", "질소", "이산화 탄소", "수증기",
           "봄", "여름", "가을", "겨울", "OSS", "API", "3.5", "12", "x + 1", "2x - 3", "24 %")
TABLE_HEAD = ("구분", "2021년", "2022년", "2023년")
TABLE_ROWS = ("서울", "부산", "대구", "광주", "대전", "인천")


@dataclass(frozen=True)
class Page:
    """One rendered page: ``image`` BGR uint8, ``text`` the truth in reading order."""

    image: np.ndarray
    text: str
    seed: int


class _Writer:
    """Draws lines of text and records them as truth."""

    def __init__(self, draw: ImageDraw.ImageDraw, px_per_pt: float):
        self.draw = draw
        self.k = px_per_pt
        self.truth: list[str] = []

    def font(self, name: str, pt: float) -> ImageFont.FreeTypeFont:
        path = NANUM / name if (NANUM / name).exists() else DEJAVU / name
        return ImageFont.truetype(str(path), max(6, round(pt * self.k)))

    def text(self, xy: tuple[float, float], text: str, font: ImageFont.FreeTypeFont, fill: tuple[int, int, int] = (0, 0, 0),
             record: bool = True) -> float:
        self.draw.text(xy, text, font=font, fill=fill)
        if record:
            self.truth.append(text)
        box = self.draw.textbbox(xy, text, font=font)
        return float(box[2])


def _sheet(dpi: int) -> tuple[Image.Image, ImageDraw.ImageDraw, _Writer, float, float, tuple[int, int]]:
    """A blank white A4 page at ``dpi``: image, its drawer and writer, pixels per point and per mm, size."""
    k = dpi / PT_PER_INCH
    mm = dpi / MM_PER_INCH
    w, h = round(A4_MM[0] * mm), round(A4_MM[1] * mm)
    img = Image.new("RGB", (w, h), (255, 255, 255))
    draw = ImageDraw.Draw(img)
    return img, draw, _Writer(draw, k), k, mm, (w, h)


def _faces(out: _Writer, rng: random.Random, pt: float) -> tuple[int, ImageFont.FreeTypeFont, ImageFont.FreeTypeFont]:
    """A random font family: its index, body and bold faces at ``pt``."""
    face = rng.randrange(len(HANGUL_FONTS))
    return face, out.font(HANGUL_FONTS[face], pt), out.font(HEAD_FONTS[face], pt)


def render_page(seed: int, *, dpi: int = 200, columns: int = 2) -> Page:
    """A seeded exam page (A4) at ``dpi``, with its truth."""
    rng = random.Random(seed)
    img, draw, out, k, mm, (w, h) = _sheet(dpi)
    body_pt = rng.uniform(9.5, 12.0)
    face, body, bold = _faces(out, rng, body_pt)
    colour = COLOURS[rng.randrange(len(COLOURS))]
    margin = 16 * mm
    # white-on-colour band heading
    band_h = body_pt * k * 2.4
    draw.rectangle([margin, margin, w - margin, margin + band_h], fill=colour)
    title = f"{rng.choice(('2024', '2025', '2026'))}학년도 {rng.randint(1, 3)}학기 {rng.choice(SUBJECTS)} 평가"
    out.text((margin + 4 * mm, margin + band_h * 0.22), title, out.font(HEAD_FONTS[face], body_pt * 1.35), (255, 255, 255))
    y0 = margin + band_h + 6 * mm
    gutter = 8 * mm
    col_w = (w - 2 * margin - gutter * (columns - 1)) / columns
    if columns > 1:
        for c in range(1, columns):
            x = margin + c * col_w + (c - 0.5) * gutter
            draw.line([(x, y0), (x, h - margin)], fill=(90, 90, 90), width=max(1, round(0.3 * mm)))
    line_h = body_pt * k * 1.75
    q = rng.randint(1, 12)
    table_done = passage_done = False
    for c in range(columns):
        x0, y = margin + c * (col_w + gutter), y0
        while True:
            kind = rng.random()
            need = line_h * (9 if not table_done and kind < 0.25 else 6)
            if y + need > h - margin:
                break
            num = f"{q}."
            xe = out.text((x0, y), num, bold, colour, record=False)
            stem = _fit(rng.choice(KO) + "?", body, col_w - (xe - x0) - 2 * mm, draw)
            out.text((xe + 0.35 * body_pt * k, y), stem, body, record=False)
            out.truth.append(f"{num} {stem}")
            y += line_h
            q += 1
            if not table_done and kind < 0.25:
                y = _table(out, rng, body, bold, x0, y, col_w, line_h, mm)
                table_done = True
            elif not passage_done and kind < 0.5:
                y = _passage(out, rng, body, x0, y, col_w, line_h, mm)
                passage_done = True
            elif kind < 0.7:
                sentence = _fit(rng.choice(EN), out.font("DejaVuSans.ttf" if face % 2 else "DejaVuSerif.ttf", body_pt * 0.95),
                                col_w - 4 * mm, draw)
                out.text((x0 + 3 * mm, y), sentence, out.font("DejaVuSans.ttf" if face % 2 else "DejaVuSerif.ttf", body_pt * 0.95))
                y += line_h
            y = _choices(out, rng, body, x0, y, col_w, line_h, mm, draw)
            y += line_h * 0.6
    return Page(image=np.ascontiguousarray(np.asarray(img)[:, :, ::-1]), text="\n".join(out.truth), seed=seed)


#: chapter and section titles of a contents page (own wording).
CONTENTS_TITLES = ("총칙", "목적 및 범위", "용어의 정의", "시험 운영 계획", "평가 문항의 구성", "채점 기준과 절차", "결과 보고",
                   "부록 자료", "개인정보 보호", "System Overview", "Data Format", "참고 문헌", "학습 목표와 내용",
                   "실험 방법", "결과 및 고찰", "Appendix A", "연구의 필요성", "선행 연구 분석")
#: leader styles: the character drawn, and its pitch in point sizes of the text.
LEADER_STYLES = ((".", 0.45), (". ", 0.55), ("·", 0.5), ("…", 1.0), (".", 0.25))


def render_contents(seed: int, *, dpi: int = 200) -> Page:
    """A seeded contents page (A4): heading, then entries ``제1장 총칙 ........ 3`` with dot leaders.

    Leaders are ``.`` (at two pitches: dense ones run together on a photo), spaced ``. .``,
    middle dots ``·`` or ellipses ``…``,
    drawn one by one at an even pitch up to the page number at the right
    margin; sections are indented. The truth drops the leaders (as
    ``bench/_real_documents.drop_leaders`` does for real pages): an entry is
    ``제1장 총칙 3``.
    """
    rng = random.Random(seed)
    img, draw, out, k, mm, (w, h) = _sheet(dpi)
    body_pt = rng.uniform(10.0, 13.0)
    face, body, bold = _faces(out, rng, body_pt)
    margin = rng.uniform(18, 28) * mm
    out.text((margin, margin), rng.choice(("목 차", "차 례", "목차", "Contents")), out.font(HEAD_FONTS[face], body_pt * 1.6))
    y = margin + body_pt * k * 3.5
    line_h = body_pt * k * rng.uniform(1.7, 2.3)
    leader, pitch_em = LEADER_STYLES[rng.randrange(len(LEADER_STYLES))]
    pitch = pitch_em * body_pt * k
    right = w - margin
    page_no, chapter = rng.randint(1, 5), 0
    titles = list(CONTENTS_TITLES)
    rng.shuffle(titles)
    while y + line_h < h - margin and titles:
        section = chapter > 0 and rng.random() < 0.6
        if section:
            label = f"{chapter}.{rng.randint(1, 6)}"
            x0, font = margin + 8 * mm, body
        else:
            chapter += 1
            label = f"제{chapter}장" if rng.random() < 0.7 else f"{chapter}."
            x0, font = margin, bold
        entry = f"{label} {titles.pop()}"
        num = str(page_no)
        page_no += rng.randint(1, 9)
        xe = out.text((x0, y), entry, font, record=False)
        num_w = draw.textlength(num, font=font)
        out.text((right - num_w, y), num, font, record=False)
        x = xe + 0.6 * body_pt * k
        stop = right - num_w - 0.6 * body_pt * k
        while x + draw.textlength(leader.strip(), font=body) <= stop:
            draw.text((x, y), leader.strip(), font=body, fill=(0, 0, 0))
            x += pitch
        out.truth.append(f"{entry} {num}")
        y += line_h
    return Page(image=np.ascontiguousarray(np.asarray(img)[:, :, ::-1]), text="\n".join(out.truth), seed=seed)


def _fit(text: str, font: ImageFont.FreeTypeFont, width: float, draw: ImageDraw.ImageDraw) -> str:
    """``text`` cut at a word so that it fits ``width`` pixels."""
    words = text.split()
    while len(words) > 1 and draw.textlength(" ".join(words), font=font) > width:
        words.pop()
    return " ".join(words)


def _choices(out: _Writer, rng: random.Random, font: ImageFont.FreeTypeFont, x0: float, y: float, col_w: float,
             line_h: float, mm: float, draw: ImageDraw.ImageDraw) -> float:
    picks = rng.sample(CHOICES, 5)
    items = [f"{CIRCLED[i]} {p}" for i, p in enumerate(picks)]
    widest = max(draw.textlength(t, font=font) for t in items)
    per_line = next((n for n in (5, 3, 2) if widest + 3 * mm <= (col_w - 3 * mm) / n), 1)
    for start in range(0, 5, per_line):
        x = x0 + 3 * mm
        chunk = items[start : start + per_line]
        step = (col_w - 3 * mm) / per_line
        for j, item in enumerate(chunk):
            out.text((x + j * step, y), item, font, record=False)
        out.truth.append(" ".join(chunk))
        y += line_h
    return y


def _passage(out: _Writer, rng: random.Random, font: ImageFont.FreeTypeFont, x0: float, y: float, col_w: float,
             line_h: float, mm: float) -> float:
    lines = [_fit(s + ".", font, col_w - 10 * mm, out.draw) for s in rng.sample(KO, 3)]
    top = y
    y += line_h * 0.3
    for line in lines:
        out.text((x0 + 4 * mm, y), line, font)
        y += line_h
    out.draw.rectangle([x0 + 1 * mm, top, x0 + col_w - 1 * mm, y + line_h * 0.1], outline=(0, 0, 0), width=max(1, round(0.25 * mm)))
    return y + line_h * 0.4


def _table(out: _Writer, rng: random.Random, font: ImageFont.FreeTypeFont, bold: ImageFont.FreeTypeFont, x0: float,
           y: float, col_w: float, line_h: float, mm: float) -> float:
    rows = rng.sample(TABLE_ROWS, 3)
    cells = [list(TABLE_HEAD)] + [[r] + [f"{rng.randint(10, 990) / 10:.1f}" for _ in range(3)] for r in rows]
    width = min(col_w - 4 * mm, 90 * mm)
    cw = width / 4
    left = x0 + 2 * mm
    y += line_h * 0.2
    stroke = max(1, round(0.25 * mm))
    out.draw.rectangle([left, y, left + width, y + line_h * 1.2], fill=(225, 225, 225))
    for r, row in enumerate(cells):
        top = y + r * line_h * 1.2
        for c, cell in enumerate(row):
            out.draw.rectangle([left + c * cw, top, left + (c + 1) * cw, top + line_h * 1.2], outline=(0, 0, 0), width=stroke)
            out.text((left + c * cw + 2 * mm, top + line_h * 0.25), cell, bold if r == 0 else font, record=False)
        out.truth.append(" ".join(row))
    return y + len(cells) * line_h * 1.2 + line_h * 0.5


def photograph(page: np.ndarray, seed: int, *, grain: float | None = None) -> np.ndarray:
    """The page as a phone photo: desk, tilt and perspective, uneven and low light, blur, grain, JPEG.

    Args:
        page: ``(H, W, 3)`` BGR uint8.
        seed: the camera's dice.
        grain: grey-level sigma of the sensor noise on blank paper; random in 4-20 when ``None``.
    """
    return camera(page, seed, grain=grain)[0]


def camera(page: np.ndarray, seed: int, *, grain: float | None = None) -> tuple[np.ndarray, np.ndarray]:
    """:func:`photograph`, with the 3x3 homography from page to photo pixels (for box truth)."""
    rng = np.random.default_rng(seed)
    h, w = page.shape[:2]
    # the sheet fills 80-92 % of the frame, tilted up to 4 degrees, in mild perspective
    fill = rng.uniform(0.80, 0.92)
    out_w, out_h = round(w / fill), round(h / fill)
    cx, cy = out_w / 2, out_h / 2
    angle = np.deg2rad(rng.uniform(-4, 4))
    corners = np.array([[-w / 2, -h / 2], [w / 2, -h / 2], [w / 2, h / 2], [-w / 2, h / 2]])
    rot = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    dst = corners @ rot.T + [cx, cy]
    dst += rng.normal(0, 0.012 * w, dst.shape)  # perspective: each corner off by ~1 %
    matrix = cv2.getPerspectiveTransform(np.array([[0, 0], [w, 0], [w, h], [0, h]], np.float32), dst.astype(np.float32))
    desk = np.array([rng.uniform(40, 110)] * 3, np.float64) * rng.uniform(0.8, 1.2, 3)
    photo = cv2.warpPerspective(page, matrix, (out_w, out_h), flags=cv2.INTER_AREA, borderMode=cv2.BORDER_CONSTANT,
                                borderValue=tuple(float(v) for v in desk)).astype(np.float64)
    # light: low overall (0.6-0.95), a gradient across the page and a soft shadow blob, slightly warm
    yy, xx = np.mgrid[0:out_h, 0:out_w] / max(out_w, out_h)
    gx, gy = rng.uniform(-0.35, 0.35, 2)
    light = rng.uniform(0.6, 0.95) * (1 + gx * (xx - 0.5) + gy * (yy - 0.5))
    sx, sy = rng.uniform(0, 1, 2)
    light *= 1 - rng.uniform(0.0, 0.25) * np.exp(-((xx - sx) ** 2 + (yy - sy) ** 2) / 0.05)
    photo = photo * light[:, :, None] * rng.uniform(0.92, 1.0, 3)
    photo = cv2.GaussianBlur(photo, (0, 0), rng.uniform(0.4, 1.3))
    sigma = float(rng.uniform(4, 20)) if grain is None else float(grain)
    noise = rng.normal(0, sigma, photo.shape[:2])[:, :, None] + rng.normal(0, sigma * 0.35, photo.shape)
    photo = np.clip(photo + noise, 0, 255).astype(np.uint8)
    ok, jpeg = cv2.imencode(".jpg", photo, [cv2.IMWRITE_JPEG_QUALITY, int(rng.integers(55, 90))])
    return (np.asarray(cv2.imdecode(jpeg, cv2.IMREAD_COLOR), dtype=np.uint8) if ok else photo), matrix


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--pages", type=int, default=3)
    p.add_argument("--seed", type=int, default=9000)
    p.add_argument("--out", type=Path, required=True)
    p.add_argument("--grain", type=float, default=None)
    args = p.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    for i in range(args.pages):
        page = render_page(args.seed + i, columns=1 + i % 2)
        cv2.imwrite(str(args.out / f"{page.seed}_clean.png"), page.image)
        cv2.imwrite(str(args.out / f"{page.seed}_photo.jpg"), photograph(page.image, page.seed, grain=args.grain))
        (args.out / f"{page.seed}.txt").write_text(page.text + "\n", encoding="utf-8")
        contents = render_contents(args.seed + i)
        cv2.imwrite(str(args.out / f"{contents.seed}_contents.png"), contents.image)
        (args.out / f"{contents.seed}_contents.txt").write_text(contents.text + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
