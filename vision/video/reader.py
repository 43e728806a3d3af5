"""Stream sampled frames out of a video with PyAV, never holding the video in memory.

What OpenCV's reader gets wrong for phone videos, done right here:

* **Rotation.** Phones store landscape frames and a display matrix that
  turns them upright. Each frame's ``rotation`` (PyAV reads the matrix; the
  legacy ``rotate`` tag is the fallback) is applied, all four ways.
* **Time, not frame index.** Phone videos have a variable frame rate; samples
  are taken every ``sample_every_s`` seconds of *presentation time*.
* **Skip without decoding.** When the container has an index (MP4, MOV,
  MKV with cues) the reader knows every keyframe before decoding. A sample
  time within :data:`KEYFRAME_SNAP_S` of a keyframe takes that keyframe
  (one frame decoded); otherwise the reader seeks to the keyframe before it
  and decodes forward only to the sample time. Unsampled stretches are
  never decoded. Without an index every frame is decoded (and dropped
  unless sampled).
* **Bounded.** Limits are checked from the header before decoding (a header
  claiming 10 hours is refused in milliseconds) and again against decoded
  timestamps and counts (headers lie). Frames are scaled by the decoder's
  scaler to at most ``analysis_long_side_px``; one frame is alive at a time.

Errors (:class:`vision.errors.VideoError`): ``video_empty`` (0 bytes, or no
frame decodes), ``video_invalid`` (not a video, no video stream, undecodable),
``video_too_long``, ``video_too_many_frames``, ``video_too_large``.

Frames:
    Yielded images are upright BGR ``uint8`` ``(H, W, 3)``; ``time_s`` is
    presentation time from the stream's start.

Examples:
    >>> import tempfile, os
    >>> path = os.path.join(tempfile.mkdtemp(), "empty.mp4")
    >>> open(path, "wb").close()
    >>> open_video(path, VideoLimits())
    Traceback (most recent call last):
    ...
    vision.errors.VideoError: video_empty: the video file is empty (0 bytes)
"""

from __future__ import annotations

import bisect
import math
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from vision.errors import VideoError
from vision.video.types import SampledFrame, VideoInfo, VideoLimits

__all__ = ["VideoReader", "open_video"]

#: a sample may move this far (s) to land on a keyframe: one decoded frame instead of a GOP.
KEYFRAME_SNAP_S = 0.5
#: decoded timestamps may run this far past the header's duration before it counts as a lie.
DURATION_SLACK_S = 2.0
#: decoder threads: one per pool process (workers scale with processes, not threads).
DECODE_THREADS = 1
#: frame timestamps within this of a target count as reaching it (float rounding of time bases).
TIME_EPS_S = 1e-3


def _rotation_from_tag(metadata: dict[str, str]) -> int:
    """Clockwise display rotation from a legacy ``rotate`` tag (0 when absent or odd)."""
    try:
        return int(float(metadata.get("rotate", "0"))) % 360 // 90 * 90
    except ValueError:
        return 0


class VideoReader:
    """An open video: its :attr:`info`, and :meth:`samples` to stream frames.

    Use :func:`open_video` (it checks the limits) as a context manager.
    """

    def __init__(self, container: Any, stream: Any, info: VideoInfo, limits: VideoLimits,
                 keyframes: list[tuple[float, int]]) -> None:
        self._container = container
        self._stream = stream
        self.info = info
        self.limits = limits
        #: keyframes as (presentation time in s, its pts in the stream's time base to seek to), by time
        self._keyframes = [t for t, _ in keyframes]
        self._keyframe_ts = [ts for _, ts in keyframes]
        self.decoded_frames = 0
        #: clockwise display rotation actually applied (from the first frame's display matrix).
        self.rotation = info.rotation

    def __enter__(self) -> VideoReader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._container.close()

    # --- decoding ----------------------------------------------------------

    def _frames_from(self, seek_ts: int | None) -> Iterator[Any]:
        """Decoded frames from the keyframe at pts ``seek_ts`` (``None``: from here on)."""
        import av

        if seek_ts is not None:
            self._container.seek(seek_ts, stream=self._stream, backward=True, any_frame=False)
        try:
            for packet in self._container.demux(self._stream):
                for frame in packet.decode():
                    self.decoded_frames += 1
                    if self.decoded_frames > self.limits.max_frames:
                        raise VideoError("video_too_many_frames",
                                         f"more than {self.limits.max_frames} frames decoded (limit)")
                    yield frame
        except av.error.FFmpegError as exc:
            if self.decoded_frames == 0:
                raise VideoError("video_invalid", f"the video does not decode: {exc}") from None
            return  # a damaged tail: keep what decoded

    def _time_of(self, frame: Any, fallback_index: int) -> float:
        if frame.pts is not None and frame.time is not None:
            start = self._stream.start_time or 0
            return float((frame.pts - start) * self._stream.time_base)
        return fallback_index / self.info.fps if self.info.fps else float(fallback_index)

    def _image(self, frame: Any) -> npt.NDArray[np.uint8]:
        w, h = frame.width, frame.height
        if w * h > self.limits.max_pixels:
            raise VideoError("video_too_large", f"a frame is {w}x{h} px, limit {self.limits.max_pixels:,} px")
        scale = min(1.0, self.limits.analysis_long_side_px / max(w, h))
        tw, th = max(2, round(w * scale / 2) * 2), max(2, round(h * scale / 2) * 2)
        image = frame.to_ndarray(width=tw, height=th, format="bgr24")
        ccw = int(getattr(frame, "rotation", 0) or 0)
        cw = (-ccw) % 360 if ccw else self.info.rotation
        self.rotation = cw
        if cw:
            image = np.rot90(image, k=-(cw // 90))  # np.rot90 turns counter-clockwise for k > 0
        return np.ascontiguousarray(image, dtype=np.uint8)

    def _check_time(self, t: float) -> None:
        if t > self.limits.max_duration_s + DURATION_SLACK_S:
            raise VideoError("video_too_long", f"frames run past {self.limits.max_duration_s:.0f} s (limit)")

    def samples(self, sample_every_s: float) -> Iterator[SampledFrame]:
        """Frames every ``sample_every_s`` seconds of presentation time, from t = 0.

        Raises:
            VideoError: ``video_empty`` when no frame decodes at all, and the
                limit codes when decoded frames break a limit.
        """
        if not sample_every_s > 0:
            raise VideoError("video_invalid", f"sample_every_s must be > 0, got {sample_every_s}")
        fps = self.info.fps
        yielded = 0
        if not self._keyframes or self.info.duration_s <= 0:  # no index, or no length to plan with
            yield from self._sequential(sample_every_s)
            return
        snap = min(KEYFRAME_SNAP_S, sample_every_s / 2)
        target = 0.0
        frames: Iterator[Any] | None = None
        last_t = -math.inf
        count = 0
        # the last frame starts one frame before the end: a target past it would decode the tail for nothing
        end_s = self.info.duration_s - (1.0 / fps if fps else 0.0)
        while target <= end_s + TIME_EPS_S:
            # the time to decode: the target, or a keyframe near it
            i = max(0, bisect.bisect_right(self._keyframes, target + TIME_EPS_S) - 1)
            before = self._keyframes[i]
            after = self._keyframes[i + 1] if i + 1 < len(self._keyframes) else math.inf
            k = i  # the keyframe decoding starts from
            if target - before <= snap and target - before <= after - target:
                goal = before
            elif after - target <= snap:
                goal, k = after, i + 1
            else:
                goal = target
            key = self._keyframes[k]
            if frames is None or not (key - TIME_EPS_S <= last_t < goal - TIME_EPS_S):
                frames = self._frames_from(self._keyframe_ts[k])
            got = None
            for frame in frames:
                count += 1
                t = self._time_of(frame, count)
                self._check_time(t)
                last_t = t
                if t >= goal - TIME_EPS_S:
                    got = (frame, t)
                    break
            if got is None:
                break
            frame, t = got
            yield SampledFrame(index=round(t * fps) if fps else count - 1, time_s=t, image=self._image(frame))
            yielded += 1
            target = max(target + sample_every_s, t + sample_every_s / 2)
        if yielded == 0:
            raise VideoError("video_empty", "the video has no decodable frame")

    def _sequential(self, sample_every_s: float) -> Iterator[SampledFrame]:
        next_t = 0.0
        yielded = 0
        for n, frame in enumerate(self._frames_from(None)):
            t = self._time_of(frame, n)
            self._check_time(t)
            if t + TIME_EPS_S >= next_t:
                yield SampledFrame(index=round(t * self.info.fps) if self.info.fps else n, time_s=t,
                                   image=self._image(frame))
                yielded += 1
                next_t = max(next_t + sample_every_s, t + sample_every_s / 2)
        if yielded == 0:
            raise VideoError("video_empty", "the video has no decodable frame")


def open_video(path: str | Path, limits: VideoLimits) -> VideoReader:
    """Open ``path``, read its header and check ``limits`` before any frame is decoded.

    Args:
        path: a local video file.
        limits: the caps (:class:`~vision.video.types.VideoLimits`).

    Returns:
        A :class:`VideoReader` (close it, or use it as a context manager).

    Raises:
        VideoError: ``video_empty``, ``video_invalid``, ``video_too_long``,
            ``video_too_many_frames``, ``video_too_large``.
    """
    import av

    try:
        size = os.path.getsize(path)
    except OSError as exc:
        raise VideoError("video_invalid", f"cannot read the video: {exc.strerror}") from None
    if size == 0:
        raise VideoError("video_empty", "the video file is empty (0 bytes)")
    try:
        container = av.open(str(path), mode="r")
    except (av.error.FFmpegError, UnicodeDecodeError, ValueError) as exc:
        raise VideoError("video_invalid", f"not a readable video: {exc}") from None
    try:
        if not container.streams.video:
            if len(container.streams) == 0:  # demuxers drop a track without samples: zero frames
                raise VideoError("video_empty", "the video has no frames (an empty container)")
            raise VideoError("video_invalid", "the file has no video stream")
        stream = container.streams.video[0]
        ctx = stream.codec_context
        ctx.thread_count = DECODE_THREADS
        tb = float(stream.time_base) if stream.time_base else 0.0
        duration_s = 0.0
        if stream.duration and tb:
            duration_s = float(stream.duration) * tb
        elif container.duration:
            duration_s = float(container.duration) / av.time_base
        fps = float(stream.average_rate or stream.guessed_rate or 0.0)
        frames = int(stream.frames or 0) or int(round(duration_s * fps))
        width, height = int(ctx.width or 0), int(ctx.height or 0)
        if duration_s > limits.max_duration_s:
            raise VideoError("video_too_long",
                             f"the video lasts {duration_s:,.0f} s, limit {limits.max_duration_s:,.0f} s")
        if frames > limits.max_frames:
            raise VideoError("video_too_many_frames", f"the video has {frames:,} frames, limit {limits.max_frames:,}")
        if width * height > limits.max_pixels:
            raise VideoError("video_too_large",
                             f"frames are {width}x{height} px ({width * height:,} px), limit {limits.max_pixels:,} px")
        keyframes: list[tuple[float, int]] = []
        if tb:
            # (PyAV < 16 has no index_entries: the reader then decodes sequentially)
            entries: Any = getattr(stream, "index_entries", None) or []
            # index timestamps are decode times: the first one is the first frame's presentation
            # time minus the reorder delay (B-frames), so presentation times are taken relative to
            # it; seeking goes by presentation time (MP4/MOV demuxers compare pts)
            first = entries[0].timestamp if len(entries) else 0
            start = stream.start_time or 0
            keyframes = sorted({(max(0.0, float(e.timestamp - first) * tb), int(e.timestamp - first + start))
                                for e in entries if e.is_keyframe})
        info = VideoInfo(
            width=width, height=height, duration_s=duration_s, frames=frames, fps=fps,
            rotation=_rotation_from_tag(dict(stream.metadata)), codec=str(ctx.name or ""),
            keyframes=len(keyframes),
        )
        return VideoReader(container, stream, info, limits, keyframes)
    except BaseException:
        container.close()
        raise
