"""Small test videos written with PyAV: orientation markers, a 10-hour header, zero frames, no index."""

from __future__ import annotations

import wave
from fractions import Fraction
from pathlib import Path
from typing import Any

import av
import numpy as np
import numpy.typing as npt

#: phones write 90 kHz; MPEG-4 part 2 allows at most 16-bit time base denominators.
TIME_BASE = Fraction(1, 90_000)
MPEG4_TIME_BASE = Fraction(1, 30_000)


def marker_frame(w: int = 160, h: int = 96) -> npt.NDArray[np.uint8]:
    """Upright display frame: black, a white block in the top-left corner."""
    img = np.zeros((h, w, 3), np.uint8)
    img[: h // 3, : w // 3] = 255
    return img


def write_frames(path: Path, frames: list[tuple[float, npt.NDArray[np.uint8]]], *, codec: str = "libx264",
                 rotation: int = 0, gop: int = 10, time_base: Fraction | None = None) -> None:
    """Write ``(time_s, upright BGR frame)`` pairs; stored turned by ``rotation`` (clockwise display)."""
    out = av.open(str(path), mode="w")
    h, w = frames[0][1].shape[:2] if frames else (96, 160)
    sw, sh = (h, w) if rotation in (90, 270) else (w, h)
    stream: Any = out.add_stream(codec, rate=30, options={"g": str(gop)})
    stream.width, stream.height, stream.pix_fmt = sw, sh, "yuv420p"
    tb = time_base or (MPEG4_TIME_BASE if codec == "mpeg4" else TIME_BASE)
    stream.time_base = tb
    stream.codec_context.time_base = tb
    if rotation:
        stream.set_display_rotation((-rotation) % 360)
    for t, img in frames:
        stored = np.ascontiguousarray(np.rot90(img, k=rotation // 90)) if rotation else img
        vf = av.VideoFrame.from_ndarray(stored, format="bgr24")
        vf.pts, vf.time_base = int(round(t / tb)), tb
        for packet in stream.encode(vf):
            out.mux(packet)
    if not frames:
        out.start_encoding()  # header and an empty track: a valid MP4 with zero frames
    for packet in stream.encode():
        out.mux(packet)
    out.close()


def write_wav(path: Path) -> None:
    """One second of silence: a real media file without a video stream."""
    with wave.open(str(path), "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(8000)
        wav.writeframes(b"\x00\x00" * 8000)
