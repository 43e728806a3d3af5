"""ai_tasks/dead_letters.py: a job whose message RabbitMQ dead-lettered is answered FAILED, once."""

from __future__ import annotations

from typing import Any

import pytest

from ai_tasks.celery import app
from ai_tasks.dead_letters import answer_dead_letter, job_of_message


@pytest.fixture
def answered(monkeypatch: pytest.MonkeyPatch) -> list[tuple[dict[str, Any], dict[str, Any], str | None]]:
    """A memory result backend, and every conclude (store then deliver) recorded instead of delivered."""
    from celery.backends.cache import CacheBackend

    import ai_tasks.tasks.jobs as jobs_module

    backend = CacheBackend(app=app, backend="memory")
    monkeypatch.setattr(type(app), "backend", property(lambda self: backend))
    got: list[tuple[dict[str, Any], dict[str, Any], str | None]] = []
    monkeypatch.setattr(jobs_module, "conclude", lambda out, job, rid: got.append((out, job, rid)))
    return got


def _step(result_id: str) -> tuple[dict[str, Any], list[Any]]:
    job = {"id": "seg-1", "type": "question_segmentation", "source_id": "9", "result_id": result_id}
    return {"task": "ai.segment", "id": "step-1", "root_id": result_id}, [[{"job": job, "pages": []}], {}, {}]


def test_nothing_to_answer_for_a_message_that_is_no_jobs() -> None:
    assert job_of_message({"task": "celery.ping", "id": "x"}, [[], {}, {}]) is None
    assert job_of_message({"task": "ai.segment", "id": "x"}, [[{"pages": []}], {}, {}]) is None  # no job in it
    assert job_of_message({"task": "ai.job", "id": "x"}, "not a celery body") is None


def test_a_dead_lettered_step_answers_its_job_failed_once(answered: list[Any]) -> None:
    """Issue-18 chaos (rabbitmq-124): an ai.segment dead-lettered by the delivery limit left its job unanswered."""
    headers, body = _step("rid-dl-1")
    assert answer_dead_letter(app, headers, body) == "answered"
    stored = app.backend.get_task_meta("rid-dl-1")["result"]
    assert stored["status"] == "FAILED" and stored["job_id"] == "seg-1"
    assert stored["error"]["reason_code"] == "poison_message"
    assert answered == [(stored, {"id": "seg-1", "type": "question_segmentation", "source_id": "9"}, "rid-dl-1")]
    # a second copy dead-lettered after its job was answered (rabbitmq-851): the first answer stays
    assert answer_dead_letter(app, headers, body) == "answered_before"
    assert len(answered) == 1


def test_a_dead_lettered_delivery_is_delivered_again(answered: list[Any]) -> None:
    from celery import states

    done = {"job_id": "ocr-1", "status": "DONE", "result": {"text": "x"}, "error": None}
    app.backend.store_result("rid-dl-2", done, states.SUCCESS)
    headers = {"task": "ai.job.deliver", "id": "d-1"}
    assert answer_dead_letter(app, headers, [[done, "12"], {"result_id": "rid-dl-2"}, {}]) == "delivered_again"
    assert answered == [(done, {"id": "ocr-1", "type": None, "source_id": "12"}, "rid-dl-2")]
    assert answer_dead_letter(app, {"task": "celery.ping", "id": "p"}, [[], {}, {}]) == "not_a_job"
