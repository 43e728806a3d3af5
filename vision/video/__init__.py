"""Homework videos: stream sampled frames (rotation, time-based sampling, limits) and score writing on the page."""

from vision.video.reader import VideoReader, open_video
from vision.video.types import (
    FrameResult,
    ProgressPoint,
    SampledFrame,
    VideoAnalysis,
    VideoInfo,
    VideoLimits,
)

__all__ = [
    "FrameResult",
    "ProgressPoint",
    "SampledFrame",
    "VideoAnalysis",
    "VideoInfo",
    "VideoLimits",
    "VideoReader",
    "open_video",
]
