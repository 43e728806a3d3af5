"""Job ``omr_grading``: fetch meta and photo -> read the sheet.

Two steps on a typed :class:`OMRState`:

1. **fetch** (``ai.omr.fetch``): resolve the template meta (payload, the
   API, or legacy questions) and download the photo. Both go to the artifact
   store, so no later message carries a download URL or a template.
2. **read** (``ai.omr.read``): three stages in one task, the warped page
   handed over in memory: **warp** (decode the photo, warp it to the
   template frame), **identifier** (the student id), **answers** (answers,
   score, review, overlay); returns the OMR result. The photo stays in the
   store until the job's artifacts are released, so a redelivered read
   finds it.

The chain runs each step as its own task (each retried on its own, each
logged; in Flower with ``AI_WORKER_STEP_EVENTS``); its last step stores the
job's AIResult itself (``ai_tasks/tasks/steps.py``). The chain was four
steps (fetch, warp, identifier, answers) and ``ai.job.finalize``: each hop
cost about 10 ms of CPU per sheet and split nothing that is retried or
placed apart (the three reading stages are CPU on one page; only the
download waits on the network), so they are one task now (issue 18).
``payload.pipeline: "single"`` runs the same two step functions in one task,
``ai.omr.grade`` (inside ``ai.job``), handing the meta and the photo over in
memory instead of through the store (``ctx.hop`` is false), so the two paths
cannot drift: same keys, same meanings, same result.

A PDF (detected by its magic bytes in ``fetch``) is a stack of sheets: the
result is ``{"pages": [...], "page_count": N, ...}`` with one OMR result (its
``page`` number added) or ``{"page", "error": {reason_code, message}}`` per
page. On both paths ``read`` grades each page with the same three stage
functions, in memory, reporting progress per page; a bad page never fails
the job.

Payload (legacy-compatible): ``download_url`` (required), ``mode``
(``auto``/``photo``/``scan``), one of ``template_meta`` (a meta dict),
``template_fetch`` + ``question_count`` (the API's meta endpoint; an empty
``template_fetch: {}`` means the worker's own ``AI_WORKER_TEMPLATE_BASE_URL``
/ ``API_BASE_URL``) or legacy ``questions``; new: ``answer_key``, ``overlay`` (true: an annotated picture in
the artifact store, its key in ``overlay_key``), ``pipeline``
(``chain``/``single``), ``image_key`` (instead of ``download_url``: the
photo already in the artifact store, as ``ai-worker omr grade-batch --broker``
puts it there; the job consumes it).

``meta_used`` keeps its legacy meaning: the meta came from the API.
``meta_source`` says where it came from: ``payload``, ``api`` or
``legacy_questions``.
"""

from __future__ import annotations

import json
import time
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from ai_tasks.contracts import AIJob
from ai_tasks.download import download_to_dir, fetch_json, job_tmpdir, url_origin
from ai_tasks.errors import JobPayloadError
from ai_tasks.jobs.base import JobRef, JobSpec, Step, StepContext
from ai_tasks.jobs.codec import StateCodec
from ai_tasks.jobs.payload import Choice, Flag, Integer, JSONList, JSONObject, PayloadSpec, Text
from ai_tasks.redact import is_secret_key
from ai_tasks.resources import artifact_store, download_policy
from ai_tasks.routing import CPU_VISION
from ai_tasks.settings import get_settings

if TYPE_CHECKING:
    from omr.types import SheetMeta
    from omr.warp import WarpedPage

__all__ = [
    "MODES",
    "PAYLOAD",
    "SPEC",
    "OMRState",
    "TemplateFetch",
    "answers",
    "fetch",
    "identifier",
    "is_pdf_stack",
    "prepare",
    "read",
    "release",
    "warp",
]

MODES = ("auto", "photo", "scan")
_META_PATH = "/api/v1/assets/omr/objective/meta/"
#: Templates repeat across thousands of sheets: a warm process keeps this many parsed.
META_CACHE_SIZE = 32
#: A pool process keeps the last photos it fetched: the read step often lands
#: on the same process and then skips the store read (the store is the fallback).
LOCAL_BLOBS_SIZE = 4
#: A class set in one PDF is tens of pages; past this it is not one class.
MAX_DOCUMENT_PAGES = 500


def _image_key(key: str) -> str:
    from ai_tasks.artifacts import validate_key

    return validate_key(key)


def _answer_key(key: Mapping[str, Any]) -> Mapping[str, Any]:
    from omr.scoring import normalize_key

    normalize_key(key)  # a malformed key fails at the door, not after grading
    return key


#: The payload (legacy-compatible; the three template sources are chosen in :func:`prepare`).
PAYLOAD = PayloadSpec("omr_grading", (
    Text("image_key", check=_image_key),
    Text("download_url"),
    Choice("mode", MODES, "auto"),
    Flag("overlay"),
    JSONObject("answer_key", reason_code="key_invalid", check=_answer_key),
    JSONObject("template_meta", reason_code="meta_invalid"),
    JSONObject("template_fetch"),
    Integer("question_count", None, 1, 100),
    JSONList("questions", reason_code="meta_invalid"),
))


@dataclass(frozen=True)
class TemplateFetch(StateCodec):
    """Where the API serves the template meta (``template_fetch`` + ``question_count``)."""

    base_url: str | None
    question_count: int


@dataclass(frozen=True)
class OMRState(StateCodec):
    """What crosses the broker between the OMR steps.

    Before ``fetch``: ``download_url`` and one template source
    (``template_meta`` or ``template_fetch``). After it: ``meta_key`` and
    ``image_key`` (chain) or nothing (single task, objects in ``ctx.local``);
    the warped page never leaves the process (``ctx.local["page"]``).
    ``timings_ms`` has the same keys on both paths: ``fetch``, ``warp``,
    ``identifier``, ``answers``. Only what is set travels (``omit_empty``).
    """

    omit_empty = True

    job: JobRef
    mode: str = "auto"
    download_url: str | None = None
    template_meta: Mapping[str, Any] | None = None
    template_fetch: TemplateFetch | None = None
    meta_source: str | None = None
    answer_key: Mapping[str, Any] | None = None
    overlay: bool = False
    meta_key: str | None = None
    meta_hash: str | None = None
    image_key: str | None = None
    identifier: Mapping[str, Any] | None = None
    timings_ms: Mapping[str, float] = field(default_factory=dict)
    page_count: int | None = None


# --- prepare: the door ---------------------------------------------------------


def _legacy_auth(payload: Mapping[str, Any]) -> dict[str, str]:
    """Credentials a legacy API put inside ``template_fetch`` (the checker drops them)."""
    tf = payload.get("template_fetch")
    return {k: str(v) for k, v in tf.items() if is_secret_key(k) and v} if isinstance(tf, Mapping) else {}


def prepare(job: AIJob, ref: JobRef) -> OMRState:
    """Validate the payload (:data:`PAYLOAD`) and build the first state.

    The photo comes from ``download_url`` or ``image_key``, exactly one. The
    template from the first given of ``template_meta``, ``template_fetch``
    (+ ``question_count``) and legacy ``questions``. An inline meta (or legacy
    questions) is validated here, so a bad or absurd template fails before
    anything is queued. Legacy credentials inside ``template_fetch`` are used
    here, once, to fetch the meta; they go no further.
    """
    p = PAYLOAD.check(job.payload)
    url, image_key = p["download_url"], p["image_key"]
    if url is None and image_key is None:
        raise JobPayloadError("download_url_missing", "payload has no download_url")
    if url is not None and image_key is not None:
        raise JobPayloadError("payload_invalid", "give download_url or image_key, not both")
    state = OMRState(job=ref, mode=p["mode"], download_url=url, answer_key=p["answer_key"], overlay=p["overlay"],
                     image_key=image_key)
    legacy_auth = _legacy_auth(job.payload)
    if p["template_meta"]:
        sheet = _validated(p["template_meta"])
        if p["answer_key"] is not None:
            from omr.scoring import check_key

            check_key(p["answer_key"], sheet)  # a key for another sheet fails at the door too
        return replace(state, template_meta=sheet.raw, meta_source="payload")
    if p["template_fetch"] or legacy_auth:
        if p["question_count"] is None:
            raise JobPayloadError("payload_invalid", "template_fetch needs question_count")
        base_url = Text("base_url").read(p["template_fetch"] or {}, "omr_grading template_fetch")
        fetch_spec = TemplateFetch(base_url=base_url, question_count=p["question_count"])
        if legacy_auth:  # deprecated: fetch now with the message's credentials, then forget them
            meta = _fetch_template(fetch_spec, legacy_auth)
            return replace(state, template_meta=_validated(meta).raw, meta_source="api")
        return replace(state, template_fetch=fetch_spec, meta_source="api")
    if p["questions"]:
        from omr.meta import meta_from_legacy_questions

        sheet = meta_from_legacy_questions(p["questions"])
        _remember_meta(sheet)
        return replace(state, template_meta=sheet.raw, meta_source="legacy_questions")
    if p["template_fetch"] is not None:  # {}: the worker's own API (legacy questions, when given, win as they did)
        if p["question_count"] is None:
            raise JobPayloadError("payload_invalid", "template_fetch needs question_count")
        return replace(state, template_fetch=TemplateFetch(None, p["question_count"]), meta_source="api")
    raise JobPayloadError(
        "meta_missing", "payload needs template_meta, template_fetch (+question_count) or legacy questions"
    )


def _fetch_template(spec: TemplateFetch, legacy_auth: Mapping[str, str] | None = None) -> Mapping[str, Any]:
    """GET the template meta from the API; the worker's credentials go only to its own API."""
    s = get_settings()
    configured = s.template_base_url or s.api_base_url or ""
    base_url = spec.base_url or configured
    if not base_url:
        raise JobPayloadError(
            "payload_invalid", "template_fetch needs a base_url (payload or AI_WORKER_TEMPLATE_BASE_URL/API_BASE_URL)"
        )
    headers = {"Accept": "application/json"}
    if configured and url_origin(base_url) == url_origin(configured):
        if s.internal_worker_token:
            headers["X-Worker-Token"] = s.internal_worker_token.reveal()
        if s.template_bearer_token:
            headers["Authorization"] = f"Bearer {s.template_bearer_token.reveal()}"
    for name, value in (legacy_auth or {}).items():
        low = name.lower()
        if "cookie" in low:
            headers["Cookie"] = value
        elif "bearer" in low:
            headers["Authorization"] = f"Bearer {value}"
        elif "worker" in low:
            headers["X-Worker-Token"] = value
    url = f"{base_url.rstrip('/')}{_META_PATH}?question_count={spec.question_count}"
    data = fetch_json(url, headers=headers, policy=download_policy(s))
    if not isinstance(data, dict):
        raise JobPayloadError("meta_invalid", "the API's template meta is not a JSON object")
    return data


# --- per-process caches ----------------------------------------------------------

_META_CACHE: OrderedDict[str, SheetMeta] = OrderedDict()
_LOCAL_BLOBS: OrderedDict[str, bytes] = OrderedDict()


def _bounded_put(cache: OrderedDict[str, Any], key: str, value: Any, limit: int) -> None:
    cache[key] = value
    cache.move_to_end(key)
    while len(cache) > limit:
        cache.popitem(last=False)


def _remember_meta(sheet: SheetMeta) -> None:
    _bounded_put(_META_CACHE, sheet.meta_hash, sheet, META_CACHE_SIZE)


def _validated(meta: Mapping[str, Any]) -> SheetMeta:
    from omr.meta import as_sheet_meta

    sheet = as_sheet_meta(meta)
    _remember_meta(sheet)
    return sheet


def _put_blob(data: bytes, kind: str) -> str:
    key = artifact_store().put(data, kind=kind)
    _bounded_put(_LOCAL_BLOBS, key, data, LOCAL_BLOBS_SIZE)
    return key


def _get_blob(key: str) -> bytes:
    data = _LOCAL_BLOBS.get(key)
    if data is None:
        data = artifact_store().get(key)
        _bounded_put(_LOCAL_BLOBS, key, data, LOCAL_BLOBS_SIZE)
    return data


def _meta(state: OMRState, ctx: StepContext) -> SheetMeta:
    """The job's meta: handed over in memory, else this process's cache by hash, else the store."""
    if "meta" in ctx.local:
        return ctx.local["meta"]
    cached = _META_CACHE.get(str(state.meta_hash))
    if cached is not None:
        return cached
    if state.meta_key is None:
        raise JobPayloadError("state_invalid", "OMR state has no meta_key: the fetch step did not run")
    return _validated(json.loads(artifact_store().get(state.meta_key)))


def _ms(t0: float) -> float:
    return round((time.perf_counter() - t0) * 1000, 2)


# --- the four steps ----------------------------------------------------------------


def fetch(state: OMRState, ctx: StepContext) -> OMRState:
    """Step 1: the template meta and the photo, into the store (chain) or memory (single).

    The download URL and the template leave the state here, so no later
    message (or Flower's view of a step's result) carries them.
    """
    t0 = time.perf_counter()
    if state.template_meta is not None:
        sheet = _validated(state.template_meta)
    elif state.template_fetch is not None:
        sheet = _validated(_fetch_template(state.template_fetch))
    else:
        raise JobPayloadError("meta_missing", "OMR state has no template")
    if state.download_url is None and state.image_key is None:
        raise JobPayloadError("download_url_missing", "OMR state has no download_url")
    if state.download_url is None:
        image = _get_blob(str(state.image_key))  # put there by the caller (grade-batch --broker)
    else:
        with job_tmpdir(get_settings().tmp_dir, state.job.id) as tmp:
            image = download_to_dir(state.download_url, tmp, policy=download_policy(), filename="image").read_bytes()
    out = replace(
        state, download_url=None, template_meta=None, template_fetch=None, meta_hash=sheet.meta_hash,
        page_count=_document_pages(image),
    )
    if ctx.hop:
        meta_key = artifact_store().put(json.dumps(sheet.raw).encode(), kind="meta")
        image_key = state.image_key if state.download_url is None else _put_blob(image, "image")
        out = replace(out, meta_key=meta_key, image_key=image_key)
    else:
        ctx.local.update(meta=sheet, image=image)
    return replace(out, timings_ms={**state.timings_ms, "fetch": _ms(t0)})


def _document_pages(data: bytes) -> int | None:
    """The page count of a PDF (a stack of sheets); ``None`` for a photo."""
    from omr.batch import BatchInputError, pdf_page_count

    if b"%PDF-" not in data[:1024]:
        return None
    count = pdf_page_count(data)
    if count == 0:
        raise BatchInputError("pdf_empty", "the PDF has no pages")
    if count > MAX_DOCUMENT_PAGES:
        raise BatchInputError("too_many_pages", f"the PDF has {count:,} pages, limit {MAX_DOCUMENT_PAGES:,}")
    return count


def _grade_document(state: OMRState, ctx: StepContext) -> dict[str, Any]:
    """Grade every page of a PDF with the three stage functions, in memory; one bad page is one error entry."""
    from omr.batch import render_pdf_page

    t0 = time.perf_counter()
    meta = _meta(state, ctx)
    pdf = ctx.local.pop("image") if "image" in ctx.local else _get_blob(str(state.image_key))
    total = int(state.page_count or 0)
    pages: list[dict[str, Any]] = []
    for index in range(total):
        sub = replace(state, page_count=None, image_key=None, meta_key=None, timings_ms={})
        sub_ctx = StepContext(state.job, hop=False)
        try:
            sub_ctx.local.update(meta=meta, image=render_pdf_page(pdf, index))
            page = _read_sheet(sub, sub_ctx)
            pages.append({"page": index + 1, **page})
        except Exception as exc:
            code = getattr(exc, "reason_code", None)
            if not isinstance(code, str) or getattr(exc, "retryable", False):
                raise  # a bug or a transient store error: the job fails (or retries), as for one photo
            pages.append({"page": index + 1, "error": {"reason_code": code, "message": getattr(exc, "message", str(exc))}})
        ctx.progress(index + 1, total, page=index + 1)
    return {
        "pages": pages, "page_count": total, "meta_used": state.meta_source == "api",
        "meta_source": state.meta_source, "timings_ms": {**state.timings_ms, "answers": _ms(t0)},
    }


def read(state: OMRState, ctx: StepContext) -> dict[str, Any]:
    """Step 2: decode and warp the photo, read the student id and the answers, score; returns the OMR result.

    Warp, identifier and answers run in this one task, the warped page handed
    over in memory (a PDF stack: every page the same way).
    """
    if is_pdf_stack(state):
        return _grade_document(state, ctx)
    return _read_sheet(state, ctx)


def _read_sheet(state: OMRState, ctx: StepContext) -> dict[str, Any]:
    return answers(identifier(warp(state, ctx), ctx), ctx)


def warp(state: OMRState, ctx: StepContext) -> OMRState:
    """Stage 1 of :func:`read`: decode the photo and warp it to the template frame (``ctx.local["page"]``).

    The photo comes from ``ctx.local`` (the single task) or the store (the
    chain); it stays in the store until :func:`release`, so a ``read``
    redelivered after its worker died finds it again.
    """
    from omr.image import decode_image
    from omr.warp import warp_page

    t0 = time.perf_counter()
    meta = _meta(state, ctx)
    if "image" in ctx.local:
        image = ctx.local.pop("image")
    elif state.image_key is None:
        raise JobPayloadError("state_invalid", "OMR state has no image_key: the fetch step did not run")
    else:
        image = _get_blob(state.image_key)
    ctx.local["page"] = warp_page(decode_image(image, print_colour=meta.print_colour), meta, state.mode)
    return replace(state, timings_ms={**state.timings_ms, "warp": _ms(t0)})


def _page(ctx: StepContext) -> WarpedPage:
    if "page" not in ctx.local:
        raise JobPayloadError("state_invalid", "OMR state has no page: the warp stage did not run")
    page: WarpedPage = ctx.local["page"]
    return page


def identifier(state: OMRState, ctx: StepContext) -> OMRState:
    """Stage 2 of :func:`read`: read the 8-digit student id on the warped page."""
    from omr.identifier import read_identifier

    t0 = time.perf_counter()
    ident = read_identifier(_page(ctx), _meta(state, ctx))
    return replace(state, identifier=ident, timings_ms={**state.timings_ms, "identifier": _ms(t0)})


def answers(state: OMRState, ctx: StepContext) -> dict[str, Any]:
    """Stage 3 of :func:`read`: read the answers, score, review, overlay; returns the OMR result."""
    import cv2

    from omr.answers import read_answers
    from omr.extra_ovals import read_extra_ovals
    from omr.grade import assemble_result
    from omr.overlay import render_overlay

    t0 = time.perf_counter()
    meta = _meta(state, ctx)
    page = _page(ctx)
    read_out = read_answers(page, meta)
    timings = {**state.timings_ms, "answers": _ms(t0)}
    result = assemble_result(
        page, dict(state.identifier or {}), read_out, mode=state.mode, key=state.answer_key, timings_ms=timings,
        meta_source=state.meta_source or "payload", extra_ovals=read_extra_ovals(page, meta),
    )
    if state.overlay:
        ok, png = cv2.imencode(".png", render_overlay(page, result, meta))
        result["overlay_key"] = artifact_store().put(png.tobytes(), kind="overlay")
    return result


def release(state: OMRState) -> None:
    """Delete what the steps left in the artifact store (after the result is stored).

    Whatever a crash leaves behind expires with the store's TTL.
    """
    store = artifact_store()
    for key in (state.image_key, state.meta_key):
        if key is not None:
            _LOCAL_BLOBS.pop(key, None)
            store.delete(key)


def is_pdf_stack(state: OMRState) -> bool:
    """A PDF of sheets (``fetch`` counted its pages): :func:`read` grades each page."""
    return state.page_count is not None


SPEC = JobSpec(
    type="omr_grading",
    queue=CPU_VISION,
    state=OMRState,
    prepare=prepare,
    steps=(
        Step("ai.omr.fetch", fetch, (60, 90)),
        Step("ai.omr.read", read, (60, 90)),
    ),
    single_task="ai.omr.grade",
    single_time_limit_s=(60, 90),
    release=release,
)
