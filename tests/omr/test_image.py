import struct
import zlib

import cv2
import numpy as np
import pytest

from omr.errors import ImageError
from omr.image import choose_reduction, decode_image


def _png(w: int, h: int) -> bytes:
    def chunk(t: bytes, d: bytes) -> bytes:
        return struct.pack(">I", len(d)) + t + d + struct.pack(">I", zlib.crc32(t + d) & 0xFFFFFFFF)
    ihdr = struct.pack(">IIBBBBB", w, h, 8, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\x00" * 64)) + chunk(b"IEND", b"")


def _jpeg(w: int = 800, h: int = 600) -> bytes:
    img = np.random.default_rng(0).integers(0, 255, (h, w), dtype=np.uint8)
    return cv2.imencode(".jpg", img)[1].tobytes()


CASES = [
    ("empty", b"", "image_invalid"),
    ("not_an_image", b"hello world, definitely not pixels", "image_invalid"),
    ("truncated_jpeg", _jpeg()[:5000], "image_truncated"),
    ("one_pixel", cv2.imencode(".png", np.zeros((1, 1), np.uint8))[1].tobytes(), "image_too_small"),
    ("bomb_png_header", _png(30000, 30000), "image_too_large"),
]


@pytest.mark.parametrize("name,data,code", CASES, ids=[c[0] for c in CASES])
def test_bad_inputs(name: str, data: bytes, code: str) -> None:
    with pytest.raises(ImageError) as ei:
        decode_image(data)
    assert ei.value.reason_code == code


def test_max_pixels() -> None:
    with pytest.raises(ImageError) as ei:
        decode_image(_jpeg(), max_pixels=1000)
    assert ei.value.reason_code == "image_too_large"


def test_reduced_decode_of_big_jpeg() -> None:
    img = decode_image(_jpeg(4000, 3000))
    assert img.shape == (1500, 2000) and img.dtype == np.uint8


def test_path_input(tmp_path) -> None:
    p = tmp_path / "x.jpg"
    p.write_bytes(_jpeg())
    assert decode_image(p).shape == (600, 800)
    with pytest.raises(ImageError):
        decode_image(tmp_path / "missing.jpg")


def test_choose_reduction() -> None:
    assert choose_reduction(400, 300) == 1
    assert choose_reduction(4000, 3000) == 2
    assert choose_reduction(9000, 7000) == 4
