"""Marks drawn on a rendered template at the warped page's resolution (6 px/mm), for the measure and answer tests."""

from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np

S = 6.0  # px per mm of the warped page


def centre(meta: dict, q: int, label: str) -> tuple[int, int, float]:
    c = next(c for c in meta["questions"][q - 1]["choices"] if c["label"] == label)
    return round(c["center"]["x"] * S), round(c["center"]["y"] * S), float(c["r"]) * S


def draw_x(page: np.ndarray, x: int, y: int, r: float) -> None:
    d = round(r * 0.8)
    cv2.line(page, (x - d, y - d), (x + d, y + d), 40, 4, cv2.LINE_AA)
    cv2.line(page, (x - d, y + d), (x + d, y - d), 40, 4, cv2.LINE_AA)


def draw_fill(page: np.ndarray, x: int, y: int, r: float) -> None:
    cv2.circle(page, (x, y), round(r * 0.95), 60, -1, cv2.LINE_AA)


def draw_half(page: np.ndarray, x: int, y: int, r: float) -> None:
    mask = np.zeros_like(page)
    cv2.circle(mask, (x, y), round(r * 0.95), 255, -1)
    mask[: y - round(0.2 * r)] = 0  # lower ~60% of the disc
    page[mask > 0] = np.minimum(page[mask > 0], 70)


def draw_tick(page: np.ndarray, x: int, y: int, r: float) -> None:
    pts = np.array([[x - 0.6 * r, y], [x - 0.1 * r, y + 0.5 * r], [x + 0.7 * r, y - 0.6 * r]], np.int32)
    cv2.polylines(page, [pts], False, 40, 3, cv2.LINE_AA)


def draw_dot_on_label(page: np.ndarray, x: int, y: int, r: float) -> None:
    # a small pencil mark (absorbs 40%), most of it over the printed number
    mask = np.zeros_like(page)
    cv2.circle(mask, (x, y), round(r * 0.35), 255, -1)
    page[mask > 0] = (page[mask > 0] * 0.6).astype(np.uint8)


def draw_erased(page: np.ndarray, x: int, y: int, r: float) -> None:
    # erased residue: a faint smudge (~5% absorption) over the whole disc
    mask = np.zeros_like(page)
    cv2.circle(mask, (x, y), round(r * 0.9), 255, -1)
    page[mask > 0] = np.minimum(page[mask > 0], 242)


Draw = Callable[[np.ndarray, int, int, float], None]


def pdf_raster(path: Path, shape: tuple[int, int], dpi: float = 150) -> np.ndarray:
    """Page 1 of the PDF at ``path`` rendered grey by pdfium at ``dpi``, cut to ``shape`` (rows, cols)."""
    import pypdfium2 as pdfium

    pdf = pdfium.PdfDocument(str(path))
    try:
        img = pdf[0].render(scale=dpi / 72, grayscale=True).to_numpy()
    finally:
        pdf.close()
    img = img[..., 0] if img.ndim == 3 else img
    return img[:shape[0], :shape[1]]
