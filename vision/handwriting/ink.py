"""Ink on paper under uneven light: local normalisation and an ink mask.

A photo's paper is not white: it darkens towards a corner, under a shadow,
away from the lamp. Dividing each pixel by the local paper brightness (a
closing, which erases strokes thinner than its kernel, taken at a quarter of
the resolution) turns paper into ~1.0 everywhere and ink into its contrast:
black print ~0.1-0.4, pencil ~0.5-0.8, whatever the light.

Frames:
    All arrays share the analysis frame ``(H, W)``; ``norm`` is float32
    ``0..~1`` (1 = paper), masks are ``bool``.

Examples:
    >>> import numpy as np
    >>> page = np.full((200, 300), 200, np.uint8); page[:, :150] = 120  # half in shadow
    >>> page[90:100, 20:120] = 40; page[90:100, 170:270] = 70          # a stroke in each half
    >>> ink = ink_mask(normalise(page))
    >>> int(ink[95, 60]), int(ink[95, 200]), int(ink[30, 60]), int(ink[30, 200])
    (1, 1, 0, 0)
"""

from __future__ import annotations

import cv2
import numpy as np
import numpy.typing as npt

__all__ = ["INK_NORM_MAX", "chroma", "grow_faint", "normalise", "ink_mask", "to_gray"]

#: paper background is estimated at 1/4 resolution (4x cheaper closing, same result for strokes).
BG_SCALE = 4
#: closing kernel at 1/4 scale: 9 px = 36 analysis px, wider than any pen or print stroke.
BG_CLOSE_PX = 9
#: a pixel darker than this share of its paper is ink; light pencil (~0.8) passes, paper noise (~0.95) does not.
INK_NORM_MAX = 0.82

#: a pixel beside a found stroke is part of it when it has this share of the stroke's own
#: contrast (its darkest pixel nearby): the same coverage rule for pencil (contrast ~0.4)
#: and pen (~0.8), so neither tool's strokes come out fatter than the other's.
FAINT_SHARE = 0.3
#: but never paper-level pixels (noise), whatever the stroke.
FAINT_NORM_MAX = 0.95
#: how far (px) a stroke may grow into its faint rim.
FAINT_GROW_PX = 2

FloatImage = npt.NDArray[np.float32]


def to_gray(image: npt.NDArray[np.uint8]) -> npt.NDArray[np.uint8]:
    """BGR ``(H, W, 3)`` or gray ``(H, W)`` uint8 -> gray ``(H, W)`` uint8."""
    return image if image.ndim == 2 else np.asarray(cv2.cvtColor(image, cv2.COLOR_BGR2GRAY), np.uint8)


def normalise(gray: npt.NDArray[np.uint8]) -> FloatImage:
    """Each pixel divided by its local paper brightness: paper ~1, ink < 1."""
    h, w = gray.shape
    small = cv2.resize(gray, (max(1, w // BG_SCALE), max(1, h // BG_SCALE)), interpolation=cv2.INTER_AREA)
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (BG_CLOSE_PX, BG_CLOSE_PX))
    bg_small = cv2.morphologyEx(small, cv2.MORPH_CLOSE, kernel)
    bg_small = cv2.GaussianBlur(bg_small, (5, 5), 0)
    bg = cv2.resize(bg_small, (w, h), interpolation=cv2.INTER_LINEAR).astype(np.float32)
    norm: FloatImage = (gray.astype(np.float32) / np.maximum(bg, np.float32(1.0))).astype(np.float32)
    return np.minimum(norm, 1.0, out=norm)


def ink_mask(norm: FloatImage, norm_max: float = INK_NORM_MAX) -> npt.NDArray[np.bool_]:
    """Pixels darker than ``norm_max`` of their paper."""
    mask: npt.NDArray[np.bool_] = norm < norm_max
    return mask


def chroma(image: npt.NDArray[np.uint8]) -> FloatImage:
    """Colourfulness per pixel, 0 (grey) .. ~130, from CIE Lab a*, b* (0 for a gray image)."""
    if image.ndim == 2:
        return np.zeros(image.shape, np.float32)
    lab = cv2.cvtColor(image, cv2.COLOR_BGR2LAB).astype(np.float32)
    a = lab[..., 1] - 128.0
    b = lab[..., 2] - 128.0
    out: FloatImage = np.sqrt(a * a + b * b)
    return out


def grow_faint(mask: npt.NDArray[np.bool_], norm: FloatImage) -> npt.NDArray[np.bool_]:
    """``mask`` grown by :data:`FAINT_GROW_PX` into its stroke's faint rim, and trimmed to it.

    Hysteresis for light strokes: a pencil line is found by its core and
    measured with its faint rim (pixels with :data:`FAINT_SHARE` of the
    local stroke contrast), without letting paper grain in on its own.
    """
    k = 2 * FAINT_GROW_PX + 1
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (k, k))
    near = cv2.dilate(mask.astype(np.uint8), kernel) > 0
    core = cv2.erode(norm, cv2.getStructuringElement(cv2.MORPH_RECT, (2 * k + 1, 2 * k + 1)))
    faint = (1.0 - norm >= FAINT_SHARE * (1.0 - core)) & (norm < FAINT_NORM_MAX)
    out: npt.NDArray[np.bool_] = near & faint
    return out
