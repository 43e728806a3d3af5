"""The OMR job (``ai_tasks/jobs/omr.py``): state, steps, both pipelines, bad input."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from ai_tasks.contracts import AIJob
from ai_tasks.inprocess import run_job
from ai_tasks.jobs import omr as omr_job
from ai_tasks.jobs.base import JobRef, StepContext
from ai_tasks.jobs.omr import (
    OMRState,
    TemplateFetch,
    fetch,
    prepare,
    read,
    release,
)
from tests.ai_tasks._http import LocalServer, body, serve, status

ROOT = Path(__file__).resolve().parents[3]
SAMPLES = ROOT / "omr" / "samples"


@pytest.fixture(scope="module")
def server() -> Iterator[LocalServer]:
    with serve() as srv:
        srv.route("/photo.jpg", body((SAMPLES / "photo_20q.jpg").read_bytes()))
        srv.route("/junk.jpg", body(b"this is not a jpeg"))
        srv.route("/gone.jpg", status(404))
        srv.route("/empty.jpg", body(b""))
        srv.route("/bomb.png", body(_png_header(30000, 30000)))
        srv.route("/api/v1/assets/omr/objective/meta/", body((SAMPLES / "meta_20q.json").read_bytes()))
        yield srv


def _png_header(width: int, height: int) -> bytes:
    """A PNG that claims ``width`` x ``height`` pixels (a decompression bomb's header)."""
    import struct
    import zlib

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    idat = zlib.compress(b"\x00" * 64)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")


def _meta() -> dict:  # type: ignore[type-arg]
    return json.loads((SAMPLES / "meta_20q.json").read_text())


def _key() -> dict:  # type: ignore[type-arg]
    return json.loads((SAMPLES / "key_20q.json").read_text())


def _job(payload: dict, job_type: str = "omr_grading") -> dict:  # type: ignore[type-arg]
    return {"id": "t1", "type": job_type, "payload": payload, "source_id": "5"}


def test_sample_grades_done_with_score(server: LocalServer) -> None:
    out = run_job(_job({"download_url": server.url("/photo.jpg"), "template_meta": _meta(), "answer_key": _key()}))
    assert out["status"] == "DONE", out
    res = out["result"]
    assert res["version"] == "v1" and res["aligned"] is True
    assert len(res["answers"]) == 20
    assert (res["identifier"]["identifier"], res["identifier"]["status"]) == ("15346893", "ok")
    assert {"method", "rotation", "fit_error_mm"} <= set(res["alignment"])
    assert (res["score"]["total"], res["score"]["max"], res["score"]["wrong"]) == (19.0, 20.0, [6]) and "review" in res


def test_template_fetch_uses_worker_credentials_and_legacy_ones_are_dropped(server: LocalServer) -> None:
    payload = {
        "download_url": server.url("/photo.jpg"),
        "question_count": 20,
        "template_fetch": {"base_url": server.base_url, "cookie": "sessionid=LEGACY", "timeout": 5},
    }
    out = run_job(_job(payload))
    assert out["status"] == "DONE", out
    assert out["result"]["meta_used"] is True
    assert server.requests[-2].headers.get("Cookie") == "sessionid=LEGACY"  # the legacy call still works
    assert "LEGACY" not in json.dumps(out)


@pytest.mark.parametrize(
    ("payload", "code"),
    [
        ({}, "download_url_missing"),
        ({"download_url": "/photo.jpg"}, "meta_missing"),
        ({"download_url": "/photo.jpg", "template_meta": {"version": "objective_v1"}}, "meta_invalid"),
        ({"download_url": "/junk.jpg", "template_meta": "META"}, "image_invalid"),
        ({"download_url": "/gone.jpg", "template_meta": "META"}, "download_http_error"),
        ({"download_url": "/empty.jpg", "template_meta": "META"}, "image_invalid"),
        ({"download_url": "/bomb.png", "template_meta": "META"}, "image_too_large"),
        ({"download_url": "/photo.jpg", "template_meta": "META", "mode": "x-ray"}, "payload_invalid"),
        ({"download_url": "file:///etc/passwd", "template_meta": "META"}, "download_scheme_refused"),
        ({"template_meta": "META"}, "download_url_missing"),
        ({"download_url": "/photo.jpg", "template_fetch": {"base_url": "X"}, "question_count": 0}, "payload_invalid"),
    ],
)
def test_bad_inputs_fail_with_their_reason(server: LocalServer, payload: dict, code: str) -> None:  # type: ignore[type-arg]
    payload = dict(payload)
    if payload.get("template_meta") == "META":
        payload["template_meta"] = _meta()
    if str(payload.get("download_url", "")).startswith("/"):
        payload["download_url"] = server.url(payload["download_url"])
    if isinstance(payload.get("template_fetch"), dict):
        payload["template_fetch"] = {"base_url": server.base_url}
    out = run_job(_job(payload))
    assert out["status"] == "FAILED"
    assert out["error"]["reason_code"] == code, out["error"]


def test_state_round_trips_through_json() -> None:
    state = OMRState(
        job=JobRef(id="7", type="omr_grading", source_id="3", result_id="r"),
        mode="photo",
        download_url="https://b/x.jpg",
        template_fetch=TemplateFetch(base_url=None, question_count=20),
        meta_source="api",
        answer_key={"answers": {"1": "A"}},
        overlay=True,
        identifier={"identifier": "12345678"},
        timings_ms={"fetch": 1.5},
    )
    assert OMRState.from_dict(json.loads(json.dumps(state.to_dict()))) == state
    assert OMRState.from_dict(OMRState(job=state.job).to_dict()) == OMRState(job=state.job)


def _first_state(payload: dict) -> OMRState:  # type: ignore[type-arg]
    return prepare(AIJob("c1", "omr_grading", payload), JobRef(id="c1", type="omr_grading"))


def test_chain_steps_give_exactly_the_single_task_result(server: LocalServer) -> None:
    payload = {"download_url": server.url("/photo.jpg"), "template_meta": _meta(), "answer_key": _key()}
    ctx = StepContext(JobRef(id="c1", type="omr_grading"), hop=True)
    s1 = fetch(_first_state(payload), ctx)
    assert s1.download_url is None and s1.template_meta is None and s1.meta_key and s1.image_key
    wire = json.dumps(s1.to_dict())
    assert "photo.jpg" not in wire and len(wire) < 1000  # no URL, no template after fetch
    chained = read(OMRState.from_dict(json.loads(wire)), StepContext(ctx.job, hop=True))
    omr_job._LOCAL_BLOBS.clear()  # a read redelivered to another process: the photo from the store
    again = read(OMRState.from_dict(json.loads(wire)), StepContext(ctx.job, hop=True))
    assert {**again, "timings_ms": None} == {**chained, "timings_ms": None}
    release(s1)
    single = run_job(_job({**payload, "pipeline": "single"}))["result"]
    timings = (chained.pop("timings_ms"), single.pop("timings_ms"))
    assert set(timings[0]) == set(timings[1]) == {"fetch", "warp", "identifier", "answers"}
    assert chained == single  # same keys, same meanings, same values


def test_release_deletes_what_the_chain_stored(server: LocalServer) -> None:
    from ai_tasks.errors import ArtifactMissingError
    from ai_tasks.resources import artifact_store

    ctx = StepContext(JobRef(id="c2", type="omr_grading"), hop=True)
    s1 = fetch(_first_state({"download_url": server.url("/photo.jpg"), "template_meta": _meta()}), ctx)
    read(s1, StepContext(ctx.job, hop=True))
    release(s1)
    for key in (s1.meta_key, s1.image_key):
        assert key is not None
        with pytest.raises(ArtifactMissingError):
            artifact_store().get(key)


def test_meta_used_keeps_its_legacy_meaning(server: LocalServer) -> None:
    out = run_job(_job({"download_url": server.url("/photo.jpg"), "template_meta": _meta()}))["result"]
    assert (out["meta_used"], out["meta_source"]) == (False, "payload")


def test_unknown_payload_fields_are_refused() -> None:
    out = run_job(_job({"download_url": "https://b/x.jpg", "template_meta": _meta(), "colour": "red"}))
    assert out["error"]["reason_code"] == "payload_invalid" and "colour" in out["error"]["message"]


def test_worker_token_goes_only_to_the_configured_api(server: LocalServer, monkeypatch: pytest.MonkeyPatch) -> None:
    from ai_tasks.settings import Settings

    def settings_for(api_base_url: str) -> Settings:
        return Settings.from_env(
            {"API_BASE_URL": api_base_url, "INTERNAL_WORKER_TOKEN": "TOKEN", "AI_WORKER_DOWNLOAD_ALLOW_HTTP": "1",
             "AI_WORKER_DOWNLOAD_ALLOWLIST": "127.0.0.1"}
        )

    spec = TemplateFetch(base_url=server.base_url, question_count=20)
    monkeypatch.setattr(omr_job, "get_settings", lambda: settings_for(server.base_url))
    omr_job._fetch_template(spec)
    assert server.requests[-1].headers.get("X-Worker-Token") == "TOKEN"

    monkeypatch.setattr(omr_job, "get_settings", lambda: settings_for("https://api.academy.example"))
    omr_job._fetch_template(spec)  # a base_url chosen by the message: no worker credentials
    assert "X-Worker-Token" not in server.requests[-1].headers


def _settings_with_api(api_base_url: str | None) -> object:
    from ai_tasks.settings import Settings

    env = {"AI_WORKER_DOWNLOAD_ALLOW_HTTP": "1", "AI_WORKER_DOWNLOAD_ALLOWLIST": "127.0.0.1"}
    return Settings.from_env({**env, "AI_WORKER_TEMPLATE_BASE_URL": api_base_url} if api_base_url else env)


def test_an_empty_template_fetch_means_the_workers_own_api(server: LocalServer, monkeypatch: pytest.MonkeyPatch) -> None:
    """The README's example: ``"template_fetch": {}`` + ``question_count`` (issue 15: it used to be meta_missing)."""
    payload = {"download_url": server.url("/photo.jpg"), "question_count": 20, "template_fetch": {}}
    monkeypatch.setattr(omr_job, "get_settings", lambda: _settings_with_api(server.base_url))
    out = run_job(_job(payload))
    assert out["status"] == "DONE", out
    assert (out["result"]["meta_used"], out["result"]["meta_source"]) == (True, "api")
    assert "/api/v1/assets/omr/objective/meta/?question_count=20" in [r.path for r in server.requests[-2:]]

    monkeypatch.setattr(omr_job, "get_settings", lambda: _settings_with_api(None))
    error = run_job(_job(payload))["error"]
    assert error["reason_code"] == "payload_invalid" and "AI_WORKER_TEMPLATE_BASE_URL" in error["message"]


@pytest.mark.parametrize("key", [{"99": "1"}, {"answers": {"2": "7"}}], ids=["question-99", "label-7"])
def test_a_key_for_another_sheet_fails_at_the_door(key: dict) -> None:  # type: ignore[type-arg]
    out = run_job(_job({"download_url": "https://b/x.jpg", "template_meta": _meta(), "answer_key": key}))
    assert out["error"]["reason_code"] == "key_invalid" and "not" in out["error"]["message"]
