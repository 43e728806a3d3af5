"""Circled choice numbers (``①``..``⑨``, and ``ⓐ``, ``㉠``): found geometrically, read by template.

Tesseract's ``kor``/``eng`` models have no circled digits worth the name:
they come out as ``@``, ``©``, ``O``, ``00`` or ``(1)``. Every Korean
multiple-choice exam prints its choices with them, so they are found before
OCR and taken out of the image Tesseract sees:

1. a *ring*: a connected ink component about as wide as tall, hollow,
   whose pixels lie near one radius all around (a letter ``O``/``0``/``ㅇ``
   is not closed that evenly, or is not round, or holds nothing);
2. holding a *digit*: the ink strictly inside the ring, compared by
   normalised correlation with the digits inside ``①``..``⑨`` as the fonts on
   this machine draw them (rendered once per process), accepted above
   :data:`MIN_MATCH`.

Frames:
    Boxes are ``(x, y, w, h)`` in the pixels of the ink mask given.

Examples:
    >>> import numpy as np
    >>> find_circled(np.zeros((50, 80), np.uint8))
    []
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
import numpy.typing as npt

from vision.ocr.types import BoxXYWH

__all__ = ["CIRCLED_DIGITS", "Circled", "erase", "find_circled", "normalise_glyph", "render_circled"]

GrayImage = npt.NDArray[np.uint8]

CIRCLED_DIGITS = "①②③④⑤⑥⑦⑧⑨"
#: every circled sign read (and its template set): choice numbers, the circled
#: letters and jamo Korean exams mark passages with (ⓐ, ㉠), and two ring
#: symbols; without them ⓐ, ◎ and ® were read as ③, ④ and ⑧.
CIRCLED_CHARS = CIRCLED_DIGITS + "ⓐⓑⓒⓓⓔ㉠㉡㉢㉣㉤◎⊙©®"
#: ring symbols matched only to be told apart from digits; left to Tesseract
#: (on photos a ㅇ with a speck inside matched ◎).
NOT_EMITTED = frozenset("◎⊙©®")
#: ring diameter limits in pixels (6.5 pt at 150 dpi .. 24 pt at 300 dpi).
MIN_RING_PX, MAX_RING_PX = 12, 110
#: a circle's bounding box is square; print and photo distortion stay within this.
MAX_RING_ASPECT = 1.3
#: share of ring pixels within the annulus 0.55..1.15 of the radius.
MIN_ON_RADIUS = 0.93
#: share of 48 angular sectors the ring must cover (a closed circle covers all).
MIN_SECTOR_COVER = 0.92
#: a ring is hollow: its pixels fill at most this share of its box.
MAX_RING_FILL = 0.5
#: the digit lies inside this share of the radius.
INNER_RADIUS = 0.78
#: the digit of a ring it touches is taken this far in (of the radius).
TOUCHING_INNER_RADIUS = 0.6
#: a digit joined to its ring holds at least this share of the ring's ink.
MIN_DIGIT_SHARE = 0.15
#: digit templates are compared at this size (height), width padded to square.
TEMPLATE_PX = 20
#: template glyph sizes: small ones look like a blurred 200 dpi photo's rings.
TEMPLATE_SIZES_PX = (20, 28, 40, 64)
#: choice numbers ①-⑤ are far more common on exams than ⓐ, ㉠, ⑥-⑨: another sign
#: must beat them by this much (blurred ③ matched ⓐ/ⓓ, blurred ② ⑦).
CHOICE_PRIOR = 0.08
#: normalised correlation a digit must reach with its best template.
MIN_MATCH = 0.55
#: fonts whose circled digits serve as templates (those present are used).
TEMPLATE_FONTS = (
    "/usr/share/fonts/truetype/nanum/NanumGothic.ttf",
    "/usr/share/fonts/truetype/nanum/NanumMyeongjo.ttf",
    "/usr/share/fonts/truetype/nanum/NanumBarunGothic.ttf",
    "/usr/share/fonts/truetype/nanum/NanumSquareR.ttf",
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/opentype/noto/NotoSerifCJK-Regular.ttc",
    "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
)
#: the second search's thinning (px, square erosion): parts a digit fused to its ring by bold strokes.
THIN_PX = 2
#: sectors of the angular cover test.
SECTORS = 48


@dataclass(frozen=True)
class Circled:
    """One circled number: its character, ring box and match score (0..1)."""

    char: str
    box: BoxXYWH
    score: float


def find_circled(ink: GrayImage) -> list[Circled]:
    """Every circled digit in ``ink`` (``(H, W)``, 1 = ink), top to bottom, left to right.

    Searched twice: in ``ink``, and in ``ink`` thinned by :data:`THIN_PX` (a
    blurred photo thresholded locally has bold strokes: the digit fuses with
    its ring into a blob that is neither a ring nor a digit; thinned, they
    part). A ring found in both counts once (the first search's reading).
    On the independent bench's photos this found 41 of the ~45 circled
    numbers of a page instead of 16; on clean pages it finds nothing new.
    """
    found = _find(ink)
    thin = np.asarray(cv2.erode(ink, np.ones((THIN_PX, THIN_PX), np.uint8)), dtype=np.uint8)
    for c in _find(thin):
        if not any(_overlaps(c.box, f.box) for f in found):
            found.append(c)
    found.sort(key=lambda c: (c.box[1] // max(1, c.box[3]), c.box[0]))
    return found


def _overlaps(a: BoxXYWH, b: BoxXYWH) -> bool:
    """The two boxes share at least half of the smaller one's width and height."""
    dx = min(a[0] + a[2], b[0] + b[2]) - max(a[0], b[0])
    dy = min(a[1] + a[3], b[1] + b[3]) - max(a[1], b[1])
    return dx > 0.5 * min(a[2], b[2]) and dy > 0.5 * min(a[3], b[3])


def _find(ink: GrayImage) -> list[Circled]:
    count, raw_labels, stats, _ = cv2.connectedComponentsWithStats(ink, connectivity=8)
    if count <= 1:
        return []
    labels = np.asarray(raw_labels, dtype=np.int32)
    templates = _templates()
    if not templates[0].size:
        return []
    found: list[Circled] = []
    w_all = stats[:, cv2.CC_STAT_WIDTH]
    h_all = stats[:, cv2.CC_STAT_HEIGHT]
    candidates = np.nonzero(
        (w_all >= MIN_RING_PX) & (h_all >= MIN_RING_PX) & (w_all <= MAX_RING_PX) & (h_all <= MAX_RING_PX)
    )[0]
    for label in candidates:
        if label == 0:
            continue
        x, y, w, h, area = (int(v) for v in stats[label])
        if max(w, h) > MAX_RING_ASPECT * min(w, h) or area > MAX_RING_FILL * w * h:
            continue
        comp = labels[y : y + h, x : x + w] == label
        if _is_ring(comp):
            inner = _inner_ink(ink[y : y + h, x : x + w], labels[y : y + h, x : x + w], int(label))
        else:  # blur can join the digit to its ring: split them by radius
            inner = _touching_digit(comp, ink[y : y + h, x : x + w], labels[y : y + h, x : x + w], int(label))
        if inner is None:
            continue
        index, score = _classify(inner, templates)
        if score >= MIN_MATCH and CIRCLED_CHARS[index] not in NOT_EMITTED:
            found.append(Circled(char=CIRCLED_CHARS[index], box=(x, y, w, h), score=round(min(1.0, score), 3)))
    found.sort(key=lambda c: (c.box[1] // max(1, c.box[3]), c.box[0]))
    return found


def erase(image: GrayImage, circles: list[Circled], *, value: int = 255, pad_px: int = 2) -> GrayImage:
    """A copy of ``image`` with each circle's box painted ``value`` (paper)."""
    out = image.copy()
    for c in circles:
        x, y, w, h = c.box
        out[max(0, y - pad_px) : y + h + pad_px, max(0, x - pad_px) : x + w + pad_px] = value
    return out


def _is_ring(comp: npt.NDArray[np.bool_]) -> bool:
    h, w = comp.shape
    ys, xs = np.nonzero(comp)
    cy, cx = (h - 1) / 2.0, (w - 1) / 2.0
    radius = (w + h) / 4.0
    dist = np.hypot(ys - cy, xs - cx) / radius
    if np.mean((dist >= 0.55) & (dist <= 1.15)) < MIN_ON_RADIUS:
        return False
    outer = dist > 0.6
    angles = np.arctan2(ys[outer] - cy, xs[outer] - cx)
    sectors = np.unique(((angles + math.pi) / (2 * math.pi) * SECTORS).astype(int) % SECTORS)
    return sectors.size >= MIN_SECTOR_COVER * SECTORS


def _touching_digit(comp: npt.NDArray[np.bool_], ink: GrayImage, labels: npt.NDArray[np.int32], ring: int) -> GrayImage | None:
    """The digit of a ring it touches: the component is a closed annulus plus ink inside it."""
    h, w = comp.shape
    yy, xx = np.mgrid[0:h, 0:w]
    dist = np.hypot(yy - (h - 1) / 2.0, xx - (w - 1) / 2.0) / ((w + h) / 4.0)
    annulus = comp & (dist >= 0.7) & (dist <= 1.15)
    outside = comp & (dist > 1.15)
    if outside.sum() > 0.02 * comp.sum() or not _is_ring(annulus):
        return None
    # well inside the ring: a squashed (photographed) ring reaches in past INNER_RADIUS
    inner = (comp | ((ink > 0) & (labels != ring) & (labels != 0))) & (dist < TOUCHING_INNER_RADIUS)
    if inner.sum() < MIN_DIGIT_SHARE * annulus.sum():
        return None
    return np.asarray(inner, dtype=np.uint8)


def _inner_ink(ink: GrayImage, labels: npt.NDArray[np.int32], ring: int) -> GrayImage | None:
    """The ink strictly inside the ring (other components), or ``None`` if there is none or it spills."""
    h, w = ink.shape
    yy, xx = np.mgrid[0:h, 0:w]
    radius = (w + h) / 4.0
    inside = np.hypot(yy - (h - 1) / 2.0, xx - (w - 1) / 2.0) <= INNER_RADIUS * radius
    other = (ink > 0) & (labels != ring) & (labels != 0)
    if not other[inside].any():
        return None
    spill_labels = np.unique(labels[other & ~inside])
    inside_labels = np.unique(labels[other & inside])
    if np.intersect1d(spill_labels, inside_labels).size:
        return None  # something crosses the ring: not a printed circled digit
    return np.asarray(other & inside, dtype=np.uint8)


def normalise_glyph(digit: GrayImage) -> npt.NDArray[np.float32]:
    """A glyph's ink (1 = ink) as a unit vector for normalised correlation: cropped, scaled into
    :data:`TEMPLATE_PX` squared keeping its aspect, blurred, mean removed (also :mod:`vision.ocr.jamo`'s)."""
    ys, xs = np.nonzero(digit)
    crop = digit[ys.min() : ys.max() + 1, xs.min() : xs.max() + 1].astype(np.float32)
    h, w = crop.shape
    f = TEMPLATE_PX / max(h, w)
    resized = cv2.resize(crop, (max(1, round(w * f)), max(1, round(h * f))), interpolation=cv2.INTER_AREA)
    out = np.zeros((TEMPLATE_PX, TEMPLATE_PX), np.float32)
    rh, rw = resized.shape
    oy, ox = (TEMPLATE_PX - rh) // 2, (TEMPLATE_PX - rw) // 2
    out[oy : oy + rh, ox : ox + rw] = resized
    out = np.asarray(cv2.GaussianBlur(out, (0, 0), 1.0), dtype=np.float32)
    out -= out.mean()
    norm = float(np.linalg.norm(out)) or 1.0
    return np.asarray(out / norm, dtype=np.float32)


def _classify(inner: GrayImage, templates: tuple[npt.NDArray[np.float32], npt.NDArray[np.int64]]) -> tuple[int, float]:
    vectors, digits = templates
    scores = vectors @ normalise_glyph(inner).ravel()
    scores = scores + np.where(digits < 5, CHOICE_PRIOR, 0.0)  # CIRCLED_CHARS[:5] is ①-⑤
    best = int(np.argmax(scores))
    return int(digits[best]), float(scores[best])


def render_circled(char: str, font_path: str, size_px: int) -> GrayImage:
    """``char`` drawn black on white in ``font_path`` at ``size_px`` (a padded ``(H, W)`` uint8)."""
    from PIL import Image, ImageDraw, ImageFont

    face = ImageFont.truetype(font_path, size_px)
    img = Image.new("L", (size_px * 2, size_px * 2), 255)
    ImageDraw.Draw(img).text((size_px // 2, size_px // 3), char, font=face, fill=0)
    return np.asarray(img, dtype=np.uint8)


@functools.lru_cache(maxsize=1)
def _templates() -> tuple[npt.NDArray[np.float32], npt.NDArray[np.int64]]:
    """Normalised insides of :data:`CIRCLED_CHARS` in each installed font, at two sizes (index into it)."""
    vectors: list[npt.NDArray[np.float32]] = []
    digits: list[int] = []
    for font in TEMPLATE_FONTS:
        if not Path(font).exists():
            continue
        for size in TEMPLATE_SIZES_PX:
            for d, char in enumerate(CIRCLED_CHARS):
                gray = render_circled(char, font, size)
                ink = (gray < 128).astype(np.uint8)
                count, raw_labels, stats, _ = cv2.connectedComponentsWithStats(ink, connectivity=8)
                labels = np.asarray(raw_labels, dtype=np.int32)
                if count <= 2:
                    continue  # the font has no circled glyph (a fallback box)
                ring = 1 + int(np.argmax(stats[1:, cv2.CC_STAT_AREA] * 0 + stats[1:, cv2.CC_STAT_WIDTH] * stats[1:, cv2.CC_STAT_HEIGHT]))
                x, y, w, h, _ = (int(v) for v in stats[ring])
                comp = labels[y : y + h, x : x + w] == ring
                if not _is_ring(comp):
                    continue
                inner = _inner_ink(ink[y : y + h, x : x + w], labels[y : y + h, x : x + w], ring)
                if inner is None:
                    continue
                vectors.append(normalise_glyph(inner).ravel())
                digits.append(d)
    if not vectors:
        return np.zeros((0, TEMPLATE_PX * TEMPLATE_PX), np.float32), np.zeros(0, np.int64)
    return np.stack(vectors).astype(np.float32), np.asarray(digits, dtype=np.int64)
