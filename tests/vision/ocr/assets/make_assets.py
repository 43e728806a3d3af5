"""Writes the small committed OCR samples of this folder (run once; the files are committed).

* ``text_layer.pdf``: born-digital, a Korean/English text layer (NanumGothic embedded);
* ``scan.pdf``: the same page as an image only (no text layer);
* ``hidden_garbage.pdf``: that image with an invisible text layer of garbage,
  as a poor scanner OCR leaves it;
* ``grainy.jpg`` / ``grainy.txt``: a phone-photo-like crop, grain sigma 14 on the paper, and its text;
* ``jamo_choices.png`` / ``jamo_choices.txt``: choice lines of jamo lists (``① ㄱ, ㄴ``) and one of
  real letters and digits (``① 7 ② L ③ c``), NanumSquareRound (not a template font of
  :mod:`vision.ocr.jamo`), 11 pt at 200 dpi, and their text;
* ``gray_columns.jpg`` / ``gray_columns.txt``: rows 1040-1500 of synth photo seed 7103
  (``vision.synth``, two columns, English) as :func:`vision.ocr.preprocess.prepare_page`
  leaves it: flattened, gray (not thresholded), paper ~200, ink ~105; and the lines in it.

Usage: ``python tests/vision/ocr/assets/make_assets.py``
"""

from __future__ import annotations

import io
import re
from pathlib import Path

import cv2
import numpy as np
from PIL import Image, ImageDraw, ImageFont
from reportlab.lib.utils import ImageReader
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen import canvas

HERE = Path(__file__).resolve().parent
FONT = "/usr/share/fonts/truetype/nanum/NanumGothic.ttf"
LINES = (
    "1. 다음 글의 내용과 일치하지 않는 것은?",
    "The OSS licence and the BSP are updated.",
    "① 사과는 빨갛다 ② 하늘은 파랗다 ③ 정답 없음",
    "2. 물은 섭씨 100도에서 끓는다. SDK 3.5",
)
SIZE_PT = (420.0, 200.0)


def text_layer_pdf() -> bytes:
    pdfmetrics.registerFont(TTFont("NanumGothic", FONT))
    buf = io.BytesIO()
    c = canvas.Canvas(buf, pagesize=SIZE_PT)
    c.setFont("NanumGothic", 14)
    for i, line in enumerate(LINES):
        c.drawString(20, SIZE_PT[1] - 40 - i * 36, line)
    c.showPage()
    c.save()
    return buf.getvalue()


def page_image(scale: float = 200 / 72) -> Image.Image:
    img = Image.new("L", (round(SIZE_PT[0] * scale), round(SIZE_PT[1] * scale)), 255)
    draw = ImageDraw.Draw(img)
    face = ImageFont.truetype(FONT, round(14 * scale))
    for i, line in enumerate(LINES):
        draw.text((20 * scale, (40 + i * 36 - 12) * scale), line, font=face, fill=0)
    return img


def image_pdf(hidden: str | None) -> bytes:
    buf = io.BytesIO()
    c = canvas.Canvas(buf, pagesize=SIZE_PT)
    png = io.BytesIO()
    page_image().save(png, format="PNG", optimize=True)
    c.drawImage(ImageReader(io.BytesIO(png.getvalue())), 0, 0, width=SIZE_PT[0], height=SIZE_PT[1])
    if hidden:
        pdfmetrics.registerFont(TTFont("NanumGothic", FONT))
        text = c.beginText(20, SIZE_PT[1] - 40)
        text.setFont("NanumGothic", 14)
        text.setTextRenderMode(3)
        for line in hidden.splitlines():
            text.textLine(line)
        c.drawText(text)
    c.showPage()
    c.save()
    return buf.getvalue()


def grainy() -> np.ndarray:
    rng = np.random.default_rng(14)
    page = np.asarray(page_image(), dtype=np.float64)
    h, w = page.shape
    light = 0.75 * (1 + 0.2 * (np.arange(w)[None, :] / w - 0.5))
    photo = cv2.GaussianBlur(page * light, (0, 0), 0.9) + rng.normal(0, 14, (h, w))
    photo = np.clip(photo, 0, 255).astype(np.uint8)
    ok, jpeg = cv2.imencode(".jpg", photo, [cv2.IMWRITE_JPEG_QUALITY, 75])
    assert ok
    return np.asarray(jpeg)


JAMO_LINES = (
    "① ㄱ ② ㄴ ③ ㄱ, ㄴ ④ ㄴ, ㄷ ⑤ ㄱ, ㄴ, ㄷ",
    "① ㄱ, ㄷ ② ㄴ, ㄹ ③ ㄷ, ㄹ ④ ㄱ, ㄴ, ㄹ ⑤ ㄴ, ㄷ, ㄹ",
    "① 7 ② L ③ c ④ a, c ⑤ 12",
)


def jamo_choices(size_px: int = 31) -> bytes:
    """The choice lines, items on a fixed pitch as exams print them, as a gray PNG."""
    img = Image.new("L", (1500, 60 + 70 * len(JAMO_LINES)), 255)
    draw = ImageDraw.Draw(img)
    face = ImageFont.truetype("/usr/share/fonts/truetype/nanum/NanumSquareRoundR.ttf", size_px)
    for i, line in enumerate(JAMO_LINES):
        for k, item in enumerate(re.split(r" (?=[①-⑤])", line)):
            draw.text((30 + 290 * k, 30 + 70 * i), item, font=face, fill=0)
    buf = io.BytesIO()
    img.save(buf, format="PNG", optimize=True)
    return buf.getvalue()


GRAY_COLUMNS_ROWS = (1040, 1500)
GRAY_COLUMNS_LINES = (
    "new cooling systems. However, young trees",
    "need water and care for several years. City",
    "planners must therefore choose species that suit",
    "the local climate.",
    "9. Choose the word that best fits the blank. Assume",
    "that all lengths are measured in centimeters. Read",
    "each statement carefully before you answer.",
    "3/5 + 1/2 = ?",
    "① apple",
    "that all lengths are measured in centimeters.",
    "① 1 ② 3 ③ 5 ④ 7 ⑤ 9",
    "13. What does the underlined phrase mean? Assume",
    "that all lengths are measured in centimeters.",
    "3/5 + 1/2 = ?",
    "① The graph of a linear function is a line.",
    "② The sum of two even numbers is even.",
)


def gray_columns() -> bytes:
    """The two-column crop of a dim gray photo page (see the module's list), JPEG quality 85."""
    from vision.ocr.preprocess import prepare_page
    from vision.synth.exam import render_exam_page
    from vision.synth.photo import to_photo

    page = render_exam_page(7103, columns=2, lang="en", dpi=200)
    prep = prepare_page(to_photo(page.image, 7103)[0])
    y0, y1 = GRAY_COLUMNS_ROWS
    ok, jpg = cv2.imencode(".jpg", prep.image[y0:y1], [cv2.IMWRITE_JPEG_QUALITY, 85])
    assert ok
    return bytes(jpg.tobytes())


if __name__ == "__main__":
    (HERE / "text_layer.pdf").write_bytes(text_layer_pdf())
    (HERE / "scan.pdf").write_bytes(image_pdf(None))
    (HERE / "hidden_garbage.pdf").write_bytes(image_pdf("l1I| 사과S 0O0 ~~ ;;\n빨S갛 다2C+ ##\nxX 하늘a 8B8 ..\n물w 섭S씨 ||"))
    (HERE / "grainy.jpg").write_bytes(grainy().tobytes())
    (HERE / "grainy.txt").write_text("\n".join(LINES) + "\n", encoding="utf-8")
    (HERE / "jamo_choices.png").write_bytes(jamo_choices())
    (HERE / "jamo_choices.txt").write_text("\n".join(JAMO_LINES) + "\n", encoding="utf-8")
    (HERE / "gray_columns.jpg").write_bytes(gray_columns())
    (HERE / "gray_columns.txt").write_text("\n".join(GRAY_COLUMNS_LINES) + "\n", encoding="utf-8")
