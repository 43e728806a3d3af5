"""Small rendered test pages (Nanum fonts, which the project installs)."""

from __future__ import annotations

import numpy as np
from PIL import Image, ImageDraw, ImageFont

NANUM = "/usr/share/fonts/truetype/nanum/"


def text_page(lines: list[tuple[int, int, str]], size_wh: tuple[int, int] = (1200, 800), font: str = "NanumGothic.ttf",
              size_px: int = 30) -> np.ndarray:
    """A white gray page with each ``(x, y, text)`` drawn black."""
    img = Image.new("L", size_wh, 255)
    draw = ImageDraw.Draw(img)
    face = ImageFont.truetype(NANUM + font, size_px)
    for x, y, text in lines:
        draw.text((x, y), text, font=face, fill=0)
    return np.asarray(img, dtype=np.uint8)
