"""The ai.job dispatcher: permanent errors answer at once, transient ones are retried, then answered."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from ai_tasks.celery import app
from tests._redis import require_redis
from tests.ai_tasks._http import LocalServer, serve, status


@pytest.fixture()
def api() -> Iterator[LocalServer]:
    with serve() as srv:
        srv.route("/api/v1/assets/omr/objective/meta/", status(503))
        yield srv


def _dispatch(job: dict) -> dict:
    app.loader.import_default_modules()
    return app.tasks["ai.job"].apply(args=[job]).get()


def test_unknown_type_and_malformed_jobs_answer_failed() -> None:
    assert _dispatch({"id": 1, "type": "teleport"})["error"]["reason_code"] == "unknown_job_type"
    assert _dispatch({"type": "ocr"})["error"]["reason_code"] == "job_invalid"


def test_transient_template_fetch_is_retried_then_answered(api: LocalServer) -> None:
    job = {
        "id": "r1",
        "type": "omr_grading",
        "payload": {
            "download_url": "https://x/y.jpg",
            "question_count": 20,
            "template_fetch": {"base_url": api.base_url, "cookie": "s=legacy"},
        },
    }
    out = _dispatch(job)
    assert out["status"] == "FAILED" and out["error"]["reason_code"] == "download_http_5xx"
    attempts = [r for r in api.requests if r.path.startswith("/api/v1/assets/omr/objective/meta/")]
    assert len(attempts) == app.tasks["ai.job"].max_retries + 1


def test_deliver_posts_once_per_submission_even_when_run_twice(monkeypatch: pytest.MonkeyPatch) -> None:
    """Issue 12, fault 4: a redelivered deliver (or a re-run finalize) does not POST again."""
    import json
    import uuid

    import redis

    import ai_tasks.tasks.jobs as jobs_module
    from ai_tasks.delivery import RESULT_PATH, DeliveredMarker
    from ai_tasks.settings import Settings

    require_redis("redis://127.0.0.1:6379/14")
    app.loader.import_default_modules()
    with serve() as api:
        api.route(RESULT_PATH, status(200))
        settings = Settings.from_env({"API_BASE_URL": api.base_url, "INTERNAL_WORKER_TOKEN": "tok"})
        monkeypatch.setattr(jobs_module, "get_settings", lambda: settings)
        monkeypatch.setattr(jobs_module, "_marker", DeliveredMarker("redis://127.0.0.1:6379/14", ttl_s=60))
        result = {"job_id": "j-1", "status": "DONE", "result": {"score": 1}, "error": None}
        result_id = uuid.uuid4().hex
        for _ in range(2):
            app.tasks["ai.job.deliver"].apply(args=[result, "7"], kwargs={"result_id": result_id}).get()
        posts = [r for r in api.requests if r.method == "POST"]
    assert len(posts) == 1
    assert posts[0].headers["Idempotency-Key"] == f"j-1:{result_id}"
    assert json.loads(posts[0].body)["idempotency_key"] == f"j-1:{result_id}"
    redis.Redis.from_url("redis://127.0.0.1:6379/14").delete(f"ai:delivered:j-1:{result_id}")


def test_deliver_is_not_marked_when_the_api_fails(monkeypatch: pytest.MonkeyPatch) -> None:
    """No marker without a 2xx: the retry (or a redelivery) still POSTs."""
    import uuid

    import ai_tasks.tasks.jobs as jobs_module
    from ai_tasks.delivery import RESULT_PATH, DeliveredMarker
    from ai_tasks.errors import DeliveryRejectedError
    from ai_tasks.settings import Settings

    app.loader.import_default_modules()
    with serve() as api:
        api.route(RESULT_PATH, status(400))
        settings = Settings.from_env({"API_BASE_URL": api.base_url, "INTERNAL_WORKER_TOKEN": "tok"})
        monkeypatch.setattr(jobs_module, "get_settings", lambda: settings)
        marker = DeliveredMarker("redis://127.0.0.1:6379/14", ttl_s=60)
        monkeypatch.setattr(jobs_module, "_marker", marker)
        result_id = uuid.uuid4().hex
        out = app.tasks["ai.job.deliver"].apply(
            args=[{"job_id": "j-2", "status": "DONE"}, None], kwargs={"result_id": result_id}
        )
        assert isinstance(out.result, DeliveryRejectedError)
    assert not marker.delivered(f"j-2:{result_id}")


def test_deliver_does_not_post_while_another_run_holds_the_claim(monkeypatch: pytest.MonkeyPatch) -> None:
    """A copy redelivered while the first run is still posting waits (retries) instead of posting too."""
    import uuid

    import redis

    import ai_tasks.tasks.jobs as jobs_module
    from ai_tasks.delivery import RESULT_PATH, DeliveredMarker
    from ai_tasks.settings import Settings

    require_redis("redis://127.0.0.1:6379/14")
    app.loader.import_default_modules()
    with serve() as api:
        api.route(RESULT_PATH, status(200))
        settings = Settings.from_env({"API_BASE_URL": api.base_url, "INTERNAL_WORKER_TOKEN": "tok"})
        monkeypatch.setattr(jobs_module, "get_settings", lambda: settings)
        marker = DeliveredMarker("redis://127.0.0.1:6379/14", ttl_s=60)
        monkeypatch.setattr(jobs_module, "_marker", marker)
        result_id = uuid.uuid4().hex
        key = f"j-3:{result_id}"
        assert marker.claim(key)  # the first run is posting
        task = app.tasks["ai.job.deliver"]
        # in a worker this retries in 22 s; called directly it just does not post
        task.run({"job_id": "j-3", "status": "DONE"}, None, result_id=result_id)
        assert not [r for r in api.requests if r.method == "POST"]
        marker.release(key)
        task.run({"job_id": "j-3", "status": "DONE"}, None, result_id=result_id)  # claim free: posts once
        assert len([r for r in api.requests if r.method == "POST"]) == 1 and marker.delivered(key)
    redis.Redis.from_url("redis://127.0.0.1:6379/14").delete(f"ai:delivered:{key}", f"ai:delivering:{key}")


def test_a_second_run_of_a_job_keeps_the_first_result(monkeypatch: pytest.MonkeyPatch) -> None:
    """Issue 18: a job republished by the ledger while its first copy was only slow has one result.

    The later run finds the first AIResult stored under the job's task id and
    stores and delivers that one again (the same idempotency key: one POST).
    """
    from celery.backends.cache import CacheBackend

    import ai_tasks.tasks.jobs as jobs_module

    backend = CacheBackend(app=app, backend="memory")
    monkeypatch.setattr(type(app), "backend", property(lambda self: backend))
    settled: list[str | None] = []
    delivered: list[dict] = []
    monkeypatch.setattr(jobs_module, "settle", lambda _app, rid: settled.append(rid))
    monkeypatch.setattr(jobs_module, "_delivering", lambda: True)  # deliver settles the ledger entry
    monkeypatch.setattr(jobs_module, "_enqueue_delivery", lambda out, job, rid: delivered.append(out))
    job = {"id": "slow-1", "type": "ocr", "source_id": "1"}
    first = jobs_module.finalize({"text": "first"}, job, result_id="rid-slow-1")
    second = jobs_module.finalize({"text": "second"}, job, result_id="rid-slow-1")
    jobs_module.failed(None, RuntimeError("a third copy failed"), None, job, "rid-slow-1")
    assert first["result"] == {"text": "first"} and second == first
    assert backend.get_task_meta("rid-slow-1")["result"] == first
    assert delivered == [first, first, first] and settled == []


class _Poisoned:
    """A delivery counter that finds every redelivery past the limit."""

    max_deliveries = 3

    def __init__(self) -> None:
        self.letters: list[str] = []

    def record_redelivery(self, task_id: str, retries: int) -> int:
        return self.max_deliveries + 1

    def dead_letter(self, *, task_name: str, task_id: str, args: object, kwargs: object, deliveries: int) -> None:
        self.letters.append(task_id)


@pytest.mark.parametrize("delivering", [False, True])
def test_a_poisoned_job_is_answered_failed_and_settles_its_ledger_entry(
    monkeypatch: pytest.MonkeyPatch, delivering: bool
) -> None:
    """Issue 18: an ai.job dead-lettered after several killed deliveries answers a FAILED AIResult.

    Stored under the job's id (what the API reads), delivered when delivery is
    on (``ai.job.deliver`` then settles the ledger), else the ledger entry is
    settled at once; the dead letter is kept.
    """
    from celery.backends.cache import CacheBackend

    import ai_tasks.task as task_module
    import ai_tasks.tasks.jobs as jobs_module

    app.loader.import_default_modules()
    backend = CacheBackend(app=app, backend="memory")
    monkeypatch.setattr(type(app), "backend", property(lambda self: backend))
    counter = _Poisoned()
    monkeypatch.setattr(task_module, "_counter", counter)
    settled: list[str | None] = []
    delivered: list[tuple[dict, dict]] = []  # type: ignore[type-arg]
    monkeypatch.setattr(jobs_module, "settle", lambda _app, rid: settled.append(rid))
    monkeypatch.setattr(jobs_module, "_delivering", lambda: delivering)
    monkeypatch.setattr(jobs_module, "_enqueue_delivery", lambda out, job, rid: delivered.append((out, job)))
    job = {"id": "p-1", "type": "omr_grading", "source_id": "9", "payload": {"download_url": "https://b/x.jpg"}}
    task = app.tasks["ai.job"]
    task.push_request(id="rid-p-1", retries=0, args=[job], kwargs={}, is_eager=False,
                      delivery_info={"redelivered": True, "routing_key": "cpu-vision"})
    try:
        out = task(job)
    finally:
        task.pop_request()
    assert out["status"] == "FAILED" and out["job_id"] == "p-1" and out["error"]["reason_code"] == "poison_message"
    assert backend.get_task_meta("rid-p-1")["result"] == out and counter.letters == ["rid-p-1"]
    if delivering:
        assert delivered == [(out, {"id": "p-1", "type": "omr_grading", "source_id": "9"})] and settled == []
    else:
        assert settled == ["rid-p-1"] and delivered == []


def test_the_last_step_of_a_dispatched_job_stores_its_result_and_a_redelivery_answers_it_again(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """No ai.job.finalize hop: ai.omr.read stores the DONE AIResult under the job's id and concludes.

    Redelivered after that (its worker died before the ack; the photo is
    already released), it answers the stored result again without reading.
    """
    import json
    from pathlib import Path

    from celery.backends.cache import CacheBackend

    import ai_tasks.task as task_module
    import ai_tasks.tasks.jobs as jobs_module
    from ai_tasks.jobs.base import StepContext
    from ai_tasks.jobs.runner import start_job
    from ai_tasks.resources import artifact_store
    from ai_tasks.tasks.steps import STEP_TASKS

    samples = Path(__file__).resolve().parents[3] / "omr" / "samples"
    monkeypatch.setattr(task_module, "_counter", False)  # no poison counter: this test touches no Redis
    backend = CacheBackend(app=app, backend="memory")
    monkeypatch.setattr(type(app), "backend", property(lambda self: backend))
    concluded: list[tuple[str, str | None]] = []
    monkeypatch.setattr(jobs_module, "conclude", lambda out, job, rid: concluded.append((out["status"], rid)))
    monkeypatch.setattr("ai_tasks.tasks.steps.conclude", lambda out, job, rid: concluded.append((out["status"], rid)))
    progressed: list[tuple[str | None, str]] = []  # each step start pushes the job's ledger deadline
    monkeypatch.setattr("ai_tasks.tasks.steps.progress", lambda _app, rid, kind: progressed.append((rid, kind)))
    key = artifact_store().put((samples / "photo_20q.jpg").read_bytes(), kind="image")
    job = {"id": "f-1", "type": "omr_grading", "payload": {
        "image_key": key, "template_meta": json.loads((samples / "meta_20q.json").read_text())}}
    spec, state, _ = start_job(job, result_id="rid-f-1")
    fetched = spec.steps[0].run(state, StepContext(state.job, hop=True)).to_dict()
    read = STEP_TASKS["ai.omr.read"]

    def deliver(redelivered: bool) -> dict:  # type: ignore[type-arg]
        read.push_request(id="step-1", retries=0, args=[fetched], kwargs={}, is_eager=False,
                          delivery_info={"redelivered": redelivered, "routing_key": "cpu-vision"})
        try:
            return read(fetched)  # type: ignore[no-any-return]
        finally:
            read.pop_request()

    out = deliver(False)
    assert out["status"] == "DONE" and out["job_id"] == "f-1" and len(out["result"]["answers"]) == 20
    assert backend.get_task_meta("rid-f-1")["result"] == out
    spec.release(spec.state.from_dict(fetched))  # what on_success does after the step
    assert deliver(True) == out  # the photo is gone: the stored answer, not a second reading
    assert concluded == [("DONE", "rid-f-1"), ("DONE", "rid-f-1")]
    assert progressed == [("rid-f-1", "omr_grading")] * 2


def test_deliver_fails_closed_when_the_marker_is_unreadable(monkeypatch: pytest.MonkeyPatch) -> None:
    """Issue-18 chaos: a delivery that cannot read the delivered marker (Redis restarting) retries, not posts.

    Only the last attempt of the delivery budget posts without the marker.
    """
    import socket
    import uuid

    from celery.exceptions import Retry

    import ai_tasks.tasks.jobs as jobs_module
    from ai_tasks.delivery import RESULT_PATH, DeliveredMarker
    from ai_tasks.settings import Settings

    with socket.socket() as sock:  # a port nothing listens on: every marker call fails
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    app.loader.import_default_modules()
    task = app.tasks["ai.job.deliver"]
    retried: list[int] = []
    monkeypatch.setattr(task, "retry", lambda *a, **k: retried.append(k["countdown"]) or Retry("later"))
    monkeypatch.setattr(jobs_module, "settle", lambda _app, rid: None)
    monkeypatch.setattr(jobs_module, "_marker", DeliveredMarker(f"redis://127.0.0.1:{port}/0", fail_open=False))
    result, result_id = {"job_id": "j-4", "status": "DONE"}, uuid.uuid4().hex
    with serve() as api:
        api.route(RESULT_PATH, status(200))
        settings = Settings.from_env({"API_BASE_URL": api.base_url, "INTERNAL_WORKER_TOKEN": "tok"})
        monkeypatch.setattr(jobs_module, "get_settings", lambda: settings)
        for retries, expect_posts in ((0, 0), (app.conf.DELIVERY_MAX_RETRIES, 1)):
            task.push_request(id="deliver-1", retries=retries, called_directly=False, is_eager=False)
            try:
                if expect_posts:
                    task.run(result, "7", result_id=result_id)
                else:
                    with pytest.raises(Retry):
                        task.run(result, "7", result_id=result_id)
            finally:
                task.pop_request()
            assert len([r for r in api.requests if r.method == "POST"]) == expect_posts
    assert len(retried) == 1 and retried[0] >= 1
    # the ledger's sweep: a marker it cannot read enqueues the (fail-closed) delivery again
    enqueued: list[str | None] = []
    monkeypatch.setattr(jobs_module, "_delivering", lambda: True)
    monkeypatch.setattr(jobs_module, "_enqueue_delivery", lambda out, job, rid: enqueued.append(rid))
    assert jobs_module.redeliver_stored(result, {"id": "j-4"}, result_id) is False
    assert enqueued == [result_id]


def test_a_hand_over_kombu_cannot_publish_requeues_the_job_and_never_answers_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Issue 18 chaos (Redis, 10,000 jobs): a broker restart tore kombu's channel down under the publish.

    ``sig.apply_async()`` raised ``AttributeError: 'NoneType' object has no
    attribute 'client'`` from kombu's Redis transport; the dispatcher let it
    escape, Celery stored a bare failure and the API never got a callback.
    Now the hand-over is retried and then the job's own message requeued.
    """
    from celery.canvas import Signature
    from celery.exceptions import Reject

    import ai_tasks.task as task_module
    import ai_tasks.tasks.jobs as jobs_module

    app.loader.import_default_modules()
    monkeypatch.setattr(task_module, "_counter", False)  # no poison counter: this test touches no Redis
    tries: list[dict] = []  # type: ignore[type-arg]

    def torn_down(self: Signature, args: object = None, kwargs: object = None, **options: object) -> None:
        tries.append(dict(options))
        raise AttributeError("'NoneType' object has no attribute 'client'")

    monkeypatch.setattr(Signature, "apply_async", torn_down)
    concluded: list[object] = []
    monkeypatch.setattr(jobs_module, "conclude", lambda *a: concluded.append(a))
    monkeypatch.setattr(jobs_module, "progress", lambda *a: concluded.append(a))
    task = app.tasks["ai.job"]
    job = {"id": "h-1", "type": "embedding", "payload": {"texts": ["삼각형의 넓이", "triangle"]}, "source_id": "1"}
    task.push_request(id="rid-h-1", retries=0, args=[job], kwargs={}, is_eager=False, called_directly=False,
                      delivery_info={"redelivered": False, "routing_key": "cpu-vision"})
    try:
        with pytest.raises(Reject) as err:
            task(job)
    finally:
        task.pop_request()
    assert err.value.requeue is True and "AttributeError" in str(err.value.reason)
    assert tries and tries[0]["retry"] is True  # published with kombu's retry first
    assert concluded == []  # no FAILED answer, no delivery, no ledger progress: the job runs again


def test_the_sweep_answers_a_bare_task_failure_as_internal_error_and_delivers_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A job whose task stored only a Celery failure (an escaped exception) still gets its callback."""
    from celery import states
    from celery.backends.cache import CacheBackend

    import ai_tasks.tasks.jobs as jobs_module

    backend = CacheBackend(app=app, backend="memory")
    monkeypatch.setattr(type(app), "backend", property(lambda self: backend))
    backend.store_result("rid-b-1", AttributeError("'NoneType' object has no attribute 'client'"), states.FAILURE)
    bare = backend.get_task_meta("rid-b-1")["result"]
    enqueued: list[tuple[dict, str | None]] = []  # type: ignore[type-arg]
    monkeypatch.setattr(jobs_module, "_enqueue_delivery", lambda out, job, rid: enqueued.append((out, rid)))
    job = {"id": "b-1", "type": "problem_generation", "source_id": "7"}

    monkeypatch.setattr(jobs_module, "_delivering", lambda: True)
    assert jobs_module.redeliver_stored(bare, job, "rid-b-1") is False  # delivery enqueued: wait one more deadline
    stored = backend.get_task_meta("rid-b-1")
    assert stored["status"] == states.SUCCESS
    assert stored["result"]["status"] == "FAILED" and stored["result"]["error"]["reason_code"] == "internal_error"
    assert enqueued == [(stored["result"], "rid-b-1")]

    monkeypatch.setattr(jobs_module, "_delivering", lambda: False)  # nothing delivers: stored, then settled
    assert jobs_module.redeliver_stored(bare, job, "rid-b-1") is True
