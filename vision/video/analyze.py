"""Score writing on the page in a homework video, and how it progresses.

For each sampled frame (:mod:`vision.video.reader`):

1. **Find the page** (:func:`aicore.page.outline.locate_page`: the largest
   bright, unsaturated region) and warp it to a fixed upright rectangle, so
   the same paper spot keeps the same pixel while the phone wobbles. No page
   in sight (a desk, a hand, the ceiling): the frame scores 0.
2. **Mask what covers it.** Skin (YCrCb box) and thick dark blobs (a sleeve,
   a pen body: what survives an opening that erases pen strokes) are
   occlusion, not ink, and are left out of the page's visible area.
3. **Ink on the page**: pixels darker than :data:`~vision.handwriting.ink.INK_NORM_MAX`
   of their local paper brightness, on the visible page only.
   ``writing_score`` = ink / visible page.
4. **Progress**: ink on paper that was seen uncovered and blank before.
   Paper uncovered for the first time joins the baseline (its ink was not
   *added*, it was hidden); small shifts are absorbed by a one-pixel tolerance.

Frames:
    Analysis runs on the page rectangle, :data:`PAGE_LONG_SIDE_PX` on its long
    side; fractions are of that rectangle's area.

Examples:
    >>> import numpy as np
    >>> desk = np.full((240, 320, 3), (40, 50, 60), np.uint8)
    >>> tracker = PageTracker()
    >>> r = tracker.add(0, 0.0, desk)
    >>> r.page_found, r.writing_score
    (False, 0.0)
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np
import numpy.typing as npt

from aicore.page.outline import hull_corners, locate_page
from vision.errors import VideoError
from vision.handwriting.ink import ink_mask, normalise
from vision.video.reader import open_video
from vision.video.types import FrameResult, ProgressPoint, VideoAnalysis, VideoLimits

__all__ = ["HAS_WRITING_MIN", "PageTracker", "analyze_video"]

#: the page rectangle's long side (px): pencil strokes stay ~1-2 px, the maths stays cheap.
PAGE_LONG_SIDE_PX = 512
#: a frame "has writing" when this share of the visible page is ink (the seed used 5 % of
#: dark pixels over the whole frame, desk included).
HAS_WRITING_MIN = 0.01
#: skin in YCrCb (Chai & Ngan's box, widened for phone white balance).
SKIN_CR = (135, 180)
SKIN_CB = (80, 135)
SKIN_MIN_Y = 50
#: dark blobs thicker than this (px, page rectangle) are a hand, sleeve or pen, not a stroke.
OCCLUDER_MIN_THICKNESS_PX = 9
#: occlusion is grown by this much (px) to cover its soft edge and shadow.
OCCLUDER_MARGIN_PX = 7
#: the page rectangle's border (px) is not scored: warp edge, page edge shadow.
PAGE_BORDER_PX = 6
#: new ink must be this far (px) from ink seen before to count as added (page wobble).
SHIFT_TOLERANCE_PX = 1
#: corners within this share of the page diagonal of the last ones are the same page (the
#: phone is still, or a hand hides one corner): the last corners are kept, the masks stay aligned.
CORNER_TOLERANCE = 0.03
#: at least this many corners must stay put; otherwise the page moved and progress restarts.
CORNERS_TO_KEEP = 3
#: a page hidden more than this share is not scored for progress (a hand over most of it).
MAX_OCCLUDED_FOR_PROGRESS = 0.6


class PageTracker:
    """Scores frames one by one and keeps what progress needs (two page-sized masks).

    Memory does not grow with the video: the state is the page rectangle's
    "seen uncovered" and "ink seen" masks.
    """

    def __init__(self) -> None:
        self._size_wh: tuple[int, int] | None = None
        self._src: npt.NDArray[np.float32] | None = None
        self._observed: npt.NDArray[np.bool_] | None = None
        self._seen_ink: npt.NDArray[np.bool_] | None = None
        self.total_added = 0.0
        self.progress: list[ProgressPoint] = []

    def _rectangle(self, image: npt.NDArray[np.uint8]) -> npt.NDArray[np.uint8] | None:
        kind, hull = locate_page(image)
        if kind == "none":
            return None
        h, w = image.shape[:2]
        if hull is None:  # paper fills the frame
            src = np.array([[0, 0], [w - 1, 0], [w - 1, h - 1], [0, h - 1]], np.float32)
        else:
            src = hull_corners(hull)
        if self._src is not None:
            moved = np.linalg.norm(src - self._src, axis=1)
            diag = float(np.linalg.norm(self._src[2] - self._src[0]))
            if int((moved <= CORNER_TOLERANCE * diag).sum()) >= CORNERS_TO_KEEP:
                src = self._src
            else:  # the page moved: what was seen is no longer where it was
                self._observed = self._seen_ink = None
        self._src = src
        if self._size_wh is None:
            pw = float(np.linalg.norm(src[1] - src[0]) + np.linalg.norm(src[2] - src[3])) / 2
            ph = float(np.linalg.norm(src[3] - src[0]) + np.linalg.norm(src[2] - src[1])) / 2
            scale = PAGE_LONG_SIDE_PX / max(pw, ph, 1.0)
            self._size_wh = (max(32, round(pw * scale)), max(32, round(ph * scale)))
        rw, rh = self._size_wh
        dst = np.array([[0, 0], [rw - 1, 0], [rw - 1, rh - 1], [0, rh - 1]], np.float32)
        m = cv2.getPerspectiveTransform(src, dst)
        return np.asarray(cv2.warpPerspective(image, m, (rw, rh), flags=cv2.INTER_LINEAR,
                                              borderMode=cv2.BORDER_REPLICATE), np.uint8)

    @staticmethod
    def _occlusion(rect: npt.NDArray[np.uint8], ink: npt.NDArray[np.bool_]) -> npt.NDArray[np.bool_]:
        """Skin and thick dark blobs, grown by a margin; found at half resolution (blobs are big)."""
        rh, rw = rect.shape[:2]
        half = (max(1, rw // 2), max(1, rh // 2))
        small = np.asarray(cv2.resize(rect, half, interpolation=cv2.INTER_AREA), np.uint8)
        ycc = np.asarray(cv2.cvtColor(small, cv2.COLOR_BGR2YCrCb), np.uint8)
        skin = cv2.inRange(ycc, (SKIN_MIN_Y, SKIN_CR[0], SKIN_CB[0]), (255, SKIN_CR[1], SKIN_CB[1]))
        ink_small = np.asarray(cv2.resize(ink.view(np.uint8) * np.uint8(255), half, interpolation=cv2.INTER_AREA))
        k = max(3, OCCLUDER_MIN_THICKNESS_PX // 2)
        thick = cv2.morphologyEx(np.asarray(ink_small > 127, np.uint8) * np.uint8(255), cv2.MORPH_OPEN,
                                 cv2.getStructuringElement(cv2.MORPH_RECT, (k, k)))
        m = OCCLUDER_MARGIN_PX + 1
        grown = cv2.dilate(cv2.bitwise_or(skin, thick), cv2.getStructuringElement(cv2.MORPH_RECT, (m, m)))
        out: npt.NDArray[np.bool_] = np.asarray(cv2.resize(grown, (rw, rh), interpolation=cv2.INTER_NEAREST)) > 0
        return out

    def add(self, index: int, time_s: float, image: npt.NDArray[np.uint8]) -> FrameResult:
        """Score one upright BGR frame taken at ``time_s``."""
        h, w = image.shape[:2]
        rect = self._rectangle(image)
        if rect is None:
            self.progress.append(ProgressPoint(time_s, 0.0, self.total_added))
            return FrameResult(index, time_s, 0.0, False, False, 0.0, 0.0, 0.0)
        rh, rw = rect.shape[:2]
        gray = np.asarray(cv2.cvtColor(rect, cv2.COLOR_BGR2GRAY), np.uint8)
        ink = ink_mask(normalise(gray))
        occluded = self._occlusion(rect, ink)
        inside = np.zeros((rh, rw), bool)
        inside[PAGE_BORDER_PX:rh - PAGE_BORDER_PX, PAGE_BORDER_PX:rw - PAGE_BORDER_PX] = True
        visible = inside & ~occluded
        ink &= visible
        page_px = int(inside.sum())
        visible_px = int(visible.sum())
        occluded_fraction = 1.0 - visible_px / max(1, page_px)
        score = float(ink.sum()) / max(1, visible_px)
        added = 0.0
        if self._observed is None or self._seen_ink is None:
            self._observed, self._seen_ink = visible.copy(), ink.copy()
        elif occluded_fraction <= MAX_OCCLUDED_FOR_PROGRESS:
            t = 2 * SHIFT_TOLERANCE_PX + 1
            near_old = np.asarray(cv2.dilate(self._seen_ink.astype(np.uint8), np.ones((t, t), np.uint8))) > 0
            new = ink & self._observed & ~near_old
            added = float(new.sum()) / max(1, page_px)
            self._seen_ink |= ink
            self._observed |= visible
        self.total_added += added
        self.progress.append(ProgressPoint(time_s, added, self.total_added))
        page_fraction = (rw * rh) / float(w * h) if rect is not None else 0.0
        return FrameResult(index, time_s, score, score >= HAS_WRITING_MIN, True,
                           min(1.0, page_fraction), occluded_fraction, added)


def analyze_video(
    path: str | Path,
    *,
    sample_every_s: float,
    limits: VideoLimits,
    min_frame_count: int = 30,
    progress: Callable[[int, int], None] | None = None,
) -> VideoAnalysis:
    """Sample ``path`` every ``sample_every_s`` seconds and score writing on the page.

    Args:
        path: a local video file.
        sample_every_s: sampling interval in presentation time.
        limits: caps checked before and while decoding.
        min_frame_count: below this many frames the result says ``too_short``.
        progress: called as ``progress(done, total)`` after each sample
            (``total`` estimated from the duration).

    Raises:
        VideoError: see :func:`vision.video.reader.open_video`.

    Examples:
        >>> import os, tempfile
        >>> from vision.video.synth import write_homework_video
        >>> path = os.path.join(tempfile.mkdtemp(), "hw.mp4")
        >>> _ = write_homework_video(path, seed=1, duration_s=3, size_wh=(320, 180), fps=10, rotation=90)
        >>> res = analyze_video(path, sample_every_s=1.0, limits=VideoLimits())
        >>> res.to_dict()["sampled_frames"], res.info.rotation, res.frames[0].page_found
        (3, 90, True)
    """
    if not sample_every_s > 0:
        raise VideoError("video_invalid", f"sample_every_s must be > 0, got {sample_every_s}")
    t0 = time.perf_counter()
    decode_s = 0.0
    results: list[FrameResult] = []
    tracker = PageTracker()
    with open_video(path, limits) as reader:
        expected = max(1, int(reader.info.duration_s / sample_every_s) + 1)
        samples = reader.samples(sample_every_s)
        while True:
            td = time.perf_counter()
            sample = next(samples, None)
            decode_s += time.perf_counter() - td
            if sample is None:
                break
            # the page's area fraction is relative to the frame the page was found in
            results.append(tracker.add(sample.index, sample.time_s, sample.image))
            if progress is not None:
                progress(len(results), max(expected, len(results)))
        info = reader.info
        from dataclasses import replace

        info = replace(info, rotation=reader.rotation)
        decoded = reader.decoded_frames
    total_s = time.perf_counter() - t0
    frames_known = info.frames or decoded
    return VideoAnalysis(
        info=info,
        frames=tuple(results),
        progress=tuple(tracker.progress),
        decoded_frames=decoded,
        sample_every_s=sample_every_s,
        too_short=frames_known < min_frame_count,
        timings_ms={"decode": decode_s * 1000, "analyse": (total_s - decode_s) * 1000, "total": total_s * 1000},
    )
