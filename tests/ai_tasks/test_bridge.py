"""``ai-worker bridge`` against a local API that speaks the legacy worker's contract.

The intake and the result endpoint are real HTTP (tests/ai_tasks/_legacy_api.py);
the ledger and the delivered marker live in a private redis-server that a test
may kill; the broker and the workers are replaced by an in-memory stand-in
(tests/integration/test_bridge.py runs real ones).
"""

from __future__ import annotations

import json
import logging
import threading
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import redis
from kombu.exceptions import OperationalError

from ai_tasks.bridge import NEXT_PATH, Bridge, Ledger, LegacyIntake, task_id_for
from ai_tasks.delivery import DeliveredMarker
from ai_tasks.errors import PermanentError, TransientError
from ai_tasks.settings import Secret
from tests.ai_tasks._http import body, redirect, serve, status
from tests.ai_tasks._legacy_api import LegacyAPI, legacy_api
from tests.integration._private_redis import PrivateRedis

TOKEN = "legacy-worker-token-SECRET"
SIGNED = "https://bucket.example/p.jpg?X-Amz-Signature=SIGNATURE-SECRET"


@pytest.fixture(scope="module")
def private_redis(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PrivateRedis]:
    try:
        srv = PrivateRedis(tmp_path_factory.mktemp("bridge-redis")).start()
    except RuntimeError as exc:
        pytest.skip(str(exc))
    yield srv
    srv.stop()


@pytest.fixture()
def rurl(private_redis: PrivateRedis) -> str:
    if private_redis.proc is None:
        private_redis.start()
    redis.Redis.from_url(private_redis.url()).flushdb()
    return private_redis.url()


class FakeWorkers:
    """The broker and the workers: a published job is finished (DONE, echoing its type) on :meth:`work`."""

    def __init__(self) -> None:
        self.published: list[tuple[dict[str, Any], str]] = []
        self.results: dict[str, tuple[str, Any]] = {}
        self.broker_down = False
        self.lose_next = 0  # messages the "broker" loses (published, never run)
        self.auto = True

    def publish(self, job: dict[str, Any], task_id: str) -> None:
        if self.broker_down:
            raise OperationalError("broker away")
        self.published.append((job, task_id))
        if self.lose_next:
            self.lose_next -= 1
            return
        if self.auto:
            self._finish(job, task_id)

    def _finish(self, job: dict[str, Any], task_id: str) -> None:
        self.results[task_id] = ("SUCCESS", {"job_id": job["id"], "status": "DONE",
                                             "result": {"type": job["type"]}, "error": None})

    def read(self, task_ids: list[str]) -> dict[str, tuple[str, Any]]:
        return {t: self.results[t] for t in task_ids if t in self.results}


def _job(i: int, **extra: Any) -> dict[str, Any]:
    return {"id": i, "type": "ocr", "payload": {"download_url": SIGNED}, "source_id": str(1000 + i), **extra}


def _bridge(api: LegacyAPI, rurl: str, workers: FakeWorkers, **kw: Any) -> Bridge:
    opts: dict[str, Any] = {"max_in_flight": 8, "poll_interval_s": 0.05, "max_backoff_s": 1.0, **kw}
    return Bridge(
        LegacyIntake(api.base_url, Secret(TOKEN), timeout_s=2), Ledger(redis.Redis.from_url(rurl)),
        DeliveredMarker(rurl, fail_open=False), workers.publish, workers.read,
        api_base_url=api.base_url, token=Secret(TOKEN), **opts,
    )


def _run(bridge: Bridge, timeout_s: float = 30.0) -> None:
    stop = threading.Event()
    timer = threading.Timer(timeout_s, stop.set)
    timer.start()
    try:
        bridge.run(stop, exit_when_idle=True)
    finally:
        timer.cancel()
    assert not stop.is_set(), f"bridge not idle after {timeout_s} s: {bridge.counts}"


# -- the intake -------------------------------------------------------------


def test_intake_polls_next_with_the_worker_headers() -> None:
    with legacy_api(TOKEN, [_job(1)]) as api:
        intake = LegacyIntake(api.base_url + "/", Secret(TOKEN))
        assert intake.next_job() == _job(1)
        assert intake.next_job() is None
        (first, _second) = [r for r in api.server.requests if r.method == "GET"]  # type: ignore[union-attr]
    assert first.path == NEXT_PATH
    assert first.headers["X-Worker-Token"] == TOKEN and first.headers["X-Worker-Id"]


@pytest.mark.parametrize(
    ("route", "code"),
    [
        (status(401), "intake_unauthorized"),
        (status(403), "intake_unauthorized"),
        (status(503), "intake_unavailable"),
        (status(404), "intake_unavailable"),
        (body(b"<html>proxy error</html>"), "intake_invalid"),
        (body(b"[1, 2]"), "intake_invalid"),
    ],
)
def test_intake_errors_carry_a_reason_code(route: Any, code: str) -> None:
    with serve({NEXT_PATH: route}) as srv:
        with pytest.raises((PermanentError, TransientError)) as err:
            LegacyIntake(f"http://u:PASS-SECRET@{srv.host}:{srv.port}", Secret(TOKEN), timeout_s=2).next_job()
    assert err.value.reason_code == code
    assert isinstance(err.value, PermanentError) == (code == "intake_unauthorized")
    assert TOKEN not in str(err.value) and "PASS-SECRET" not in str(err.value)


def test_intake_does_not_follow_redirects_with_the_token() -> None:
    with serve() as other:
        with serve({NEXT_PATH: redirect(other.url(NEXT_PATH))}) as srv:
            with pytest.raises(TransientError) as err:
                LegacyIntake(srv.base_url, Secret(TOKEN), timeout_s=2).next_job()
        assert other.requests == []
    assert err.value.reason_code == "intake_unavailable"


def test_intake_down_is_transient() -> None:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with pytest.raises(TransientError) as err:
        LegacyIntake(f"http://127.0.0.1:{port}", Secret(TOKEN), timeout_s=1).next_job()
    assert err.value.reason_code == "intake_unavailable"


@pytest.mark.parametrize("url", ["ftp://api", "api:8000", ""])
def test_intake_refuses_a_url_that_is_not_http(url: str) -> None:
    with pytest.raises(ValueError, match="http"):
        LegacyIntake(url, Secret(TOKEN))


# -- the loop ---------------------------------------------------------------


def test_every_job_is_published_once_and_posted_back_once_as_the_legacy_worker_did(rurl: str) -> None:
    workers = FakeWorkers()
    with legacy_api(TOKEN, [_job(i) for i in range(20)]) as api:
        bridge = _bridge(api, rurl, workers)
        _run(bridge)
    assert sorted(t for _, t in workers.published) == sorted(task_id_for(i) for i in range(20))
    assert api.accepted() == Counter({str(i): 1 for i in range(20)})
    post = next(p for p in api.posts if p.body["job_id"] == "3")
    key = f"3:{task_id_for('3')}"
    assert post.body == {"job_id": "3", "submission_id": 1003, "status": "DONE", "result": {"type": "ocr"},
                         "error": None, "idempotency_key": key}
    assert post.headers["X-Worker-Token"] == TOKEN and post.headers["Idempotency-Key"] == key
    assert bridge.counts.posted == bridge.counts.done == bridge.counts.fetched == 20
    assert redis.Redis.from_url(rurl).hlen("ai:bridge:ledger") == 0  # nothing held once posted


def test_max_in_flight_bounds_what_is_taken_from_the_intake(rurl: str) -> None:
    workers = FakeWorkers()
    workers.auto = False  # nothing finishes
    with legacy_api(TOKEN, [_job(i) for i in range(10)]) as api:
        bridge = _bridge(api, rurl, workers, max_in_flight=3)
        for _ in range(5):
            bridge.step()
        assert len(api.handed_out) == 3 and len(bridge.jobs) == 3
        assert redis.Redis.from_url(rurl).hlen("ai:bridge:ledger") == 3


def test_a_job_offered_again_is_not_run_or_posted_again(rurl: str) -> None:
    workers = FakeWorkers()
    workers.auto = False
    with legacy_api(TOKEN, [_job(1), _job(1)]) as api:
        bridge = _bridge(api, rurl, workers)
        for _ in range(3):
            bridge.step()  # both offers taken; the second is in flight already
        assert len(workers.published) == 1 and bridge.counts.duplicates == 1
        workers._finish(*workers.published[0])
        _run(bridge)
        api.add([_job(1)])  # offered once more after its result was posted
        _run(bridge)
    assert len(workers.published) == 1
    assert api.accepted() == Counter({"1": 1}) and bridge.counts.duplicates == 2


def test_jobs_fetched_but_not_published_survive_the_bridge(rurl: str) -> None:
    """At least once: the intake hands a job out once; the ledger keeps it until its result is posted."""
    workers = FakeWorkers()
    workers.broker_down = True
    with legacy_api(TOKEN, [_job(i) for i in range(5)]) as api:
        first = _bridge(api, rurl, workers)
        for _ in range(4):
            first.step()
        assert len(api.handed_out) == 5 and workers.published == []
        del first  # the bridge stops (or dies) holding five fetched jobs
        workers.broker_down = False
        second = _bridge(api, rurl, workers)
        _run(second)
    assert api.accepted() == Counter({str(i): 1 for i in range(5)})
    assert second.counts.fetched == 0 and second.counts.published == 5


def test_a_result_found_delivered_is_not_posted_again(rurl: str) -> None:
    """A bridge that died after the 2xx was recorded but before the ledger forgot the job posts nothing."""
    workers = FakeWorkers()
    with legacy_api(TOKEN, [_job(7)]) as api:
        _run(_bridge(api, rurl, workers))
        ledger = Ledger(redis.Redis.from_url(rurl))
        from ai_tasks.bridge import LedgerEntry

        ledger.put(LedgerEntry(job={"id": "7", "type": "ocr", "payload": {}, "source_id": None},
                               fetched_at=0.0, published_at=0.0))
        again = _bridge(api, rurl, workers)
        _run(again)
    assert api.accepted() == Counter({"7": 1}) and again.counts.delivered_before == 1


def test_an_overdue_job_is_published_again_under_the_same_task_id(rurl: str) -> None:
    workers = FakeWorkers()
    workers.lose_next = 1  # the first message never runs
    with legacy_api(TOKEN, [_job(1)]) as api:
        bridge = _bridge(api, rurl, workers, republish_after_s=0.3)
        _run(bridge)
    assert [t for _, t in workers.published] == [task_id_for(1)] * 2
    assert bridge.counts.republished == 1 and api.accepted() == Counter({"1": 1})


def test_the_api_down_is_waited_for(rurl: str) -> None:
    workers = FakeWorkers()
    with legacy_api(TOKEN, [_job(i) for i in range(4)]) as api:
        api.stall("next", 1.0)
        api.stall("result", 2.5)
        bridge = _bridge(api, rurl, workers)
        _run(bridge)
    assert api.accepted() == Counter({str(i): 1 for i in range(4)})
    assert any(p.status == 503 for p in api.posts)


def test_redis_restarts_lose_nothing_and_post_nothing_twice(rurl: str, private_redis: PrivateRedis) -> None:
    workers = FakeWorkers()
    workers.auto = False
    with legacy_api(TOKEN, [_job(i) for i in range(12)]) as api:
        bridge = _bridge(api, rurl, workers, max_in_flight=6)
        for _ in range(3):
            bridge.step()
        private_redis.kill()  # Redis away while six jobs are held, none finished
        for job, task_id in workers.published:
            workers._finish(job, task_id)
        for _ in range(5):
            bridge.step()  # results unreadable, the ledger unwritable: the bridge waits
        assert api.accepted() == Counter()
        private_redis.start()
        workers.auto = True
        for job, task_id in workers.published:
            workers._finish(job, task_id)
        _run(bridge)
    assert api.accepted() == Counter({str(i): 1 for i in range(12)})


def test_a_malformed_job_is_answered_failed_without_running(rurl: str) -> None:
    workers = FakeWorkers()
    jobs: list[Any] = [{"id": 5, "type": 3, "source_id": 77}, {"type": "ocr"}, "nonsense", _job(6)]
    with legacy_api(TOKEN, jobs) as api:
        bridge = _bridge(api, rurl, workers)
        _run(bridge)
    assert [t for _, t in workers.published] == [task_id_for(6)]
    bodies = api.bodies()
    assert set(bodies) == {"5", "6"}
    assert bodies["5"]["status"] == "FAILED" and bodies["5"]["error"]["reason_code"] == "job_invalid"
    assert bodies["5"]["submission_id"] == 77
    assert bridge.counts.refused == 3


def test_a_result_the_api_refuses_for_good_is_dropped(rurl: str) -> None:
    workers = FakeWorkers()
    with legacy_api(TOKEN, [_job(1)], routes={}) as api:
        api.server.route("/api/v1/internal/ai/job/result/", status(400))  # type: ignore[union-attr]
        bridge = _bridge(api, rurl, workers)
        _run(bridge)
    assert bridge.counts.rejected == 1 and bridge.counts.posted == 0 and not bridge.jobs


def test_a_refused_token_stops_the_bridge(rurl: str) -> None:
    with legacy_api("another-token") as api:
        bridge = _bridge(api, rurl, FakeWorkers())
        with pytest.raises(PermanentError) as err:
            bridge.run(threading.Event())
    assert err.value.reason_code == "intake_unauthorized"


def test_secrets_stay_out_of_the_logs(rurl: str, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    workers = FakeWorkers()
    with legacy_api(TOKEN, [_job(i) for i in range(3)]) as api:
        api.stall("result", 1.2)
        _run(_bridge(api, rurl, workers, progress_every_s=0.0))
    text = "\n".join(r.getMessage() for r in caplog.records)
    assert "job 1 (ocr) fetched" in text and "posted=3" in text
    assert TOKEN not in text and "SIGNATURE-SECRET" not in text
    # the ledger keeps the job as the broker message does; the token is in neither
    assert TOKEN not in json.dumps([job for job, _ in workers.published])


# -- the command ------------------------------------------------------------


@pytest.fixture()
def env(monkeypatch: pytest.MonkeyPatch) -> Iterator[pytest.MonkeyPatch]:
    from ai_tasks.settings import get_settings

    get_settings.cache_clear()
    yield monkeypatch
    monkeypatch.undo()
    get_settings.cache_clear()


@pytest.mark.parametrize(
    ("variables", "argv", "code"),
    [
        ({}, [], "api_url_missing"),
        ({"API_BASE_URL": "http://127.0.0.1:9"}, [], "token_missing"),
        ({"INTERNAL_WORKER_TOKEN": TOKEN}, ["--api-url", "http://127.0.0.1:9"], "broker_missing"),
        ({"INTERNAL_WORKER_TOKEN": TOKEN, "CELERY_BROKER_URL": "amqp://g:g@127.0.0.1:5672//",
          "CELERY_RESULT_BACKEND": "rpc://"}, ["--api-url", "http://127.0.0.1:9"], "no_redis"),
        ({"INTERNAL_WORKER_TOKEN": TOKEN, "CELERY_BROKER_URL": "redis://127.0.0.1:9/0"},
         ["--api-url", "ftp://api"], "api_url_invalid"),
    ],
)
def test_the_command_refuses_to_start_without_what_it_needs(
    env: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], variables: dict[str, str], argv: list[str],
    code: str,
) -> None:
    from ai_tasks.cli import main

    for name, value in variables.items():
        env.setenv(name, value)
    assert main(["bridge", *argv]) == 2
    err = json.loads(capsys.readouterr().err)
    assert err["reason_code"] == code and TOKEN not in err["message"]


def test_legacy_poll_settings_are_known(env: pytest.MonkeyPatch) -> None:
    from ai_tasks.settings import Settings, SettingsError

    s = Settings.from_env({"AI_WORKER_POLL_INTERVAL": "0.5", "AI_WORKER_MAX_BACKOFF": "10"})
    assert (s.bridge_poll_interval_s, s.bridge_max_backoff_s) == (0.5, 10.0)
    with pytest.raises(SettingsError, match="AI_WORKER_POLL_INTERVAL"):
        Settings.from_env({"AI_WORKER_POLL_INTERVAL": "0"})


def test_ledger_survives_json(tmp_path: Path) -> None:
    from ai_tasks.bridge import LedgerEntry

    entry = LedgerEntry(job={"id": "9", "source_id": None}, fetched_at=1.5,
                        result={"job_id": "9", "status": "FAILED", "result": None,
                                "error": {"reason_code": "job_invalid", "message": "x"}})
    back = LedgerEntry.from_json(entry.to_json())
    assert back == entry and back.refused and back.persisted
    ran = LedgerEntry(job={"id": "9"}, fetched_at=1.5, published_at=2.0, result={"status": "DONE"})
    assert LedgerEntry.from_json(ran.to_json()).result is None  # re-read from the result backend


# -- the Celery side --------------------------------------------------------


def test_publish_through_the_job_ledger_and_read_back_through_celery(rurl: str) -> None:
    from celery import Celery

    from ai_tasks.bridge import celery_publisher, celery_results, finished_result
    from ai_tasks.errors import PoisonMessageError
    from ai_tasks.ledger import DUE_KEY, ENTRIES_KEY

    app = Celery("bridge-test", broker=rurl, backend=rurl)
    try:
        job = {"id": "1", "type": "ocr", "payload": {"download_url": SIGNED}, "source_id": None}
        publish = celery_publisher(app, deadline_s=30.0)  # the bridge's --republish-after
        publish(job, task_id_for("1"))
        publish(job, task_id_for("1"))  # overdue: the ledger holds it, the sweeper republishes
        client = redis.Redis.from_url(rurl)
        raw = client.lrange("cpu-vision", 0, -1)
        (message,) = [json.loads(m) for m in raw]
        assert message["headers"]["id"] == task_id_for("1") and message["headers"]["task"] == "ai.job"
        entry = json.loads(client.hget(ENTRIES_KEY, task_id_for("1")))  # submitted through the job ledger
        assert entry["job_id"] == "1" and json.loads(entry["message"]) == message and entry["deadline_s"] == 30.0
        assert client.zscore(DUE_KEY, task_id_for("1")) is not None

        done = {"job_id": "1", "status": "DONE", "result": {"n": 1}, "error": None}
        app.backend.store_result(task_id_for("1"), done, "SUCCESS")
        app.backend.mark_as_failure(task_id_for("2"), PoisonMessageError("poison_message", "delivered 4 times"))
        app.backend.store_result(task_id_for("3"), None, "STARTED")
        read = celery_results(app)([task_id_for(i) for i in ("1", "2", "3", "4")])
    finally:
        app.close()
    assert read[task_id_for("1")] == ("SUCCESS", done)
    assert set(read) == {task_id_for(i) for i in ("1", "2", "3")}  # "4": nothing stored yet
    failed = finished_result("2", *read[task_id_for("2")])
    assert failed is not None and failed["error"]["reason_code"] == "poison_message"
    assert finished_result("3", *read[task_id_for("3")]) is None
