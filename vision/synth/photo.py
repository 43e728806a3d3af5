"""Phone-photo degradation of a synthetic page, with the homography to map its truth.

:func:`to_photo` does what a phone does to a printed page: the page lies on a
desk and is shot from slightly off-axis (perspective, a few degrees of
rotation, some desk visible around it), under uneven light with a soft
shadow, slightly out of focus, with sensor noise and JPEG compression. It
returns the photo and the 3x3 homography ``H`` from page pixels to photo
pixels, so truth boxes map with :func:`map_box`.

Frames:
    ``image`` is a page in page pixels (grayscale ``(H, W)`` or BGR
    ``(H, W, 3)`` ``uint8``). The photo is BGR ``uint8`` of the same size as
    the page (a phone photo resized to the page's scale). ``H`` maps
    homogeneous page points ``(x, y, 1)`` to photo points.

Examples:
    >>> import numpy as np
    >>> page = np.full((400, 300), 255, np.uint8)
    >>> photo, H = to_photo(page, 7)
    >>> photo.shape, photo.dtype.name, H.shape
    ((400, 300, 3), 'uint8', (3, 3))
    >>> x, y, w, h = map_box((100, 100, 50, 20), H)
    >>> 50 < x < 150 and 50 < y < 150 and 30 < w < 80
    True
"""

from __future__ import annotations

import cv2
import numpy as np
import numpy.typing as npt

__all__ = ["map_box", "map_points", "to_photo"]

#: Fraction of the photo's side left as desk around the page (phones frame loosely).
DESK_MARGIN = (0.02, 0.07)
#: Corner jitter as a fraction of the photo's side (off-axis shots, a few degrees).
CORNER_JITTER = 0.025
#: Light falloff range across the page (1 = even light).
LIGHT_MIN = (0.62, 0.85)
#: Shadow darkness (multiplier inside the shadow).
SHADOW_GAIN = (0.7, 0.9)
#: Gaussian blur sigma range in photo pixels (slight defocus and motion).
BLUR_SIGMA = (0.4, 1.1)
#: Sensor noise standard deviation in grey levels.
NOISE_SIGMA = (2.0, 6.0)
#: JPEG quality range of phone uploads.
JPEG_QUALITY = (60, 88)


def to_photo(image: npt.NDArray[np.uint8], seed: int) -> tuple[npt.NDArray[np.uint8], npt.NDArray[np.float64]]:
    """Degrade ``image`` like a phone photo; return ``(photo, H)`` (see the module docstring)."""
    rng = np.random.default_rng([seed, 0xF0])
    page = cv2.cvtColor(image, cv2.COLOR_GRAY2BGR) if image.ndim == 2 else image
    h, w = page.shape[:2]
    margin = rng.uniform(*DESK_MARGIN)
    dst = np.array(
        [[margin * w, margin * h], [(1 - margin) * w, margin * h], [(1 - margin) * w, (1 - margin) * h], [margin * w, (1 - margin) * h]],
        dtype=np.float64,
    )
    dst += rng.uniform(-CORNER_JITTER, CORNER_JITTER, size=(4, 2)) * np.array([w, h])
    src = np.array([[0, 0], [w, 0], [w, h], [0, h]], dtype=np.float64)
    H = cv2.getPerspectiveTransform(src.astype(np.float32), dst.astype(np.float32)).astype(np.float64)

    # Desk: a dark-ish coloured, smoothly varying texture.
    desk_color = rng.uniform(60, 150, size=3)
    desk = np.empty((h, w, 3), np.float32)
    desk[:] = desk_color
    desk += cv2.resize(rng.normal(0, 12, size=(8, 6, 3)).astype(np.float32), (w, h))[..., :3]
    paper = page.astype(np.float32) * rng.uniform(0.9, 1.0, size=3).astype(np.float32)  # paper tint
    warped = cv2.warpPerspective(paper, H, (w, h), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT)
    mask = cv2.warpPerspective(np.ones((h, w), np.float32), H, (w, h), flags=cv2.INTER_LINEAR)
    photo = warped * mask[..., None] + desk * (1 - mask[..., None])

    # Uneven light: a linear falloff in a random direction plus a soft shadow blob,
    # computed on a coarse grid and resized (smooth fields need no full-resolution maths).
    gh, gw = 64, max(2, round(64 * w / h))
    yy, xx = np.mgrid[0:gh, 0:gw].astype(np.float32)
    angle = rng.uniform(0, 2 * np.pi)
    ramp = np.cos(angle) * xx / gw + np.sin(angle) * yy / gh
    ramp = (ramp - ramp.min()) / max(float(np.ptp(ramp)), 1e-6)
    low = rng.uniform(*LIGHT_MIN)
    light = low + (1 - low) * ramp
    cx, cy = rng.uniform(0, gw), rng.uniform(0, gh)
    r = rng.uniform(0.2, 0.45) * max(gw, gh)
    shadow = 1 - (1 - rng.uniform(*SHADOW_GAIN)) * np.exp(-((xx - cx) ** 2 + (yy - cy) ** 2) / (2 * r * r))
    photo *= cv2.resize((light * shadow).astype(np.float32), (w, h), interpolation=cv2.INTER_LINEAR)[..., None]

    sigma = rng.uniform(*BLUR_SIGMA)
    photo = np.asarray(cv2.GaussianBlur(photo, (0, 0), sigma), dtype=np.float32)
    photo += rng.standard_normal(size=photo.shape, dtype=np.float32) * np.float32(rng.uniform(*NOISE_SIGMA))
    out = np.clip(photo, 0, 255).astype(np.uint8)
    quality = int(rng.integers(*JPEG_QUALITY))
    ok, buf = cv2.imencode(".jpg", out, [cv2.IMWRITE_JPEG_QUALITY, quality])
    assert ok, "JPEG encoding of an in-memory uint8 image cannot fail"
    decoded = np.asarray(cv2.imdecode(buf, cv2.IMREAD_COLOR), dtype=np.uint8)
    return decoded, H


def map_points(points_xy: npt.ArrayLike, H: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    """Map ``(N, 2)`` page points through ``H`` to photo points ``(N, 2)``."""
    pts = np.asarray(points_xy, dtype=np.float64).reshape(-1, 1, 2)
    return np.asarray(cv2.perspectiveTransform(pts, H), dtype=np.float64).reshape(-1, 2)


def map_box(box_xywh: tuple[int, int, int, int], H: npt.NDArray[np.float64]) -> tuple[int, int, int, int]:
    """The axis-aligned box ``(x, y, w, h)`` around the four mapped corners of ``box_xywh``."""
    x, y, w, h = box_xywh
    pts = map_points([[x, y], [x + w, y], [x + w, y + h], [x, y + h]], H)
    x0, y0 = np.floor(pts.min(axis=0))
    x1, y1 = np.ceil(pts.max(axis=0))
    return (int(x0), int(y0), int(x1 - x0), int(y1 - y0))
