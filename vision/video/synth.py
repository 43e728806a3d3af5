"""Seeded synthetic homework videos: a page on a desk being written on, a hand moving over it.

For the tests and the bench: what a phone on a stand records while a student
works. The camera is still; a worksheet (light grey print lines) sits on a
dark desk; pencil strokes appear over time near a skin-coloured hand that
covers part of the page; the container carries the phone's rotation (the
stored frames are turned, the display matrix turns them back) and, on
request, a variable frame rate.

Examples:
    >>> import tempfile, os
    >>> path = os.path.join(tempfile.mkdtemp(), "v.mp4")
    >>> truth = write_homework_video(path, seed=1, duration_s=1.0, size_wh=(160, 120), fps=10)
    >>> truth.frames, truth.rotation, len(truth.ink_fraction_at_s) > 0
    (10, 0, True)
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import numpy.typing as npt

__all__ = ["VideoTruth", "write_homework_video"]

#: the phone's time base (90 kHz, as MP4 muxers of phones write).
TIME_BASE = Fraction(1, 90_000)
MPEG4_TIME_BASE = Fraction(1, 30_000)
#: BGR colours: dark desk, paper, print, pencil, skin.
DESK_BGR = (45, 55, 70)
PAPER_BGR = (235, 238, 240)
PRINT_BGR = (60, 60, 60)
PENCIL_BGR = (90, 90, 95)
SKIN_BGR = (120, 150, 205)


@dataclass(frozen=True)
class VideoTruth:
    """What was drawn.

    Args:
        frames: frames written.
        duration_s: last frame's time plus its duration.
        rotation: clockwise display rotation stored in the container.
        ink_fraction_at_s: ``(time_s, written ink / page area)`` once per second.
    """

    frames: int
    duration_s: float
    rotation: int
    ink_fraction_at_s: tuple[tuple[float, float], ...]


def _scene(rng: np.random.Generator, w: int, h: int) -> tuple[npt.NDArray[np.uint8], npt.NDArray[np.int32]]:
    frame = np.full((h, w, 3), DESK_BGR, np.uint8)
    cx, cy = w / 2, h / 2
    pw, ph = 0.42 * w * rng.uniform(0.9, 1.05), 0.8 * h * rng.uniform(0.9, 1.05)
    quad = np.array([[cx - pw / 2, cy - ph / 2], [cx + pw / 2, cy - ph / 2], [cx + pw / 2, cy + ph / 2],
                     [cx - pw / 2, cy + ph / 2]]) + rng.uniform(-0.02, 0.02, (4, 2)) * np.array([w, h])
    quad = quad.astype(np.int32)
    cv2.fillConvexPoly(frame, quad, PAPER_BGR)
    x0, y0 = quad[:, 0].min() + int(0.08 * pw), quad[:, 1].min() + int(0.06 * ph)
    for i in range(12):  # printed lines of the worksheet
        y = y0 + int(i * ph * 0.075)
        length = int(pw * rng.uniform(0.4, 0.8))
        cv2.line(frame, (x0, y), (x0 + length, y), PRINT_BGR, max(1, h // 300))
    return frame, quad


def write_homework_video(
    path: str | Path,
    *,
    seed: int,
    duration_s: float,
    size_wh: tuple[int, int] = (1280, 720),
    fps: float = 30.0,
    rotation: int = 0,
    vfr: bool = False,
    codec: str = "libx264",
    gop_frames: int = 30,
    strokes_per_s: float = 2.0,
) -> VideoTruth:
    """Write a homework video to ``path`` (MP4) and return what was drawn.

    Args:
        path: output file.
        seed: everything follows from it.
        duration_s: video length.
        size_wh: displayed (upright) frame size.
        fps: nominal frame rate.
        rotation: clockwise display rotation (0, 90, 180, 270): stored frames
            are turned the other way and the container says so.
        vfr: frame durations vary randomly between half and twice the nominal.
        codec: ``libx264``, ``h264`` or ``mpeg4``.
        gop_frames: keyframe interval.
        strokes_per_s: pencil strokes added per second.
    """
    import av

    rng = np.random.default_rng(seed)
    w, h = size_wh
    base, quad = _scene(rng, w, h)
    page_area = float(cv2.contourArea(quad.astype(np.float32)))
    ink = np.zeros((h, w), np.uint8)
    canvas = base.copy()
    x_lo, y_lo = quad[:, 0].min() + 10, quad[:, 1].min() + 10
    x_hi, y_hi = quad[:, 0].max() - 10, quad[:, 1].max() - 10
    pen = np.array([(x_lo + x_hi) / 2, (y_lo + y_hi) / 2])
    stored_w, stored_h = (h, w) if rotation in (90, 270) else (w, h)
    out = av.open(str(path), mode="w")
    options = {"g": str(gop_frames), "preset": "ultrafast"} if codec == "libx264" else {"g": str(gop_frames)}
    stream: Any = out.add_stream(codec, rate=Fraction(fps).limit_denominator(1000), options=options)
    stream.width, stream.height, stream.pix_fmt = stored_w, stored_h, "yuv420p"
    # pts are exact ticks, also for a variable rate (MPEG-4 part 2 allows 16-bit denominators only)
    tb = MPEG4_TIME_BASE if codec == "mpeg4" else TIME_BASE
    stream.time_base = tb
    stream.codec_context.time_base = tb
    if rotation:
        stream.set_display_rotation((-rotation) % 360)
    t, n, next_stroke = 0.0, 0, 0.0
    truth: list[tuple[float, float]] = []
    thick = max(1, h // 360)
    while t < duration_s:
        while next_stroke <= t:  # the student writes a few strokes
            step = rng.normal(0, 1, 2) * np.array([w, h]) * 0.01
            start = np.clip(pen + rng.normal(0, 1, 2) * 8, (x_lo, y_lo), (x_hi, y_hi))
            pts = [start]
            for _ in range(int(rng.integers(6, 14))):
                step = step * 0.6 + rng.normal(0, 1, 2) * np.array([w, h]) * 0.006
                pts.append(np.clip(pts[-1] + step, (x_lo, y_lo), (x_hi, y_hi)))
            poly = np.array(pts, np.int32)
            cv2.polylines(canvas, [poly], False, PENCIL_BGR, thick, cv2.LINE_AA)
            cv2.polylines(ink, [poly], False, 255, thick, cv2.LINE_AA)
            pen = np.clip(pts[-1] + np.array([w * 0.01, 0]), (x_lo, y_lo), (x_hi, y_hi))
            if pen[0] >= x_hi - 5:
                pen = np.array([x_lo + 20, min(y_hi - 20, pen[1] + h * 0.05)])
            next_stroke += 1.0 / strokes_per_s
        frame = canvas.copy()
        hand_c = (int(pen[0] + w * 0.06), int(pen[1] + h * 0.09))
        cv2.ellipse(frame, hand_c, (int(w * 0.06), int(h * 0.09)), 30, 0, 360, SKIN_BGR, -1)
        if int(t) >= len(truth):
            truth.append((float(int(t)), float((ink > 127).sum()) / page_area))
        stored = np.ascontiguousarray(np.rot90(frame, k=rotation // 90)) if rotation else frame
        vf = av.VideoFrame.from_ndarray(stored, format="bgr24")
        vf.pts = int(round(t / tb))
        vf.time_base = tb
        for packet in stream.encode(vf):
            out.mux(packet)
        n += 1
        t = t + float(rng.uniform(0.5, 2.0)) / fps if vfr else n / fps
    for packet in stream.encode():
        out.mux(packet)
    out.close()
    return VideoTruth(frames=n, duration_s=t, rotation=rotation, ink_fraction_at_s=tuple(truth))
