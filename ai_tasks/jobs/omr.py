"""Job ``omr_grading``: fetch meta -> warp -> identifier -> answers.

Each step does the work its name says, on a typed :class:`OMRState`:

1. **fetch** (``ai.omr.fetch``): resolve the template meta (payload, the
   API, or legacy questions) and download the photo. Both go to the artifact
   store, so no later message carries a download URL or a template.
2. **warp** (``ai.omr.warp``): decode the photo and warp it to the template
   frame; the warped page goes to the store (the photo stays there until
   the job's artifacts are released, so a redelivered warp finds it).
3. **identifier** (``ai.omr.identifier``): read the student id; what was
   measured on the page rides along to the next step (``page_facts``).
4. **answers** (``ai.omr.answers``): read the answers, score, review,
   overlay; returns the OMR result.

The chain runs each step as its own task (each retried on its own, each
visible in Flower). ``payload.pipeline: "single"`` runs the same four
functions in one task, ``ai.omr.grade``, handing the meta, the photo and the
page over in memory instead of through the store (``ctx.hop`` is false), so
the two paths cannot drift: same keys, same meanings, same result.

A PDF (detected by its magic bytes in ``fetch``) is a stack of sheets: the
result is ``{"pages": [...], "page_count": N, ...}`` with one OMR result (its
``page`` number added) or ``{"page", "error": {reason_code, message}}`` per
page. On both paths warp and identifier pass a document through and the
answers step grades each page with the same three step functions, in
memory, reporting progress per page; a bad page never fails the job.

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
from ai_tasks.jobs.base import (
    JobRef,
    JobSpec,
    Step,
    StepContext,
    payload_bool,
    payload_choice,
    payload_str,
)
from ai_tasks.redact import is_secret_key
from ai_tasks.resources import artifact_store, download_policy
from ai_tasks.routing import CPU_VISION
from ai_tasks.settings import get_settings

if TYPE_CHECKING:
    from omr.types import SheetMeta
    from omr.warp import WarpedPage

__all__ = [
    "MODES",
    "SPEC",
    "OMRState",
    "TemplateFetch",
    "answers",
    "fetch",
    "identifier",
    "prepare",
    "release",
    "warp",
]

MODES = ("auto", "photo", "scan")
PIPELINES = ("chain", "single")
_META_PATH = "/api/v1/assets/omr/objective/meta/"
#: Payload fields this job reads; anything else is refused at the door.
PAYLOAD_FIELDS = frozenset({
    "download_url", "mode", "template_meta", "template_fetch", "question_count", "questions",
    "answer_key", "overlay", "pipeline", "image_key",
})
#: Templates repeat across thousands of sheets: a warm process keeps this many parsed.
META_CACHE_SIZE = 32
#: A pool process keeps the last pages (and photos) it handled: the next step
#: of a chain often lands on the same process and then skips the store read.
LOCAL_BLOBS_SIZE = 4
#: A class set in one PDF is tens of pages; past this it is not one class.
MAX_DOCUMENT_PAGES = 500


@dataclass(frozen=True)
class TemplateFetch:
    """Where the API serves the template meta (``template_fetch`` + ``question_count``)."""

    base_url: str | None
    question_count: int

    def to_dict(self) -> dict[str, Any]:
        return {"base_url": self.base_url, "question_count": self.question_count}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> TemplateFetch:
        return cls(base_url=data.get("base_url"), question_count=int(data["question_count"]))


@dataclass(frozen=True)
class OMRState:
    """What crosses the broker between the OMR steps.

    Before ``fetch``: ``download_url`` and one template source
    (``template_meta`` or ``template_fetch``). After it: ``meta_key`` and
    ``image_key`` (chain) or nothing (single task, objects in ``ctx.local``).
    ``timings_ms`` has the same keys on both paths: ``fetch``, ``warp``,
    ``identifier``, ``answers``.
    """

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
    page_key: str | None = None
    page_header: Mapping[str, Any] | None = None
    page_facts: Mapping[str, Any] | None = None
    identifier: Mapping[str, Any] | None = None
    timings_ms: Mapping[str, float] = field(default_factory=dict)
    page_count: int | None = None

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"job": self.job.to_dict()}
        for name in self.__dataclass_fields__:
            if name == "job":
                continue
            value = getattr(self, name)
            if value is None or (name == "timings_ms" and not value):
                continue
            out[name] = value.to_dict() if isinstance(value, TemplateFetch) else _plain(value)
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> OMRState:
        known = set(cls.__dataclass_fields__)
        extra = set(data) - known
        if extra:
            raise JobPayloadError("state_invalid", f"unknown OMR state field(s): {', '.join(sorted(extra))}")
        kwargs: dict[str, Any] = {k: v for k, v in data.items() if k not in ("job", "template_fetch")}
        tf = data.get("template_fetch")
        return cls(
            job=JobRef.from_dict(data["job"]),
            template_fetch=TemplateFetch.from_dict(tf) if tf else None,
            **kwargs,
        )


def _plain(value: Any) -> Any:
    return dict(value) if isinstance(value, Mapping) else value


# --- prepare: the door ---------------------------------------------------------


def _question_count(payload: Mapping[str, Any]) -> int:
    raw = payload.get("question_count")
    try:
        qc = int(raw)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise JobPayloadError("payload_invalid", f"question_count must be an integer, got {raw!r}") from None
    if not 1 <= qc <= 100:
        raise JobPayloadError("payload_invalid", f"question_count must be in 1..100, got {qc}")
    return qc


def prepare(job: AIJob, ref: JobRef) -> OMRState:
    """Validate the payload and build the first state.

    An inline ``template_meta`` (or legacy ``questions``) is validated here,
    so a bad or absurd template fails before anything is queued. Legacy
    credentials inside ``template_fetch`` are used here, once, to fetch the
    meta; they go no further.
    """
    payload = job.payload
    unknown = sorted(k for k in set(payload) - PAYLOAD_FIELDS if not is_secret_key(k))
    if unknown:
        raise JobPayloadError("payload_invalid", f"omr_grading payload has unknown field(s): {', '.join(unknown)}")
    image_key = payload_str(payload, "image_key")
    url = payload_str(payload, "download_url", required=image_key is None, reason_code="download_url_missing")
    if image_key is not None:
        from ai_tasks.artifacts import validate_key

        if url is not None:
            raise JobPayloadError("payload_invalid", "give download_url or image_key, not both")
        validate_key(image_key)
    mode = payload_choice(payload, "mode", MODES, "auto")
    overlay = payload_bool(payload, "overlay")
    key = payload.get("answer_key")
    if key is not None and not isinstance(key, Mapping):
        raise JobPayloadError("key_invalid", "answer_key must be a JSON object")
    if key is not None:
        from omr.scoring import normalize_key

        normalize_key(key)  # a malformed key fails at the door, not after grading
    state = OMRState(job=ref, mode=mode, download_url=url, answer_key=key, overlay=overlay, image_key=image_key)
    if payload.get("template_meta"):
        meta = payload["template_meta"]
        if not isinstance(meta, Mapping):
            raise JobPayloadError("meta_invalid", "template_meta must be a JSON object")
        sheet = _validated(meta)
        if key is not None:
            from omr.scoring import check_key

            check_key(key, sheet)  # a key for another sheet fails at the door too
        return replace(state, template_meta=sheet.raw, meta_source="payload")
    tf = payload.get("template_fetch")
    if tf:
        if not isinstance(tf, Mapping):
            raise JobPayloadError("payload_invalid", "template_fetch must be a JSON object")
        fetch_spec = TemplateFetch(base_url=payload_str(tf, "base_url"), question_count=_question_count(payload))
        legacy_auth = {k: str(v) for k, v in tf.items() if is_secret_key(k) and v}
        if legacy_auth:  # deprecated: fetch now with the message's credentials, then forget them
            meta = _fetch_template(fetch_spec, legacy_auth)
            return replace(state, template_meta=_validated(meta).raw, meta_source="api")
        return replace(state, template_fetch=fetch_spec, meta_source="api")
    if payload.get("questions"):
        from omr.meta import meta_from_legacy_questions

        questions = payload["questions"]
        if not isinstance(questions, list):
            raise JobPayloadError("meta_invalid", "legacy questions must be a JSON list")
        sheet = meta_from_legacy_questions(questions)
        _remember_meta(sheet)
        return replace(state, template_meta=sheet.raw, meta_source="legacy_questions")
    if isinstance(tf, Mapping):  # {}: the worker's own API (legacy questions, when given, win as they did)
        return replace(state, template_fetch=TemplateFetch(None, _question_count(payload)), meta_source="api")
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
    """Grade every page of a PDF with the three step functions, in memory; one bad page is one error entry."""
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
            page = answers(identifier(warp(sub, sub_ctx), sub_ctx), sub_ctx)
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


def warp(state: OMRState, ctx: StepContext) -> OMRState:
    """Step 2: decode the photo and warp it to the template frame (a PDF passes through)."""
    from omr.image import decode_image
    from omr.warp import warp_page

    if state.page_count is not None:
        return state
    t0 = time.perf_counter()
    meta = _meta(state, ctx)
    if ctx.hop:
        if state.image_key is None:
            raise JobPayloadError("state_invalid", "OMR state has no image_key: the fetch step did not run")
        image = _get_blob(state.image_key)
    else:
        image = ctx.local.pop("image")
    page = warp_page(decode_image(image), meta, state.mode)
    out = replace(state, timings_ms={**state.timings_ms, "warp": _ms(t0)})
    if not ctx.hop:
        ctx.local["page"] = page
        return out
    data, header = page.to_bytes()
    # The photo stays in the store until release(): a warp redelivered after
    # its worker died must find it again.
    return replace(out, page_key=_put_blob(data, "page"), page_header=header)


def _page(state: OMRState, ctx: StepContext) -> WarpedPage:
    from omr.answers import import_page_facts
    from omr.warp import WarpedPage

    if "page" in ctx.local:
        return ctx.local["page"]
    if state.page_key is None or state.page_header is None:
        raise JobPayloadError("state_invalid", "OMR state has no page: the warp step did not run")
    page = WarpedPage.from_bytes(_get_blob(state.page_key), dict(state.page_header))
    import_page_facts(page, dict(state.page_facts or {}))
    return page


def identifier(state: OMRState, ctx: StepContext) -> OMRState:
    """Step 3: read the 8-digit student id (a PDF passes through)."""
    from omr.answers import export_page_facts
    from omr.identifier import read_identifier

    if state.page_count is not None:
        return state
    t0 = time.perf_counter()
    page = _page(state, ctx)
    ident = read_identifier(page, _meta(state, ctx))
    # what was measured rides along, so the answers step does not measure again
    facts = export_page_facts(page) if ctx.hop else None
    return replace(state, identifier=ident, page_facts=facts, timings_ms={**state.timings_ms, "identifier": _ms(t0)})


def answers(state: OMRState, ctx: StepContext) -> dict[str, Any]:
    """Step 4: read the answers, score, review, overlay; returns the OMR result."""
    import cv2

    from omr.answers import read_answers
    from omr.grade import assemble_result
    from omr.overlay import render_overlay

    if state.page_count is not None:
        return _grade_document(state, ctx)
    t0 = time.perf_counter()
    meta = _meta(state, ctx)
    page = _page(state, ctx)
    read = read_answers(page, meta)
    timings = {**state.timings_ms, "answers": _ms(t0)}
    result = assemble_result(
        page, dict(state.identifier or {}), read, mode=state.mode, key=state.answer_key, timings_ms=timings,
        meta_source=state.meta_source or "payload",
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
    for key in (state.image_key, state.page_key, state.meta_key):
        if key is not None:
            _LOCAL_BLOBS.pop(key, None)
            store.delete(key)


SPEC = JobSpec(
    type="omr_grading",
    queue=CPU_VISION,
    state=OMRState,
    prepare=prepare,
    steps=(
        Step("ai.omr.fetch", fetch),
        Step("ai.omr.warp", warp),
        Step("ai.omr.identifier", identifier),
        Step("ai.omr.answers", answers),
    ),
    single_task="ai.omr.grade",
    release=release,
)
