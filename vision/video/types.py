"""Plain results of homework-video reading and analysis.

Frames:
    Frame images are upright (the container's rotation applied), BGR
    ``uint8`` ``(H, W, 3)``, at most ``analysis_long_side_px`` on the long side.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

__all__ = ["FrameResult", "ProgressPoint", "SampledFrame", "VideoAnalysis", "VideoInfo", "VideoLimits"]


@dataclass(frozen=True)
class VideoLimits:
    """What a worker accepts.

    Args:
        max_duration_s: longest video (container header and decoded timestamps).
        max_frames: most frames (header count, or duration x frame rate).
        max_pixels: largest frame (stored width x height).
        analysis_long_side_px: frames are analysed at most this large.
    """

    max_duration_s: float = 3600.0
    max_frames: int = 200_000
    max_pixels: int = 60_000_000
    analysis_long_side_px: int = 960


@dataclass(frozen=True)
class VideoInfo:
    """What the container says, read before any frame is decoded.

    Args:
        width, height: stored frame size in pixels (before rotation).
        duration_s: duration from the header (0 when it has none).
        frames: frame count from the header, or duration x average rate.
        fps: average frame rate (0 when unknown).
        rotation: degrees the stored frames are turned clockwise for display
            (0, 90, 180, 270): a portrait phone video says 90.
        codec: the video codec's name.
        keyframes: keyframes listed in the container's index (0 when none).
    """

    width: int
    height: int
    duration_s: float
    frames: int
    fps: float
    rotation: int
    codec: str
    keyframes: int = 0


@dataclass(frozen=True, eq=False)
class SampledFrame:
    """One decoded, upright, downscaled frame.

    Args:
        index: frame number (time x average rate, rounded).
        time_s: presentation time.
        image: ``(H, W, 3)`` BGR uint8.
    """

    index: int
    time_s: float
    image: npt.NDArray[np.uint8] = field(repr=False)


@dataclass(frozen=True)
class FrameResult:
    """Analysis of one sampled frame.

    Args:
        index, time_s: as in :class:`SampledFrame`.
        writing_score: ink pixels / visible page pixels, 0..1 (0 without a page).
        has_writing: ``writing_score >= HAS_WRITING_MIN`` on a found page.
        page_found: a page was seen (``False``: desk, hand, ceiling).
        page_fraction: share of the frame the page covers.
        occluded_fraction: share of the page hidden by a hand, pen or sleeve.
        ink_added: new ink since the previous sample, as a share of the page.
    """

    index: int
    time_s: float
    writing_score: float
    has_writing: bool
    page_found: bool
    page_fraction: float
    occluded_fraction: float
    ink_added: float

    def to_dict(self) -> dict[str, Any]:
        return {
            "index": self.index,
            "time_s": round(self.time_s, 3),
            "writing_score": round(self.writing_score, 4),
            "has_writing": self.has_writing,
            "page_found": self.page_found,
            "page_fraction": round(self.page_fraction, 4),
            "occluded_fraction": round(self.occluded_fraction, 4),
            "ink_added": round(self.ink_added, 5),
        }


@dataclass(frozen=True)
class ProgressPoint:
    """Writing progress at one sample: ink added since the previous one and since the start."""

    time_s: float
    ink_added: float
    ink_total_added: float

    def to_dict(self) -> dict[str, Any]:
        return {"time_s": round(self.time_s, 3), "ink_added": round(self.ink_added, 5),
                "ink_total_added": round(self.ink_total_added, 5)}


@dataclass(frozen=True)
class VideoAnalysis:
    """The whole video's analysis (legacy keys in :meth:`to_dict`).

    Args:
        info: the container's facts.
        frames: per sampled frame, in time order.
        progress: writing progress per sampled frame.
        decoded_frames: frames actually decoded (the rest were skipped).
        sample_every_s: the sampling interval used.
        too_short: fewer frames than the caller's ``min_frame_count``.
        timings_ms: ``decode``, ``analyse``, ``total``.
    """

    info: VideoInfo
    frames: tuple[FrameResult, ...]
    progress: tuple[ProgressPoint, ...]
    decoded_frames: int
    sample_every_s: float
    too_short: bool
    timings_ms: dict[str, float] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """The seed's keys (``total_frames`` ... ``too_short``) plus the new ones.

        Examples:
            >>> info = VideoInfo(64, 48, 2.0, 60, 30.0, 0, "h264")
            >>> VideoAnalysis(info, (), (), 0, 1.0, False).to_dict()["avg_writing_score"]
            0.0
        """
        n = len(self.frames)
        avg = sum(f.writing_score for f in self.frames) / n if n else 0.0
        filled = sum(1 for f in self.frames if f.has_writing) / n if n else 0.0
        return {
            "total_frames": self.info.frames,
            "sampled_frames": n,
            "avg_writing_score": round(avg, 4),
            "filled_ratio": round(filled, 4),
            "frames": [f.to_dict() for f in self.frames],
            "too_short": self.too_short,
            "duration_s": round(self.info.duration_s, 3),
            "rotation": self.info.rotation,
            "fps": round(self.info.fps, 3),
            "size_wh": [self.info.width, self.info.height],
            "sample_every_s": self.sample_every_s,
            "decoded_frames": self.decoded_frames,
            "progress": [p.to_dict() for p in self.progress],
            "ink_added_total": round(self.progress[-1].ink_total_added, 5) if self.progress else 0.0,
            "timings_ms": {k: round(v, 1) for k, v in self.timings_ms.items()},
        }
