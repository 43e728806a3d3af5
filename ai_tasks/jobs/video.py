"""Job ``homework_video_analysis`` (task ``ai.homework.video``): writing on the page in a homework video.

Payload (validated at the door):
    ``download_url`` (required): presigned URL of the video (MP4, MOV, WebM, ...).
    ``sample_every_s``: seconds of presentation time between samples
    (0.05..60). When absent and the legacy ``frame_stride`` is given, the
    interval is ``frame_stride / fps`` (the seed's every-Nth-frame, made
    robust to a variable frame rate); when neither is given, 1 s.
    ``frame_stride`` (legacy, 1..10000, default 10), ``min_frame_count``
    (legacy, 0..10^7, default 30: ``too_short`` below it).

Result (the seed's keys kept): ``total_frames``, ``sampled_frames``,
``avg_writing_score``, ``filled_ratio``, ``frames[{index, time_s,
writing_score, has_writing, page_found, page_fraction, occluded_fraction,
ink_added}]``, ``too_short``; plus ``duration_s``, ``rotation``, ``fps``,
``size_wh``, ``sample_every_s``, ``decoded_frames``, ``progress[{time_s,
ink_added, ink_total_added}]``, ``ink_added_total``, ``timings_ms``. See
``docs/jobs/video.md``. Progress (``done`` of ``total`` samples) is reported
to the task state while the video is read.

Errors keep the library's reason codes: ``video_empty``, ``video_invalid``,
``video_too_long``, ``video_too_many_frames``, ``video_too_large``, and the
download's.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from ai_tasks.contracts import AIJob
from ai_tasks.jobs.base import JobRef, JobSpec, Step, StepContext
from ai_tasks.jobs.codec import StateCodec
from ai_tasks.jobs.payload import Integer, PayloadSpec, Seconds, Text
from ai_tasks.routing import CPU_VISION

__all__ = ["PAYLOAD", "SPEC", "VideoState", "prepare", "run", "video_limits"]

#: sampling interval without sample_every_s or frame_stride (writing does not change faster).
DEFAULT_SAMPLE_EVERY_S = 1.0
#: sample_every_s bounds: 20 samples a second at most, one a minute at least.
SAMPLE_EVERY_RANGE_S = (0.05, 60.0)
#: ``min_frame_count`` choices: 0 (never too short) up to ten million frames (three days at 30 fps).
MIN_FRAME_COUNT_RANGE = (0, 10_000_000)
#: the seed's defaults.
DEFAULT_FRAME_STRIDE = 10
DEFAULT_MIN_FRAME_COUNT = 30

#: The payload (the legacy worker read download_url, frame_stride, min_frame_count).
PAYLOAD = PayloadSpec("homework_video_analysis", (
    Text("download_url", required=True, missing_code="download_url_missing"),
    Integer("frame_stride", None, 1, 10_000),
    Integer("min_frame_count", DEFAULT_MIN_FRAME_COUNT, 0, 10_000_000),
    Seconds("sample_every_s", *SAMPLE_EVERY_RANGE_S),
))


@dataclass(frozen=True)
class VideoState(StateCodec):
    """What crosses the broker for one ``homework_video_analysis`` job.

    Args:
        job: who the job is.
        download_url: presigned URL of the video.
        sample_every_s: sampling interval, or ``None`` to derive it from ``frame_stride``.
        frame_stride: legacy every-Nth-frame (used only without ``sample_every_s``).
        min_frame_count: below this many frames the result says ``too_short``.
        stride_given: the payload set ``frame_stride`` (so it decides the interval).
    """

    job: JobRef
    download_url: str
    sample_every_s: float | None = None
    frame_stride: int = DEFAULT_FRAME_STRIDE
    min_frame_count: int = DEFAULT_MIN_FRAME_COUNT
    stride_given: bool = False

    def interval_s(self, fps: float) -> float:
        """The sampling interval for a video of ``fps`` frames per second.

        Examples:
            >>> ref = JobRef(id="1", type="homework_video_analysis")
            >>> VideoState(ref, "u").interval_s(30.0), VideoState(ref, "u", frame_stride=15, stride_given=True).interval_s(30.0)
            (1.0, 0.5)
        """
        if self.sample_every_s is not None:
            return self.sample_every_s
        if self.stride_given and fps > 0:
            lo, hi = SAMPLE_EVERY_RANGE_S
            return min(hi, max(lo, self.frame_stride / fps))
        return DEFAULT_SAMPLE_EVERY_S


def prepare(job: AIJob, ref: JobRef) -> VideoState:
    """The door: the payload checked by :data:`PAYLOAD` (secrets dropped), the first state.

    A given ``frame_stride`` decides the interval when ``sample_every_s`` is absent.
    """
    values = PAYLOAD.check(job.payload)
    stride = values.pop("frame_stride")
    given = stride is not None
    return VideoState(job=ref, frame_stride=stride if given else DEFAULT_FRAME_STRIDE, stride_given=given, **values)


def video_limits() -> Any:
    """The library's :class:`vision.video.VideoLimits` from the worker's settings."""
    from ai_tasks.settings import get_settings
    from vision.video import VideoLimits

    s = get_settings()
    return VideoLimits(max_duration_s=s.video_max_duration_s, max_frames=s.video_max_frames, max_pixels=s.max_pixels)


def run(state: VideoState, ctx: StepContext) -> dict[str, Any]:
    """Download the video, sample it, score writing on the page; the result dict."""
    from ai_tasks.download import download_to_dir, job_tmpdir
    from ai_tasks.resources import download_policy
    from ai_tasks.settings import get_settings
    from vision.video import open_video
    from vision.video.analyze import analyze_video

    limits = video_limits()
    with job_tmpdir(get_settings().tmp_dir, state.job.id) as tmp:
        t0 = time.perf_counter()
        path = download_to_dir(state.download_url, tmp, policy=download_policy(), filename="input")
        download_ms = (time.perf_counter() - t0) * 1000.0
        with open_video(path, limits) as reader:  # header only: the interval may need the frame rate
            every = state.interval_s(reader.info.fps)
        analysis = analyze_video(path, sample_every_s=every, limits=limits, min_frame_count=state.min_frame_count,
                                 progress=ctx.progress)
    out = analysis.to_dict()
    out["timings_ms"] = {"download": round(download_ms, 1), **out["timings_ms"]}
    return out


SPEC = JobSpec(type="homework_video_analysis", queue=CPU_VISION, state=VideoState, prepare=prepare,
               steps=(Step("ai.homework.video", run, (600, 900)),))
