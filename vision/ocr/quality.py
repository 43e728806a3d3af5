"""How good a page image is for OCR, measured before reading it, and how sure the read is after.

Measured on the gray page (after the sheet is flattened, before scaling):

* ``noise_sigma``: grey-level sigma of the sensor grain on blank paper: the
  robust spread (1.4826 MAD) of the image minus its Gaussian-smoothed self
  (sigma :data:`NOISE_SMOOTH_PX`), on background pixels only (those far from
  ink), in the central half of the page. 0 on a render; 4-20 on phone photos.
  JPEG and blur lower it a little (the bench's sigma 20 reads as ~19).
* ``blur_px``: the width of an ink edge, as the contrast divided by the
  steepest gradients (99.5th percentile) times sqrt(2 pi), which is the
  sigma of a Gaussian blur for a step edge; ~1.2 on a 200 dpi render.
* ``contrast``: paper (90th percentile) minus ink (2nd percentile) grey level.
* ``glyph_px``: median text line height (see :mod:`vision.ocr.preprocess`).

The preprocessing is chosen from them (:func:`denoise_sigma`): a page with
grain above :data:`NOISY_SIGMA` is smoothed with a Gaussian of
:data:`DENOISE_SIGMA_PX` (at 30 px text; scaled with its height) and
binarised locally; a clean page is left as it was, so its results do not
change. After the read, :func:`low_quality_reason` says whether the read is
probably garbage (expected CER above 15 %) and why.

Examples:
    >>> import numpy as np
    >>> flat = np.full((200, 300), 230, np.uint8)
    >>> measure(flat, glyph_px=0.0).noise_sigma
    0.0
    >>> rng = np.random.default_rng(0)
    >>> grainy = np.clip(230 + rng.normal(0, 12, (200, 300)), 0, 255).astype(np.uint8)
    >>> 9 < measure(grainy, glyph_px=0.0).noise_sigma < 13
    True
    >>> denoise_sigma(PageQuality(noise_sigma=12.0, blur_px=1.3, contrast=150.0, glyph_px=30.0))
    1.2
    >>> denoise_sigma(PageQuality(noise_sigma=0.5, blur_px=1.3, contrast=150.0, glyph_px=30.0))
    0.0
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np
import numpy.typing as npt

__all__ = ["PageQuality", "denoise_sigma", "low_quality_reason", "measure", "repeated_share"]

GrayImage = npt.NDArray[np.uint8]

#: smoothing that separates grain from the page (grain is finer; strokes and shading coarser).
NOISE_SMOOTH_PX = 3.0
#: a background pixel is one whose closing (ink removed) is within this many grey levels of its smoothed value.
BACKGROUND_TOLERANCE = 4.0
#: MAD to sigma for a normal distribution.
MAD_TO_SIGMA = 1.4826
#: grain above this sigma (grey levels) is smoothed before thresholding (measured on the
#: independent bench: below it, smoothing costs clean pages accuracy; above it, Tesseract's
#: own thresholding turns grain into speckle that it reads as characters).
NOISY_SIGMA = 4.0
#: the smoothing's sigma for 30 px text (scaled with the text height; the issue's measurement: 1.2).
DENOISE_SIGMA_PX = 1.2
#: text height the smoothing sigma refers to.
REFERENCE_GLYPH_PX = 30.0
#: the smoothing stays within these bounds (px).
DENOISE_SIGMA_RANGE = (0.8, 2.0)
#: reasons a read is low quality, measured against CER on the benches (``bench/ocr.py --sets``):
#: text lines lower than this (px, on the page as given) are too small to read.
MIN_GLYPH_PX = 9.0
#: an edge wider than this share of the text height is blurred past reading.
MAX_BLUR_SHARE = 0.12
#: grain above this sigma (after smoothing) still garbles the read.
MAX_NOISE_SIGMA = 22.0
#: a read whose character-weighted confidence is below this is probably garbage
#: (expected CER above 15 %; the calibration table is in docs/benchmarks-ocr.md):
#: on 32 pages of sets (a) and (b) no page under 15 % CER had a confidence under
#: 0.90, and a page at 48.9 % read with 0.82 (0.70 before flagged neither).
MIN_CONFIDENCE = 0.85
#: fewer words than this on a page with ink is no text lines (a photo of a desk, a drawing).
MIN_WORDS = 3
#: a measurement this many times past its limit flags the read whatever its confidence.
FAR_PAST = 2.0
#: words read covering less than this share of the page's ink: most of the text was not read
#: (a synth photo read as only its circled numbers, confidence 0.97, CER 98 %).
MIN_INK_READ = 0.5


#: letters in runs of this many identical letters or more are repeats (no Korean or English
#: word has three identical syllables or letters in a row; Tesseract's garbage does: "아아아아").
REPEAT_RUN = 3
#: a read whose letters are more than this share repeats is garbage whatever its confidence
#: (dot leaders read as "이해하라아아나아아아아마마아아"; a chosen bound, not fitted: a page of
#: ordinary text has none).
MAX_REPEATED_SHARE = 0.02


def repeated_share(text: str) -> float:
    """Share of the letters of ``text`` (spaces ignored) that stand in runs of :data:`REPEAT_RUN`+ identical letters.

    Digits and punctuation never count (``000``, ``...``, ``---`` are ordinary).

    Examples:
        >>> repeated_share("제1장 총칙 3")
        0.0
        >>> round(repeated_share("이해하라아아나아아아아마마아아"), 2)
        0.27
    """
    chars = [ch for ch in text if not ch.isspace()]
    letters = sum(ch.isalpha() for ch in chars)
    if not letters:
        return 0.0
    repeated, k = 0, 0
    while k < len(chars):
        j = k
        while j < len(chars) and chars[j] == chars[k]:
            j += 1
        if chars[k].isalpha() and j - k >= REPEAT_RUN:
            repeated += j - k
        k = j
    return repeated / letters


@dataclass(frozen=True)
class PageQuality:
    """What :func:`measure` found (see the module docstring for each).

    Args:
        noise_sigma: grain, grey levels.
        blur_px: edge width, pixels of the page as measured.
        contrast: paper minus ink, grey levels.
        glyph_px: median text line height, pixels of the page as measured (0 when none).
    """

    noise_sigma: float
    blur_px: float
    contrast: float
    glyph_px: float

    def to_dict(self) -> dict[str, float]:
        return {k: round(float(v), 2) for k, v in self.__dict__.items()}


def measure(gray: GrayImage, *, glyph_px: float) -> PageQuality:
    """Grain, edge blur and contrast of a ``(H, W)`` uint8 page; ``glyph_px`` as estimated by the caller."""
    h, w = gray.shape
    crop = gray[h // 4 : max(h // 4 + 1, 3 * h // 4), w // 4 : max(w // 4 + 1, 3 * w // 4)].astype(np.float32)
    smooth = cv2.GaussianBlur(crop, (0, 0), NOISE_SMOOTH_PX)
    closed = cv2.morphologyEx(cv2.GaussianBlur(crop, (0, 0), NOISE_SMOOTH_PX / 2), cv2.MORPH_CLOSE, np.ones((15, 15), np.uint8))
    residual = (crop - smooth)[(closed - smooth) < BACKGROUND_TOLERANCE]
    noise = MAD_TO_SIGMA * float(np.median(np.abs(residual - np.median(residual)))) if residual.size else 0.0
    paper, ink = float(np.percentile(crop, 90)), float(np.percentile(crop, 2))
    contrast = paper - ink
    # edges measured after a light smoothing (sigma 1, added back below) so that grain is not taken for edges
    g = cv2.GaussianBlur(crop, (0, 0), 1.0)
    gx = cv2.Sobel(g, cv2.CV_32F, 1, 0, ksize=3) / 8.0
    gy = cv2.Sobel(g, cv2.CV_32F, 0, 1, ksize=3) / 8.0
    steep = float(np.percentile(np.hypot(gx, gy), 99.5))
    width = contrast / (math.sqrt(2 * math.pi) * steep) if steep > 0 else 0.0
    blur = math.sqrt(max(0.0, width**2 - 1.0))
    return PageQuality(noise_sigma=round(noise, 2), blur_px=round(blur, 2), contrast=round(contrast, 1), glyph_px=glyph_px)


def denoise_sigma(quality: PageQuality) -> float:
    """Gaussian sigma (px) to smooth the page with before thresholding; 0.0 to leave it as it is."""
    if quality.noise_sigma <= NOISY_SIGMA:
        return 0.0
    glyph = quality.glyph_px or REFERENCE_GLYPH_PX
    lo, hi = DENOISE_SIGMA_RANGE
    return round(min(hi, max(lo, DENOISE_SIGMA_PX * glyph / REFERENCE_GLYPH_PX)), 2)


def low_quality_reason(quality: PageQuality, *, confidence: float | None, words: int, ink_read: float = 1.0,
                       repeats: float = 0.0) -> str:
    """Why a read is probably garbage (``blurred``, ``noisy``, ``too_small``, ``no_text_lines``), or ``""``.

    The read is flagged when its confidence is under :data:`MIN_CONFIDENCE`,
    when it found under :data:`MIN_WORDS` words, when its words cover under
    :data:`MIN_INK_READ` of the ink (``ink_read``), when more than
    :data:`MAX_REPEATED_SHARE` of its letters are repeats (``repeats``, see
    :func:`repeated_share`), or when a measurement is
    :data:`FAR_PAST` its limit; the reason named is the measurement furthest
    past (or nearest to) its limit, ``no_text_lines`` when none is past it
    and the words missed the ink.

    Examples:
        >>> q = PageQuality(noise_sigma=2.0, blur_px=1.2, contrast=180.0, glyph_px=30.0)
        >>> low_quality_reason(q, confidence=0.93, words=200)
        ''
        >>> low_quality_reason(q, confidence=0.4, words=2)
        'no_text_lines'
        >>> low_quality_reason(PageQuality(25.0, 1.2, 150.0, 30.0), confidence=0.6, words=150)
        'noisy'
        >>> low_quality_reason(PageQuality(2.0, 6.0, 150.0, 30.0), confidence=0.6, words=150)
        'blurred'
        >>> low_quality_reason(PageQuality(2.0, 1.0, 150.0, 4.0), confidence=0.9, words=150)
        'too_small'
        >>> low_quality_reason(q, confidence=0.97, words=40, ink_read=0.2)
        'no_text_lines'
        >>> low_quality_reason(q, confidence=0.93, words=200, repeats=0.2)
        'no_text_lines'
    """
    if words < MIN_WORDS or quality.glyph_px <= 0:
        return "no_text_lines" if confidence is None or confidence < MIN_CONFIDENCE or words < MIN_WORDS else ""
    scores = {
        "too_small": MIN_GLYPH_PX / quality.glyph_px,
        "blurred": quality.blur_px / (MAX_BLUR_SHARE * quality.glyph_px),
        "noisy": quality.noise_sigma / MAX_NOISE_SIGMA,
    }
    worst = max(scores, key=lambda k: scores[k])
    if scores[worst] > FAR_PAST or (confidence is not None and confidence < MIN_CONFIDENCE):
        return worst
    if ink_read < MIN_INK_READ or repeats > MAX_REPEATED_SHARE:
        return worst if scores[worst] > 1.0 else "no_text_lines"
    return ""
