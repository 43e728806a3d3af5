"""Shared builders: filled sheets drawn on the rendered template, photographed with cv2."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import cv2
import numpy as np
import pytest

from omr.template import build_template, render_sheet

DPI = 150
S = DPI / 25.4


def fill(page: np.ndarray, x_mm: float, y_mm: float, r_mm: float, *, gray: int = 40,
         frac: float = 1.0) -> None:
    """Shade a bubble: full disc (frac=1) or the left ``frac`` of it."""
    c = (round(x_mm * S), round(y_mm * S))
    r = round(r_mm * 0.95 * S)
    if frac >= 1:
        cv2.circle(page, c, r, gray, -1, cv2.LINE_AA)
        return
    mask = np.zeros_like(page)
    cv2.circle(mask, c, r, 255, -1)
    mask[:, round((x_mm - r_mm + 2 * r_mm * frac) * S):] = 0
    page[mask > 0] = np.minimum(page[mask > 0], gray)


def filled_sheet(meta: dict[str, Any], answers: dict[int, list[str]], ident: str | None,
                 **kw: Any) -> np.ndarray:
    page = render_sheet(meta, dpi=DPI)
    for q in meta["questions"]:
        for c in q["choices"]:
            if c["label"] in answers.get(q["question_number"], []):
                fill(page, c["center"]["x"], c["center"]["y"], c["r"], **kw)
    if ident:
        for b in meta["identifier"]["bubbles"]:
            ch = ident[b["digit_index"] - 1]
            if ch.isdigit() and int(ch) == b["number"]:
                fill(page, b["center"]["x"], b["center"]["y"], b["r"], **kw)
    return page


def photograph(page: np.ndarray, *, rotation: int = 0, tilt: float = 0.12, seed: int = 0,
               frame_wh: tuple[int, int] = (2400, 1800), shade: bool = True) -> np.ndarray:
    """Rotate by ``rotation`` (clockwise, multiple of 90), perspective-warp onto a
    textured background with a light gradient and noise."""
    rng = np.random.default_rng(seed)
    k = {0: 0, 90: -1, 180: 2, 270: 1}[rotation]
    src = np.rot90(page, k).copy()
    h, w = src.shape
    fw, fh = frame_wh
    if h > w:
        fw, fh = fh, fw
    scale = 0.8 * min(fw / w, fh / h)
    cx, cy = fw / 2, fh / 2
    hw, hh = w * scale / 2, h * scale / 2
    t = tilt
    dst = np.float32([[cx - hw * (1 - t), cy - hh], [cx + hw * (1 - t), cy - hh],
                      [cx + hw, cy + hh], [cx - hw, cy + hh]])
    srcq = np.float32([[0, 0], [w, 0], [w, h], [0, h]])
    m = cv2.getPerspectiveTransform(srcq, dst)
    bg = rng.integers(60, 140, (fh // 8, fw // 8)).astype(np.uint8)
    frame = cv2.resize(bg, (fw, fh), interpolation=cv2.INTER_LINEAR)
    cv2.warpPerspective(src, m, (fw, fh), dst=frame, borderMode=cv2.BORDER_TRANSPARENT)
    f = frame.astype(np.float32)
    if shade:
        f *= np.linspace(0.75, 1.0, fw, dtype=np.float32)[None, :]
    f += rng.normal(0, 3, f.shape).astype(np.float32)
    return np.clip(f, 0, 255).astype(np.uint8)


def jpeg(img: np.ndarray, q: int = 85) -> bytes:
    return cv2.imencode(".jpg", img, [cv2.IMWRITE_JPEG_QUALITY, q])[1].tobytes()


@pytest.fixture(scope="session")
def meta10() -> dict[str, Any]:
    return build_template(10)


@pytest.fixture(scope="session")
def sheet_factory() -> Callable[..., np.ndarray]:
    return filled_sheet


@pytest.fixture(scope="session")
def photo_factory() -> Callable[..., np.ndarray]:
    return photograph
