"""Seeded Korean/English exam pages with per-line text truth, for ``bench/ocr.py``.

Used until (and beside) ``vision/synth/exam.py``: A4 pages in one or two
columns with numbered questions, Korean passages, English sentences, simple
equations and choices written ``①..⑤`` or ``(1)..(5)``, rendered with the
fonts Debian ships (``fonts-nanum``, ``fonts-noto-cjk``) clean at any dpi, or
as phone photos (perspective, uneven light, blur, noise, JPEG).
"""

from __future__ import annotations

import io
import random
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
from PIL import Image, ImageDraw, ImageFont

NANUM = Path("/usr/share/fonts/truetype/nanum")
NOTO_CJK = Path("/usr/share/fonts/opentype/noto")
FONTS = ("NanumGothic.ttf", "NanumMyeongjo.ttf", "NanumBarunGothic.ttf")
A4_IN = (8.27, 11.69)
CIRCLED = "①②③④⑤"

KO_SENTENCES = (
    "다음 글의 내용과 일치하지 않는 것은",
    "밑줄 친 부분이 가리키는 대상으로 가장 적절한 것은",
    "학생들은 수업 시간에 선생님의 설명을 주의 깊게 들었다",
    "우리 마을에는 오래된 느티나무 한 그루가 서 있다",
    "과학자들은 새로운 실험 결과를 발표하기 위해 모였다",
    "봄이 오면 들판에는 노란 꽃이 가득 피어난다",
    "도서관에서 빌린 책을 기한 안에 반납해야 한다",
    "지구의 평균 기온은 지난 백 년 동안 꾸준히 올랐다",
    "그는 어려운 문제를 끝까지 포기하지 않고 풀었다",
    "다음 중 옳은 것만을 있는 대로 고른 것은",
    "이 글에서 필자가 주장하는 바로 가장 적절한 것은",
    "빈칸에 들어갈 말로 가장 알맞은 것을 고르시오",
    "물은 섭씨 백 도에서 끓고 영 도에서 언다",
    "조선 시대의 선비들은 학문과 예절을 중요하게 여겼다",
    "시장에는 신선한 채소와 과일이 많이 나와 있었다",
    "친구와 함께 박물관에 가서 옛날 도자기를 보았다",
    "정부는 환경 보호를 위한 새로운 정책을 마련하였다",
    "아이들은 운동장에서 공을 차며 즐겁게 놀았다",
    "기차는 정해진 시각에 역을 출발하였다",
    "바다 위로 떠오르는 해가 무척 아름다웠다",
    "위 자료에 대한 설명으로 옳지 않은 것은",
    "다음 함수의 최댓값과 최솟값의 합을 구하시오",
    "세포는 생물을 이루는 가장 작은 단위이다",
    "빛은 공기 중에서 물속보다 더 빠르게 나아간다",
)
KO_CHOICES = (
    "사과는 빨갛다", "하늘은 파랗다", "바나나는 노랗다", "정답 없음", "모두 옳다",
    "ㄱ, ㄴ", "ㄴ, ㄷ", "ㄱ, ㄷ", "기온이 낮아진다", "물이 증발한다", "빛이 굴절한다",
    "경제 성장", "문화 교류", "환경 오염", "인구 감소", "세금 인상",
)
EN_SENTENCES = (
    "The quick brown fox jumps over the lazy dog.",
    "Read the passage and answer the questions below.",
    "Which of the following is NOT true about the story?",
    "She has lived in Seoul since 2015.",
    "Choose the word that best fits the blank.",
    "Scientists found water on the surface of Mars.",
    "He asked me where the library was.",
    "Most students walk to school every morning.",
    "What is the main idea of the passage?",
    "The museum opens at 9 a.m. on weekdays.",
)
EN_CHOICES = ("apple", "however", "therefore", "because", "although", "in fact", "for example", "at last")
EQUATIONS = (
    "f(x) = 3x + 2 일 때, f(5)의 값은?",
    "x + y = 10, x - y = 4 일 때 xy의 값은?",
    "2x - 7 = 11 을 만족하는 x의 값은?",
    "넓이가 36 cm 인 정사각형의 한 변의 길이는?",
    "a = 4, b = 3 일 때 a + 2b 의 값은?",
)


@dataclass(frozen=True)
class TruthLine:
    text: str
    box_xywh: tuple[int, int, int, int]


@dataclass(frozen=True)
class SynthPage:
    image: np.ndarray  # (H, W) gray or (H, W, 3) BGR photo
    lines: tuple[TruthLine, ...]
    dpi: int
    columns: int
    font: str
    kind: str  # "clean" | "photo"

    @property
    def text(self) -> str:
        return "\n".join(line.text for line in self.lines)


def _font_path(name: str) -> str:
    path = NANUM / name
    if path.exists():
        return str(path)
    return str(next(NOTO_CJK.glob(name)))


def _question_lines(rnd: random.Random, number: int) -> list[str]:
    lines: list[str] = []
    if rnd.random() < 0.25:
        lines.append(f"{number}. {rnd.choice(EQUATIONS)}")
    else:
        lines.append(f"{number}. {rnd.choice(KO_SENTENCES)}?")
    if rnd.random() < 0.5:  # a passage
        for _ in range(rnd.randint(1, 3)):
            lines.append(rnd.choice(KO_SENTENCES) + ".")
        if rnd.random() < 0.6:
            lines.append(rnd.choice(EN_SENTENCES))
    style = rnd.choice(("circled", "circled", "paren"))
    marks = list(CIRCLED) if style == "circled" else [f"({i})" for i in range(1, 6)]
    pool = KO_CHOICES + EN_CHOICES if rnd.random() < 0.7 else EN_CHOICES
    if rnd.random() < 0.5:  # one choice per line
        lines += [f"{m} {rnd.choice(pool)}" for m in marks]
    else:  # several per line, as short choices are printed
        options = [f"{m} {rnd.choice(pool)}" for m in marks]
        lines += ["   ".join(options[:3]), "   ".join(options[3:])]
    return lines


def render_page(seed: int, *, dpi: int = 200, columns: int = 1, font: str | None = None,
                size_pt: float = 10.5) -> SynthPage:
    """A clean exam page rendered at ``dpi`` with its truth lines (reading order)."""
    rnd = random.Random(seed)
    font = font or rnd.choice(FONTS)
    width, height = int(A4_IN[0] * dpi), int(A4_IN[1] * dpi)
    img = Image.new("L", (width, height), 255)
    draw = ImageDraw.Draw(img)
    px = round(size_pt * dpi / 72)
    face = ImageFont.truetype(_font_path(font), px)
    margin = int(0.7 * dpi)
    gutter = int(0.4 * dpi)
    col_w = (width - 2 * margin - (columns - 1) * gutter) // columns
    step = int(px * 1.75)
    truth: list[TruthLine] = []
    # a full-width title
    title = f"{rnd.randint(1, 3)}학년 {rnd.choice(('국어', '영어', '수학', '과학'))} 단원 평가"
    y = margin
    draw.text((margin, y), title, font=face, fill=0)
    truth.append(TruthLine(title, _bbox(draw, (margin, y), title, face)))
    y += 2 * step
    top = y
    number = 1
    for col in range(columns):
        x0 = margin + col * (col_w + gutter)
        y = top
        while True:
            block = _question_lines(rnd, number)
            fitted = [part for ln in block for part in _wrap(draw, ln, face, col_w - int(0.15 * dpi))]
            if y + (len(fitted) + 1) * step > height - margin:
                break
            for ln in fitted:
                indent = 0 if ln.startswith(f"{number}.") else int(0.15 * dpi)
                draw.text((x0 + indent, y), ln, font=face, fill=0)
                truth.append(TruthLine(ln, _bbox(draw, (x0 + indent, y), ln, face)))
                y += step
            y += step
            number += 1
        if columns > 1 and col == 0:
            gx = margin + col_w + gutter // 2
            draw.line([(gx, top), (gx, height - margin)], fill=120, width=max(1, dpi // 150))
    return SynthPage(np.asarray(img, dtype=np.uint8), tuple(truth), dpi, columns, font, "clean")


def _wrap(draw: ImageDraw.ImageDraw, line: str, face: ImageFont.FreeTypeFont, width: int) -> list[str]:
    """Break ``line`` at spaces into pieces no wider than ``width`` (choice groups stay whole)."""
    if draw.textlength(line, font=face) <= width:
        return [line]
    if "   " in line:
        return [p for piece in line.split("   ") for p in _wrap(draw, piece, face, width)]
    out, current = [], ""
    for word in line.split(" "):
        trial = f"{current} {word}".strip()
        if current and draw.textlength(trial, font=face) > width:
            out.append(current)
            current = word
        else:
            current = trial
    return out + [current] if current else out


def _bbox(draw: ImageDraw.ImageDraw, xy: tuple[int, int], text: str, face: ImageFont.FreeTypeFont) -> tuple[int, int, int, int]:
    x0, y0, x1, y1 = draw.textbbox(xy, text, font=face)
    return (int(x0), int(y0), int(x1 - x0), int(y1 - y0))


def photograph(page: SynthPage, seed: int) -> SynthPage:
    """The page as a phone photo: on a desk, in perspective, uneven light, blur, noise, JPEG."""
    rnd = np.random.default_rng(seed)
    src = page.image
    h, w = src.shape[:2]
    out_w, out_h = int(w * 1.08), int(h * 1.08)
    pad_x, pad_y = (out_w - w) / 2, (out_h - h) / 2
    jitter = 0.025 * min(w, h)
    corners = np.float32([[0, 0], [w, 0], [w, h], [0, h]])
    target = corners + np.float32([[pad_x, pad_y]]) + rnd.uniform(-jitter, jitter, (4, 2)).astype(np.float32)
    matrix = cv2.getPerspectiveTransform(corners, target)
    desk = int(rnd.integers(60, 140))
    warped = cv2.warpPerspective(src, matrix, (out_w, out_h), flags=cv2.INTER_LINEAR, borderValue=desk)
    yy, xx = np.mgrid[0:out_h, 0:out_w].astype(np.float32)
    gx, gy = rnd.uniform(-1, 1, 2)
    light = 1.0 - 0.35 * (0.5 + 0.5 * (gx * (xx / out_w - 0.5) + gy * (yy / out_h - 0.5)) * 2) / 1.5
    cx, cy = rnd.uniform(0.2, 0.8) * out_w, rnd.uniform(0.2, 0.8) * out_h
    shadow = 1.0 - 0.25 * np.exp(-(((xx - cx) / (0.3 * out_w)) ** 2 + ((yy - cy) / (0.3 * out_h)) ** 2))
    img = warped.astype(np.float32) * light * shadow
    img = cv2.GaussianBlur(img, (0, 0), float(rnd.uniform(0.6, 1.2)))
    img += rnd.normal(0, 5.0, img.shape).astype(np.float32)
    tint = np.array([rnd.uniform(0.85, 1.0), rnd.uniform(0.92, 1.0), 1.0], np.float32)  # warm light, BGR
    bgr = np.clip(img[:, :, None] * tint[None, None, :], 0, 255).astype(np.uint8)
    ok, jpeg = cv2.imencode(".jpg", bgr, [cv2.IMWRITE_JPEG_QUALITY, int(rnd.integers(60, 85))])
    assert ok
    photo = cv2.imdecode(np.frombuffer(jpeg.tobytes(), np.uint8), cv2.IMREAD_COLOR)
    return SynthPage(photo, page.lines, page.dpi, page.columns, page.font, "photo")


def encode_png(image: np.ndarray) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(image if image.ndim == 2 else image[:, :, ::-1]).save(buf, format="PNG")
    return buf.getvalue()
