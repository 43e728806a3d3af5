"""OMR grading as job steps: the glue between the Celery tasks and the ``omr`` library.

Each step takes and returns a small JSON *state*; large data (the warped
page, the template meta, the overlay) travels through the artifact store by key. The same
functions back the chain (``ai.omr.fetch -> warp -> identifier -> answers``),
the single-task path (``ai.omr.grade``) and the in-process CLI.

Payload fields (legacy-compatible): ``download_url`` (required), ``mode``
(``auto``/``photo``/``scan``), ``template_meta`` (a meta dict), or
``template_fetch`` + ``question_count`` (fetch from the API), or legacy
``questions``; new: ``answer_key`` (see docs/omr.md) and ``overlay`` (true to
keep an annotated picture in the artifact store; its key is returned).
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from typing import Any

from ai_tasks.contracts import AIJob
from ai_tasks.download import download_to_dir, fetch_json, job_tmpdir, url_origin
from ai_tasks.errors import JobPayloadError
from ai_tasks.redact import is_secret_key
from ai_tasks.resources import artifact_store, download_policy
from ai_tasks.settings import get_settings

__all__ = [
    "answers_step",
    "fetch_step",
    "grade_all",
    "identifier_step",
    "prefetch_legacy_meta",
    "release_step_artifacts",
    "resolve_meta",
    "warp_step",
]

MODES = ("auto", "photo", "scan")
_META_PATH = "/api/v1/assets/omr/objective/meta/"

def _mode(payload: Mapping[str, Any]) -> str:
    mode = str(payload.get("mode") or "auto").lower()
    if mode not in MODES:
        raise JobPayloadError("payload_invalid", f"mode must be one of {', '.join(MODES)}, got {mode!r}")
    return mode


def _question_count(payload: Mapping[str, Any]) -> int:
    raw = payload.get("question_count")
    try:
        qc = int(raw)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise JobPayloadError("payload_invalid", f"question_count must be an integer, got {raw!r}") from None
    if not 1 <= qc <= 100:
        raise JobPayloadError("payload_invalid", f"question_count must be in 1..100, got {qc}")
    return qc


def _fetch_template(payload: Mapping[str, Any], legacy_auth: Mapping[str, Any] | None) -> dict[str, Any]:
    """GET the template meta from the API; credentials from settings (or a legacy payload)."""
    s = get_settings()
    tf = payload.get("template_fetch")
    tf = tf if isinstance(tf, Mapping) else {}
    configured = s.template_base_url or s.api_base_url or ""
    base_url = str(tf.get("base_url") or configured)
    if not base_url:
        raise JobPayloadError(
            "payload_invalid", "template_fetch needs a base_url (payload or AI_WORKER_TEMPLATE_BASE_URL/API_BASE_URL)"
        )
    headers = {"Accept": "application/json"}
    # The worker's own credentials go only to the API it is configured for,
    # never to a base_url that a message chose.
    if configured and url_origin(base_url) == url_origin(configured):
        if s.internal_worker_token:
            headers["X-Worker-Token"] = s.internal_worker_token.reveal()
        if s.template_bearer_token:
            headers["Authorization"] = f"Bearer {s.template_bearer_token.reveal()}"
    if legacy_auth:  # deprecated: credentials that came inside the message
        if legacy_auth.get("cookie"):
            headers["Cookie"] = str(legacy_auth["cookie"])
        if legacy_auth.get("bearer_token"):
            headers["Authorization"] = f"Bearer {legacy_auth['bearer_token']}"
        if legacy_auth.get("worker_token"):
            headers["X-Worker-Token"] = str(legacy_auth["worker_token"])
    url = f"{base_url.rstrip('/')}{_META_PATH}?question_count={_question_count(payload)}"
    data = fetch_json(url, headers=headers, policy=download_policy(s))
    if not isinstance(data, dict):
        raise JobPayloadError("meta_invalid", "the API's template meta is not a JSON object")
    return data


def resolve_meta(payload: Mapping[str, Any], legacy_auth: Mapping[str, Any] | None = None) -> tuple[Any, bool]:
    """The validated template (an ``omr.SheetMeta``) for a payload, and whether it came from the API.

    Order: ``template_meta`` > ``template_fetch`` > legacy ``questions``.
    Validation is cached by content, so a template seen before costs one hash.
    """
    from omr.meta import as_sheet_meta, meta_from_legacy_questions

    if payload.get("template_meta"):
        meta = payload["template_meta"]
        if not isinstance(meta, Mapping):
            raise JobPayloadError("meta_invalid", "template_meta must be a JSON object")
        return as_sheet_meta(meta), False
    if payload.get("template_fetch"):
        return as_sheet_meta(_fetch_template(payload, legacy_auth)), True
    if payload.get("questions"):
        questions = payload["questions"]
        if not isinstance(questions, list):
            raise JobPayloadError("meta_invalid", "legacy questions must be a JSON list")
        return meta_from_legacy_questions(questions), False
    raise JobPayloadError(
        "meta_missing", "payload needs template_meta, template_fetch (+question_count) or legacy questions"
    )


def prefetch_legacy_meta(job: AIJob, state: dict[str, Any]) -> dict[str, Any]:
    """If the payload carries credentials (legacy), fetch the meta now and drop them.

    The dispatcher calls this before building the chain, so the chain's
    messages never carry the cookie or token.
    """
    tf = job.payload.get("template_fetch")
    if not isinstance(tf, Mapping) or job.payload.get("template_meta"):
        return state
    legacy_auth = {k: v for k, v in tf.items() if is_secret_key(k) and v}
    if not legacy_auth:
        return state
    meta, _ = resolve_meta(job.payload, legacy_auth={
        "cookie": tf.get("cookie"), "bearer_token": tf.get("bearer_token"), "worker_token": tf.get("worker_token"),
    })
    return {**state, **_store_meta(meta), "meta_used": True}


_META_CACHE: dict[str, Any] = {}
_META_CACHE_MAX = 32


def _store_meta(meta: Mapping[str, Any]) -> dict[str, str]:
    """Put the meta in the artifact store once per job; return the state fields that name it."""
    from omr.meta import as_sheet_meta

    sheet = as_sheet_meta(meta)
    _remember(sheet)
    return {"meta_key": artifact_store().put(json.dumps(sheet.raw).encode(), kind="meta"), "meta_hash": sheet.meta_hash}


def _bounded_put(cache: dict[str, Any], key: str, value: Any, limit: int) -> None:
    """Insert ``key``, evicting the oldest entries beyond ``limit`` (a process-local cache)."""
    cache.pop(key, None)
    while len(cache) >= limit:
        cache.pop(next(iter(cache)))
    cache[key] = value


def _remember(sheet: Any) -> None:
    _bounded_put(_META_CACHE, sheet.meta_hash, sheet, _META_CACHE_MAX)


def _load_meta_from_state(state: Mapping[str, Any]) -> Any:
    """The job's SheetMeta: from this process's cache by content hash, else from the store.

    Templates repeat across thousands of sheets, so a warm worker skips the
    store read, the JSON parse and the validation.
    """
    from omr.meta import as_sheet_meta

    cached = _META_CACHE.get(str(state.get("meta_hash")))
    if cached is not None:
        return cached
    sheet = as_sheet_meta(json.loads(artifact_store().get(state["meta_key"])))
    _remember(sheet)
    return sheet


def _image_url(payload: Mapping[str, Any]) -> str:
    url = payload.get("download_url")
    if not url or not isinstance(url, str):
        raise JobPayloadError("download_url_missing", "payload has no download_url")
    return url


def _download_image(state: Mapping[str, Any]) -> bytes:
    url = _image_url(state["payload"])
    with job_tmpdir(get_settings().tmp_dir, str(state["job"]["id"])) as tmp:
        path = download_to_dir(url, tmp, policy=download_policy(), filename="image")
        return path.read_bytes()


#: payload fields that only describe the template: dropped once the meta is in the store
_TEMPLATE_FIELDS = ("template_meta", "template_fetch", "questions")


def fetch_step(state: dict[str, Any]) -> dict[str, Any]:
    """Step 1: resolve the template meta (from the payload or the API) into the artifact store.

    The template fields leave the state here, so later messages stay small.
    """
    t0 = time.perf_counter()
    payload = state["payload"]
    _mode(payload)
    _image_url(payload)  # fail before any network call when there is nothing to grade
    out = dict(state)
    if "meta_key" not in out:
        meta, fetched = resolve_meta(payload)
        out.update(_store_meta(meta))
        out["meta_used"] = fetched
    out["payload"] = {k: v for k, v in payload.items() if k not in _TEMPLATE_FIELDS}
    out["timings_ms"] = {"fetch": round((time.perf_counter() - t0) * 1000, 2)}
    return out


def warp_step(state: dict[str, Any]) -> dict[str, Any]:
    """Step 2: download the photo, decode it, warp it to the template frame; the page goes to the store.

    The photo is downloaded here rather than in step 1 so that it never
    crosses the artifact store: only the (smaller) warped page does.
    """
    import omr.image
    import omr.warp

    t0 = time.perf_counter()
    meta = _load_meta_from_state(state)
    image = _download_image(state)
    t1 = time.perf_counter()
    page = omr.warp.warp_page(omr.image.decode_image(image), meta, _mode(state["payload"]))
    data, header = page.to_bytes()
    out = dict(state)
    out["page_key"] = key = artifact_store().put(data, kind="page")
    _remember_page(key, data)
    out["page_header"] = header
    out["timings_ms"] = {
        **state.get("timings_ms", {}),
        "download": round((t1 - t0) * 1000, 2),
        "warp": round((time.perf_counter() - t1) * 1000, 2),
    }
    return out


#: the last pages this process warped or read, by artifact key: when the next
#: step of a chain lands in the same pool process (always with one process,
#: often with several) it skips the store read. The store stays the source of
#: truth: any other process or machine reads it from there.
_LOCAL_PAGES: dict[str, bytes] = {}
_LOCAL_PAGES_MAX = 2


def _remember_page(key: str, data: bytes) -> None:
    _bounded_put(_LOCAL_PAGES, key, data, _LOCAL_PAGES_MAX)


def _page(state: Mapping[str, Any]) -> Any:
    from omr.answers import import_page_facts
    from omr.warp import WarpedPage

    key = state["page_key"]
    data = _LOCAL_PAGES.get(key)
    if data is None:
        data = artifact_store().get(key)
        _remember_page(key, data)
    page = WarpedPage.from_bytes(data, state["page_header"])
    import_page_facts(page, state.get("page_facts") or {})
    return page


def release_step_artifacts(state: Mapping[str, Any]) -> None:
    """Delete what the chain's steps left in the artifact store (the page and the meta).

    The answers task calls this once its result is stored, so the caller does
    not wait for the clean-up; whatever a crash leaves behind expires with the
    store's TTL.
    """
    store = artifact_store()
    for name in ("page_key", "meta_key"):
        key = state.get(name)
        if isinstance(key, str):
            _LOCAL_PAGES.pop(key, None)
            store.delete(key)


def identifier_step(state: dict[str, Any]) -> dict[str, Any]:
    """Step 3: read the 8-digit student id."""
    from omr.answers import export_page_facts
    from omr.identifier import read_identifier

    t0 = time.perf_counter()
    out = dict(state)
    page = _page(state)
    out["identifier"] = read_identifier(page, _load_meta_from_state(state))
    # what was measured rides along, so the answers step does not measure again
    out["page_facts"] = export_page_facts(page)
    out["timings_ms"] = {**state.get("timings_ms", {}), "identifier": round((time.perf_counter() - t0) * 1000, 2)}
    return out


def _overlay_key(page: Any, result: Mapping[str, Any], meta: Any) -> str:
    import cv2

    from omr.overlay import render_overlay

    ok, png = cv2.imencode(".png", render_overlay(page, result, meta))
    return artifact_store().put(png.tobytes(), kind="overlay")


def answers_step(state: dict[str, Any], *, release: bool = True) -> dict[str, Any]:
    """Step 4: read the answers, score, review, overlay; returns the OMR result.

    With ``release`` the page and meta artifacts are deleted before returning;
    the Celery task passes ``False`` and calls :func:`release_step_artifacts`
    after its result is stored.
    """
    from omr.answers import read_answers
    from omr.grade import assemble_result

    t0 = time.perf_counter()
    meta = _load_meta_from_state(state)
    page = _page(state)
    payload = state["payload"]
    answers = read_answers(page, meta)
    timings = {**state.get("timings_ms", {}), "answers": round((time.perf_counter() - t0) * 1000, 2)}
    result = assemble_result(
        page, state["identifier"], answers, mode=_mode(payload), key=_key(payload), timings_ms=timings
    )
    result["meta_used"] = bool(state.get("meta_used"))
    if payload.get("overlay"):
        result["overlay_key"] = _overlay_key(page, result, meta)
    if release:
        release_step_artifacts(state)
    return result


def _key(payload: Mapping[str, Any]) -> Mapping[str, Any] | None:
    key = payload.get("answer_key")
    if key is not None and not isinstance(key, Mapping):
        raise JobPayloadError("key_invalid", "answer_key must be a JSON object")
    return key


def grade_all(state: dict[str, Any]) -> dict[str, Any]:
    """All four steps in one process (``ai.omr.grade``): no artifact hops for the page."""
    from omr.grade import grade_image

    t0 = time.perf_counter()
    payload = state["payload"]
    mode = _mode(payload)
    if "meta_key" in state:
        meta, meta_used = _load_meta_from_state(state), True
        artifact_store().delete(state["meta_key"])
    else:
        meta, meta_used = resolve_meta(payload)
    image = _download_image(state)
    fetch_ms = round((time.perf_counter() - t0) * 1000, 2)
    result = grade_image(image, meta, mode=mode, key=_key(payload), return_page=bool(payload.get("overlay")))
    result["meta_used"] = meta_used
    page = result.pop("_page", None)
    if page is not None:
        result["overlay_key"] = _overlay_key(page, result, meta)
    result.setdefault("timings_ms", {})["fetch"] = fetch_ms
    return result
