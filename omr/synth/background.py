"""Procedural backgrounds a sheet is photographed on: desks, wood, cloth, clutter.

Nothing is downloaded: each background is noise, gradients and shapes, drawn
at a quarter of the frame size and upscaled (the camera blur hides the seams),
then given full-resolution grain.
"""

from __future__ import annotations

import cv2
import numpy as np

from omr.synth.raster import ColorImage, smooth_field

BACKGROUNDS = ("wood", "cloth", "plain", "clutter", "dark")


def _random_color(rng: np.random.Generator, lo: int = 20, hi: int = 235) -> tuple[int, int, int]:
    c = rng.integers(lo, hi, 3)
    return int(c[0]), int(c[1]), int(c[2])


def _wood(rng: np.random.Generator, w: int, h: int) -> ColorImage:
    base = np.array(_random_color(rng, 40, 200), np.float32)
    base = base[[2, 1, 0]] * np.array([0.55, 0.75, 1.0], np.float32)  # brownish
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    angle = rng.uniform(0, np.pi)
    u = np.cos(angle) * xx + np.sin(angle) * yy
    warp = smooth_field(rng, (w, h), 6, -40, 40)
    period = rng.uniform(6, 25)
    grain = 0.5 + 0.5 * np.sin((u + warp) / period * 2 * np.pi)
    shade = 0.7 + 0.3 * grain
    img = base[None, None, :] * shade[..., None]
    return img.clip(0, 255).astype(np.uint8)


def _cloth(rng: np.random.Generator, w: int, h: int) -> ColorImage:
    base = np.array(_random_color(rng), np.float32)
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    p = rng.uniform(2.5, 6)
    weave = 0.85 + 0.15 * np.sin(xx / p * np.pi) * np.sin(yy / p * np.pi)
    folds = smooth_field(rng, (w, h), 5, 0.6, 1.05)
    img = base[None, None, :] * (weave * folds)[..., None]
    return img.clip(0, 255).astype(np.uint8)


def _plain(rng: np.random.Generator, w: int, h: int) -> ColorImage:
    base = np.array(_random_color(rng, 60, 250), np.float32)
    field = smooth_field(rng, (w, h), 3, 0.75, 1.05)
    return (base[None, None, :] * field[..., None]).clip(0, 255).astype(np.uint8)


def _clutter(rng: np.random.Generator, w: int, h: int) -> ColorImage:
    img = _plain(rng, w, h) if rng.uniform() < 0.5 else _wood(rng, w, h)
    for _ in range(int(rng.integers(4, 14))):
        kind = rng.integers(4)
        color = _random_color(rng, 0, 256)
        cx, cy = int(rng.integers(w)), int(rng.integers(h))
        size = int(rng.uniform(0.05, 0.35) * max(w, h))
        if kind == 0:  # another sheet of paper, with lines of "text"
            box = ((cx, cy), (float(size), size * rng.uniform(0.6, 1.5)), rng.uniform(0, 180))
            pts = cv2.boxPoints(box).astype(np.int32)
            white = int(rng.integers(200, 256))
            cv2.fillConvexPoly(img, pts, (white, white, white), cv2.LINE_AA)
            for k in range(int(rng.integers(3, 12))):
                a, b = (
                    pts[0] + (pts[3] - pts[0]) * (k + 1) / 14,
                    pts[1] + (pts[2] - pts[1]) * (k + 1) / 14,
                )
                cv2.line(img, tuple(int(v) for v in a), tuple(int(v) for v in b), (60, 60, 60), 1)
        elif kind == 1:  # a pen, a ruler
            end = (
                cx + int(size * np.cos(rng.uniform(0, 6.3))),
                cy + int(size * np.sin(rng.uniform(0, 6.3))),
            )
            cv2.line(img, (cx, cy), end, color, int(rng.integers(2, 8)), cv2.LINE_AA)
        elif kind == 2:  # a mug, a roll of tape
            cv2.circle(img, (cx, cy), size // 3, color, -1, cv2.LINE_AA)
        else:  # a phone, a book
            box = ((cx, cy), (size * 0.5, float(size)), rng.uniform(0, 180))
            cv2.fillConvexPoly(img, cv2.boxPoints(box).astype(np.int32), color, cv2.LINE_AA)
    return img


def _dark(rng: np.random.Generator, w: int, h: int) -> ColorImage:
    base = np.array(_random_color(rng, 10, 70), np.float32)
    speck = rng.uniform(0.7, 1.3, (h, w)).astype(np.float32)
    return (base[None, None, :] * speck[..., None]).clip(0, 255).astype(np.uint8)


def make_background(
    rng: np.random.Generator, size_wh: tuple[int, int], kind: str | None = None
) -> tuple[ColorImage, str]:
    """A random surface of the given size.

    Args:
        rng: Random source.
        size_wh: Output (width, height) in pixels.
        kind: One of :data:`BACKGROUNDS`; random when None.

    Returns:
        BGR image (height, width, 3) uint8 and the kind drawn.

    Examples:
        >>> img, kind = make_background(np.random.default_rng(0), (64, 48), "wood")
        >>> img.shape, kind
        ((48, 64, 3), 'wood')
    """
    kind = str(rng.choice(BACKGROUNDS)) if kind is None else kind
    makers = {"wood": _wood, "cloth": _cloth, "plain": _plain, "clutter": _clutter, "dark": _dark}
    if kind not in makers:
        raise ValueError(f"expected a background in {BACKGROUNDS}, got {kind!r}")
    w, h = size_wh
    sw, sh = max(8, w // 4), max(8, h // 4)
    small = makers[kind](rng, sw, sh)
    return np.asarray(cv2.resize(small, (w, h), interpolation=cv2.INTER_LINEAR), np.uint8), kind
