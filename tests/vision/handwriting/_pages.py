"""A printed worksheet for the handwriting tests (OpenCV text at ~200 dpi, no fonts needed)."""

from __future__ import annotations

import cv2
import numpy as np
import numpy.typing as npt

#: the page is drawn on an 850 x 1100 design grid and scaled by this (1700 x 2200 px, ~200 dpi letter).
SCALE = 2


def printed_page(seed: int = 0) -> npt.NDArray[np.uint8]:
    """``(H, W, 3)`` BGR page: numbered questions, choices, a table and a triangle, in black."""
    rng = np.random.default_rng(seed)
    k = SCALE
    w, h = 850 * k, 1100 * k
    page = np.full((h, w, 3), 250, np.uint8)
    ink = (20, 20, 20)
    y = 60
    for q in range(1, 9):
        words = " ".join(rng.choice(["Find", "the", "value", "of", "x", "when", "y", "=", "3x+2", "area"], 7))
        cv2.putText(page, f"{q}. {words}", (40 * k, y * k), cv2.FONT_HERSHEY_SIMPLEX, 0.7 * k, ink, 2 * k, cv2.LINE_AA)
        cv2.putText(page, "(1) 2   (2) 4   (3) 6   (4) 8", (70 * k, (y + 35) * k), cv2.FONT_HERSHEY_SIMPLEX,
                    0.6 * k, ink, k, cv2.LINE_AA)
        y += 120
    cv2.rectangle(page, (500 * k, 900 * k), (800 * k, 1000 * k), ink, 2 * k)
    cv2.line(page, (500 * k, 950 * k), (800 * k, 950 * k), ink, 2 * k)
    cv2.polylines(page, [np.array([[560, 870], [620, 810], [680, 870]], np.int32) * k], True, ink, 2 * k)
    cv2.line(page, (30 * k, 30 * k), (w - 30 * k, 30 * k), ink, 2 * k)
    return page


def photo_of(page: npt.NDArray[np.uint8], seed: int = 0) -> npt.NDArray[np.uint8]:
    """A mild phone photo: perspective onto a dark desk, a light gradient, blur, noise, JPEG."""
    rng = np.random.default_rng(seed)
    h, w = page.shape[:2]
    src = np.array([[0, 0], [w, 0], [w, h], [0, h]], np.float32)
    jitter = rng.uniform(-0.015, 0.015, (4, 2)) * np.array([w, h])
    dst = (src * 0.85 + np.array([w, h], np.float32) * 0.075 + jitter).astype(np.float32)
    m = cv2.getPerspectiveTransform(src, dst)
    desk = np.full((h, w, 3), (40, 60, 90), np.uint8)
    warped = cv2.warpPerspective(page, m, (w, h), borderMode=cv2.BORDER_CONSTANT, borderValue=(0, 0, 0))
    inside = cv2.warpPerspective(np.full((h, w), 255, np.uint8), m, (w, h)) > 0
    out = np.where(inside[..., None], warped, desk).astype(np.float32)
    out *= np.linspace(1.0, 0.75, w, dtype=np.float32)[None, :, None]
    out = np.asarray(cv2.GaussianBlur(out, (5, 5), 1.2), np.float32) + rng.normal(0, 3, out.shape).astype(np.float32)
    ok, buf = cv2.imencode(".jpg", np.clip(out, 0, 255).astype(np.uint8), [cv2.IMWRITE_JPEG_QUALITY, 85])
    assert ok
    return np.asarray(cv2.imdecode(buf, cv2.IMREAD_COLOR), np.uint8)
