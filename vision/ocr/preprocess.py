"""Page preprocessing before OCR: gray, deskew, text-size normalisation, binarisation.

Each step is measured on the bench pages (``bench/ocr.py``); none is a guess:

* **Deskew** by projection profile: the angle whose row sums of ink are the
  most peaked is the text's baseline angle (searched coarse then fine on a
  small copy, so it costs milliseconds).
* **Scale** so that the median glyph height is near
  :data:`TARGET_GLYPH_PX`: small text is upscaled (Tesseract's LSTM loses
  characters below ~20 px), large text downscaled (same accuracy, less time).
* **Binarise** with a local (adaptive Gaussian) threshold when the
  background is uneven (phone photos: shadows and light gradients), where a
  global Otsu threshold blackens the dark side of the page; clean scans keep
  their gray levels (Tesseract thresholds them well itself).
* **Denoise** a grainy page (sensor grain above
  :data:`vision.ocr.quality.NOISY_SIGMA` grey levels on blank paper,
  measured by :func:`vision.ocr.quality.measure`) with a Gaussian sized to
  the text before the local threshold: thresholded grain becomes speckle
  that Tesseract reads as characters. Pages without grain are untouched.

Frames:
    :class:`Prepared` maps boxes from the prepared image back to the input
    page's pixels (:meth:`Prepared.to_page_box`).

Examples:
    >>> import numpy as np
    >>> page = np.full((400, 600), 255, np.uint8)
    >>> for y in range(60, 340, 40): page[y:y + 30, 50:550:8] = 0
    >>> prep = prepare_page(page)
    >>> prep.angle_deg, prep.scale, prep.glyph_px, prep.to_page_box((10, 10, 20, 20))
    (0.0, 1.0, 30.0, (10, 10, 20, 20))
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cached_property

import cv2
import numpy as np
import numpy.typing as npt

from aicore.page.outline import find_sheet_quad
from aicore.page.skew import rotation_matrix as _rotation_matrix
from aicore.page.skew import shrink_to_width as _shrink
from aicore.page.skew import skew_deg_from_ink as estimate_skew_deg
from vision.ocr.leaders import find_leaders
from vision.ocr.quality import DENOISE_SIGMA_PX, NOISY_SIGMA, PageQuality, denoise_sigma, measure
from vision.ocr.reversed import lift_reversed_text
from vision.ocr.types import BoxXYWH

__all__ = [
    "Prepared",
    "estimate_glyph_height_px",
    "estimate_skew_deg",
    "ink_mask",
    "find_rules",
    "find_sheet_quad",
    "prepare_page",
    "stroke_share",
    "to_gray",
]

GrayImage = npt.NDArray[np.uint8]

#: line height (ascender to descender) Tesseract's LSTM reads best at: its
#: line normaliser works at 36 px; 10.5 pt at 200 dpi (the bench's clean
#: case) gives about 30 px lines.
TARGET_GLYPH_PX = 30.0
#: rescale only outside this band around the target (resampling blurs a little).
SCALE_BAND = (0.6, 1.6)
#: never upscale past this factor (a page of 6 px noise would become huge).
MAX_UPSCALE = 3.0
#: below this the rotation would cost more (resampling) than it fixes.
MIN_SKEW_DEG = 0.15
#: background unevenness (std of the blurred background / its mean) above
#: which the page is treated as a photo and thresholded locally.
UNEVEN_BACKGROUND = 0.06
#: percentiles of the background brightness whose half range is its robust spread (one sigma each side).
BACKGROUND_PERCENTILES = (16, 50, 84)
#: adaptive threshold: window in glyph heights, and offset below the local mean.
ADAPTIVE_WINDOW_GLYPHS = 1.5
ADAPTIVE_OFFSET = 12
#: strokes wider than this share of the text height after the local threshold are
#: bold from blur (a serif ``을`` filled to ``읍``, digits fused with their rings):
#: the page is thresholded again :data:`BOLD_OFFSET` grey levels below the local
#: mean. Measured on 7 photos of sets (a) and (b): 0.120-0.133 at offset 12;
#: the three above 0.125 read at CER 6.7/24.4/3.1 % with 12 and 4.8/8.2/2.0 % with
#: 20; the four below read worse with 20 (thin serif strokes break).
BOLD_STROKE_SHARE = 0.125
BOLD_OFFSET = 20
#: the flattened sheet loses this share of its size at each edge (the paper's
#: edge and the desk's shadow are not text).
SHEET_EDGE_TRIM = 0.006
#: ruled lines: a horizontal ink run this many glyph heights long, a vertical
#: one this tall (a bracket or ``|`` is about one glyph; a table cell border 1.5+).
RULE_H_GLYPHS = 3.0
RULE_V_GLYPHS = 1.6
#: gaps up to this many glyph heights in a photographed vertical rule are
#: bridged (text lines lie farther apart than that).
RULE_GAP_GLYPHS = 0.12
#: a row run shorter than this (px) is a rule line or speckle, not a text line.
MIN_GLYPH_PX = 6
#: strip width for the line-height runs: narrow enough that 3 degrees of skew
#: shift a baseline by under a fifth of a 28 px line.
SKEW_STRIP_PX = 100
#: a row of a strip is inked when it holds at least this many ink pixels.
MIN_ROW_INK_PX = 2


@dataclass(frozen=True, eq=False)
class Prepared:
    """A page ready for OCR and the way back to the page's pixels.

    Args:
        image: ``(H, W)`` uint8 that the OCR engine reads (gray or 0/255).
        ink: ``(H, W)`` uint8, 1 where there is ink, same frame as ``image``.
        scale: prepared pixels per page pixel (after any page rectification).
        angle_deg: rotation applied (counter-clockwise, about the image centre).
        page_wh: the input page's ``(width, height)``.
        binarized: whether ``image`` was locally thresholded.
        glyph_px: median text line height in ``image`` pixels (0 when no text).
        matrix: ``(3, 3)`` homography from input page pixels to ``image`` pixels
            (rectification of a photographed sheet, scale, rotation).
        rectified: whether a photographed sheet was found and flattened.
        quality: the page's measured grain, blur, contrast and text height (before scaling).
        denoise_sigma_px: Gaussian sigma the page was smoothed with (0.0: not smoothed).
    """

    image: GrayImage
    ink: GrayImage
    scale: float
    angle_deg: float
    page_wh: tuple[int, int]
    binarized: bool
    glyph_px: float
    matrix: npt.NDArray[np.float64]
    rectified: bool = False
    quality: PageQuality = PageQuality(noise_sigma=0.0, blur_px=0.0, contrast=0.0, glyph_px=0.0)
    denoise_sigma_px: float = 0.0

    def to_page_box(self, box: BoxXYWH) -> BoxXYWH:
        """Map an ``(x, y, w, h)`` box of :attr:`image` to the input page's pixels."""
        x, y, w, h = box
        corners = np.array([[[x, y], [x + w, y], [x, y + h], [x + w, y + h]]], dtype=np.float64)
        xs, ys = cv2.perspectiveTransform(corners, self._inverse)[0].T.tolist()
        pw, ph = self.page_wh
        x0 = min(max(math.floor(min(xs)), 0), pw)
        y0 = min(max(math.floor(min(ys)), 0), ph)
        x1 = min(max(math.ceil(max(xs)), 0), pw)
        y1 = min(max(math.ceil(max(ys)), 0), ph)
        return (x0, y0, x1 - x0, y1 - y0)

    @cached_property
    def _inverse(self) -> npt.NDArray[np.float64]:
        """:attr:`matrix` inverted once (every word's box is mapped back)."""
        return np.asarray(np.linalg.inv(self.matrix), dtype=np.float64)


def to_gray(image: npt.NDArray[np.uint8]) -> GrayImage:
    """``(H, W)`` or ``(H, W, 3)`` BGR uint8 to ``(H, W)`` gray.

    Examples:
        >>> to_gray(np.zeros((2, 3, 3), np.uint8)).shape
        (2, 3)
    """
    if image.ndim == 2:
        return image
    return np.asarray(cv2.cvtColor(image, cv2.COLOR_BGR2GRAY), dtype=np.uint8)


def ink_mask(gray: GrayImage, *, local: bool, glyph_px: float = TARGET_GLYPH_PX, offset: int = ADAPTIVE_OFFSET) -> GrayImage:
    """1 where ``gray`` is ink: Otsu when ``local`` is false, adaptive Gaussian (``offset`` grey levels below the local mean) otherwise."""
    if local:
        gray = np.asarray(cv2.medianBlur(gray, 3), dtype=np.uint8)  # sensor noise would otherwise become speckle
        window = max(15, int(glyph_px * ADAPTIVE_WINDOW_GLYPHS) | 1)
        binary = cv2.adaptiveThreshold(gray, 1, cv2.ADAPTIVE_THRESH_GAUSSIAN_C, cv2.THRESH_BINARY_INV, window, offset)
        return np.asarray(binary, dtype=np.uint8)
    _, binary = cv2.threshold(gray, 0, 1, cv2.THRESH_BINARY_INV | cv2.THRESH_OTSU)
    return np.asarray(binary, dtype=np.uint8)


def stroke_share(ink: GrayImage, glyph_px: float) -> float:
    """Mean stroke width of ``ink`` as a share of the text height (0 without ink).

    The width is twice the ink's area over its outline's length (exact for a
    long bar). Regular text prints near 0.08 of its line height; a blurred
    photo thresholded locally grows its strokes past 0.125 (see
    :data:`BOLD_STROKE_SHARE`).

    Examples:
        >>> m = np.zeros((60, 200), np.uint8); m[10:50, 20:180:20] = 1; m[10:50, 21:180:20] = 1; m[10:50, 22:180:20] = 1
        >>> round(stroke_share(m, glyph_px=40.0), 3)
        0.073
    """
    if glyph_px <= 0 or not ink.any():
        return 0.0
    inner = np.asarray(cv2.erode(ink, np.ones((3, 3), np.uint8), borderType=cv2.BORDER_CONSTANT, borderValue=0), dtype=np.uint8)
    outline = int(np.count_nonzero(ink & (1 - inner)))
    return 2.0 * int(np.count_nonzero(ink)) / max(1, outline) / glyph_px


def background_unevenness(gray: GrayImage) -> float:
    """Relative spread of the page's background brightness (0 for a flat scan).

    The background is the gray image closed (ink removed) on a small copy;
    its spread is the robust one (half the 16th-84th percentile range, the
    standard deviation of a normal spread), relative to its median: a solid
    coloured band or a grey table header (a few percent of the page) is not
    an uneven background, a shadow or a light gradient across the page is.
    A clean render with a coloured heading band measured 0.07 by the plain
    standard deviation and was thresholded locally, which broke the thin
    rings of its circled numbers (issue 16, set b).

    Examples:
        >>> page = np.full((400, 300), 250, np.uint8); page[20:40, 10:290] = 60   # a heading band
        >>> background_unevenness(page) < 0.01
        True
        >>> ramp = np.tile(np.linspace(150, 250, 300).astype(np.uint8), (400, 1))   # a light gradient
        >>> background_unevenness(ramp) > UNEVEN_BACKGROUND
        True
    """
    small = _shrink(gray, 300)
    background = cv2.morphologyEx(small, cv2.MORPH_CLOSE, np.ones((9, 9), np.uint8))
    background = cv2.GaussianBlur(background, (0, 0), 5)
    low, median, high = (float(v) for v in np.percentile(background, BACKGROUND_PERCENTILES))
    return (high - low) / 2.0 / (median or 1.0)


def estimate_glyph_height_px(ink: GrayImage) -> float:
    """Median height of the text lines in ``ink`` (0 when none), from row runs in narrow strips.

    Each vertical strip (narrow, so a few degrees of skew do not merge lines)
    is projected on its rows; a run of inked rows is one line's glyph height,
    ascenders to descenders. Robust to broken glyphs and speckle, unlike
    component heights.

    Examples:
        >>> m = np.zeros((200, 400), np.uint8)
        >>> for y in (20, 70, 120): m[y:y + 22, 30:370:9] = 1
        >>> estimate_glyph_height_px(m)
        22.0
    """
    h, w = ink.shape
    strips = max(1, w // max(1, SKEW_STRIP_PX))
    runs: list[int] = []
    for i in range(strips):
        strip = ink[:, i * w // strips : (i + 1) * w // strips]
        rows = np.count_nonzero(strip, axis=1) >= MIN_ROW_INK_PX
        edges = np.diff(np.concatenate(([0], rows.astype(np.int8), [0])))
        starts, stops = np.nonzero(edges == 1)[0], np.nonzero(edges == -1)[0]
        lengths = stops - starts
        runs.extend(int(v) for v in lengths[(lengths >= MIN_GLYPH_PX) & (lengths <= h // 4)])
    if not runs:
        return 0.0
    return float(np.median(runs))


def prepare_page(page: npt.NDArray[np.uint8], *, binarize: bool | None = None, deskew: bool = True,
                 rectify: bool = True) -> Prepared:
    """Flatten, gray, deskew, scale and (for uneven pages) binarise one page.

    Args:
        page: ``(H, W)`` gray or ``(H, W, 3)`` BGR uint8, in page pixels.
        binarize: force local thresholding on or off; ``None`` decides from
            the background's unevenness (:data:`UNEVEN_BACKGROUND`).
        deskew: estimate and undo the text's rotation.
        rectify: find a photographed sheet on a desk and flatten its perspective.
    """
    gray = to_gray(page)
    ph, pw = gray.shape
    matrix = np.eye(3)
    work = gray
    quad = find_sheet_quad(gray) if rectify else None
    if quad is not None:
        sheet_h, flat = _flatten(quad)
        matrix = sheet_h
        work = np.asarray(cv2.warpPerspective(gray, sheet_h, flat, flags=cv2.INTER_LINEAR, borderValue=255), dtype=np.uint8)
    work = lift_reversed_text(work)  # white on a coloured band: dark letters on paper
    quality = measure(work, glyph_px=0.0)
    noisy = quality.noise_sigma > NOISY_SIGMA and binarize is not False
    probe = _smooth(work, DENOISE_SIGMA_PX) if noisy else work
    uneven = background_unevenness(probe) > UNEVEN_BACKGROUND
    local = (uneven or noisy) if binarize is None else binarize
    ink = ink_mask(probe, local=local)
    # dot leaders of a contents page look like a page of tiny text lines
    glyph = estimate_glyph_height_px(np.where(find_leaders(ink) > 0, np.uint8(0), ink).astype(np.uint8))
    quality = PageQuality(quality.noise_sigma, quality.blur_px, quality.contrast, glyph)
    sigma = denoise_sigma(quality) if noisy else 0.0
    if sigma:
        work = _smooth(work, sigma)
        if sigma != DENOISE_SIGMA_PX:
            ink = ink_mask(work, local=local, glyph_px=glyph or TARGET_GLYPH_PX)
    scale = 1.0
    if glyph > 0:
        ratio = TARGET_GLYPH_PX / glyph
        if not SCALE_BAND[0] <= ratio <= SCALE_BAND[1]:
            scale = min(ratio, MAX_UPSCALE)
    angle = estimate_skew_deg(ink) if deskew and glyph > 0 else 0.0
    if abs(angle) < MIN_SKEW_DEG:
        angle = 0.0
    if scale != 1.0:
        h0, w0 = work.shape
        interp = cv2.INTER_CUBIC if scale > 1 else cv2.INTER_AREA
        work = np.asarray(cv2.resize(work, (max(1, round(w0 * scale)), max(1, round(h0 * scale))), interpolation=interp), dtype=np.uint8)
        matrix = np.diag([scale, scale, 1.0]) @ matrix
    if angle:
        h1, w1 = work.shape
        rotation = _rotation_matrix(w1, h1, angle)
        work = np.asarray(cv2.warpAffine(work, rotation, (w1, h1), flags=cv2.INTER_LINEAR, borderValue=255), dtype=np.uint8)
        matrix = np.vstack([rotation, [0.0, 0.0, 1.0]]) @ matrix
    if scale != 1.0 or angle:
        ink = ink_mask(work, local=local, glyph_px=glyph * scale)
    if local and stroke_share(ink, glyph * scale) > BOLD_STROKE_SHARE:
        ink = ink_mask(work, local=True, glyph_px=glyph * scale, offset=BOLD_OFFSET)
    image = np.where(ink > 0, 0, 255).astype(np.uint8) if local else np.asarray(work, dtype=np.uint8)
    return Prepared(
        image=image, ink=ink, scale=scale, angle_deg=angle, page_wh=(pw, ph), binarized=local,
        glyph_px=glyph * scale, matrix=matrix, rectified=quad is not None, quality=quality, denoise_sigma_px=sigma,
    )


def find_rules(ink: GrayImage, glyph_px: float) -> GrayImage:
    """1 on ruled lines: table borders, frames, underlines and column rules (not text strokes).

    A horizontal run of ink longer than :data:`RULE_H_GLYPHS` glyph heights
    or a vertical one taller than :data:`RULE_V_GLYPHS` is a drawn line: no
    Hangul, Latin or digit stroke is that long. Tesseract reads such lines
    as ``|``, ``[``, ``_`` or merges them into the neighbouring letters.

    Examples:
        >>> m = np.zeros((60, 200), np.uint8); m[30, 10:190] = 1; m[5:25, 50] = 1
        >>> r = find_rules(m, glyph_px=20.0)
        >>> int(r[30].sum()), int(r[5:25, 50].sum())
        (180, 0)
    """
    if glyph_px <= 0:
        return np.zeros_like(ink)
    h_len = max(3, int(glyph_px * RULE_H_GLYPHS)) | 1  # odd kernels: even ones shift the result a pixel
    v_len = max(3, int(glyph_px * RULE_V_GLYPHS)) | 1
    # photographed vertical rules break into dashes after thresholding: bridge
    # small gaps first (vertically only: bridging along a text line would
    # turn words into "rules")
    bridge = max(1, int(glyph_px * RULE_GAP_GLYPHS)) | 1
    v_closed = cv2.morphologyEx(ink, cv2.MORPH_CLOSE, np.ones((bridge, 1), np.uint8))
    horizontal = np.asarray(cv2.morphologyEx(ink, cv2.MORPH_OPEN, np.ones((1, h_len), np.uint8)), dtype=np.uint8)
    vertical = np.asarray(cv2.morphologyEx(v_closed, cv2.MORPH_OPEN, np.ones((v_len, 1), np.uint8)), dtype=np.uint8)
    rules = np.asarray((horizontal | vertical) > 0, dtype=np.uint8)
    # and cover their soft edges (one pixel each side)
    grown = np.asarray(cv2.dilate(rules, np.ones((3, 3), np.uint8)), dtype=np.uint8)
    return np.asarray(grown & (ink | rules), dtype=np.uint8)


def _flatten(quad: npt.NDArray[np.float32]) -> tuple[npt.NDArray[np.float64], tuple[int, int]]:
    """Homography taking ``quad`` to an upright rectangle of its own size, edges trimmed."""
    tl, tr, br, bl = quad
    width = float(max(np.linalg.norm(tr - tl), np.linalg.norm(br - bl)))
    height = float(max(np.linalg.norm(bl - tl), np.linalg.norm(br - tr)))
    trim = SHEET_EDGE_TRIM * min(width, height)
    target = np.array(
        [[-trim, -trim], [width + trim, -trim], [width + trim, height + trim], [-trim, height + trim]], dtype=np.float32
    )
    homography = cv2.getPerspectiveTransform(quad.astype(np.float32), target)
    return np.asarray(homography, dtype=np.float64), (max(1, round(width)), max(1, round(height)))


def _smooth(gray: GrayImage, sigma_px: float) -> GrayImage:
    return np.asarray(cv2.GaussianBlur(gray, (0, 0), sigma_px), dtype=np.uint8)
