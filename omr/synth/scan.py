"""Flatbed / document-feeder scanner simulation.

The filled page is printed at 94-100% scale (a printer's "fit to page"),
laid on the glass with up to 2 degrees of skew and a few mm of shift, scanned
at 200-300 dpi (grey or colour), sometimes fed upside down (180 degrees) or
sideways (90/270, a landscape sheet through a portrait feeder), with paper
tone, dust, sensor noise, a slight blur and JPEG quality 70-95.
"""

from __future__ import annotations

from typing import Any

import cv2
import numpy as np

from omr.synth.raster import ColorImage, add_noise, encode_jpeg, px_per_mm, smooth_field


def simulate_scan(
    page: ColorImage,
    page_dpi: float,
    meta: dict[str, Any],
    rng: np.random.Generator,
    *,
    dpi: int | None = None,
) -> tuple[bytes, dict[str, Any]]:
    """Scan a filled page.

    Args:
        page: Filled BGR page (H, W, 3) uint8 at ``page_dpi``, A4 landscape.
        page_dpi: Resolution of ``page``.
        meta: Template meta (mm); only the page size is used.
        rng: Random source; same seed, same bytes.
        dpi: Force the scan resolution; random 200-300 when None.

    Returns:
        JPEG bytes (grey 80% of the time, else colour) and the capture condition.
        The image is the A4 page plus 0-4 mm of scanner lid per side.

    Examples:
        >>> meta = {"page": {"size": {"width": 297, "height": 210}}}
        >>> page = np.full((210, 297, 3), 255, np.uint8)
        >>> data, cond = simulate_scan(page, 25.4, meta, np.random.default_rng(0), dpi=50)
        >>> img = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_UNCHANGED)
        >>> h, w = sorted(img.shape[:2])
        >>> 413 <= h <= 413 + 16 and 585 <= w <= 585 + 16  # A4 at 50 dpi plus 0-4 mm of lid per side
        True
    """
    pw, ph = float(meta["page"]["size"]["width"]), float(meta["page"]["size"]["height"])
    dpi = int(rng.choice([200, 200, 240, 300, 300])) if dpi is None else dpi
    out_s, in_s = px_per_mm(dpi), px_per_mm(page_dpi)
    # the scanned area is the page plus 0-4 mm of lid per side (flatbed glass and
    # feeders capture a little beyond the sheet); the paper sits anywhere in it
    margin_mm = rng.uniform(0.0, 4.0, 2)
    w, h = round((pw + 2 * margin_mm[0]) * out_s), round((ph + 2 * margin_mm[1]) * out_s)
    scale = float(rng.uniform(0.94, 1.0))
    skew = float(rng.uniform(-2.0, 2.0))
    shift_mm = rng.uniform(-1.0, 1.0, 2) * (margin_mm + 1.0)
    print_off_mm = rng.uniform(-1.5, 1.5, 2) * (1 - scale) / 0.06
    color = rng.uniform() < 0.2
    # paper -> glass: skew about the paper centre, centred on the bed, then shifted
    pw_px, ph_px = pw * out_s, ph * out_s
    rot = cv2.getRotationMatrix2D((0.0, 0.0), skew, 1.0)
    centre_paper = np.array([pw_px / 2, ph_px / 2])
    rot[:, 2] = -rot[:, :2] @ centre_paper + np.array([w / 2, h / 2]) + shift_mm * out_s
    # printed content -> paper: scale about the centre plus the printer's offset
    content = np.array(
        [
            [scale * out_s / in_s, 0, (1 - scale) * pw_px / 2 + print_off_mm[0] * out_s],
            [0, scale * out_s / in_s, (1 - scale) * ph_px / 2 + print_off_mm[1] * out_s],
            [0, 0, 1],
        ]
    )
    m = rot @ content
    src = page if color else cv2.cvtColor(page, cv2.COLOR_BGR2GRAY)
    img = cv2.warpAffine(
        src,
        m,
        (w, h),
        flags=cv2.INTER_AREA if dpi < page_dpi else cv2.INTER_LINEAR,
        borderValue=(255, 255, 255),
    )
    # where the glass shows beside the skewed/shifted paper: the lid
    paper_mask = np.zeros((h, w), np.uint8)
    corners = np.array([[0, 0], [pw_px, 0], [pw_px, ph_px], [0, ph_px]], np.float64)
    glass = corners @ rot[:, :2].T + rot[:, 2]
    cv2.fillConvexPoly(paper_mask, np.round(glass).astype(np.int32), 255, cv2.LINE_AA)
    dirty = rng.uniform() < 0.3
    lid = float(rng.uniform(120, 200) if dirty else rng.uniform(225, 255))
    tone = float(rng.uniform(0.78, 0.92) if dirty else rng.uniform(0.93, 1.0))
    gain = smooth_field(rng, (w // 8, h // 8), 4, tone - 0.04, tone)
    gain = np.asarray(cv2.resize(gain, (w, h), interpolation=cv2.INTER_LINEAR), np.float32)
    alpha = paper_mask.astype(np.float32) / 255.0
    if color:
        gain, alpha = gain[..., None], alpha[..., None]
    img = (img * gain * alpha + lid * (1 - alpha)).clip(0, 255).astype(np.uint8)
    specks = int(rng.integers(0, 60 if dirty else 10))
    for _ in range(specks):
        c = (int(rng.integers(w)), int(rng.integers(h)))
        level = int(rng.integers(40, 160))
        cv2.circle(img, c, int(rng.integers(0, 2)), (level, level, level), -1)
    sigma = float(rng.uniform(0.3, 1.0))
    img = cv2.GaussianBlur(img, (0, 0), sigma)
    noise = float(rng.uniform(1.0, 5.0))
    add_noise(img, noise, rng)
    feed = int(rng.choice([0, 180, 90, 270], p=[0.65, 0.2, 0.075, 0.075]))
    img = np.ascontiguousarray(np.rot90(img, k=feed // 90)) if feed else img
    quality = int(rng.integers(70, 96))
    cond = {
        "kind": "scan",
        "dpi": dpi,
        "color": bool(color),
        "print_scale": round(scale, 4),
        "skew_deg": round(skew, 3),
        "bed_margin_mm": [round(float(v), 2) for v in margin_mm],
        "shift_mm": [round(float(v), 2) for v in shift_mm],
        "dirty": bool(dirty),
        "paper": round(tone, 3),
        "blur_sigma_px": round(sigma, 2),
        "noise_sigma": round(noise, 2),
        "feed_rotation_deg": feed,
        "jpeg_quality": quality,
    }
    return encode_jpeg(np.asarray(img, np.uint8), quality), cond
