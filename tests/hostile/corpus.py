"""A generated corpus of hostile inputs, each with the reason code it must produce.

Images, template metas, URLs, payload shapes and sizes for OMR, and the
other job types' inputs. Files are served by a local HTTP server
(:func:`routes`); a case's job refers to them through ``{base}``.

Used by ``tests/hostile/test_corpus.py`` (in-process, in ``make test``) and
``tests/integration/test_hostile_worker.py`` (through real workers on both
brokers).
"""

from __future__ import annotations

import io
import json
import struct
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
SAMPLES = ROOT / "omr" / "samples"


@dataclass(frozen=True)
class Case:
    """One hostile input: a job (``{base}`` is the file server) and the reason code it must give."""

    name: str
    job: Any
    reason_code: str

    def resolved(self, base: str) -> Any:
        return json.loads(json.dumps(self.job).replace("{base}", base))


def _png(width: int, height: int, pixels: bytes | None = None) -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    raw = pixels if pixels is not None else b"\x00" * 64
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b"")


def _encoded(gray: np.ndarray) -> bytes:
    from PIL import Image

    buf = io.BytesIO()
    Image.fromarray(gray).save(buf, format="PNG")
    return buf.getvalue()


def files() -> dict[str, bytes]:
    """Path -> body served by the corpus's HTTP server."""
    photo = (SAMPLES / "photo_20q.jpg").read_bytes()
    rng = np.random.default_rng(12)
    return {
        "/photo.jpg": photo,
        "/empty.jpg": b"",
        "/text.jpg": b"this is not an image at all",
        "/truncated.jpg": photo[:20000],
        "/half.jpg": photo[: len(photo) // 2],
        "/bomb.png": _png(30000, 30000),
        "/tiny.png": _png(1, 1, b"\x00\x00"),
        "/gif.gif": b"GIF89a\x01\x00\x01\x00\x00\x00\x00;",
        "/pdf.pdf": b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF",
        "/svg.svg": b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg" width="9" height="9"/>',
        "/black.png": _encoded(np.zeros((1100, 800), np.uint8)),
        "/white.png": _encoded(np.full((1100, 800), 255, np.uint8)),
        "/noise.png": _encoded(rng.integers(0, 256, (1100, 800), dtype=np.uint8)),
        "/jpeg_header_only.jpg": photo[:600],
        "/nul.jpg": b"\x00" * 4096,
        "/api/v1/assets/omr/objective/meta/": b"[1, 2, 3]",
    }


def special_routes() -> dict[str, Callable[[BaseHTTPRequestHandler], None]]:
    """Routes that misbehave: status codes and redirects."""
    from tests.ai_tasks._http import redirect, status

    return {
        "/gone.jpg": status(404),
        "/broken.jpg": status(500),
        "/teapot.jpg": status(418),
        "/to-metadata.jpg": redirect("http://169.254.169.254/latest/meta-data/"),
        "/loop.jpg": redirect("/loop.jpg"),
        "/to-file.jpg": redirect("file:///etc/passwd"),
    }


def _meta() -> dict[str, Any]:
    return json.loads((SAMPLES / "meta_20q.json").read_text())


def _omr(url: Any = "{base}/photo.jpg", **fields: Any) -> dict[str, Any]:
    return {"download_url": url, "mode": "photo", "template_meta": _meta(), **fields}


def _job(job_type: str, payload: Any, job_id: str = "h") -> dict[str, Any]:
    return {"id": job_id, "type": job_type, "payload": payload}


def _meta_with(**changes: Any) -> dict[str, Any]:
    meta = _meta()
    meta.update(changes)
    return meta


def _first_bubble(x: Any = None, r: Any = None) -> dict[str, Any]:
    """The sample meta with its first answer bubble moved (``x``, mm) or resized (``r``, mm)."""
    meta = _meta()
    choice = meta["questions"][0]["choices"][0]
    if x is not None:
        choice["center"]["x"] = x
    if r is not None:
        choice["r"] = r
    return meta


def _many_questions(n: int) -> dict[str, Any]:
    meta = _meta()
    meta["questions"] = [dict(meta["questions"][0], question_number=i + 1) for i in range(n)]
    meta["question_count"] = n
    return meta


def cases() -> list[Case]:
    """Every hostile case (at least 50), the degenerate ones first."""
    deep: Any = []
    for _ in range(200):
        deep = [deep]
    c: list[Case] = [
        # --- the job itself -------------------------------------------------------
        Case("job_none", None, "job_invalid"),
        Case("job_list", [1, 2], "job_invalid"),
        Case("job_string", "omr_grading", "job_invalid"),
        Case("job_no_id", {"type": "omr_grading", "payload": _omr()}, "job_invalid"),
        Case("job_no_type", {"id": "h", "payload": _omr()}, "job_invalid"),
        Case("job_type_number", {"id": "h", "type": 7, "payload": _omr()}, "job_invalid"),
        Case("job_unknown_type", _job("teleport", {}), "unknown_job_type"),
        Case("job_payload_list", _job("omr_grading", [1]), "job_invalid"),
        Case("job_payload_string", _job("omr_grading", "x"), "job_invalid"),
        # --- OMR payload shapes ------------------------------------------------------
        Case("omr_empty_payload", _job("omr_grading", {}), "download_url_missing"),
        Case("omr_url_number", _job("omr_grading", _omr(123)), "payload_invalid"),
        Case("omr_url_too_long", _job("omr_grading", _omr("https://b.example/" + "a" * 9000)), "payload_invalid"),
        Case("omr_mode_unknown", _job("omr_grading", _omr(mode="x-ray")), "payload_invalid"),
        Case("omr_overlay_string", _job("omr_grading", _omr(overlay="yes")), "payload_invalid"),
        Case("omr_pipeline_unknown", _job("omr_grading", _omr(pipeline="fast")), "payload_invalid"),
        Case("omr_unknown_field", _job("omr_grading", _omr(surprise=1)), "payload_invalid"),
        Case("omr_no_template", _job("omr_grading", {"download_url": "{base}/photo.jpg"}), "meta_missing"),
        Case("omr_question_count_huge",
             _job("omr_grading", {"download_url": "{base}/photo.jpg", "template_fetch": {"base_url": "{base}"},
                                  "question_count": 10**9}), "payload_invalid"),
        Case("omr_template_fetch_not_json_object",
             _job("omr_grading", {"download_url": "{base}/photo.jpg", "template_fetch": {"base_url": "{base}"},
                                  "question_count": 20}), "meta_invalid"),
        Case("omr_key_string", _job("omr_grading", _omr(answer_key="abc")), "key_invalid"),
        # --- metas -------------------------------------------------------------------
        Case("meta_list", _job("omr_grading", _omr(template_meta=[1])), "meta_invalid"),
        Case("meta_bubbles_string", _job("omr_grading", _omr(template_meta={"bubbles": "many"})), "meta_invalid"),
        Case("meta_deep_nesting", _job("omr_grading", _omr(template_meta={"bubbles": deep})), "meta_invalid"),
        Case("meta_bubble_nan", _job("omr_grading", _omr(template_meta=_first_bubble(x=float("nan")))),
             "meta_invalid"),
        Case("meta_bubble_string", _job("omr_grading", _omr(template_meta=_first_bubble(x="12mm"))), "meta_invalid"),
        Case("meta_bubble_off_page", _job("omr_grading", _omr(template_meta=_first_bubble(x=-5000))),
             "meta_bubble_off_page"),
        Case("meta_bubble_huge", _job("omr_grading", _omr(template_meta=_first_bubble(x=1e308))),
             "meta_bubble_off_page"),
        Case("meta_radius_zero", _job("omr_grading", _omr(template_meta=_first_bubble(r=0))), "meta_invalid"),
        Case("meta_radius_negative", _job("omr_grading", _omr(template_meta=_first_bubble(r=-2))), "meta_invalid"),
        Case("meta_radius_huge", _job("omr_grading", _omr(template_meta=_first_bubble(r=500))), "meta_absurd_size"),
        Case("meta_too_many_questions", _job("omr_grading", _omr(template_meta=_many_questions(1500))),
             "meta_invalid"),
        Case("meta_page_zero", _job("omr_grading", _omr(template_meta=_meta_with(page={"w": 0, "h": 0}))),
             "meta_invalid"),
        Case("legacy_questions_string", _job("omr_grading", {"download_url": "{base}/photo.jpg",
                                                             "questions": "x"}), "meta_invalid"),
        # --- URLs ----------------------------------------------------------------------
        Case("url_metadata_ip", _job("omr_grading", _omr("http://169.254.169.254/latest/meta-data/")),
             "download_address_refused"),
        Case("url_private_ip", _job("omr_grading", _omr("http://10.0.0.1/x.jpg")), "download_address_refused"),
        Case("url_ipv6_loopback", _job("omr_grading", _omr("http://[::1]/x.jpg")), "download_address_refused"),
        Case("url_ipv4_mapped_metadata", _job("omr_grading", _omr("http://[::ffff:169.254.169.254]/x.jpg")),
             "download_address_refused"),
        Case("url_file_scheme", _job("omr_grading", _omr("file:///etc/passwd")), "download_scheme_refused"),
        Case("url_ftp_scheme", _job("omr_grading", _omr("ftp://b.example/x.jpg")), "download_scheme_refused"),
        Case("url_gopher_scheme", _job("omr_grading", _omr("gopher://127.0.0.1:6379/_FLUSHALL")),
             "download_scheme_refused"),
        Case("url_not_a_url", _job("omr_grading", _omr("not a url")), "download_scheme_refused"),
        Case("url_crlf", _job("omr_grading", _omr("http://127.0.0.1/a\r\nX-Injected: 1")), "download_url_invalid"),
        Case("url_redirect_to_metadata", _job("omr_grading", _omr("{base}/to-metadata.jpg")),
             "download_address_refused"),
        Case("url_redirect_to_file", _job("omr_grading", _omr("{base}/to-file.jpg")), "download_scheme_refused"),
        Case("url_redirect_loop", _job("omr_grading", _omr("{base}/loop.jpg")), "download_too_many_redirects"),
        Case("url_404", _job("omr_grading", _omr("{base}/gone.jpg")), "download_http_error"),
        Case("url_418", _job("omr_grading", _omr("{base}/teapot.jpg")), "download_http_error"),
        Case("url_500", _job("omr_grading", _omr("{base}/broken.jpg")), "download_http_5xx"),
        # --- images --------------------------------------------------------------------
        Case("image_empty", _job("omr_grading", _omr("{base}/empty.jpg")), "image_invalid"),
        Case("image_text", _job("omr_grading", _omr("{base}/text.jpg")), "image_invalid"),
        Case("image_nul_bytes", _job("omr_grading", _omr("{base}/nul.jpg")), "image_invalid"),
        Case("image_truncated", _job("omr_grading", _omr("{base}/truncated.jpg")), "image_truncated"),
        Case("image_half", _job("omr_grading", _omr("{base}/half.jpg")), "image_truncated"),
        Case("image_header_only", _job("omr_grading", _omr("{base}/jpeg_header_only.jpg")), "image_invalid"),
        Case("image_bomb", _job("omr_grading", _omr("{base}/bomb.png")), "image_too_large"),
        Case("image_tiny", _job("omr_grading", _omr("{base}/tiny.png")), "image_too_small"),
        Case("image_gif", _job("omr_grading", _omr("{base}/gif.gif")), "image_invalid"),
        Case("image_pdf", _job("omr_grading", _omr("{base}/pdf.pdf")), "pdf_unreadable"),
        Case("image_svg", _job("omr_grading", _omr("{base}/svg.svg")), "image_invalid"),
        Case("image_black", _job("omr_grading", _omr("{base}/black.png")), "alignment_failed"),
        Case("image_white", _job("omr_grading", _omr("{base}/white.png")), "alignment_failed"),
        Case("image_noise", _job("omr_grading", _omr("{base}/noise.png")), "alignment_failed"),
        Case("image_single_pipeline_bomb", _job("omr_grading", _omr("{base}/bomb.png", pipeline="single")),
             "image_too_large"),
        # --- the other job types ---------------------------------------------------------
        Case("ocr_empty", _job("ocr", {}), "download_url_missing"),
        Case("ocr_metadata_ip", _job("ocr", {"download_url": "http://169.254.169.254/a.png"}),
             "download_address_refused"),
        Case("embedding_texts_string", _job("embedding", {"texts": "x"}), "texts_invalid"),
        Case("problem_no_text", _job("problem_generation", {}), "ocr_text_missing"),
        Case("problem_text_huge", _job("problem_generation", {"ocr_text": "가" * 50_000}), "ocr_text_too_long"),
        Case("wrong_note_empty", _job("wrong_note", {}), "wrong_note_empty"),
        Case("segmentation_empty", _job("question_segmentation", {}), "download_url_missing"),
        Case("handwriting_empty", _job("handwriting_analysis", {}), "download_url_missing"),
        Case("video_empty", _job("homework_video_analysis", {}), "download_url_missing"),
    ]
    return c
