"""Drawing primitives: how a pencil or pen deposit lands on the page.

Every primitive works on a BGR page (H, W, 3) uint8 in page pixels and only
touches a small region of interest, so a full sheet of marks costs a few ms.
Deposits darken multiplicatively (``v *= 1 - alpha * absorb``), so a mark over
a printed ring gets darker still, as on paper.
"""

from __future__ import annotations

from collections.abc import Callable

import cv2
import numpy as np
import numpy.typing as npt

from omr.synth.instruments import Instrument
from omr.synth.raster import ColorImage, FloatImage

PointsPx = npt.NDArray[np.float64]
"""Polyline points, shape (N, 2), page pixels (x, y)."""

_SHIFT = 4  # sub-pixel bits for cv2 drawing


def _apply_alpha(
    page: ColorImage, alpha: FloatImage, x0: int, y0: int, absorb: tuple[float, float, float]
) -> None:
    """Darken ``page`` by ``alpha`` (patch placed at x0, y0), clipped to the page."""
    h, w = alpha.shape
    ph, pw = page.shape[:2]
    ax0, ay0 = max(0, -x0), max(0, -y0)
    bx0, by0 = max(0, x0), max(0, y0)
    bx1, by1 = min(pw, x0 + w), min(ph, y0 + h)
    if bx1 <= bx0 or by1 <= by0:
        return
    a = alpha[ay0 : ay0 + (by1 - by0), ax0 : ax0 + (bx1 - bx0)]
    roi = page[by0:by1, bx0:bx1].astype(np.float32)
    keep = 1.0 - a[..., None] * np.asarray(absorb, np.float32)
    page[by0:by1, bx0:bx1] = (roi * keep).clip(0, 255).astype(np.uint8)


def _texture(
    rng: np.random.Generator, alpha: FloatImage, tool: Instrument, px_per_mm: float
) -> FloatImage:
    """Break a solid stroke mask up with paper grain and graphite sheen."""
    if tool.grain > 0:
        noise = rng.standard_normal(alpha.shape).astype(np.float32)
        noise = np.asarray(cv2.GaussianBlur(noise, (0, 0), max(0.5, 0.04 * px_per_mm)), np.float32)
        noise /= max(1e-6, float(noise.std()))
        alpha = alpha * (1.0 - tool.grain * (0.5 + 0.35 * noise)).clip(0.0, 1.0)
    if tool.gloss > 0:
        h, w = alpha.shape
        angle = rng.uniform(0, 2 * np.pi)
        yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
        ramp = (np.cos(angle) * xx / max(w, 1) + np.sin(angle) * yy / max(h, 1)).clip(0, 1)
        alpha = alpha * (1.0 - tool.gloss * ramp)
    return alpha.astype(np.float32)


def _stroke_alpha(
    polylines: list[PointsPx], width_px: float, margin_px: int
) -> tuple[FloatImage, int, int]:
    """Rasterise anti-aliased polylines into a float patch and its page origin."""
    pts = np.concatenate(polylines)
    x0 = int(np.floor(pts[:, 0].min())) - margin_px
    y0 = int(np.floor(pts[:, 1].min())) - margin_px
    x1 = int(np.ceil(pts[:, 0].max())) + margin_px
    y1 = int(np.ceil(pts[:, 1].max())) + margin_px
    patch = np.zeros((y1 - y0 + 1, x1 - x0 + 1), np.uint8)
    thickness = max(1, int(round(width_px)))
    fixed = [np.round((p - (x0, y0)) * (1 << _SHIFT)).astype(np.int32) for p in polylines]
    cv2.polylines(patch, fixed, False, 255, thickness, cv2.LINE_AA, _SHIFT)
    return patch.astype(np.float32) / 255.0, x0, y0


def draw_polylines(
    page: ColorImage,
    polylines: list[PointsPx],
    tool: Instrument,
    px_per_mm: float,
    rng: np.random.Generator,
    *,
    strength: float = 1.0,
    smudge_px: float = 0.0,
) -> None:
    """Draw strokes on ``page`` in place.

    Args:
        page: BGR page, modified in place.
        polylines: Stroke paths in page pixels.
        tool: Instrument drawing them.
        px_per_mm: Page resolution.
        rng: Random source for texture.
        strength: Multiplies the instrument's absorption (erased residue < 0.2).
        smudge_px: Gaussian blur of the deposit, in pixels (smeared graphite).

    Examples:
        >>> from omr.synth.instruments import sample_instrument
        >>> page = np.full((40, 40, 3), 255, np.uint8)
        >>> tool = sample_instrument(np.random.default_rng(0), "pen_black")
        >>> line = np.array([[5.0, 20.0], [35.0, 20.0]])
        >>> draw_polylines(page, [line], tool, 10.0, np.random.default_rng(1))
        >>> int(page[20, 20, 0]) < 100, int(page[5, 5, 0])
        (True, 255)
    """
    margin = int(np.ceil(tool.width_mm * px_per_mm + 3 * smudge_px)) + 2
    alpha, x0, y0 = _stroke_alpha(polylines, tool.width_mm * px_per_mm, margin)
    alpha = _texture(rng, alpha, tool, px_per_mm)
    if smudge_px > 0:
        alpha = np.asarray(cv2.GaussianBlur(alpha, (0, 0), smudge_px), np.float32)
    absorb = tuple(float(a * strength) for a in tool.absorb_bgr)
    _apply_alpha(page, alpha, x0, y0, absorb)  # type: ignore[arg-type]


def scribble_paths(
    rng: np.random.Generator,
    center_px: tuple[float, float],
    semi_axes_px: tuple[float, float],
    angle_rad: float,
    spacing_px: float,
    span: float,
    outline: bool,
) -> list[PointsPx]:
    """Back-and-forth strokes filling (part of) an ellipse, as students shade.

    Args:
        rng: Random source for the stroke-end wobble.
        center_px: Ellipse centre (x, y), page pixels.
        semi_axes_px: (along-stroke, across-stroke) semi-axes, pixels.
        angle_rad: Stroke direction.
        spacing_px: Distance between neighbouring strokes.
        span: 0..1, the fraction of the ellipse (across strokes) that is shaded.
        outline: Also trace the ellipse outline once.

    Returns:
        Polylines in page pixels.

    Examples:
        >>> paths = scribble_paths(np.random.default_rng(0), (50, 50), (20, 20), 0.3, 4, 1.0, True)
        >>> len(paths)
        2
    """
    a, b = semi_axes_px
    start = -b * 0.92
    stop = start + 2 * b * 0.92 * span
    offsets = np.arange(start, stop + 1e-6, max(1.0, spacing_px))
    pts = []
    for i, v in enumerate(offsets):
        half = a * np.sqrt(max(0.0, 1 - (v / b) ** 2))
        u0 = -half * rng.uniform(0.8, 1.05)
        u1 = half * rng.uniform(0.8, 1.05)
        seg = [(u0, v), (u1, v)] if i % 2 == 0 else [(u1, v), (u0, v)]
        pts.extend(seg)
    local = np.array(pts, np.float64) + rng.normal(0, 0.03 * b, (len(pts), 2))
    paths = [_place(local, center_px, angle_rad)]
    if outline:
        t = np.linspace(0, 2 * np.pi * rng.uniform(0.8, 1.1), 40)
        ring = np.stack([a * 0.92 * np.cos(t), b * 0.92 * np.sin(t)], axis=1)
        paths.append(_place(ring, center_px, angle_rad))
    return paths


def _place(local: PointsPx, center_px: tuple[float, float], angle_rad: float) -> PointsPx:
    c, s = np.cos(angle_rad), np.sin(angle_rad)
    rot = np.array([[c, -s], [s, c]])
    return local @ rot.T + np.asarray(center_px, np.float64)


def cross_paths(
    rng: np.random.Generator, center_px: tuple[float, float], half_px: float
) -> list[PointsPx]:
    """Two strokes of an X centred on a point.

    Examples:
        >>> [p.shape for p in cross_paths(np.random.default_rng(0), (10, 10), 5)]
        [(2, 2), (2, 2)]
    """
    cx, cy = center_px
    out = []
    for sign in (1, -1):
        ang = sign * np.pi / 4 + rng.normal(0, 0.12)
        d = np.array([np.cos(ang), np.sin(ang)]) * half_px * rng.uniform(0.9, 1.2)
        out.append(np.array([[cx - d[0], cy - d[1]], [cx + d[0], cy + d[1]]]))
    return out


def tick_paths(
    rng: np.random.Generator, start_px: tuple[float, float], size_px: float
) -> list[PointsPx]:
    """A check-mark stroke starting at a point.

    Examples:
        >>> tick_paths(np.random.default_rng(0), (0, 0), 10)[0].shape
        (3, 2)
    """
    x, y = start_px
    k = size_px
    pts = np.array([[x, y], [x + 0.35 * k, y + 0.4 * k], [x + k, y - 0.6 * k]])
    return [pts + rng.normal(0, 0.04 * k, pts.shape)]


def stroke_coverage(
    polylines: list[PointsPx], width_px: float, center_px: tuple[float, float], r_px: float
) -> float:
    """Fraction of a disc covered by strokes (deposit alpha >= 0.5).

    Args:
        polylines: Stroke paths, page pixels.
        width_px: Stroke width, pixels.
        center_px: Disc centre (x, y), page pixels.
        r_px: Disc radius, pixels.

    Returns:
        Coverage in 0..1.

    Examples:
        >>> line = np.array([[0.0, 50.0], [100.0, 50.0]])
        >>> round(stroke_coverage([line], 200.0, (50.0, 50.0), 10.0), 2)
        1.0
        >>> stroke_coverage([line], 2.0, (50.0, 0.0), 10.0)
        0.0
    """
    cx, cy = center_px
    size = int(np.ceil(r_px)) + 1
    x0, y0 = int(round(cx)) - size, int(round(cy)) - size
    patch = np.zeros((2 * size + 1, 2 * size + 1), np.uint8)
    fixed = [np.round((p - (x0, y0)) * (1 << _SHIFT)).astype(np.int32) for p in polylines]
    cv2.polylines(patch, fixed, False, 255, max(1, int(round(width_px))), cv2.LINE_AA, _SHIFT)
    yy, xx = np.mgrid[0 : patch.shape[0], 0 : patch.shape[1]]
    disc = (xx + x0 - cx) ** 2 + (yy + y0 - cy) ** 2 <= r_px**2
    if not disc.any():
        return 0.0
    return float((patch[disc] >= 128).mean())


def handwriting_alpha(
    text: str, height_px: float, width_px: float, rng: np.random.Generator
) -> FloatImage:
    """Rasterise ``text`` in a script font, slanted and wobbly, as a float mask.

    Args:
        text: Characters to write.
        height_px: Cap height in pixels.
        width_px: Stroke width in pixels.
        rng: Random source for slant and wobble.

    Returns:
        float32 mask (h, w) in 0..1, tight around the text.

    Examples:
        >>> m = handwriting_alpha("42", 30, 3, np.random.default_rng(0))
        >>> m.dtype.name, bool(m.max() > 0.9)
        ('float32', True)
    """
    font = cv2.FONT_HERSHEY_SCRIPT_SIMPLEX
    scale = height_px / 22.0
    thick = max(1, int(round(width_px)))
    (tw, th), base = cv2.getTextSize(text, font, scale, thick)
    pad = thick + int(0.4 * height_px)
    mask = np.zeros((th + base + 2 * pad, tw + 2 * pad), np.uint8)
    cv2.putText(mask, text, (pad, pad + th), font, scale, 255, thick, cv2.LINE_AA)
    h, w = mask.shape
    slant = rng.uniform(-0.25, 0.1)
    m = np.array([[1, slant, -slant * h / 2], [0, 1, 0]], np.float32)
    m[:, :2] = m[:, :2] @ cv2.getRotationMatrix2D((0, 0), rng.uniform(-6, 6), 1.0)[:, :2]
    out = cv2.warpAffine(mask, m, (w, h))
    return np.asarray(out, np.float32) / 255.0


def draw_text(
    page: ColorImage,
    text: str,
    center_px: tuple[float, float],
    height_px: float,
    tool: Instrument,
    px_per_mm: float,
    rng: np.random.Generator,
    *,
    allowed: Callable[[tuple[int, int, int, int]], bool] | None = None,
) -> tuple[int, int, int, int] | None:
    """Handwrite ``text`` centred on a point.

    Args:
        page: BGR page, modified in place.
        text: Characters to write.
        center_px: Centre of the text, page pixels.
        height_px: Cap height, pixels.
        tool: Instrument.
        px_per_mm: Page resolution.
        rng: Random source.
        allowed: Called with the inked box ``(x0, y0, x1, y1)`` (page px) before
            drawing; when it returns False nothing is drawn.

    Returns:
        The inked box, or None when ``allowed`` refused it.

    Examples:
        >>> from omr.synth.instruments import sample_instrument
        >>> page = np.full((60, 120, 3), 255, np.uint8)
        >>> tool = sample_instrument(np.random.default_rng(0), "pen_blue")
        >>> box = draw_text(page, "7", (60, 30), 20, tool, 10.0, np.random.default_rng(1))
        >>> bool(page.min() < 200)
        True
    """
    alpha = handwriting_alpha(text, height_px, tool.width_mm * px_per_mm, rng)
    h, w = alpha.shape
    x0, y0 = int(round(center_px[0] - w / 2)), int(round(center_px[1] - h / 2))
    ys, xs = np.nonzero(alpha > 0.05)
    if len(xs) == 0:
        return None
    box = (x0 + int(xs.min()), y0 + int(ys.min()), x0 + int(xs.max()), y0 + int(ys.max()))
    if allowed is not None and not allowed(box):
        return None
    _apply_alpha(page, _texture(rng, alpha, tool, px_per_mm), x0, y0, tool.absorb_bgr)
    return box
