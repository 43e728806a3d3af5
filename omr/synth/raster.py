"""Raster helpers shared by the synthetic-sheet generators.

Coordinates: page millimetres (origin top-left, x right, y down) map to page
pixels by ``x_px = x_mm * dpi / 25.4``.
"""

from __future__ import annotations

import cv2
import numpy as np
import numpy.typing as npt

from omr.types import BGRImage, GrayImage

ColorImage = BGRImage
"""Three-channel image, shape (H, W, 3), dtype uint8, OpenCV BGR order."""

FloatImage = npt.NDArray[np.float32]
"""Single-channel float image, shape (H, W), dtype float32."""

MM_PER_INCH = 25.4


def px_per_mm(dpi: float) -> float:
    """Pixels per millimetre at a resolution.

    Args:
        dpi: Dots per inch.

    Returns:
        The scale factor from millimetres to pixels.

    Examples:
        >>> round(px_per_mm(254), 6)
        10.0
    """
    return float(dpi) / MM_PER_INCH


def encode_jpeg(image: GrayImage | ColorImage, quality: int) -> bytes:
    """Encode an image as baseline JPEG bytes.

    Args:
        image: Gray (H, W) or BGR (H, W, 3) uint8 image.
        quality: JPEG quality, 1..100.

    Returns:
        The encoded file content.

    Raises:
        ValueError: If quality is out of range or encoding fails.

    Examples:
        >>> data = encode_jpeg(np.full((8, 8), 255, np.uint8), 90)
        >>> data[:2] == b"\\xff\\xd8"
        True
    """
    if not 1 <= quality <= 100:
        raise ValueError(f"expected JPEG quality in 1..100, got {quality}")
    ok, buf = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, int(quality)])
    if not ok:
        raise ValueError("JPEG encoding failed")
    return buf.tobytes()


def smooth_field(
    rng: np.random.Generator, size_wh: tuple[int, int], cells: int, lo: float, hi: float
) -> FloatImage:
    """A smooth random field, upsampled from a coarse grid of random values.

    Args:
        rng: Random source.
        size_wh: Output (width, height) in pixels.
        cells: Number of coarse cells along the longer side (>= 2).
        lo: Lowest value of the field.
        hi: Highest value of the field.

    Returns:
        float32 array of shape (height, width) with values in [lo, hi].

    Examples:
        >>> f = smooth_field(np.random.default_rng(0), (40, 30), 4, 0.5, 1.0)
        >>> f.shape, bool(f.min() >= 0.5), bool(f.max() <= 1.0)
        ((30, 40), True, True)
    """
    width, height = size_wh
    cells = max(2, cells)
    gw = cells if width >= height else max(2, round(cells * width / height))
    gh = cells if height > width else max(2, round(cells * height / width))
    grid = rng.uniform(lo, hi, size=(gh, gw)).astype(np.float32)
    return cv2.resize(grid, (width, height), interpolation=cv2.INTER_CUBIC).clip(lo, hi)


def add_noise(image: GrayImage | ColorImage, sigma: float, rng: np.random.Generator) -> None:
    """Add zero-mean Gaussian grain to ``image`` in place.

    The grain is a tile of prime size repeated from a random offset, which
    keeps 12 MP frames cheap; no detector can see the repeat.

    Args:
        image: Gray or BGR uint8 image, modified in place.
        sigma: Standard deviation in grey levels.
        rng: Random source.

    Examples:
        >>> img = np.full((50, 60), 128, np.uint8)
        >>> add_noise(img, 5.0, np.random.default_rng(0))
        >>> 3 < float(img.std()) < 7
        True
    """
    if sigma <= 0:
        return
    th, tw = 509, 757
    channels = 1 if image.ndim == 2 else image.shape[2]
    luma = rng.standard_normal((th, tw, 1), dtype=np.float32)
    chroma = rng.standard_normal((th, tw, channels), dtype=np.float32) * 0.4
    tile = ((luma + chroma) * (sigma / 1.077)).round().astype(np.int16)
    h, w = image.shape[:2]
    oy, ox = int(rng.integers(th)), int(rng.integers(tw))
    reps = (-(-(h + oy) // th), -(-(w + ox) // tw), 1)
    noise = np.tile(tile, reps)[oy : oy + h, ox : ox + w]
    if image.ndim == 2:
        noise = noise[..., 0]
    image[...] = cv2.add(image, noise, dtype=cv2.CV_8U)
