"""The bridge's loop: fetch from the intake, ledger, publish, collect results, post them back."""

from __future__ import annotations

import logging
import random
import threading
import time
from dataclasses import dataclass
from typing import Any

from redis.exceptions import RedisError

from ai_tasks.bridge.broker import Publish, ReadResults, broker_errors, finished_result
from ai_tasks.bridge.intake import LegacyIntake
from ai_tasks.bridge.ledger import Ledger, LedgerEntry, task_id_for
from ai_tasks.contracts import AIJob, AIResult
from ai_tasks.delivery import DeliveredMarker, idempotency_key, post_unless_delivered
from ai_tasks.errors import DeliveryError, DeliveryRejectedError, JobPayloadError, TransientError
from ai_tasks.settings import Secret

__all__ = ["REPUBLISH_AFTER_S", "RESULT_POLL_S", "Bridge", "BridgeCounts"]

log = logging.getLogger("ai_tasks.bridge")

#: How often results are looked for while jobs are in flight, s (a result waits half that on average).
RESULT_POLL_S = 0.25
#: Default wait for a result before a job is published again: twice the longest hard time limit
#: (``ai.homework.video``, 900 s), so a job that is merely slow is rarely run twice.
REPUBLISH_AFTER_S = 1800.0


class _Backoff:
    """Waits after consecutive failures, as the legacy loop did: 1, 3, 7, 15 s ... capped, plus up to 1 s."""

    def __init__(self, max_s: float) -> None:
        self.max_s = max_s
        self.delay_s = 0.0
        self.until = 0.0

    def ready(self, now: float) -> bool:
        return now >= self.until

    def fail(self, now: float) -> float:
        self.delay_s = min(self.max_s, self.delay_s * 2 + 1) if self.delay_s else 1.0
        self.until = now + self.delay_s + random.random()
        return self.delay_s

    def ok(self) -> None:
        self.delay_s, self.until = 0.0, 0.0


@dataclass
class BridgeCounts:
    """What a bridge did since it started (printed as its progress line and on exit)."""

    fetched: int = 0  #: jobs taken from the intake
    published: int = 0  #: ai.job messages sent for them
    republished: int = 0  #: sent again: result overdue
    posted: int = 0  #: results POSTed with a 2xx
    done: int = 0  #: of those, DONE
    failed: int = 0  #: of those, FAILED
    delivered_before: int = 0  #: results found already posted (an earlier run, or a worker)
    duplicates: int = 0  #: jobs offered again while in flight or after their result was posted
    refused: int = 0  #: intake answers that are no AIJob (answered FAILED job_invalid when they have an id)
    rejected: int = 0  #: results the API refused for good (4xx): logged and dropped

    def to_dict(self) -> dict[str, int]:
        return dict(self.__dict__)

    def line(self, in_flight: int) -> str:
        return f"in_flight={in_flight} " + " ".join(f"{k}={v}" for k, v in self.__dict__.items())


class Bridge:
    """The loop: fetch from the intake, ledger, publish, collect results, post them back.

    Args:
        intake: where jobs come from.
        ledger: where fetched jobs are kept until their result is posted.
        marker: the delivered marker the workers share, strict (``fail_open=False``).
        publish: how a job is sent (:func:`celery_publisher`).
        read_results: how finished results are read (:func:`celery_results`).
        api_base_url: where results are POSTed.
        token: the worker token.
        max_in_flight: most jobs held at once; the intake is not polled beyond it.
        poll_interval_s: wait after the intake had no job.
        max_backoff_s: cap of the waits after failures (intake, Redis, broker, API).
        republish_after_s: a job without a result this long after its publish is published again.
        progress_every_s: how often the progress line is logged.
    """

    def __init__(
        self, intake: LegacyIntake, ledger: Ledger, marker: DeliveredMarker, publish: Publish,
        read_results: ReadResults, *, api_base_url: str, token: Secret, max_in_flight: int = 64,
        poll_interval_s: float = 1.0, max_backoff_s: float = 30.0, republish_after_s: float = REPUBLISH_AFTER_S,
        progress_every_s: float = 10.0,
    ) -> None:
        if max_in_flight < 1:
            raise ValueError(f"max_in_flight must be >= 1, got {max_in_flight}")
        self.intake, self.ledger, self.marker = intake, ledger, marker
        self.publish, self.read_results = publish, read_results
        self.api_base_url, self._token = api_base_url, token
        self.max_in_flight = max_in_flight
        self.poll_interval_s = poll_interval_s
        self.republish_after_s = republish_after_s
        self.progress_every_s = progress_every_s
        self.jobs: dict[str, LedgerEntry] = {}
        self.counts = BridgeCounts()
        self.loaded = False
        self.intake_empty = False
        self._next_poll = 0.0
        self._waits = {name: _Backoff(max_backoff_s) for name in ("intake", "redis", "broker", "api")}

    # -- the loop --------------------------------------------------------

    def run(self, stop: threading.Event, *, exit_when_idle: bool = False) -> BridgeCounts:
        """Serve until ``stop`` is set (or, with ``exit_when_idle``, the intake is empty and nothing is held).

        Raises:
            PermanentError: ``intake_unauthorized``: the intake refused the token.
        """
        last_line = time.monotonic()
        self.intake_empty = False  # idle means: the latest poll found nothing
        while not stop.is_set():
            worked = self.step(stop)
            now = time.monotonic()
            if now - last_line >= self.progress_every_s:
                log.info("bridge: %s", self.counts.line(len(self.jobs)))
                last_line = now
            if exit_when_idle and self.loaded and self.intake_empty and not self.jobs:
                break
            if not worked:
                stop.wait(min(self.poll_interval_s, RESULT_POLL_S) if self.jobs or not self.loaded
                          else self.poll_interval_s)
        log.info("bridge stopped: %s (held jobs stay in the ledger for the next start)",
                 self.counts.line(len(self.jobs)))
        return self.counts

    def step(self, stop: threading.Event | None = None) -> bool:
        """One round; True when something moved (a job fetched, published or posted)."""
        worked = False
        if self._wait_over("redis"):
            try:
                if not self.loaded:
                    self._load()
                self._persist()
                worked |= self._collect_and_post()
                self._waits["redis"].ok()
            except RedisError as exc:
                self._failed("redis", "redis_unavailable", f"Redis did not answer ({type(exc).__name__})")
        if self.loaded and self._wait_over("broker"):
            try:
                worked |= self._publish_due()
                self._waits["broker"].ok()
            except broker_errors() as exc:
                self._failed("broker", "broker_unavailable", f"publishing ai.job failed ({type(exc).__name__})")
        if self.loaded and self._wait_over("intake"):
            worked |= self._fetch(stop)
        return worked

    # -- phases ----------------------------------------------------------

    def _load(self) -> None:
        held = self.ledger.load()
        held.update(self.jobs)  # nothing fetched yet can be lost
        self.jobs = held
        self.loaded = True
        if held:
            log.info("bridge: resuming %d job(s) from the ledger", len(held))

    def _persist(self) -> None:
        for entry in self.jobs.values():
            if not entry.persisted:
                self.ledger.put(entry)

    def _publish_due(self) -> bool:
        now = time.time()
        worked = False
        for entry in list(self.jobs.values()):
            if entry.result is not None or not entry.persisted:
                continue
            overdue = entry.published_at is not None and now - entry.published_at > self.republish_after_s
            if entry.published_at is not None and not overdue:
                continue
            self.publish(entry.job, entry.task_id)
            if overdue:
                self.counts.republished += 1
                log.warning("job %s: no result %.0f s after its publish (result_overdue): published again",
                            entry.job_id, now - (entry.published_at or now))
            else:
                self.counts.published += 1
            entry.published_at, entry.persisted = time.time(), False
            worked = True
            try:
                self.ledger.put(entry)
            except RedisError:
                pass  # written by _persist when Redis is back; until then a restart publishes it again
        return worked

    def _collect_and_post(self) -> bool:
        waiting = [e.task_id for e in self.jobs.values() if e.result is None and e.published_at is not None]
        if waiting:
            by_task = {e.task_id: e for e in self.jobs.values()}
            for task_id, (state, value) in self.read_results(waiting).items():
                entry = by_task[task_id]
                entry.result = finished_result(entry.job_id, state, value)
        worked = False
        for entry in list(self.jobs.values()):
            if entry.result is None:
                continue
            if not entry.posted:
                if not self._wait_over("api"):
                    continue
                if not self._post(entry):
                    continue
                worked = True
            self._finish(entry)
        return worked

    def _post(self, entry: LedgerEntry) -> bool:
        """POST ``entry``'s result unless delivered; True when it needs nothing more from the API."""
        assert entry.result is not None
        try:
            outcome = post_unless_delivered(
                self.api_base_url, self._token.reveal(), entry.result, entry.job.get("source_id"), entry.task_id,
                self.marker,
            )
        except DeliveryError as exc:
            self._failed("api", exc.reason_code, exc.message)
            return False
        except DeliveryRejectedError as exc:
            self.counts.rejected += 1
            log.error("job %s: the API refused its result for good (%s): %s; dropped", entry.job_id,
                      exc.reason_code, exc.message)
            entry.posted = entry.rejected = True
            return True
        self._waits["api"].ok()
        if outcome == "busy":  # a worker with API_BASE_URL is posting it right now
            return False
        if outcome == "posted":
            self.counts.posted += 1
            if entry.result.get("status") == "DONE":
                self.counts.done += 1
            else:
                self.counts.failed += 1
        else:
            self.counts.delivered_before += 1
        entry.posted = True
        return True

    def _finish(self, entry: LedgerEntry) -> None:
        """Record the 2xx (delivered marker), then forget the job (ledger); both retried until Redis takes them."""
        assert entry.result is not None
        if not entry.rejected:
            self.marker.mark(idempotency_key(entry.result, entry.task_id))
        self.ledger.drop(entry.job_id)
        self.jobs.pop(entry.job_id, None)

    def _fetch(self, stop: threading.Event | None) -> bool:
        worked = False
        while len(self.jobs) < self.max_in_flight and time.monotonic() >= self._next_poll:
            if stop is not None and stop.is_set():
                break
            if any(not e.persisted for e in self.jobs.values()):
                break  # the ledger is behind (Redis away): hold no more than it knows
            try:
                raw = self.intake.next_job()
            except TransientError as exc:
                self._failed("intake", exc.reason_code, exc.message)
                break
            self._waits["intake"].ok()
            if raw is None:
                self.intake_empty = True
                self._next_poll = time.monotonic() + self.poll_interval_s
                break
            self.intake_empty = False
            worked = True
            self._admit(raw)
        return worked

    def _admit(self, raw: Any) -> None:
        """Take one job from the intake into memory and the ledger (it is handed out once: never drop it)."""
        try:
            job = AIJob.from_dict(raw).to_dict()
            result = None
        except JobPayloadError as exc:
            job_id = raw.get("id") if isinstance(raw, dict) else None
            if job_id is None or isinstance(job_id, bool) or str(job_id).strip() == "":
                self.counts.refused += 1
                log.error("intake answered a job without an id (%s): %s; nothing to answer, skipped",
                          exc.reason_code, exc.message)
                return
            source_id = raw.get("source_id")
            job = {"id": str(job_id), "source_id": None if source_id is None else str(source_id)}
            result = AIResult.failed(str(job_id), exc.reason_code, exc.message).to_dict()
            self.counts.refused += 1
            log.warning("job %s refused before publishing (%s): %s", job["id"], exc.reason_code, exc.message)
        job_id = str(job["id"])
        if job_id in self.jobs or self._delivered_before(job_id):
            self.counts.duplicates += 1
            log.info("job %s offered again (already %s): not run again", job_id,
                     "in flight" if job_id in self.jobs else "posted")
            return
        entry = LedgerEntry(job=job, fetched_at=time.time(), result=result)
        self.jobs[job_id] = entry
        self.counts.fetched += 1
        if result is None:
            log.info("job %s (%s) fetched", job_id, job.get("type"))
        try:
            self.ledger.put(entry)
        except RedisError as exc:  # kept in memory; _persist writes it and nothing more is fetched until then
            self._failed("redis", "redis_unavailable", f"ledger write failed ({type(exc).__name__})")

    def _delivered_before(self, job_id: str) -> bool:
        try:
            return self.marker.delivered(idempotency_key({"job_id": job_id}, task_id_for(job_id)))
        except RedisError:
            return False  # run it; the marker is checked again before the POST

    # -- waits -----------------------------------------------------------

    def _wait_over(self, name: str) -> bool:
        return self._waits[name].ready(time.monotonic())

    def _failed(self, name: str, reason_code: str, message: str) -> None:
        delay_s = self._waits[name].fail(time.monotonic())
        log.warning("bridge: %s (%s); next try in %.0f s", message, reason_code, delay_s)
