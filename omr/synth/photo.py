"""Phone-camera simulation: a printed sheet photographed on a desk.

The filled page (rendered once at ~300 dpi) is warped straight into the final
frame with one homography (camera tilt up to 30 degrees, any in-plane
rotation, sheet covering 40-90% of the frame, always fully inside), then
lit unevenly (gradient, vignetting, hand/phone shadows, glare, colour cast),
blurred (defocus, motion), given sensor grain and JPEG-compressed at quality
50-90. Output frames are 8-12 MP.
"""

from __future__ import annotations

from typing import Any

import cv2
import numpy as np
import numpy.typing as npt

from omr.synth.background import make_background
from omr.synth.raster import ColorImage, add_noise, encode_jpeg, px_per_mm, smooth_field

FRAMES_WH = ((4000, 3000), (4032, 3024), (3264, 2448), (3648, 2736), (4000, 2250), (4160, 2340))
"""Phone frame sizes (landscape), 8.2-12.2 MP."""

Homography = npt.NDArray[np.float64]
"""3x3 projective map, page millimetres -> frame pixels."""


def _camera_quad(
    rng: np.random.Generator,
    page_wh_mm: tuple[float, float],
    frame_wh: tuple[int, int],
    tilt_deg: float,
    rotation_deg: float,
    fraction: float,
) -> tuple[npt.NDArray[np.float64], float]:
    """Frame positions of the page corners (TL, TR, BR, BL) and the area fraction used."""
    pw, ph = page_wh_mm
    fw, fh = frame_wh
    corners = np.array(
        [[-pw / 2, -ph / 2, 0], [pw / 2, -ph / 2, 0], [pw / 2, ph / 2, 0], [-pw / 2, ph / 2, 0]]
    )
    axis_angle = rng.uniform(0, 2 * np.pi)
    axis = np.array([np.cos(axis_angle), np.sin(axis_angle), 0.0])
    rot, _ = cv2.Rodrigues(axis * np.radians(tilt_deg))
    focal = max(fw, fh) * rng.uniform(0.7, 0.95)
    distance = focal * pw / (0.75 * max(fw, fh))
    p3 = corners @ rot.T + np.array([0, 0, distance])
    uv = focal * p3[:, :2] / p3[:, 2:3]
    c, s = np.cos(np.radians(rotation_deg)), np.sin(np.radians(rotation_deg))
    uv = uv @ np.array([[c, -s], [s, c]]).T
    area = 0.5 * abs(
        np.dot(uv[:, 0], np.roll(uv[:, 1], 1)) - np.dot(uv[:, 1], np.roll(uv[:, 0], 1))
    )
    k = np.sqrt(fraction * fw * fh / area)
    span = uv.max(0) - uv.min(0)
    k = min(k, 0.98 * fw / span[0], 0.98 * fh / span[1])
    uv *= k
    lo, hi = uv.min(0), uv.max(0)
    free = np.array([fw, fh]) - (hi - lo)
    offset = -lo + rng.uniform(0.1, 0.9, 2) * free
    quad = uv + offset
    return quad, float(area * k * k / (fw * fh))


def _light_field(
    rng: np.random.Generator, frame_wh: tuple[int, int], cond: dict[str, Any]
) -> ColorImage:
    """Per-pixel BGR gain x 128 (uint8): gradient, vignetting, shadows, colour cast."""
    fw, fh = frame_wh
    w, h = 160, max(2, round(160 * fh / fw))
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    xx, yy = xx / w - 0.5, yy / h - 0.5
    base = rng.uniform(0.6, 1.05)
    g_ang, g_amp = rng.uniform(0, 2 * np.pi), rng.uniform(0, 0.35)
    gain = base * (1 + g_amp * (np.cos(g_ang) * xx + np.sin(g_ang) * yy) * 2)
    vig = rng.uniform(0, 0.4)
    gain *= 1 - vig * (xx**2 + yy**2) * 2
    gain *= smooth_field(rng, (w, h), 4, 0.92, 1.0)
    n_shadows = int(rng.choice([0, 0, 1, 1, 2]))
    depth = 0.0
    for _ in range(n_shadows):
        depth = rng.uniform(0.25, 0.6)
        mask = np.zeros((h, w), np.float32)
        cx, cy = rng.uniform(0, w), rng.uniform(0, h)
        pts = np.stack([cx + rng.uniform(-0.5, 0.5, 5) * w, cy + rng.uniform(-0.5, 0.5, 5) * h], 1)
        # a hand / phone blocks the light from one side: extend the polygon off frame
        edge = rng.integers(4)
        far = {0: (cx, -h), 1: (2 * w, cy), 2: (cx, 2 * h), 3: (-w, cy)}[int(edge)]
        pts = np.vstack([pts, np.array(far)[None, :]])
        cv2.fillConvexPoly(mask, cv2.convexHull(pts.astype(np.int32)), 1.0)
        soft = rng.uniform(1.5, 6.0)
        mask = np.asarray(cv2.GaussianBlur(mask, (0, 0), soft), np.float32)
        gain *= 1 - depth * mask
    cast = np.array(
        [rng.uniform(0.8, 1.1), rng.uniform(0.93, 1.03), rng.uniform(0.9, 1.15)], np.float32
    )
    field = (gain[..., None] * cast[None, None, :] * 128).clip(0, 255).astype(np.uint8)
    cond.update(
        light=round(float(base), 3),
        gradient=round(float(g_amp), 3),
        vignette=round(float(vig), 3),
        shadows=n_shadows,
        shadow_depth=round(float(depth), 3),
        color_cast=[round(float(v), 3) for v in cast],
    )
    return cv2.resize(field, (fw, fh), interpolation=cv2.INTER_LINEAR)


def _glare(rng: np.random.Generator, frame: ColorImage, cond: dict[str, Any]) -> None:
    """A soft specular hot spot (lamp or flash), 15% of photos."""
    amp = float(rng.uniform(25, 60)) if rng.uniform() < 0.15 else 0.0
    cond["glare"] = round(amp, 1)
    if amp == 0:
        return
    fh, fw = frame.shape[:2]
    w, h = 160, max(2, round(160 * fh / fw))
    blob = np.zeros((h, w), np.float32)
    cv2.circle(blob, (int(rng.integers(w)), int(rng.integers(h))), int(rng.uniform(6, 20)), amp, -1)
    blob = cv2.GaussianBlur(blob, (0, 0), rng.uniform(4, 10))
    spot = cv2.resize(blob.astype(np.uint8), (fw, fh), interpolation=cv2.INTER_LINEAR)
    frame[...] = cv2.add(frame, cv2.merge([spot, spot, spot]))


def _blur(rng: np.random.Generator, frame: ColorImage, cond: dict[str, Any]) -> None:
    sigma = float(rng.uniform(0.3, 2.2))
    frame[...] = cv2.GaussianBlur(frame, (0, 0), sigma)
    motion = float(rng.uniform(2, 9)) if rng.uniform() < 0.25 else 0.0
    if motion:
        n = int(np.ceil(motion)) | 1
        kernel = np.zeros((n, n), np.float32)
        kernel[n // 2, :] = 1.0
        rot = cv2.getRotationMatrix2D((n / 2 - 0.5, n / 2 - 0.5), rng.uniform(0, 180), 1.0)
        kernel = np.asarray(cv2.warpAffine(kernel, rot, (n, n)), np.float32)
        frame[...] = cv2.filter2D(frame, -1, kernel / kernel.sum())
    cond.update(blur_sigma_px=round(sigma, 2), motion_px=round(motion, 1))


def _thumb(
    rng: np.random.Generator,
    frame: ColorImage,
    h_mm: Homography,
    meta: dict[str, Any],
    cond: dict[str, Any],
) -> None:
    """Cover one corner marker with a thumb coming in from outside the page."""
    markers = [m for m in meta["markers"] if m.get("kind") != "edge"]
    if not markers:
        return
    m = markers[int(rng.integers(len(markers)))]
    mx, my, size = float(m["center"]["x"]), float(m["center"]["y"]), float(m["size"])
    pw, ph = float(meta["page"]["size"]["width"]), float(meta["page"]["size"]["height"])
    bubbles = [b for b in meta["identifier"]["bubbles"]] + [
        c for q in meta["questions"] for c in q["choices"]
    ]
    clear = (
        min(np.hypot(b["center"]["x"] - mx, b["center"]["y"] - my) - b["r"] for b in bubbles)
        if bubbles
        else 3 * size
    )
    out = np.array([mx - pw / 2, my - ph / 2])
    out /= np.linalg.norm(out)
    # a thumb: an ellipse over the marker, its long axis running off the page
    radius_mm = float(
        np.clip(rng.uniform(8.0, 11.0), size * 0.75 + 0.5, max(size * 0.75 + 0.5, clear - 2.0))
    )
    length = float(rng.uniform(35.0, 60.0))
    t = np.linspace(0, 2 * np.pi, 64)
    centre = np.array([mx, my]) + out * (length - radius_mm * 1.1)
    perp = np.array([-out[1], out[0]])
    pts_mm = centre + np.outer(np.cos(t) * length, out) + np.outer(np.sin(t) * radius_mm, perp)
    pts_px = cv2.perspectiveTransform(pts_mm[None].astype(np.float64), h_mm)[0]
    skin = np.array([rng.uniform(90, 170), rng.uniform(120, 190), rng.uniform(170, 240)])
    cv2.fillPoly(frame, [np.round(pts_px).astype(np.int32)], skin.tolist(), cv2.LINE_AA)
    cond["thumb_marker"] = str(m["id"])


def simulate_photo(
    page: ColorImage,
    page_dpi: float,
    meta: dict[str, Any],
    rng: np.random.Generator,
    *,
    thumb: bool = False,
    frame_wh: tuple[int, int] | None = None,
) -> tuple[bytes, dict[str, Any]]:
    """Photograph a filled page with a phone.

    Args:
        page: Filled BGR page (H, W, 3) uint8 at ``page_dpi``, A4 landscape.
        page_dpi: Resolution of ``page``.
        meta: Template meta (mm); only the page size and, for ``thumb``, markers.
        rng: Random source; same seed, same bytes.
        thumb: Cover one corner marker with a thumb.
        frame_wh: Force the frame size; random 8-12 MP when None.

    Returns:
        JPEG bytes and the capture condition (tilt, rotation, light, blur, ...),
        including ``page_quad_px``: the page corners TL, TR, BR, BL in the frame.

    Examples:
        >>> meta = {"page": {"size": {"width": 297, "height": 210}}, "markers": []}
        >>> page = np.full((210, 297, 3), 255, np.uint8)
        >>> data, cond = simulate_photo(page, 25.4, meta, np.random.default_rng(0), frame_wh=(400, 300))
        >>> cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR).shape
        (300, 400, 3)
    """
    pw, ph = float(meta["page"]["size"]["width"]), float(meta["page"]["size"]["height"])
    cond: dict[str, Any] = {"kind": "photo"}
    if frame_wh is None:
        fw, fh = FRAMES_WH[int(rng.integers(len(FRAMES_WH)))]
        frame_wh = (fh, fw) if rng.uniform() < 0.4 else (fw, fh)
    tilt = float(30 * rng.uniform() ** 0.8)
    # The photographer frames the sheet: a rotation that cannot fill 40% of the
    # frame (e.g. 45 degrees in a 4:3 frame) is re-drawn, as a person would turn the phone.
    best: tuple[float, float, npt.NDArray[np.float64]] | None = None
    for _ in range(8):
        if rng.uniform() < 0.85:
            rotation = float(
                rng.choice([0, 90, 180, 270], p=[0.55, 0.15, 0.15, 0.15]) + rng.normal(0, 5)
            )
        else:
            rotation = float(rng.uniform(0, 360))
        fraction = float(rng.uniform(0.4, 0.9))
        quad, used = _camera_quad(rng, (pw, ph), frame_wh, tilt, rotation, fraction)
        if best is None or used > best[0]:
            best = (used, rotation, quad)
        if used >= 0.4:
            break
    assert best is not None
    used, rotation, quad = best
    corners_mm = np.array([[0, 0], [pw, 0], [pw, ph], [0, ph]], np.float32)
    h_mm = np.asarray(cv2.getPerspectiveTransform(corners_mm, quad.astype(np.float32)), np.float64)
    scale = px_per_mm(page_dpi)
    h_page = h_mm @ np.diag([1 / scale, 1 / scale, 1.0])
    frame, bg_kind = make_background(rng, frame_wh)
    paper = rng.uniform(0.9, 1.0)
    src = page if paper > 0.995 else cv2.convertScaleAbs(page, alpha=paper)
    cv2.warpPerspective(
        src, h_page, frame_wh, dst=frame, flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_TRANSPARENT
    )
    cond.update(
        frame_wh=list(frame_wh),
        tilt_deg=round(tilt, 2),
        rotation_deg=round(rotation % 360, 2),
        area_fraction=round(used, 3),
        background=bg_kind,
        paper=round(float(paper), 3),
        page_quad_px=[[round(float(x), 1), round(float(y), 1)] for x, y in quad],
    )
    if thumb:
        _thumb(rng, frame, h_mm, meta, cond)
    frame = np.asarray(
        cv2.multiply(frame, _light_field(rng, frame_wh, cond), scale=1 / 128), np.uint8
    )
    _glare(rng, frame, cond)
    _blur(rng, frame, cond)
    noise = float(rng.uniform(1.5, 7.0))
    add_noise(frame, noise, rng)
    quality = int(rng.integers(50, 91))
    cond.update(noise_sigma=round(noise, 2), jpeg_quality=quality)
    return encode_jpeg(frame, quality), cond


def no_sheet_photo(
    rng: np.random.Generator, *, blank_paper: bool = False, frame_wh: tuple[int, int] = (4000, 3000)
) -> tuple[bytes, dict[str, Any]]:
    """A phone photo with no answer sheet in it (for the engine's 'no page' error).

    Args:
        rng: Random source.
        blank_paper: Put a plain white A4 sheet (no markers, no bubbles) in view.
        frame_wh: Frame size.

    Returns:
        JPEG bytes and the capture condition.

    Examples:
        >>> data, cond = no_sheet_photo(np.random.default_rng(0), frame_wh=(320, 240))
        >>> cond["kind"], data[:2] == b"\\xff\\xd8"
        ('no_sheet', True)
    """
    cond: dict[str, Any] = {"kind": "no_sheet", "blank_paper": blank_paper}
    frame, bg_kind = make_background(rng, frame_wh)
    cond["background"] = bg_kind
    if blank_paper:
        quad, _ = _camera_quad(
            rng,
            (297.0, 210.0),
            frame_wh,
            float(rng.uniform(0, 25)),
            float(rng.uniform(0, 360)),
            float(rng.uniform(0.4, 0.8)),
        )
        white = int(rng.integers(215, 256))
        cv2.fillConvexPoly(
            frame, np.round(quad).astype(np.int32), (white, white, white), cv2.LINE_AA
        )
    frame = np.asarray(
        cv2.multiply(frame, _light_field(rng, frame_wh, cond), scale=1 / 128), np.uint8
    )
    _blur(rng, frame, cond)
    add_noise(frame, float(rng.uniform(1.5, 6.0)), rng)
    quality = int(rng.integers(50, 91))
    cond["jpeg_quality"] = quality
    return encode_jpeg(frame, quality), cond
