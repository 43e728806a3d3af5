"""The OMR job on a stack of sheets (a PDF) and on a photo already in the artifact store (``image_key``)."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image

from ai_tasks.contracts import AIJob
from ai_tasks.inprocess import run_job
from ai_tasks.jobs.base import JobRef, StepContext
from ai_tasks.jobs.omr import SPEC, OMRState, prepare, release
from ai_tasks.jobs.runner import run_step
from ai_tasks.resources import artifact_store
from omr.batch import render_pdf_page
from tests.ai_tasks._http import LocalServer, body, serve

ROOT = Path(__file__).resolve().parents[3]
SAMPLES = ROOT / "omr" / "samples"


def _pdf() -> bytes:
    """Three pages: the sample photo, a blank page, the sample photo again."""
    photo = Image.open(SAMPLES / "photo_20q.jpg").convert("L")
    blank = Image.fromarray(np.full((400, 300), 255, np.uint8))
    buf = io.BytesIO()
    photo.save(buf, format="PDF", save_all=True, append_images=[blank, photo], resolution=150)
    return buf.getvalue()


PDF = _pdf()


@pytest.fixture(scope="module")
def server() -> Iterator[LocalServer]:
    with serve() as srv:
        srv.route("/class.pdf", body(PDF))
        srv.route("/broken.pdf", body(b"%PDF-1.4 nonsense"))
        yield srv


def _payload(**kw: Any) -> dict[str, Any]:
    return {"template_meta": json.loads((SAMPLES / "meta_20q.json").read_text()),
            "answer_key": json.loads((SAMPLES / "key_20q.json").read_text()), "mode": "photo", **kw}


def _strip(result: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in result.items() if k not in ("timings_ms", "page")}


def test_a_pdf_gives_one_result_per_page_and_a_bad_page_does_not_fail_the_job(server: LocalServer) -> None:
    seen: list[tuple[int, int]] = []
    out = run_job({"id": "p1", "type": "omr_grading", "payload": _payload(download_url=server.url("/class.pdf"))},
                  reporter=lambda done, total, info: seen.append((done, total)))
    assert out["status"] == "DONE", out
    res = out["result"]
    assert res["page_count"] == 3 and [p["page"] for p in res["pages"]] == [1, 2, 3]
    first, blank, third = res["pages"]
    assert len(first["answers"]) == 20 and "score" in first
    assert blank["error"]["reason_code"].startswith(("alignment_", "image_"))
    assert _strip(first) == _strip(third)
    assert seen[-1] == (3, 3)
    # each page is exactly what grading that page alone (its rendered bytes, by image_key) gives
    key = artifact_store().put(render_pdf_page(PDF, 0), kind="image")
    alone = run_job({"id": "p2", "type": "omr_grading", "payload": _payload(image_key=key, pipeline="single")})
    assert alone["status"] == "DONE", alone
    assert _strip(alone["result"]) == _strip(first)


def test_the_chain_grades_the_document_like_the_single_task(server: LocalServer) -> None:
    payload = _payload(download_url=server.url("/class.pdf"))
    ctx = StepContext(JobRef(id="c1", type="omr_grading"), hop=True)
    s = prepare(AIJob("c1", "omr_grading", payload), JobRef(id="c1", type="omr_grading"))
    s = OMRState.from_dict(json.loads(json.dumps(run_step(SPEC, 0, s, ctx).to_dict())))  # fetch
    assert s.page_count == 3 and s.image_key and "class.pdf" not in json.dumps(s.to_dict())
    chained = run_step(SPEC, 1, s, ctx)  # read: every page
    release(s)
    single = run_job({"id": "c2", "type": "omr_grading", "payload": {**payload, "pipeline": "single"}})["result"]
    assert [_strip(p) for p in chained["pages"]] == [_strip(p) for p in single["pages"]]


def test_image_key_is_consumed_and_checked() -> None:
    photo = (SAMPLES / "photo_20q.jpg").read_bytes()
    key = artifact_store().put(photo, kind="image")
    out = run_job({"id": "k1", "type": "omr_grading", "payload": _payload(image_key=key)})
    assert out["status"] == "DONE" and len(out["result"]["answers"]) == 20
    bad = run_job({"id": "k2", "type": "omr_grading", "payload": _payload(image_key="../../etc/passwd")})
    assert bad["error"]["reason_code"] == "artifact_key_invalid"
    both = run_job({"id": "k3", "type": "omr_grading", "payload": _payload(image_key=key, download_url="https://x/y")})
    assert both["error"]["reason_code"] == "payload_invalid"


def test_an_unreadable_pdf_fails_with_a_reason(server: LocalServer) -> None:
    out = run_job({"id": "b1", "type": "omr_grading", "payload": _payload(download_url=server.url("/broken.pdf"))})
    assert out["status"] == "FAILED" and out["error"]["reason_code"] == "pdf_unreadable"
